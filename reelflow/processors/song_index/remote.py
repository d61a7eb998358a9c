"""Remote copy of the song index (S3) through the storage layer: publish and download.

:func:`publish_index` uploads a saved version through :mod:`reelflow.core.storage_factory`
(files, then ``manifest.json``, then ``CURRENT`` last); :meth:`SongIndex.load_from_uri`
downloads the live version into the local cache, checking every file against the manifest.
Part of :mod:`reelflow.processors.song_index`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelflow.core.errors import IndexMismatchError, InputError
from reelflow.core.storage import atomic_write_text, fsync_dir, sha256_file
from reelflow.processors.song_index.store import (REBUILD_HINT, _VERSION_RE, _current_version, _fsync, _version_dir,
                                                  claim_index_dir, prune_versions)
from reelflow.processors.song_index.index import SongIndex, _check_encoder

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

log = logging.getLogger(__name__)


#: Published versions kept at the remote location (the live one and the one before it, so a
#: reader that started on the previous ``CURRENT`` can still finish its download).
REMOTE_KEEP_VERSIONS = 2


def _index_storage(uri: str, settings: Settings) -> Any:
    """The :class:`core.storage_s3.S3Storage` for an index URI, built by ``core.storage_factory``
    from ``settings.storage`` (S3 endpoint and credentials) with ``uri`` as its location."""
    from reelflow.core.storage_factory import make_storage

    uri = (uri or "").strip().rstrip("/")
    if not uri.startswith("s3://"):
        raise InputError(
            f"song index URI {uri!r} is not an S3 URI",
            hint="set REELFLOW_SONG_INDEX_URI (or --index-uri) to s3://bucket/prefix",
        )
    return make_storage(settings.model_copy(update={"storage": settings.storage.model_copy(update={"uri": uri})}))


def _remote_current(storage: Any, scratch: Path) -> str | None:
    """The version named by the remote ``CURRENT`` object (``None`` when nothing is published)."""
    if storage.stat("CURRENT") is None:
        return None
    dest = scratch / f".remote-CURRENT-{uuid.uuid4().hex[:8]}"
    try:
        storage.download("CURRENT", dest)
        version = dest.read_text(encoding="utf-8").strip()
    finally:
        dest.unlink(missing_ok=True)
    if not version or "/" in version or version.startswith("."):
        raise IndexMismatchError(f"{storage.uri('CURRENT')} is corrupt ({version!r})", hint=REBUILD_HINT)
    return version


def publish_index(directory: Path | str, uri: str, settings: Settings) -> dict[str, Any]:
    """Publish the live saved index in ``directory`` to ``uri`` (S3) through the storage layer.

    Layout at ``uri``: ``<version>/<file>`` for every file the manifest lists, then
    ``<version>/manifest.json``, then ``CURRENT`` (the version name) LAST. Each object is
    published atomically by :meth:`core.storage_s3.S3Storage.publish` (temp key → verify → copy),
    so a reader that follows ``CURRENT`` always finds a complete, checksummed version. Versions
    older than the last :data:`REMOTE_KEEP_VERSIONS` are deleted afterwards. Publishing a
    version that is already live does nothing.

    Args:
        directory: the folder given to :meth:`SongIndex.save`.
        uri: ``s3://bucket/prefix``.
        settings: :class:`core.settings.Settings` (S3 endpoint and credentials in ``storage``),
            given by the caller (the flow or CLI that read the configuration).

    Returns:
        ``{"uri", "version", "published": bool, "files": [names]}``.

    Raises:
        IndexMismatchError: ``directory`` holds no saved index.
        InputError: ``uri`` is not ``s3://``.
        ConfigurationError / ProcessingError: from the storage layer (credentials, bucket, upload).
    """
    directory = Path(directory)
    manifest = SongIndex.read_manifest(directory)
    version = manifest["version"]
    vdir = directory / version
    storage = _index_storage(uri, settings)
    names = list(manifest.get("files") or {})
    out = {"uri": uri.rstrip("/"), "version": version, "published": False, "files": names + ["manifest.json"]}
    previous = _remote_current(storage, directory)
    if previous == version:
        return out
    for name in names:
        storage.publish(vdir / name, f"{version}/{name}", content_type="application/octet-stream")
    storage.publish(vdir / "manifest.json", f"{version}/manifest.json", content_type="application/json")
    current = directory / f".publish-CURRENT-{uuid.uuid4().hex[:8]}"
    try:
        current.write_text(version + "\n", encoding="utf-8")
        storage.publish(current, "CURRENT", content_type="text/plain")
    finally:
        current.unlink(missing_ok=True)
    out["published"] = True
    keep = {version, previous} if REMOTE_KEEP_VERSIONS >= 2 else {version}
    for key in storage.list():
        head = key.split("/", 1)[0]
        # only ever delete our own version folders: the prefix may hold other data
        if "/" in key and head not in keep and _VERSION_RE.fullmatch(head):
            storage.delete(key)
    return out


def _load_remote(uri: str, cache_dir: Path, encoder: Any, settings: Settings) -> SongIndex:
    """:meth:`SongIndex.load_from_uri` without the file lock (the caller holds it)."""
    from reelflow.core.errors import ProcessingError

    claim_index_dir(cache_dir)
    storage = _index_storage(uri, settings)
    version = _remote_current(storage, cache_dir)
    if version is not None and not _VERSION_RE.fullmatch(version):
        raise IndexMismatchError(f"{uri}/CURRENT names {version!r}, which is not a song index version",
                                 hint=REBUILD_HINT)
    if version is None:
        raise IndexMismatchError(f"no song index is published at {uri}",
                                 hint="publish one with `reelflow songs index --index-uri " + uri + "`")
    try:
        if _version_dir(cache_dir).name == version:
            return SongIndex.load(cache_dir, encoder=encoder)
    except IndexMismatchError as exc:
        log.warning("cached copy of %s is unusable (%s); downloading it again", uri, exc.message)
    tmp = cache_dir / f".tmp-dl-{version}-{uuid.uuid4().hex[:6]}"
    tmp.mkdir()
    try:
        try:
            storage.download(f"{version}/manifest.json", tmp / "manifest.json")
            manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
        except (InputError, ProcessingError, ValueError) as exc:
            raise IndexMismatchError(f"the manifest of {uri} version {version} is missing or unreadable ({exc})",
                                     hint=REBUILD_HINT) from exc
        if manifest.get("version") != version or not isinstance(manifest.get("files"), dict):
            raise IndexMismatchError(f"the manifest of {uri} version {version} is inconsistent", hint=REBUILD_HINT)
        if encoder is not None:
            _check_encoder(manifest, encoder, uri)
        for name, meta in manifest["files"].items():
            if "/" in name or name.startswith("."):
                raise IndexMismatchError(f"the manifest of {uri} lists a bad file name {name!r}", hint=REBUILD_HINT)
            dest = tmp / name
            try:
                storage.download(f"{version}/{name}", dest)
            except (InputError, ProcessingError) as exc:
                raise IndexMismatchError(f"{uri}/{version}/{name} cannot be downloaded intact ({exc})",
                                         hint=REBUILD_HINT) from exc
            if dest.stat().st_size != meta.get("bytes") or sha256_file(dest) != meta.get("sha256"):
                raise IndexMismatchError(
                    f"{uri}/{version}/{name} fails its checksum against the published manifest (corrupt or truncated)",
                    hint=REBUILD_HINT,
                )
        for name in manifest["files"]:
            _fsync(tmp / name)
        fsync_dir(tmp)
        previous = _current_version(cache_dir)
        final = cache_dir / version
        if final.exists():  # our own copy of this version, found unusable above: move it aside first
            if not (final.is_dir() and not final.is_symlink()):
                raise IndexMismatchError(f"{final} is not a song index version folder", hint=REBUILD_HINT)
            aside = cache_dir / f".tmp-{version}-{uuid.uuid4().hex[:6]}"
            os.replace(final, aside)
            shutil.rmtree(aside, ignore_errors=True)
        os.replace(tmp, final)
        fsync_dir(cache_dir)
        atomic_write_text(cache_dir / "CURRENT", version + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune_versions(cache_dir, keep={version, previous})
    return SongIndex.load(cache_dir, encoder=encoder)
