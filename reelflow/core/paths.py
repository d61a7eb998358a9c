"""Path confinement: every path a flow receives as a parameter must lie under a configured root.

Deployment parameters come from whoever can reach the Prefect API, so a flow never opens or
writes a path it was handed without :func:`confine` first. A path is accepted when, after
resolving ``..`` and symlinks, it lies under one of the roots for its purpose:

- ``write`` (output folders, index folders): ``REELFLOW_PATHS__OUTPUTS_DIR``,
  ``REELFLOW_PATHS__CACHE_DIR`` and the explicit allow-list ``REELFLOW_PATHS__ALLOWED_ROOTS``;
- ``read`` (campaign files, brief files, catalogues, media to analyse): the same, plus
  ``REELFLOW_PATHS__ASSETS_DIR`` (the bundled assets).

``REELFLOW_PATHS__ALLOWED_ROOTS`` is a list of folders separated by ``os.pathsep`` (``:`` on
Linux/macOS). A path outside every root refuses the run with :class:`core.errors.InputError`
naming the parameter, before any work.

The CLI runs flows in its own process on paths its user typed; it marks them trusted with
:func:`trust_local` (process-local, never set in a serving process except for the exact
scheduled campaign files it was started with), so local use is not limited to the roots.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from reelflow.core.errors import InputError

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

Purpose = Literal["read", "write"]

_TRUSTED_LOCK = threading.Lock()
#: Paths the local CLI user handed over (folder → everything under it; file → only that file).
_TRUSTED: set[tuple[Path, bool]] = set()


def trust_local(path: Path | str, *, tree: bool = True) -> Path:
    """Mark a path the local CLI user gave as allowed for flows run in THIS process.

    Args:
        path: a file or folder typed on the command line.
        tree: allow everything under ``path`` (a folder); ``False`` allows exactly this file.

    Returns:
        The resolved path.
    """
    resolved = _resolve(path)
    with _TRUSTED_LOCK:
        _TRUSTED.add((resolved, tree))
    return resolved


def clear_trusted() -> None:
    """Forget every :func:`trust_local` path (tests; a serving process never needs it)."""
    with _TRUSTED_LOCK:
        _TRUSTED.clear()


def _resolve(path: Path | str) -> Path:
    return Path(os.path.expanduser(str(path))).resolve(strict=False)


def allowed_roots(settings: Settings, purpose: Purpose = "read") -> list[Path]:
    """The configured roots for ``purpose`` (resolved), in the order they are checked.

    Args:
        settings: :class:`core.settings.Settings`.
        purpose: ``"read"`` (inputs) or ``"write"`` (outputs, indexes).
    """
    paths = settings.paths
    roots = [paths.outputs_dir, paths.cache_dir]
    if purpose == "read":
        roots.append(paths.assets_dir)
    roots += [Path(p) for p in split_roots(getattr(paths, "allowed_roots", ""))]
    out: list[Path] = []
    for r in roots:
        rp = _resolve(r)
        if rp not in out:
            out.append(rp)
    return out


def split_roots(value: str | Sequence[str | Path] | None) -> list[str]:
    """``REELFLOW_PATHS__ALLOWED_ROOTS`` → folders (``os.pathsep``-separated string or a list)."""
    if not value:
        return []
    items = value.split(os.pathsep) if isinstance(value, str) else [str(v) for v in value]
    return [i.strip() for i in items if i and i.strip()]


def _under(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def is_confined(path: Path | str, settings: Settings, purpose: Purpose = "read") -> bool:
    """True when ``path`` resolves under a root for ``purpose`` or a :func:`trust_local` path."""
    resolved = _resolve(path)
    if any(_under(resolved, root) for root in allowed_roots(settings, purpose)):
        return True
    with _TRUSTED_LOCK:
        trusted = list(_TRUSTED)
    return any(_under(resolved, p) if tree else resolved == p for p, tree in trusted)


def confine(path: Path | str | None, param: str, settings: Settings, purpose: Purpose = "read") -> Path | None:
    """Resolve ``path`` and check it lies under an allowed root; ``None`` passes through.

    Symlinks and ``..`` are resolved first, so ``outputs/../../etc`` or a link out of a root
    is refused like the plain path it points to.

    Args:
        path: the parameter's value (``None`` = the flow's default, which is always confined).
        param: the parameter's name, used in the error (``out_dir``, ``spec.briefs_file`` ...).
        settings: :class:`core.settings.Settings` (roots).
        purpose: ``"read"`` or ``"write"`` (see the module docstring).

    Returns:
        The resolved path, or ``None``.

    Raises:
        InputError: the path is empty, holds a NUL byte, or lies outside every allowed root
            (the message names the parameter and the roots; the hint names the setting).
    """
    if path is None:
        return None
    text = str(path)
    if not text.strip() or "\x00" in text:
        raise InputError(f"parameter {param} is not a usable path ({text!r})", hint="pass a real file or folder path")
    resolved = _resolve(text)
    if is_confined(resolved, settings, purpose):
        return resolved
    roots = ", ".join(str(r) for r in allowed_roots(settings, purpose))
    raise InputError(
        f"parameter {param}={text!r} is outside the folders this worker may "
        f"{'read' if purpose == 'read' else 'write'} ({roots}); the run is refused",
        hint="use a path under one of those folders, or add its folder to REELFLOW_PATHS__ALLOWED_ROOTS "
        "on the worker",
    )


def confine_all(paths: Iterable[Path | str], param: str, settings: Settings, purpose: Purpose = "read") -> list[Path]:
    """:func:`confine` each of ``paths`` (errors name ``param[i]``)."""
    return [confine(p, f"{param}[{i}]", settings, purpose) for i, p in enumerate(paths)]  # type: ignore[misc]


def relative_to_root(path: Path | str, *roots: Path | str) -> str:
    """``path`` relative to the first root it lies under (POSIX form), else its file name.

    Used for paths written into outputs (``metadata.json``), which must not reveal how the
    worker's disk is laid out.
    """
    p = _resolve(path)
    for root in roots:
        r = _resolve(root)
        if _under(p, r):
            return p.relative_to(r).as_posix() or "."
    return p.name


_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f/\\:]+")


def safe_component(name: str, fallback: str = "file") -> str:
    """One safe path component from an untrusted name (a file stem, a brief id).

    Separators, control characters and leading dots are replaced, so ``..`` (the stem of a
    file named ``...mp4``), ``.hidden`` or ``a/b`` can never leave or hide in the folder it is
    joined to. Capped at 120 characters.
    """
    out = _UNSAFE_CHARS.sub("_", name).strip().lstrip(".").strip()
    out = out[:120]
    return out if out and out not in {".", ".."} else fallback


#: S3 URIs the local CLI user named (``songs index --index-uri``).
_TRUSTED_URIS: set[str] = set()


def trust_local_uri(uri: str) -> None:
    """Allow an ``s3://`` URI the local CLI user typed for flows run in this process."""
    with _TRUSTED_LOCK:
        _TRUSTED_URIS.add(uri.strip().rstrip("/"))


def confine_uri(uri: str | None, param: str, settings: Settings) -> str | None:
    """Accept a storage URI parameter only when the worker is configured for it.

    Allowed: ``REELFLOW_SONG_INDEX_URI``, anything under ``REELFLOW_STORAGE__URI``, or a URI the
    local CLI user named (:func:`trust_local_uri`). ``None``/empty passes through.

    Raises:
        InputError: naming the parameter and the setting to change.
    """
    if not uri or not uri.strip():
        return None
    u = uri.strip().rstrip("/")
    configured = [(getattr(settings, "song_index_uri", "") or "").strip().rstrip("/"),
                  (getattr(settings.storage, "uri", "") or "").strip().rstrip("/")]
    with _TRUSTED_LOCK:
        trusted = set(_TRUSTED_URIS)
    if u in trusted or u == configured[0] or (configured[1] and (u == configured[1] or u.startswith(configured[1] + "/"))):
        return u
    raise InputError(
        f"parameter {param}={uri!r} is not a storage location this worker is configured for; the run is refused",
        hint="set REELFLOW_SONG_INDEX_URI (or REELFLOW_STORAGE__URI) on the worker to that location",
    )
