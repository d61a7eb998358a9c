"""The FAISS song index: :class:`SongIndex`, index specs, filtered search, build and persistence.

Index choice by size (:func:`choose_index_spec`): exact ``faiss.IndexFlatIP`` up to
:data:`FLAT_MAX_TRACKS` vectors, ``faiss.IndexHNSWFlat`` (inner product) above, with the
parameters measured in ``bench/bench_song_index.py``. Metadata filters are applied
filter-then-rank (exact scoring of small subsets, ``IDSelectorBitmap`` for large HNSW ones).
:meth:`SongIndex.save` / :meth:`SongIndex.load` use the versioned folder layout of
:mod:`.store`. Part of :mod:`reelflow.processors.song_index`.

Sources: FAISS wiki "Guidelines to choose an index" and "Setting search parameters for one
query" (IDSelector); Reimers & Gurevych 2019 (Sentence-BERT).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import numpy as np

from reelflow.core.errors import IndexMismatchError, InputError
from reelflow.core.models import SongMatch
from reelflow.core.storage import atomic_write_json, atomic_write_text, fsync_dir, sha256_file
from reelflow.processors.song_index.describe import describe
from reelflow.processors.song_index.catalogue import Catalogue, TRACK_FIELDS, Track
from reelflow.processors.song_index.store import (FORMAT_VERSION, REBUILD_HINT, _VERSION_RE, _current_version, _fsync,
                                                  _version_dir, claim_index_dir, index_lock, prune_versions)

if TYPE_CHECKING:
    from reelflow.core.settings import Settings


#: Largest catalogue indexed exactly (``IndexFlatIP``); above it HNSW is used.
FLAT_MAX_TRACKS = 200_000
#: HNSW parameters, measured by ``bench/bench_song_index.py`` on 1,000,000 clustered 384-d vectors
#: (2 shared cores): build 419 s, 1.68 GiB; efSearch 96 → recall@10 0.961, 128 → 0.975 (p99
#: 0.72 ms single query vs 124 ms exact), 256 → 0.990. On the real 26k catalogue vectors efSearch 64
#: already gives 0.994. 128 keeps recall ≥ 0.95 with margin.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
#: Filtered searches over at most this many matching rows are scored exactly.
EXACT_SUBSET_MAX = 100_000
#: Upper bound of the widened efSearch of a filtered HNSW search.
HNSW_EF_FILTER_MAX = 4096
MAX_QUERY_CHARS = 1000
MAX_K = 1000


class SearchFilters(TypedDict, total=False):
    """Metadata filters of :meth:`SongIndex.search` / :meth:`SongIndex.like` (AND-combined).

    Keys: ``genre`` (playlist genre or subgenre, case-insensitive), ``min_tempo`` /
    ``max_tempo`` (BPM, inclusive), ``explicit`` (True = explicit only, False = clean only).
    ``None`` means "no filter".
    """

    genre: str | None
    min_tempo: float | None
    max_tempo: float | None
    explicit: bool | None


def choose_index_spec(n: int, flat_max: int = FLAT_MAX_TRACKS) -> dict[str, Any]:
    """FAISS index type and parameters for ``n`` vectors.

    Args:
        n: number of vectors.
        flat_max: largest ``n`` indexed exactly (default :data:`FLAT_MAX_TRACKS`; ``0`` forces
            HNSW, e.g. to test that path on a small catalogue).

    Returns:
        ``{"type": "IndexFlatIP", ...}`` or ``{"type": "IndexHNSWFlat", "M", "efConstruction",
        "efSearch", ...}`` (the measured :data:`HNSW_M` / :data:`HNSW_EF_CONSTRUCTION` /
        :data:`HNSW_EF_SEARCH`).
    """
    if n <= flat_max:
        return {"type": "IndexFlatIP", "metric": "inner_product"}
    return {
        "type": "IndexHNSWFlat",
        "metric": "inner_product",
        "M": HNSW_M,
        "efConstruction": HNSW_EF_CONSTRUCTION,
        "efSearch": HNSW_EF_SEARCH,
    }


def make_faiss_index(vectors: np.ndarray, spec: dict[str, Any]) -> Any:
    """Build a FAISS index over float32 ``[n, d]`` L2-normalised ``vectors`` per ``spec``."""
    import faiss

    d = int(vectors.shape[1])
    if spec["type"] == "IndexFlatIP":
        index = faiss.IndexFlatIP(d)
    elif spec["type"] == "IndexHNSWFlat":
        index = faiss.IndexHNSWFlat(d, int(spec["M"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(spec["efConstruction"])
        index.hnsw.efSearch = int(spec["efSearch"])
    else:
        raise ValueError(f"unknown FAISS index type {spec['type']!r}")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: How many times :meth:`SongIndex.load` follows ``CURRENT`` when concurrent saves keep replacing
#: the version it is reading.
LOAD_ATTEMPTS = 5


class SongIndex:
    """A searchable catalogue: tracks, their vectors and a FAISS index (row i = track i).

    Build with :meth:`build` (embeds descriptions) or :meth:`from_vectors` (vectors embedded
    elsewhere, e.g. by Prefect tasks); persist with :meth:`save`; open with :meth:`load`.
    Searching is thread-safe (FAISS search is read-only; :meth:`add` takes a lock).

    Attributes:
        tracks: list of :class:`Track`, ``len == ntotal``.
        vectors: float32 ``[n, 384]``, L2-normalised.
        manifest: what built it (model, revision, backend, index spec, counts, checksums).
    """

    def __init__(self, tracks: list[Track], vectors: np.ndarray, manifest: dict[str, Any], encoder: Any = None,
                 index: Any = None) -> None:
        if len(tracks) != len(vectors):
            raise ValueError(f"{len(tracks)} tracks but {len(vectors)} vectors")
        self.tracks = tracks
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.manifest = manifest
        self._encoder = encoder
        #: Filtered searches over at most this many matching rows are scored exactly.
        self.exact_subset_max = EXACT_SUBSET_MAX
        self._lock = threading.RLock()
        spec = manifest.get("faiss") or choose_index_spec(len(tracks))
        self.manifest["faiss"] = spec
        self.index = index if index is not None else make_faiss_index(self.vectors, spec)
        self._refresh_columns()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_vectors(
        cls,
        tracks: list[Track],
        vectors: np.ndarray,
        *,
        model_revision: str,
        backend: str,
        catalogue_sha256: str = "",
        has_explicit: bool = False,
        encoder: Any = None,
        extra: dict[str, Any] | None = None,
        index_spec: dict[str, Any] | None = None,
    ) -> SongIndex:
        """An index over ``tracks`` whose float32 ``[n, 384]`` vectors are already computed.

        ``index_spec`` overrides :func:`choose_index_spec` (e.g. ``choose_index_spec(n, 0)`` for
        HNSW on a small catalogue).

        Raises:
            InputError: ``tracks`` is empty.
            ValueError: ``vectors`` does not match ``tracks``.
        """
        from reelflow.processors.embeddings import DIM, MODEL_NAME

        if not tracks:
            raise InputError("the catalogue is empty: nothing to index", hint="pass a catalogue with at least one track")
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != DIM:
            raise ValueError(f"vectors must be [n, {DIM}], got {vectors.shape}")
        manifest = {
            "format_version": FORMAT_VERSION,
            "model_name": MODEL_NAME,
            "model_revision": model_revision,
            "encoder_backend": backend,
            "dim": DIM,
            "metric": "inner_product (cosine on L2-normalised vectors)",
            "count": len(tracks),
            "catalogue_sha256": catalogue_sha256,
            "has_explicit": has_explicit,
            "faiss": dict(index_spec) if index_spec else choose_index_spec(len(tracks)),
            **(extra or {}),
        }
        t0 = time.perf_counter()
        idx = cls(tracks, vectors, manifest, encoder=encoder)
        idx.manifest["faiss_build_s"] = round(time.perf_counter() - t0, 3)
        return idx

    @classmethod
    def build(
        cls,
        tracks: list[Track] | Catalogue,
        encoder: Any = None,
        *,
        batch_size: int = 32,
        progress: bool | None = None,
        catalogue_sha256: str = "",
        index_spec: dict[str, Any] | None = None,
    ) -> SongIndex:
        """Embed each track's description and index them.

        Args:
            tracks: normalised tracks, or a :class:`Catalogue` (its checksum is recorded).
            encoder: an encoder from :func:`processors.embeddings.get_encoder` (default: that).
            batch_size: texts per forward pass.
            progress: show a rich progress bar (default: when stderr is a terminal).
            catalogue_sha256: checksum recorded in the manifest.
            index_spec: FAISS spec overriding :func:`choose_index_spec`.

        Raises:
            InputError: no tracks.
        """
        from reelflow.processors.embeddings import get_encoder

        has_explicit = False
        if isinstance(tracks, Catalogue):
            catalogue_sha256 = catalogue_sha256 or tracks.source_sha256
            has_explicit = tracks.has_explicit
            tracks = tracks.tracks
        if not tracks:
            raise InputError("the catalogue is empty: nothing to index", hint="pass a catalogue with at least one track")
        encoder = encoder or get_encoder()
        texts = [describe(t) for t in tracks]
        t0 = time.perf_counter()
        vectors = embed_with_progress(encoder, texts, batch_size=batch_size, progress=progress)
        embed_s = time.perf_counter() - t0
        return cls.from_vectors(
            tracks,
            vectors,
            model_revision=encoder.revision,
            backend=encoder.backend,
            catalogue_sha256=catalogue_sha256,
            has_explicit=has_explicit,
            encoder=encoder,
            extra={"embed_s": round(embed_s, 3), "texts_per_s": round(len(texts) / max(embed_s, 1e-9), 1)},
            index_spec=index_spec,
        )

    def add(self, tracks: list[Track], vectors: np.ndarray) -> int:
        """Append new tracks (ids already present are ignored); returns how many were added.

        An exact index grows in place; an HNSW index inserts the new vectors. If the total crosses
        :data:`FLAT_MAX_TRACKS` an exact index is switched to HNSW (rebuilt); an HNSW index is
        never downgraded.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            known = set(self._row_of)
            keep = [i for i, t in enumerate(tracks) if t.track_id not in known]
            if not keep:
                return 0
            new_tracks = [tracks[i] for i in keep]
            new_vecs = vectors[keep]
            self.tracks = self.tracks + new_tracks
            self.vectors = np.ascontiguousarray(np.vstack([self.vectors, new_vecs]))
            spec = choose_index_spec(len(self.tracks))
            if self.manifest["faiss"]["type"] == "IndexFlatIP" and spec["type"] != "IndexFlatIP":
                self.manifest["faiss"] = spec
                self.index = make_faiss_index(self.vectors, spec)
            else:
                self.index.add(new_vecs)
            self.manifest["count"] = len(self.tracks)
            self._refresh_columns()
            return len(new_tracks)

    def set_clusters(self, labels: Sequence[int] | np.ndarray) -> None:
        """Store one mood-cluster label per track (``-1`` = noise)."""
        if len(labels) != len(self.tracks):
            raise ValueError(f"{len(labels)} labels for {len(self.tracks)} tracks")
        for t, lab in zip(self.tracks, labels, strict=True):
            t.cluster = int(lab)

    def _refresh_columns(self) -> None:
        self._row_of = {t.track_id: i for i, t in enumerate(self.tracks)}
        self._genre = np.array([t.playlist_genre.lower() for t in self.tracks], dtype=object)
        self._subgenre = np.array([t.playlist_subgenre.lower() for t in self.tracks], dtype=object)
        self._tempo = np.array([np.nan if t.tempo is None else t.tempo for t in self.tracks], dtype=np.float64)
        self._explicit = np.array([-1 if t.explicit is None else int(t.explicit) for t in self.tracks], dtype=np.int8)

    # -- queries -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.tracks)

    @property
    def encoder(self) -> Any:
        """The encoder queries use (the same backend that built the index)."""
        if self._encoder is None:
            from reelflow.processors.embeddings import get_encoder

            enc = get_encoder(self.manifest.get("encoder_backend"))
            _check_encoder(self.manifest, enc, "this index")
            self._encoder = enc
        return self._encoder

    def genres(self) -> list[str]:
        """Distinct genres and subgenres present (lower-case, sorted)."""
        return sorted((set(self._genre.tolist()) | set(self._subgenre.tolist())) - {""})

    def _mask(self, genre: str | None, min_tempo: float | None, max_tempo: float | None,
              explicit: bool | None) -> np.ndarray | None:
        if genre is None and min_tempo is None and max_tempo is None and explicit is None:
            return None
        mask = np.ones(len(self.tracks), dtype=bool)
        if genre is not None:
            g = genre.strip().lower()
            if not g:
                raise InputError("--genre is empty", hint="pass a genre such as pop, rock, latin, edm, r&b or rap")
            mask &= (self._genre == g) | (self._subgenre == g)
            if not mask.any():
                raise InputError(
                    f"unknown genre {genre!r}: no track in the catalogue has it",
                    hint="known genres/subgenres: " + ", ".join(self.genres()[:40]),
                )
        if min_tempo is not None and max_tempo is not None and min_tempo > max_tempo:
            raise InputError(f"min tempo {min_tempo} is above max tempo {max_tempo}", hint="swap the two values")
        with np.errstate(invalid="ignore"):
            if min_tempo is not None:
                mask &= self._tempo >= float(min_tempo)
            if max_tempo is not None:
                mask &= self._tempo <= float(max_tempo)
        if explicit is not None:
            if not (self._explicit >= 0).any():
                raise InputError(
                    "this catalogue has no explicit flag, so it cannot be filtered on it",
                    hint="drop the explicit filter, or index a catalogue with an `explicit` column",
                )
            mask &= self._explicit == int(explicit)
        return mask

    def search_vector(
        self,
        query: np.ndarray,
        k: int = 10,
        *,
        genre: str | None = None,
        min_tempo: float | None = None,
        max_tempo: float | None = None,
        explicit: bool | None = None,
        exclude: Iterable[int] = (),
    ) -> list[tuple[int, float]]:
        """Nearest rows to a float32 ``[384]`` query vector: ``[(row, cosine), ...]`` best first.

        Filters combine with AND; a filtered search returns ``min(k, matching rows)`` results,
        every one satisfying the filters.
        """
        k = _check_k(k)
        q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        excluded = set(exclude)
        mask = self._mask(genre, min_tempo, max_tempo, explicit)
        for row in excluded:
            if mask is None:
                mask = np.ones(len(self.tracks), dtype=bool)
            mask[row] = False
        if mask is None:
            with _single_thread_faiss():
                scores, rows = self.index.search(q, min(k, len(self.tracks)))
            return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
        subset = np.flatnonzero(mask)
        if len(subset) == 0:
            return []
        kk = min(k, len(subset))
        if len(subset) <= self.exact_subset_max or self.manifest["faiss"]["type"] == "IndexFlatIP":
            # Filter-then-rank, exact: score only the matching rows.
            sims = self.vectors[subset] @ q[0]
            top = np.argpartition(-sims, kk - 1)[:kk] if kk < len(sims) else np.arange(len(sims))
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(int(subset[i]), float(sims[i])) for i in top]
        import faiss

        bitmap = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
        # A filter hides most of the graph walk's candidates: widen efSearch by 0.5 / selectivity.
        # Measured on 3,000 real catalogue vectors (tests/processors/test_song_index_hnsw.py):
        # selectivity 0.126 → recall@10 0.896 at ef 128, 0.969 at 256, 0.995 at 512 (0.6 ms).
        base = max(int(self.manifest["faiss"].get("efSearch", HNSW_EF_SEARCH)), 2 * kk)
        ef = min(HNSW_EF_FILTER_MAX, math.ceil(base * max(1.0, 0.5 * len(mask) / len(subset))))
        params = faiss.SearchParametersHNSW(sel=sel, efSearch=ef)
        with _single_thread_faiss():
            scores, rows = self.index.search(q, kk, params=params)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def _matches(self, query: np.ndarray, k: int, filters: SearchFilters, exclude: Iterable[int] = ()) -> list[SongMatch]:
        """:meth:`search_vector` hits as :class:`core.models.SongMatch`, best first."""
        hits = self.search_vector(query, k, exclude=exclude, **filters)
        return [self.tracks[r].to_match(s) for r, s in hits]

    def search(self, query: str, k: int = 10, **filters: Unpack[SearchFilters]) -> list[SongMatch]:
        """Tracks whose descriptions best match a free-text query (cosine, best first).

        Args:
            query: 1–1,000 characters, e.g. ``"sunny latin summer party"``.
            k: number of results (1–1,000).
            **filters: :class:`SearchFilters` (``genre``, ``min_tempo``, ``max_tempo``,
                ``explicit``), combined with AND.

        Returns:
            Up to ``k`` :class:`core.models.SongMatch`, sorted by ``score`` descending.

        Raises:
            InputError: empty or over-long query, bad ``k``, unknown genre, inverted tempo range.
        """
        q = _check_query(query)
        return self._matches(self.encoder.encode([q])[0], k, filters)

    def like(self, track_id: str, k: int = 10, **filters: Unpack[SearchFilters]) -> list[SongMatch]:
        """Nearest neighbours of a catalogue track (the track itself excluded).

        Args:
            track_id: a ``track_id`` in this index.
            k: number of results (1–1,000).
            **filters: :class:`SearchFilters`, as in :meth:`search`.

        Raises:
            InputError: the track id is not in the index (or a filter is invalid).
        """
        row = self._row_of.get(str(track_id).strip())
        if row is None:
            raise InputError(
                f"track {track_id!r} is not in the song index",
                hint="use a track_id from `reelflow songs search ... --json`",
            )
        return self._matches(self.vectors[row], k, filters, exclude=[row])

    def track(self, track_id: str) -> Track | None:
        """The track with this id, or ``None``."""
        row = self._row_of.get(track_id)
        return None if row is None else self.tracks[row]

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: Path | str) -> Path:
        """Write the index under ``directory`` atomically; returns the version folder.

        The new version is written to ``directory/.tmp-<version>/``, fsynced, renamed to
        ``directory/<version>/`` and ``directory/CURRENT`` is then replaced atomically (file and
        folder fsynced). The version that was live before is kept (a reader that read the old
        ``CURRENT`` can still open it, and a corrupt new version can fall back to it); older
        versions are removed. Only folders that are ReelFlow's own versions (name
        ``YYYYMMDDTHHMMSS-xxxxxxxx`` AND a ``manifest.json`` naming that version) are ever
        removed; anything else in the folder is left alone.

        Callers that may race another process (``persist-index``, the default cache) hold
        :func:`index_lock` around load + save.

        Raises:
            InputError: ``directory`` is not empty and is not a ReelFlow song index folder
                (never written into, so nothing of the user's is touched).
        """
        import faiss

        directory = Path(directory)
        claim_index_dir(directory)
        previous = _current_version(directory)
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        tmp = directory / f".tmp-{version}"
        tmp.mkdir()
        try:
            with self._lock:
                np.save(tmp / "vectors.npy", self.vectors, allow_pickle=False)
                (tmp / "tracks.json").write_text(
                    json.dumps({"fields": list(TRACK_FIELDS),
                                "rows": [[getattr(t, f) for f in TRACK_FIELDS] for t in self.tracks]},
                               ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8",
                )
                files = ["vectors.npy", "tracks.json"]
                if self.manifest["faiss"]["type"] != "IndexFlatIP":
                    faiss.write_index(self.index, str(tmp / "index.faiss"))
                    files.append("index.faiss")
                manifest = dict(self.manifest)
                manifest.update(
                    count=len(self.tracks),
                    built_at=manifest.get("built_at") or datetime.now(UTC).isoformat(),
                    saved_at=datetime.now(UTC).isoformat(),
                    version=version,
                    files={name: {"sha256": sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
                           for name in files},
                )
            for name in files:
                _fsync(tmp / name)
            atomic_write_json(tmp / "manifest.json", manifest)
            fsync_dir(tmp)
            final = directory / version
            os.replace(tmp, final)
            fsync_dir(directory)
            atomic_write_text(directory / "CURRENT", version + "\n")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.manifest = manifest
        prune_versions(directory, keep={version, previous})
        return final

    @classmethod
    def read_manifest(cls, directory: Path | str, version: str | None = None) -> dict[str, Any]:
        """The live version's manifest, or ``version``'s (no checksum verification).

        Raises:
            IndexMismatchError: no index, or the manifest is unreadable.
        """
        if version is not None and not _VERSION_RE.fullmatch(version):
            raise IndexMismatchError(f"{version!r} is not a song index version name", hint=REBUILD_HINT)
        vdir = Path(directory) / version if version else _version_dir(Path(directory))
        try:
            return json.loads((vdir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexMismatchError(f"song index manifest in {vdir} is unreadable ({exc})", hint=REBUILD_HINT) from exc

    @classmethod
    def load(cls, directory: Path | str, encoder: Any = None, verify: bool = True,
             version: str | None = None) -> SongIndex:
        """Open a saved index, verifying file checksums and the encoder.

        Safe against concurrent :meth:`save` calls without the lock: when the version ``CURRENT``
        named disappears or changes while it is read (a save pruned it), ``CURRENT`` is read again,
        up to :data:`LOAD_ATTEMPTS` times while it keeps moving.

        Args:
            directory: the folder given to :meth:`save`.
            encoder: the encoder queries will use (default: ``get_encoder`` for the backend the
                manifest names).
            verify: check each file's SHA-256 against the manifest.
            version: open this kept version instead of the live one.

        Raises:
            IndexMismatchError: missing/corrupt/truncated files, an unknown format, or a manifest
                whose model/revision/dim does not match the encoder (with a rebuild hint).
        """
        directory = Path(directory)
        if version is not None:
            return cls._load_version(directory, version, encoder, verify)
        for attempt in range(LOAD_ATTEMPTS):
            live = _current_version(directory)
            try:
                return cls._load_version(directory, None, encoder, verify)
            except IndexMismatchError:
                # a save replaced (and pruned) the version being read: read the newer one; a
                # version that fails while CURRENT stays put is really broken
                if _current_version(directory) == live or attempt == LOAD_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _load_version(cls, directory: Path, version: str | None, encoder: Any, verify: bool) -> SongIndex:
        import faiss

        from reelflow.processors.embeddings import get_encoder

        manifest = cls.read_manifest(directory, version)
        vdir = directory / manifest.get("version", "")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"song index in {vdir} has format {manifest.get('format_version')!r}, expected {FORMAT_VERSION}",
                hint=REBUILD_HINT,
            )
        encoder = encoder or get_encoder(manifest.get("encoder_backend"))
        _check_encoder(manifest, encoder, str(vdir))
        files = manifest.get("files") or {}
        for name in ("vectors.npy", "tracks.json"):
            if name not in files:
                raise IndexMismatchError(f"song index manifest in {vdir} does not list {name}", hint=REBUILD_HINT)
        for name, meta in files.items():
            path = vdir / name
            try:
                size = path.stat().st_size if path.is_file() else None
            except OSError:  # pruned by a concurrent save between the two calls
                size = None
            if size is None:
                raise IndexMismatchError(f"song index file {path} is missing", hint=REBUILD_HINT)
            if size != meta.get("bytes"):
                raise IndexMismatchError(
                    f"song index file {path} is truncated or changed ({size} bytes, manifest says {meta.get('bytes')})",
                    hint=REBUILD_HINT,
                )
            try:
                digest = sha256_file(path) if verify else None
            except OSError as exc:
                raise IndexMismatchError(f"song index file {path} cannot be read ({exc})", hint=REBUILD_HINT) from exc
            if verify and digest != meta.get("sha256"):
                raise IndexMismatchError(f"song index file {path} fails its SHA-256 check (corrupt)", hint=REBUILD_HINT)
        try:
            vectors = np.load(vdir / "vectors.npy", allow_pickle=False)
            raw_tracks = json.loads((vdir / "tracks.json").read_text(encoding="utf-8"))
            if isinstance(raw_tracks, list):  # early layout: one object per track
                tracks = [Track(**r) for r in raw_tracks]
            elif tuple(raw_tracks["fields"]) == TRACK_FIELDS:
                tracks = [Track(*r) for r in raw_tracks["rows"]]
            else:
                tracks = [Track(**dict(zip(raw_tracks["fields"], r, strict=True))) for r in raw_tracks["rows"]]
            index = faiss.read_index(str(vdir / "index.faiss")) if "index.faiss" in files else None
        except Exception as exc:  # noqa: BLE001 - any decode failure means a corrupt index
            raise IndexMismatchError(f"song index in {vdir} cannot be read ({exc})", hint=REBUILD_HINT) from exc
        if len(tracks) != manifest.get("count") or vectors.shape != (manifest.get("count"), manifest.get("dim")):
            raise IndexMismatchError(
                f"song index in {vdir} is inconsistent: {len(tracks)} tracks, vectors {vectors.shape}, "
                f"manifest count {manifest.get('count')}",
                hint=REBUILD_HINT,
            )
        if index is not None:
            if index.ntotal != len(tracks):
                raise IndexMismatchError(f"FAISS index in {vdir} has {index.ntotal} vectors, expected {len(tracks)}",
                                         hint=REBUILD_HINT)
            if hasattr(index, "hnsw"):
                index.hnsw.efSearch = int(manifest["faiss"].get("efSearch", HNSW_EF_SEARCH))
        return cls(tracks, vectors, manifest, encoder=encoder, index=index)

    @classmethod
    def load_from_uri(cls, uri: str, cache_dir: Path | str, encoder: Any = None, *,
                      settings: Settings) -> SongIndex:
        """Open the index published at ``uri`` (by :func:`publish_index`) through a local cache.

        The remote ``CURRENT`` names the live version. When ``cache_dir`` already holds that
        version it is loaded from disk (checksums verified); otherwise the version's files are
        downloaded into ``cache_dir`` (each checked against the remote manifest's SHA-256 and
        size), moved into place atomically, and loaded. An interrupted or refused download
        leaves the cache as it was. Processes share the download through a file lock.

        Args:
            uri: ``s3://bucket/prefix`` (``REELFLOW_SONG_INDEX_URI`` / ``--index-uri``).
            cache_dir: local index folder (same layout as :meth:`save`).
            encoder: as in :meth:`load`.
            settings: :class:`core.settings.Settings` (S3 endpoint and credentials in ``storage``),
                given by the caller.

        Raises:
            IndexMismatchError: nothing published at ``uri``, a corrupt/truncated object, or an
                encoder mismatch (with a rebuild hint).
            InputError: ``uri`` is not ``s3://``.
            ConfigurationError: wrong S3 credentials, bucket or endpoint (from the storage layer).
        """
        from reelflow.processors.song_index.remote import _load_remote  # remote imports this module

        cache_dir = Path(cache_dir)
        with index_lock(cache_dir):
            return _load_remote(uri, cache_dir, encoder, settings)


@contextlib.contextmanager
def _single_thread_faiss() -> Iterator[None]:
    """Run one FAISS search on the calling thread only.

    For a single query, OpenMP fan-out costs more than it saves, and on a busy 2-core machine
    it is 10x slower at p50 (measured: IndexFlatIP over 26k vectors, p50 55 ms with 2 threads vs
    3.8 ms with 1). ``omp_set_num_threads`` changes the calling thread's setting only; the
    previous value is restored.
    """
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _check_encoder(manifest: dict[str, Any], encoder: Any, where: str) -> None:
    from reelflow.processors.embeddings import DIM, MODEL_NAME

    problems = []
    if manifest.get("model_name") != MODEL_NAME:
        problems.append(f"model {manifest.get('model_name')!r} != {MODEL_NAME!r}")
    if manifest.get("dim") != DIM:
        problems.append(f"dim {manifest.get('dim')!r} != {DIM}")
    if manifest.get("model_revision") != encoder.revision:
        problems.append(f"encoder revision {manifest.get('model_revision')!r} != {encoder.revision!r}")
    if problems:
        raise IndexMismatchError(
            f"song index {where} was built with a different encoder: " + "; ".join(problems),
            hint=REBUILD_HINT,
        )


def _check_query(query: str) -> str:
    q = (query or "").strip()
    if not q:
        raise InputError("the search query is empty", hint='describe the music, e.g. "sunny latin summer party"')
    if len(q) > MAX_QUERY_CHARS:
        raise InputError(
            f"the search query is {len(q)} characters; the limit is {MAX_QUERY_CHARS}",
            hint="shorten the query to a few words describing the mood",
        )
    return q


def _check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be an integer from 1 to {MAX_K}, got {k!r}", hint="pass e.g. -k 10")
    return k


def embed_with_progress(encoder: Any, texts: Sequence[str], batch_size: int = 32, progress: bool | None = None,
                        chunk: int = 1024) -> np.ndarray:
    """Embed ``texts`` in chunks, showing a rich progress bar when ``progress`` (default: tty).

    Returns:
        float32 ``[n, 384]``.
    """
    import sys

    if progress is None:
        progress = sys.stderr.isatty()
    out = []
    if not progress or len(texts) <= chunk:
        for i in range(0, len(texts), chunk):
            out.append(encoder.encode(list(texts[i : i + chunk]), batch_size=batch_size))
        return np.vstack(out) if out else np.zeros((0, 384), np.float32)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]embedding catalogue"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("embed", total=len(texts))
        for i in range(0, len(texts), chunk):
            part = list(texts[i : i + chunk])
            out.append(encoder.encode(part, batch_size=batch_size))
            bar.advance(task, len(part))
    return np.vstack(out)
