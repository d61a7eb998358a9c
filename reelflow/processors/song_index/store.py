"""On-disk layout of a song index folder: versioned sub-folders, the CURRENT pointer, locks, pruning.

``<dir>/<version>/`` holds one saved index; ``<dir>/CURRENT`` names the live version and is
replaced atomically; ``<dir>/.reelflow-song-index`` marks a folder ReelFlow owns (nothing else is
ever deleted); stale temporary folders of crashed saves are removed. Part of
:mod:`reelflow.processors.song_index`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from reelflow.core.errors import IndexMismatchError, InputError
from reelflow.core.storage import atomic_write_json


FORMAT_VERSION = 1
#: Version folder names written by :meth:`SongIndex.save` (UTC time + 8 hex digits).
_VERSION_RE = re.compile(r"\d{8}T\d{6}-[0-9a-f]{8}")
#: Temporary folders :meth:`SongIndex.save` and the S3 download create (removed when stale).
_TMP_RE = re.compile(r"\.tmp-(dl-)?\d{8}T\d{6}-[0-9a-f]{8}(-[0-9a-f]{6})?")
#: Scratch files a crash may leave behind (``atomic_write_text`` temp files, CURRENT copies).
_SCRATCH_RE = re.compile(r"\.(CURRENT|reelflow-song-index)\.[A-Za-z0-9_]+|\.(remote|publish)-CURRENT-[0-9a-f]{8}")
#: Marker file that makes a folder a ReelFlow song index folder (written by the first save).
INDEX_MARKER = ".reelflow-song-index"
#: Local versions kept by :meth:`SongIndex.save`: the live one and the one before it.
KEEP_VERSIONS = 2
#: A leftover temporary folder older than this (seconds) is a crashed save's and is removed.
STALE_TMP_S = 3600.0
REBUILD_HINT = "rebuild it with `reelflow songs index --rebuild` (or delete the folder; it is rebuilt on next use)"


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _version_dir(directory: Path) -> Path:
    current = directory / "CURRENT"
    try:
        version = current.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMismatchError(f"no song index in {directory}", hint=REBUILD_HINT) from None
    except OSError as exc:
        raise IndexMismatchError(f"cannot read {current} ({exc})", hint=REBUILD_HINT) from exc
    if not version or "/" in version or version.startswith("."):
        raise IndexMismatchError(f"{current} is corrupt ({version!r})", hint=REBUILD_HINT)
    return directory / version


def _current_version(directory: Path) -> str | None:
    """The version ``directory/CURRENT`` names, or ``None`` (no index, unreadable, corrupt)."""
    try:
        return _version_dir(directory).name
    except IndexMismatchError:
        return None


def is_index_version(path: Path) -> bool:
    """True when ``path`` is a version folder :meth:`SongIndex.save` wrote.

    Recognised by name (``YYYYMMDDTHHMMSS-xxxxxxxx``) AND by its ``manifest.json`` naming that
    same version; a folder that merely looks like one is not ours.
    """
    if not (_VERSION_RE.fullmatch(path.name) and path.is_dir() and not path.is_symlink()):
        return False
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("version") == path.name and "files" in manifest


def index_versions(directory: Path | str) -> list[str]:
    """ReelFlow's version folders in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if is_index_version(p)]
    # names sort by second; within one second the folder's time decides
    return [p.name for p in sorted(found, key=lambda p: (p.name[:15], p.stat().st_mtime_ns))]


def claim_index_dir(directory: Path | str) -> Path:
    """Make sure ReelFlow may write a song index into ``directory``; create it when missing.

    A folder is ReelFlow's when it holds the :data:`INDEX_MARKER` file, or when everything in it
    is ReelFlow's own (``CURRENT``, version folders recognised by :func:`is_index_version`, its
    temporary folders) — an index saved before the marker existed; the marker is then added.
    An empty or new folder is claimed by writing the marker.

    Raises:
        InputError: ``directory`` is a file, or a non-empty folder that is not a ReelFlow song
            index (names what is in it; nothing is written or deleted).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"song index folder {directory} is a file",
                         hint="pass a new or empty folder with --index-dir")
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / INDEX_MARKER
    if marker.is_file():
        return directory
    foreign = sorted(
        p.name for p in directory.iterdir()
        if not (p.name == "CURRENT" and p.is_file()) and not is_index_version(p)
        and not _TMP_RE.fullmatch(p.name) and not (_SCRATCH_RE.fullmatch(p.name) and p.is_file())
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise InputError(
            f"{directory} is not empty and is not a ReelFlow song index (it holds {shown}); "
            "refusing to write there so nothing in it is replaced or deleted",
            hint="pass a new or empty folder with --index-dir (ReelFlow only writes into folders it created)",
        )
    atomic_write_json(marker, {"kind": "reelflow-song-index", "format_version": FORMAT_VERSION,
                               "created_at": datetime.now(UTC).isoformat()})
    return directory


def prune_versions(directory: Path | str, keep: Iterable[str | None]) -> list[str]:
    """Remove ReelFlow's older version folders from ``directory``; returns the names removed.

    Keeps ``keep`` (the new and the previous live version: :data:`KEEP_VERSIONS`) and the live
    one; only folders
    :func:`is_index_version` recognises are removed, and stale temporary folders of a crashed
    save or download (older than :data:`STALE_TMP_S`). Never touches anything else.
    """
    directory = Path(directory)
    versions = index_versions(directory)
    keep_set = {k for k in keep if k}
    live = _current_version(directory)
    if live:
        keep_set.add(live)
    removed = []
    for name in versions:
        if name not in keep_set:
            shutil.rmtree(directory / name, ignore_errors=True)
            removed.append(name)
    now = time.time()
    for p in directory.iterdir():
        try:
            stale = _TMP_RE.fullmatch(p.name) and p.is_dir() and not p.is_symlink() and now - p.stat().st_mtime > STALE_TMP_S
        except OSError:
            continue
        if stale:
            shutil.rmtree(p, ignore_errors=True)
    return removed


@contextlib.contextmanager
def index_lock(index_dir: Path | str) -> Iterator[None]:
    """The inter-process lock of one index folder (``.<name>.lock`` beside it).

    Every writer (``persist-index``, the default cache build, the S3 download) and the default
    loader take it, so a reader never meets a half-replaced index and never rebuilds over a good one.
    """
    index_dir = Path(index_dir)
    with _file_lock(index_dir.parent / f".{index_dir.name}.lock"):
        yield


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Inter-process exclusive lock (``fcntl.flock``) so two processes never build the same index."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
