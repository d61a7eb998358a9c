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
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np

from reelflow.core.errors import IndexMismatchError, InputError
from reelflow.core.models import SongMatch
from reelflow.core.storage import atomic_write_json, atomic_write_text, fsync_dir, sha256_file

log = logging.getLogger(__name__)

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

#: Columns a catalogue CSV must have.
REQUIRED_COLUMNS = ("track_id", "track_name", "track_artist", "playlist_genre", "playlist_subgenre")
#: Numeric columns read when present (Spotify audio features; ranges per the Web API docs).
NUMERIC_COLUMNS = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
)


# --------------------------------------------------------------------------------------------
# Tracks and descriptions
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Track:
    """One catalogue track (normalised). Audio features are ``None`` when unknown.

    Units: ``tempo`` BPM, ``loudness`` dB (Spotify's), ``duration_ms`` milliseconds; the other
    features are Spotify's 0–1 confidences/intensities. ``cluster`` is the mood cluster label
    (-1 = noise/unclustered). ``album`` and ``popularity`` (Spotify's 0–100) come from Spotify
    ingests; the bundled CSV has neither.
    """

    track_id: str
    track_name: str
    track_artist: str
    playlist_genre: str = ""
    playlist_subgenre: str = ""
    danceability: float | None = None
    energy: float | None = None
    key: float | None = None
    loudness: float | None = None
    speechiness: float | None = None
    acousticness: float | None = None
    instrumentalness: float | None = None
    liveness: float | None = None
    valence: float | None = None
    tempo: float | None = None
    duration_ms: float | None = None
    explicit: bool | None = None
    source: str = ""
    cluster: int = -1
    album: str = ""
    popularity: float | None = None

    def description(self) -> str:
        """The text that is embedded for this track (see :func:`describe`)."""
        return describe(self)

    def to_match(self, score: float) -> SongMatch:
        """This track as a :class:`core.models.SongMatch` with cosine ``score``."""
        return SongMatch(
            track_id=self.track_id,
            track_name=self.track_name,
            track_artist=self.track_artist,
            playlist_genre=self.playlist_genre,
            playlist_subgenre=self.playlist_subgenre,
            tempo=self.tempo,
            energy=self.energy,
            valence=self.valence,
            score=round(float(score), 6),
        )


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


#: Field order of :class:`Track` (the column order of ``tracks.json``).
TRACK_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Track))


def feature_words(t: Track) -> list[str]:
    """Mood/tempo words for a track's audio features (thresholds on Spotify's 0–1 scales).

    Returns:
        Words/phrases in a fixed order; empty when no feature is known.
    """
    words: list[str] = []
    if t.tempo is not None and t.tempo > 0:
        if t.tempo < 85:
            words.append("slow tempo")
        elif t.tempo < 110:
            words.append("mid-tempo")
        elif t.tempo < 135:
            words.append("upbeat tempo")
        else:
            words.append("fast tempo")
    e, v = t.energy, t.valence
    if e is not None:
        if e >= 0.8:
            words.append("high energy, intense, powerful")
        elif e >= 0.6:
            words.append("energetic")
        elif e >= 0.4:
            words.append("moderate energy")
        else:
            words.append("calm, soft, mellow")
    if v is not None:
        if v >= 0.7:
            words.append("happy, cheerful, sunny, positive")
        elif v >= 0.45:
            words.append("warm, feel-good")
        elif v >= 0.25:
            words.append("bittersweet, moody")
        else:
            words.append("sad, dark, melancholic")
    if e is not None and v is not None:
        if e >= 0.7 and v < 0.35:
            words.append("aggressive, angry")
        elif e < 0.45 and v >= 0.5:
            words.append("relaxed, peaceful, chill")
        elif e >= 0.7 and v >= 0.6:
            words.append("euphoric, party")
    d = t.danceability
    if d is not None:
        if d >= 0.75:
            words.append("very danceable, groovy")
        elif d >= 0.6:
            words.append("danceable")
        elif d < 0.4:
            words.append("not for dancing")
    if t.acousticness is not None and t.acousticness >= 0.6:
        words.append("acoustic")
    if t.instrumentalness is not None and t.instrumentalness >= 0.5:
        words.append("instrumental, no vocals")
    if t.speechiness is not None:
        if t.speechiness >= 0.66:
            words.append("spoken word")
        elif t.speechiness >= 0.25:
            words.append("rap vocals, lots of lyrics")
    if t.liveness is not None and t.liveness >= 0.8:
        words.append("live recording")
    return words


