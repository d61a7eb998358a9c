"""Semantic song search over a track catalogue: descriptions → MiniLM vectors → FAISS.

Each track becomes a short English description (title, artist, genre, subgenre and words
derived from its audio features: tempo → "slow/upbeat/fast", energy and valence → mood words,
danceability, acousticness, instrumentalness, speechiness, liveness), embedded with
:mod:`processors.embeddings` (384-d, L2-normalised) so cosine similarity is the inner product.

Index choice by size (:func:`choose_index_spec`): exact ``faiss.IndexFlatIP`` up to
:data:`FLAT_MAX_TRACKS` vectors, ``faiss.IndexHNSWFlat`` (inner product) above, with the
parameters measured in ``bench/bench_song_index.py`` (recall@10 ≥ 0.95 against exact search on
1M clustered vectors). Row ``i`` of the index is ``tracks[i]``.

Metadata filters (genre, tempo range, explicit) are applied filter-then-rank: the matching rows
are scored exactly (a dense matrix-vector product over the subset) when the subset has at most
:data:`EXACT_SUBSET_MAX` rows; larger subsets of an HNSW index are searched through FAISS with an
``IDSelectorBitmap`` so every result satisfies the filter and ``k`` results come back whenever
``k`` rows match (``efSearch`` widened by 0.5 / selectivity, which keeps recall@10 ≥ 0.95).

Persistence (:meth:`SongIndex.save` / :meth:`SongIndex.load`): ``<dir>/<version>/`` holds
``vectors.npy``, ``tracks.json``, ``index.faiss`` (HNSW only; an exact index is rebuilt from the
vectors, which is a copy) and ``manifest.json`` (model name + revision, dim, metric, count,
catalogue checksum, build time, FAISS index type and params, SHA-256 of every file).
``<dir>/CURRENT`` names the live version and is replaced atomically after the new version is
fully written, so a reader never sees a half-written index and a failed build leaves the old
one in place. Loading checks every file's checksum and the encoder revision and raises
:class:`core.errors.IndexMismatchError` with a rebuild hint.

Remote copy (optional, ``REELFLOW_SONG_INDEX_URI=s3://bucket/prefix``): :func:`publish_index`
uploads a saved version through :mod:`core.storage_factory` / :class:`core.storage_s3.S3Storage`
(files, then ``manifest.json``, then ``CURRENT`` last); :meth:`SongIndex.load_from_uri`
downloads the live version into the local cache, checking every file against the manifest.

Sources: FAISS wiki "Guidelines to choose an index" and "Setting search parameters for one
query" (IDSelector); Reimers & Gurevych 2019 (Sentence-BERT); the catalogue is TidyTuesday's
``spotify_songs.csv`` (Spotify Web API audio features, value ranges per its documentation).

Package layout (split along the seams; every name is re-exported here, so
``from reelflow.processors.song_index import X`` keeps working):

- :mod:`.describe`: the text each track is embedded as.
- :mod:`.catalogue`: :class:`Track`, catalogue CSV / record reading and validation.
- :mod:`.index`: :class:`SongIndex` (FAISS), index specs, search, save/load.
- :mod:`.store`: versioned folders, the ``CURRENT`` pointer, locks, pruning.
- :mod:`.default`: the bundled catalogue's index, built on first use and cached.
- :mod:`.remote`: publishing to / downloading from S3.
"""

from reelflow.core.errors import IndexMismatchError, InputError
from reelflow.core.models import SongMatch
from reelflow.processors.song_index.describe import (
    feature_words,
    metadata_words,
    describe,
)
from reelflow.processors.song_index.catalogue import (
    REQUIRED_COLUMNS,
    NUMERIC_COLUMNS,
    Track,
    TRACK_FIELDS,
    SkippedRow,
    Catalogue,
    _parse_number,
    _parse_bool,
    track_from_record,
    _dedupe_key,
    normalise_records,
    read_catalogue_csv,
    catalogue_from_records,
    merge_catalogues,
)
from reelflow.processors.song_index.store import (
    FORMAT_VERSION,
    _VERSION_RE,
    _TMP_RE,
    _SCRATCH_RE,
    INDEX_MARKER,
    KEEP_VERSIONS,
    STALE_TMP_S,
    REBUILD_HINT,
    _fsync,
    _version_dir,
    _current_version,
    is_index_version,
    index_versions,
    claim_index_dir,
    prune_versions,
    index_lock,
    _file_lock,
)
from reelflow.processors.song_index.index import (
    FLAT_MAX_TRACKS,
    HNSW_M,
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    EXACT_SUBSET_MAX,
    HNSW_EF_FILTER_MAX,
    MAX_QUERY_CHARS,
    MAX_K,
    SearchFilters,
    choose_index_spec,
    make_faiss_index,
    _sha256_bytes,
    SongIndex,
    _single_thread_faiss,
    _check_encoder,
    _check_query,
    _check_k,
    embed_with_progress,
)
from reelflow.processors.song_index.default import (
    _DEFAULT,
    _DEFAULT_LOCK,
    default_catalogue_path,
    default_index_dir,
    load_or_build_default,
    _load_usable,
)
from reelflow.processors.song_index.remote import (
    REMOTE_KEEP_VERSIONS,
    _index_storage,
    _remote_current,
    publish_index,
    _load_remote,
)

__all__ = [
    "Catalogue",
    "EXACT_SUBSET_MAX",
    "FLAT_MAX_TRACKS",
    "FORMAT_VERSION",
    "HNSW_EF_CONSTRUCTION",
    "HNSW_EF_FILTER_MAX",
    "HNSW_EF_SEARCH",
    "HNSW_M",
    "INDEX_MARKER",
    "IndexMismatchError",
    "InputError",
    "KEEP_VERSIONS",
    "MAX_K",
    "MAX_QUERY_CHARS",
    "NUMERIC_COLUMNS",
    "REBUILD_HINT",
    "REMOTE_KEEP_VERSIONS",
    "REQUIRED_COLUMNS",
    "STALE_TMP_S",
    "SearchFilters",
    "SkippedRow",
    "SongIndex",
    "SongMatch",
    "TRACK_FIELDS",
    "Track",
    "catalogue_from_records",
    "choose_index_spec",
    "claim_index_dir",
    "default_catalogue_path",
    "default_index_dir",
    "describe",
    "embed_with_progress",
    "feature_words",
    "index_lock",
    "index_versions",
    "is_index_version",
    "load_or_build_default",
    "make_faiss_index",
    "merge_catalogues",
    "metadata_words",
    "normalise_records",
    "prune_versions",
    "publish_index",
    "read_catalogue_csv",
    "track_from_record",
]
