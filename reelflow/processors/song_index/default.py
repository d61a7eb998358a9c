"""The bundled catalogue's index: built on first use, cached on disk and in the process.

:func:`load_or_build_default` opens ``<cache>/song_index`` when it matches the catalogue and the
encoder, else downloads the remote copy (``REELFLOW_SONG_INDEX_URI``) or rebuilds it, under a
file lock so concurrent processes build it once. Part of :mod:`reelflow.processors.song_index`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelflow.core.errors import IndexMismatchError, InputError
from reelflow.core.storage import atomic_write_text, sha256_file
from reelflow.processors.song_index.catalogue import read_catalogue_csv
from reelflow.processors.song_index.store import _current_version, index_lock, index_versions
from reelflow.processors.song_index.index import SongIndex
from reelflow.processors.song_index.remote import _load_remote

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

log = logging.getLogger(__name__)


_DEFAULT: dict[str, SongIndex] = {}
_DEFAULT_LOCK = threading.Lock()


def default_catalogue_path(settings: Settings) -> Path:
    """The bundled catalogue CSV (``<assets>/catalogue/spotify_songs.csv``)."""
    return Path(settings.assets) / "catalogue" / "spotify_songs.csv"


def default_index_dir(settings: Settings) -> Path:
    """Where the bundled catalogue's index is cached (``<cache>/song_index``)."""
    return Path(settings.cache) / "song_index"


def load_or_build_default(settings: Settings, progress: bool | None = None,
                          on_build: Callable[[str], None] | None = None) -> SongIndex:
    """The bundled catalogue's index: loaded from the cache, or built once and cached.

    A cached index is reused when its manifest matches the encoder and either the bundled
    catalogue's checksum or says it was built from a team's own catalogue (``reelflow songs index
    --catalogue``, ``source_kind == "custom"``); otherwise (first use, catalogue changed, encoder changed, corrupt files) it is
    rebuilt (~1 min here with the int8 encoder; a progress bar when stderr is a terminal) and
    saved atomically. Processes building at the same time wait on a file lock, so the
    catalogue is embedded once. Within a process the index is kept in memory.

    Args:
        settings: :class:`core.settings.Settings` (``assets``, ``cache``).
        progress: force the progress bar on/off.
        on_build: called with a one-line reason before a (re)build starts.

    With ``settings.song_index_uri`` (``REELFLOW_SONG_INDEX_URI=s3://bucket/prefix``) set, the
    published index is authoritative: its ``CURRENT`` version is loaded from the local cache
    when already there, else downloaded into it (:meth:`SongIndex.load_from_uri`). When the
    remote copy is unreachable or refused (corrupt, other encoder) a warning is logged and the
    local cache / bundled build below is used, so making a video never fails on S3.

    Raises:
        AssetError: the bundled catalogue is missing.
        InputError: the catalogue is unusable.
    """
    from reelflow.core.errors import AssetError
    from reelflow.processors.embeddings import get_encoder

    csv_path = default_catalogue_path(settings)
    index_dir = default_index_dir(settings)
    if not csv_path.is_file():
        raise AssetError(f"bundled song catalogue missing: {csv_path}", hint="reinstall ReelFlow's assets")
    key = str(index_dir.resolve())
    with _DEFAULT_LOCK:
        if key in _DEFAULT:
            return _DEFAULT[key]
        encoder = get_encoder(cache_dir=Path(settings.cache) / "models")
        source_sha = sha256_file(csv_path)
        reason = ""
        uri = (settings.song_index_uri or "").strip()
        with index_lock(index_dir):
            if uri:
                from reelflow.core.errors import ConfigurationError, ProcessingError

                try:
                    idx = _load_remote(uri, index_dir, encoder, settings)
                    _DEFAULT[key] = idx
                    return idx
                except (IndexMismatchError, ConfigurationError, ProcessingError, InputError) as exc:
                    log.warning("song index at %s is unusable (%s); using the local one", uri, exc)
            idx, reason = _load_usable(index_dir, encoder, source_sha)
            if idx is not None:
                _DEFAULT[key] = idx
                return idx
            log.warning("building the song index (%s)", reason)
            if on_build:
                on_build(reason)
            catalogue = read_catalogue_csv(csv_path)
            idx = SongIndex.build(catalogue, encoder, progress=progress)
            idx.manifest["source_kind"] = "bundled"
            idx.save(index_dir)
        _DEFAULT[key] = idx
        return idx


def _load_usable(index_dir: Path, encoder: Any, source_sha: str) -> tuple[SongIndex | None, str]:
    """The live index when usable, else the newest kept version that is; ``(None, reason)`` if none.

    Usable: it loads (checksums, encoder) and was built from the bundled catalogue as it is now,
    or from a team's own catalogue (``source_kind == "custom"``). A corrupt live version falls
    back to the version kept before it (``CURRENT`` is pointed back at it), so a good index is
    never rebuilt over. The caller holds :func:`index_lock`.
    """
    reason = ""
    live = _current_version(index_dir)
    candidates: list[str | None] = [None] + [v for v in reversed(index_versions(index_dir)) if v != live]
    for version in candidates:
        try:
            idx = SongIndex.load(index_dir, encoder=encoder, version=version)
        except IndexMismatchError as exc:
            reason = reason or exc.message
            continue
        if idx.manifest.get("catalogue_sha256") == source_sha or idx.manifest.get("source_kind") == "custom":
            if version is not None:
                log.warning("live song index in %s is unusable (%s); using the kept version %s", index_dir, reason,
                            version)
                atomic_write_text(index_dir / "CURRENT", version + "\n")
            return idx, ""
        reason = reason or "the bundled catalogue changed"
        if version is None:
            break  # a readable but outdated live index: rebuild rather than go back in time
    return None, reason or "no song index yet"