def metadata_words(t: Track) -> list[str]:
    """Words for what a Spotify ingest knows when audio features are missing.

    Spotify closed ``/audio-features`` to new apps (November 2024), so playlist/search tracks
    carry only the explicit flag and, outside dev mode, ``popularity`` (0–100, Web API docs).

    Returns:
        Words/phrases in a fixed order; empty when neither is known (the bundled CSV).
    """
    words: list[str] = []
    if t.explicit is True:
        words.append("explicit lyrics")
    elif t.explicit is False:
        words.append("clean lyrics")
    if t.popularity is not None:
        if t.popularity >= 70:
            words.append("popular hit")
        elif t.popularity >= 40:
            words.append("well-known")
        else:
            words.append("deep cut")
    return words


def describe(t: Track) -> str:
    """Description embedded for a track.

    ``"<title> by <artist>. From the album <album>. Genre: <genre>, <subgenre>. <words>."``;
    the album, genre and words parts appear only when known (a Spotify track without audio
    features still gets title, artist, album, genre, explicit and popularity words).
    """
    parts = [f"{t.track_name} by {t.track_artist}."]
    if t.album:
        parts.append(f"From the album {t.album}.")
    genres = ", ".join(g for g in (t.playlist_genre, t.playlist_subgenre) if g)
    if genres:
        parts.append(f"Genre: {genres}.")
    words = feature_words(t) + metadata_words(t)
    if words:
        parts.append(", ".join(words) + ".")
    return " ".join(parts)


@dataclass
class SkippedRow:
    """A catalogue row that was not indexed, and why (``line`` is 1-based incl. the header)."""

    line: int
    reason: str
    track_id: str = ""


@dataclass
class Catalogue:
    """Normalised, de-duplicated tracks plus what was dropped on the way.

    Attributes:
        tracks: unique tracks in input order (first occurrence wins).
        skipped: rows rejected as invalid (empty title, unparseable number ...).
        duplicates: rows dropped as duplicates (same ``track_id`` or same title + artist).
        source_sha256: SHA-256 of the input (the CSV bytes, or the canonical JSON of dicts).
        has_explicit: whether the source carries an explicit flag.
    """

    tracks: list[Track]
    skipped: list[SkippedRow] = field(default_factory=list)
    duplicates: int = 0
    source_sha256: str = ""
    has_explicit: bool = False

    def skipped_report(self, limit: int = 20) -> dict[str, Any]:
        """Summary for artifacts: counts and the first ``limit`` skipped rows."""
        return {
            "indexed": len(self.tracks),
            "skipped": len(self.skipped),
            "duplicates": self.duplicates,
            "first_skipped": [asdict(s) for s in self.skipped[:limit]],
        }


