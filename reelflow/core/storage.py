"""Atomic file output and the local ``Storage`` backend.

Every output ReelFlow writes goes through :func:`atomic_path` (or the helpers built on it):
the content is written to a hidden temporary file in the destination folder, flushed to disk
(``fsync``), moved into place with :func:`os.replace`, and the folder is fsynced so the rename
itself survives a power loss. A reader never sees a half-written file under its final name and a
crash leaves no partial output behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reelflow.core.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(dest: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success move it onto ``dest`` atomically.

    The temporary file keeps ``dest``'s suffix (or ``suffix``) so tools that sniff the
    extension (ffmpeg) pick the right format. On an exception the temporary file is removed
    and ``dest`` is left untouched.

    Raises:
        InputError: the destination folder cannot be created or written.
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=suffix or dest.suffix, dir=dest.parent)
    except OSError as exc:
        raise InputError(
            f"cannot write to output folder {dest.parent}: {exc.strerror or exc}",
            hint="choose a writable folder with --out, or fix its permissions",
        ) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs get the usual mode
    try:
        yield tmp_path
        fsync_file(tmp_path)
        os.replace(tmp_path, dest)
        fsync_dir(dest.parent)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def fsync_file(path: Path | str) -> None:
    """Flush a file's data to disk (``os.fsync``); a missing file is ignored."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path | str) -> None:
    """Flush a folder's entries (renames, new files) to disk; no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


def atomic_write_bytes(dest: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``dest`` atomically; return ``dest``."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def atomic_write_text(dest: Path | str, text: str) -> Path:
    """Write UTF-8 ``text`` to ``dest`` atomically; return ``dest``."""
    return atomic_write_bytes(dest, text.encode("utf-8"))


def atomic_write_json(dest: Path | str, obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON to ``dest`` atomically; return ``dest``."""
    return atomic_write_text(dest, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def atomic_copy(src: Path | str, dest: Path | str) -> Path:
    """Copy ``src`` to ``dest`` atomically; return ``dest``."""
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dest)


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def ensure_writable_dir(path: Path | str) -> Path:
    """Create ``path`` if needed and check it is writable.

    Raises:
        InputError: it cannot be created or written, naming the folder and the fix.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as exc:
        raise InputError(
            f"output folder {path} is not writable: {exc.strerror or exc}",
            hint="pass a writable folder with --out (or fix its permissions)",
        ) from exc
    return path


class LocalStorage:
    """``Storage`` backend on the local filesystem (the default).

    Args:
        root: folder that keys are relative to.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def uri(self, key: str) -> str:
        """``file://`` URI of ``key``."""
        return (self.root / key).resolve().as_uri()

    def publish(self, local_path: Path, key: str, content_type: str | None = None) -> str:
        """Copy ``local_path`` to ``root/key`` atomically (no-op when it already is that file)."""
        dest = self.root / key
        if Path(local_path).resolve() != dest.resolve():
            atomic_copy(local_path, dest)
        return self.uri(key)


#: Largest brief / campaign file read (bytes). Real ones are a few KiB.
MAX_TEXT_INPUT_BYTES = 8 * 1024 * 1024
#: Largest catalogue CSV read (bytes); the bundled 32,833-track catalogue is ~8 MB.
MAX_CATALOGUE_BYTES = 512 * 1024 * 1024


def read_capped(path: Path | str, limit: int, what: str) -> bytes:
    """Read a whole input file after checking its size against ``limit`` (bytes).

    The file is read through one handle with at most ``limit + 1`` bytes, so a file that grows
    while being read (or a FIFO / device) cannot exceed the cap either.

    Args:
        path: the file.
        limit: the largest accepted size in bytes.
        what: how the error names the file ("brief file", "campaign file" ...).

    Raises:
        InputError: missing, not a regular file, unreadable, or larger than ``limit``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            import stat as _stat

            if not _stat.S_ISREG(st.st_mode):
                raise InputError(f"{what} {path} is not a regular file", hint="pass a plain file")
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}", hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a folder", hint="pass a file") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}", hint="check its permissions") from None
    if len(data) > limit:
        raise InputError(
            f"{what} {path} is larger than {limit / 1024 / 1024:.0f} MiB",
            hint=f"split it into smaller files (at most {limit / 1024 / 1024:.0f} MiB each)",
        )
    return data


def run_key_prefix(out_dir: Path | str, flow_run_id: str | None) -> str:
    """Remote key prefix of one run's outputs: ``<out folder name>/<flow run id>``.

    The folder name alone repeats across runs (a scheduled campaign with a fixed ``out_dir``
    makes the same ``<brief>--<variant>`` folders every week), and publishing overwrites; the run
    id keeps every run's videos. Outside Prefect (``flow_run_id`` None) the prefix is ``local-<time>``.
    """
    from datetime import UTC, datetime

    run = flow_run_id or "local-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{Path(out_dir).name}/{run}"
