"""The track catalogue: :class:`Track`, CSV / record reading, validation, dedupe and merging.

Reads TidyTuesday's ``spotify_songs.csv`` layout (and Spotify ingest records): required columns
:data:`REQUIRED_COLUMNS`, numeric audio features :data:`NUMERIC_COLUMNS` (Spotify Web API value
ranges); rows that cannot be used are kept as :class:`SkippedRow` with the reason. Part of
:mod:`reelflow.processors.song_index`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from reelflow.core.errors import InputError
from reelflow.core.models import SongMatch
from reelflow.processors.song_index.describe import describe


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


#: Field order of :class:`Track` (the column order of ``tracks.json``).
TRACK_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Track))


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


def _keep_unique(t: Track, tracks: list[Track], seen_ids: set[str], seen_keys: set[tuple[str, str]]) -> bool:
    """Append ``t`` unless its ``track_id`` or title + artist was seen; False for a duplicate."""
    key = _dedupe_key(t)
    if t.track_id in seen_ids or key in seen_keys:
        return False
    seen_ids.add(t.track_id)
    seen_keys.add(key)
    tracks.append(t)
    return True


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
        dups += not _keep_unique(t, tracks, seen_ids, seen_keys)
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
            dups += not _keep_unique(t, tracks, seen_ids, seen_keys)
    sha = hashlib.sha256("".join(c.source_sha256 for c in cats).encode()).hexdigest()
    return Catalogue(
        tracks=tracks,
        skipped=[s for c in cats for s in c.skipped],
        duplicates=dups,
        source_sha256=sha,
        has_explicit=any(c.has_explicit for c in cats),
    )