def _parse_number(value: Any) -> float | None:
    """Float of a cell; ``None`` for empty; raises ValueError for garbage or non-finite."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        s = str(value).strip()
        if not s:
            return None
        x = float(s)
    if not math.isfinite(x):
        raise ValueError(f"non-finite number {value!r}")
    return x


def _parse_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in {"true", "1", "yes", "t", "y"}:
        return True
    if s in {"false", "0", "no", "f", "n"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def track_from_record(rec: dict[str, Any], source: str = "") -> Track:
    """Normalise one record: a catalogue CSV row or a Spotify Web API track object.

    Spotify track objects (``id``, ``name``, ``artists[].name``, ``explicit``) are accepted so a
    Spotify ingest can pass the API's dicts directly; extra keys (``genre``, ``subgenre``,
    audio features) are read when present.

    Raises:
        ValueError: empty id/title/artist or an unparseable number (the message says which).
    """
    tid = str(rec.get("track_id") or rec.get("id") or "").strip()
    name = str(rec.get("track_name") or rec.get("name") or "").strip()
    artist = rec.get("track_artist")
    if artist is None and isinstance(rec.get("artists"), list):
        artist = ", ".join(a.get("name", "") for a in rec["artists"] if isinstance(a, dict))
    artist = str(artist or "").strip()
    if not tid:
        raise ValueError("empty track_id")
    if not name:
        raise ValueError("empty track_name")
    if not artist:
        raise ValueError("empty track_artist")
    nums: dict[str, float | None] = {}
    for col in NUMERIC_COLUMNS:
        try:
            nums[col] = _parse_number(rec.get(col))
        except ValueError:
            raise ValueError(f"unparseable {col} {rec.get(col)!r}") from None
    try:
        explicit = _parse_bool(rec.get("explicit"))
    except ValueError:
        raise ValueError(f"unparseable explicit {rec.get('explicit')!r}") from None
    genre = str(rec.get("playlist_genre") or rec.get("genre") or "").strip().lower()
    sub = str(rec.get("playlist_subgenre") or rec.get("subgenre") or "").strip().lower()
    album = rec.get("album") or ""
    if isinstance(album, dict):  # a raw Spotify track object
        album = album.get("name") or ""
    try:
        popularity = _parse_number(rec.get("popularity"))
    except ValueError:
        raise ValueError(f"unparseable popularity {rec.get('popularity')!r}") from None
    return Track(
        track_id=tid,
        track_name=name,
        track_artist=artist,
        playlist_genre=genre,
        playlist_subgenre=sub,
        explicit=explicit,
        source=source,
        album=str(album).strip(),
        popularity=popularity,
        **nums,  # type: ignore[arg-type]
    )


def _dedupe_key(t: Track) -> tuple[str, str]:
    return (" ".join(t.track_name.casefold().split()), " ".join(t.track_artist.casefold().split()))


def normalise_records(
    records: Iterable[dict[str, Any]], source: str = "", first_line: int = 2
) -> tuple[list[Track], list[SkippedRow], int]:
    """Normalise and de-duplicate records (same ``track_id``, or same title + artist).

    Args:
        records: CSV rows or Spotify track dicts, in priority order (first occurrence wins).
        source: label stored on each track (e.g. ``"csv:spotify_songs.csv"``).
        first_line: line number reported for the first record (2 = first CSV data line).

    Returns:
        ``(tracks, skipped, duplicates)``.
    """
    tracks: list[Track] = []
    skipped: list[SkippedRow] = []
    seen_ids: set[str] = set()
    seen_keys: set[tuple[str, str]] = set()
    dups = 0
    for i, rec in enumerate(records):
        try:
            t = track_from_record(rec, source)
        except ValueError as exc:
            skipped.append(SkippedRow(line=first_line + i, reason=str(exc), track_id=str(rec.get("track_id") or "")))
            continue
        key = _dedupe_key(t)
        if t.track_id in seen_ids or key in seen_keys:
            dups += 1
            continue
        seen_ids.add(t.track_id)
        seen_keys.add(key)
        tracks.append(t)
    return tracks, skipped, dups


def read_catalogue_csv(path: Path | str) -> Catalogue:
    """Read a catalogue CSV (the TidyTuesday ``spotify_songs.csv`` layout).

    Required columns: :data:`REQUIRED_COLUMNS`; :data:`NUMERIC_COLUMNS` and ``explicit`` are
    read when present. Rows with an empty id/title/artist or an unparseable number are skipped
    and reported; duplicates are dropped.

    Raises:
        InputError: the file is missing/unreadable/not UTF-8/over
            :data:`core.storage.MAX_CATALOGUE_BYTES`, a row cannot be parsed (a field over 128 KiB,
            the ``csv`` module's limit), required columns are missing (named), or no valid track
            remains.
    """
    from reelflow.core.storage import MAX_CATALOGUE_BYTES, read_capped

    path = Path(path)
    if not path.is_file():
        raise InputError(f"catalogue CSV not found: {path}", hint="pass an existing CSV file with --catalogue")
    raw = read_capped(path, MAX_CATALOGUE_BYTES, "catalogue CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"catalogue {path} is not UTF-8 text ({exc})", hint="re-save the CSV as UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = [c.strip() for c in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise InputError(f"catalogue {path} header cannot be parsed as CSV ({exc})",
                         hint="the first row must be the column names, each under 128 KiB") from None
    if not columns:
        raise InputError(f"catalogue {path} is empty (no header row)", hint="pass a CSV with a header and tracks")
    reader.fieldnames = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            f"catalogue {path} is missing required column(s): {', '.join(missing)}",
            hint=f"the CSV needs the columns {', '.join(REQUIRED_COLUMNS)} (audio features optional)",
        )
    try:
        tracks, skipped, dups = normalise_records(reader, source=f"csv:{path.name}")
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (128 KiB), a NUL byte
        raise InputError(
            f"catalogue {path} line {reader.line_num}: cannot be parsed as CSV ({exc})",
            hint="each field must be under 128 KiB and quotes balanced; fix or remove that row",
        ) from None
    if not tracks:
        detail = f"; {len(skipped)} row(s) skipped, first: line {skipped[0].line}: {skipped[0].reason}" if skipped else ""
        raise InputError(
            f"catalogue {path} has no valid tracks{detail}",
            hint="pass a CSV with at least one row that has track_id, track_name and track_artist",
        )
    return Catalogue(
        tracks=tracks,
        skipped=skipped,
        duplicates=dups,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        has_explicit="explicit" in columns,
    )


def catalogue_from_records(records: Sequence[dict[str, Any]], source: str = "records") -> Catalogue:
    """A :class:`Catalogue` from track dicts (e.g. Spotify playlist items' ``track`` objects).

    Raises:
        InputError: no valid track remains.
    """
    canonical = json.dumps(list(records), sort_keys=True, default=str).encode()
    tracks, skipped, dups = normalise_records(records, source=source, first_line=1)
    if not tracks:
        raise InputError(f"{source}: no valid tracks among {len(records)} record(s)", hint="check the source")
    return Catalogue(
        tracks=tracks,
        skipped=skipped,
        duplicates=dups,
        source_sha256=hashlib.sha256(canonical).hexdigest(),
        has_explicit=any(t.explicit is not None for t in tracks),
    )


def merge_catalogues(*cats: Catalogue) -> Catalogue:
    """Union of catalogues, de-duplicated again across them (earlier catalogues win)."""
    if len(cats) == 1:
        return cats[0]
    tracks: list[Track] = []
    seen_ids: set[str] = set()
    seen_keys: set[tuple[str, str]] = set()
    dups = sum(c.duplicates for c in cats)
    for c in cats:
        for t in c.tracks:
            key = _dedupe_key(t)
            if t.track_id in seen_ids or key in seen_keys:
                dups += 1
                continue
            seen_ids.add(t.track_id)
            seen_keys.add(key)
            tracks.append(t)
    sha = hashlib.sha256("".join(c.source_sha256 for c in cats).encode()).hexdigest()
    return Catalogue(
        tracks=tracks,
        skipped=[s for c in cats for s in c.skipped],
        duplicates=dups,
        source_sha256=sha,
        has_explicit=any(c.has_explicit for c in cats),
    )


# --------------------------------------------------------------------------------------------
# FAISS index
# --------------------------------------------------------------------------------------------


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

        Safe against a concurrent :meth:`save` without the lock: when the version ``CURRENT``
        named disappears or changes while it is read, ``CURRENT`` is read again once.

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
        live = _current_version(directory)
        try:
            return cls._load_version(directory, None, encoder, verify)
        except IndexMismatchError:
            if _current_version(directory) == live:
                raise
            return cls._load_version(directory, None, encoder, verify)  # a save replaced it meanwhile

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
            if not path.is_file():
                raise IndexMismatchError(f"song index file {path} is missing", hint=REBUILD_HINT)
            size = path.stat().st_size
            if size != meta.get("bytes"):
                raise IndexMismatchError(
                    f"song index file {path} is truncated or changed ({size} bytes, manifest says {meta.get('bytes')})",
                    hint=REBUILD_HINT,
                )
            if verify and sha256_file(path) != meta.get("sha256"):
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
    def load_from_uri(cls, uri: str, cache_dir: Path | str, encoder: Any = None, settings: Any = None) -> SongIndex:
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
            settings: :class:`core.settings.Settings` (default: from the environment).

        Raises:
            IndexMismatchError: nothing published at ``uri``, a corrupt/truncated object, or an
                encoder mismatch (with a rebuild hint).
            InputError: ``uri`` is not ``s3://``.
            ConfigurationError: wrong S3 credentials, bucket or endpoint (from the storage layer).
        """
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


# --------------------------------------------------------------------------------------------
# The bundled catalogue, cached
# --------------------------------------------------------------------------------------------

_DEFAULT: dict[str, SongIndex] = {}
_DEFAULT_LOCK = threading.Lock()


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


def default_catalogue_path(settings: Any) -> Path:
    """The bundled catalogue CSV (``<assets>/catalogue/spotify_songs.csv``)."""
    return Path(settings.assets) / "catalogue" / "spotify_songs.csv"


def default_index_dir(settings: Any) -> Path:
    """Where the bundled catalogue's index is cached (``<cache>/song_index``)."""
    return Path(settings.cache) / "song_index"


def load_or_build_default(settings: Any, progress: bool | None = None,
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
        uri = (getattr(settings, "song_index_uri", "") or "").strip()
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


# --------------------------------------------------------------------------------------------
# Remote copy (S3) through the storage layer
# --------------------------------------------------------------------------------------------

#: Published versions kept at the remote location (the live one and the one before it, so a
#: reader that started on the previous ``CURRENT`` can still finish its download).
REMOTE_KEEP_VERSIONS = 2


def _index_storage(uri: str, settings: Any = None) -> Any:
    """The :class:`core.storage_s3.S3Storage` for an index URI, built by ``core.storage_factory``."""
    from reelflow.core.settings import load_settings
    from reelflow.core.storage_factory import make_storage

    uri = (uri or "").strip().rstrip("/")
    if not uri.startswith("s3://"):
        raise InputError(
            f"song index URI {uri!r} is not an S3 URI",
            hint="set REELFLOW_SONG_INDEX_URI (or --index-uri) to s3://bucket/prefix",
        )
    settings = settings or load_settings()
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


def publish_index(directory: Path | str, uri: str, settings: Any = None) -> dict[str, Any]:
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
        settings: :class:`core.settings.Settings` (default: from the environment).

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


def _load_remote(uri: str, cache_dir: Path, encoder: Any, settings: Any) -> SongIndex:
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
