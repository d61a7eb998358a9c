"""The renderable (CC0) music-bed library and its semantic search.

``assets/music/music.json`` lists the beds (``id``, ``path``, ``title``, ``artist``,
``description``, ``licence``, ``credit``). Each bed's tempo and loudness are measured once from
the decoded audio and cached in ``<cache>/beds/measurements.json`` (keyed by the file's SHA-256):

- tempo: onset-strength autocorrelation — mono audio resampled to 11,025 Hz, log-magnitude
  spectral flux per 512-sample hop (~46 ms), autocorrelation of the (mean-removed) onset
  envelope, lag with the highest score in 60–200 BPM weighted by a log-normal prior centred on
  120 BPM (the approach of Ellis 2007, "Beat tracking by dynamic programming", and of
  ``librosa.feature.tempo``'s prior, without its dependency);
- loudness: integrated LUFS (ITU-R BS.1770-4 via ``pyloudnorm``, :mod:`processors.loudness`).

The description plus measured words ("fast tempo, about 150 BPM", "loud and punchy") is embedded
with :mod:`processors.embeddings`; :meth:`BedLibrary.best` returns the bed closest to a mood
query as a :class:`core.models.MusicBed`; because bed descriptions are tag lists, the score
blends the whole-text cosine with the best phrase cosines (:data:`PHRASE_WEIGHT`).
"""

from __future__ import annotations

import json
import re
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reelflow.core.errors import AssetError, InputError
from reelflow.core.models import MusicBed, is_renderable_licence
from reelflow.core.storage import atomic_write_json, sha256_file

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

log = logging.getLogger(__name__)

_ANALYSIS_RATE = 11_025
_HOP = 512
_FFT = 1024
_LOCK = threading.Lock()
#: Bed score = (1 - w) * cosine(query, whole text) + w * mean of the top PHRASE_TOP phrase cosines.
#: Tag-list descriptions dilute a mean-pooled sentence vector; matching phrases restores them
#: (e.g. "epic triumphant sports" → the orchestral "epic, ... sports, triumphant" bed).
PHRASE_WEIGHT = 0.5
PHRASE_TOP = 2


def estimate_tempo(samples: np.ndarray, sample_rate: int, min_bpm: float = 60.0, max_bpm: float = 200.0) -> float:
    """Estimate the global tempo of audio in BPM by onset-envelope autocorrelation.

    Args:
        samples: float PCM ``[n]`` or ``[n, channels]`` in [-1, 1].
        sample_rate: Hz.
        min_bpm, max_bpm: search range.

    Returns:
        Tempo in beats per minute (0.0 for audio too short or silent to tell).
    """
    from scipy.signal import resample_poly

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if sample_rate != _ANALYSIS_RATE:
        g = math.gcd(int(sample_rate), _ANALYSIS_RATE)
        x = resample_poly(x, _ANALYSIS_RATE // g, int(sample_rate) // g)
    n_frames = 1 + (len(x) - _FFT) // _HOP
    if n_frames < 64 or not np.any(x):
        return 0.0
    idx = np.arange(_FFT)[None, :] + _HOP * np.arange(n_frames)[:, None]
    frames = x[idx] * np.hanning(_FFT)[None, :]
    mag = np.log1p(1000.0 * np.abs(np.fft.rfft(frames, axis=1)))
    flux = np.maximum(np.diff(mag, axis=0), 0.0).sum(axis=1)
    env = flux - flux.mean()
    ac = np.correlate(env, env, mode="full")[len(env) - 1 :]
    if ac[0] <= 0:
        return 0.0
    frame_rate = _ANALYSIS_RATE / _HOP
    lags = np.arange(len(ac))
    with np.errstate(divide="ignore"):
        bpm = 60.0 * frame_rate / lags
    valid = (bpm >= min_bpm) & (bpm <= max_bpm)
    if not valid.any():
        return 0.0
    prior = np.exp(-0.5 * (np.log2(np.where(valid, bpm, 1.0) / 120.0) / 1.0) ** 2)
    score = np.where(valid, ac / ac[0] * prior, -np.inf)
    best = int(np.argmax(score))
    # Parabolic interpolation of the peak for sub-frame lag precision.
    if 1 <= best < len(ac) - 1:
        a, b, c = ac[best - 1], ac[best], ac[best + 1]
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
        return float(60.0 * frame_rate / (best + float(np.clip(shift, -0.5, 0.5))))
    return float(bpm[best])


def measure_bed(path: Path) -> dict[str, float]:
    """Tempo (BPM), integrated loudness (LUFS) and duration (s) of one audio file.

    Raises:
        InputError: the file cannot be decoded.
    """
    from reelflow.processors.loudness import decode_audio, integrated_lufs

    samples, rate = decode_audio(path)
    return {
        "tempo_bpm": round(estimate_tempo(samples, rate), 2),
        "loudness_lufs": round(integrated_lufs(samples, rate), 2),
        "duration_s": round(len(samples) / rate, 3),
    }


def bed_words(tempo_bpm: float | None, loudness_lufs: float | None) -> list[str]:
    """Words describing measured tempo/loudness (appended to a bed's description)."""
    words = []
    if tempo_bpm:
        if tempo_bpm < 85:
            words.append(f"slow tempo, about {tempo_bpm:.0f} BPM")
        elif tempo_bpm < 110:
            words.append(f"mid-tempo, about {tempo_bpm:.0f} BPM")
        elif tempo_bpm < 135:
            words.append(f"upbeat tempo, about {tempo_bpm:.0f} BPM")
        else:
            words.append(f"fast tempo, about {tempo_bpm:.0f} BPM")
    if loudness_lufs is not None:
        if loudness_lufs > -12:
            words.append("loud and punchy")
        elif loudness_lufs < -20:
            words.append("quiet and soft")
    return words


@dataclass
class Bed:
    """One bed of the library with its measurements (``path`` absolute)."""

    id: str
    path: Path
    title: str
    artist: str
    description: str
    licence: str
    credit: str
    tempo_bpm: float | None = None
    loudness_lufs: float | None = None
    duration_s: float | None = None

    def phrases(self) -> list[str]:
        """The title and each comma/semicolon-separated phrase of the description."""
        parts = [p.strip() for p in re.split(r"[;,.]", self.description) if p.strip()]
        return [self.title, *parts, *bed_words(self.tempo_bpm, self.loudness_lufs)]

    def text(self) -> str:
        """The text embedded for this bed."""
        extra = bed_words(self.tempo_bpm, self.loudness_lufs)
        return f"{self.title}. {self.description}" + (f". {', '.join(extra)}." if extra else ".")


class BedLibrary:
    """The CC0 beds and their vectors; :meth:`best` picks the bed for a mood.

    Attributes:
        beds: the usable beds (files that exist and decode).
        vectors: float32 ``[len(beds), 384]``, L2-normalised.
        skipped: ``(id, reason)`` for listed beds that could not be used.
    """

    def __init__(self, beds: list[Bed], encoder: Any, skipped: list[tuple[str, str]] | None = None) -> None:
        self.beds = beds
        self.encoder = encoder
        self.skipped = skipped or []
        self.vectors = encoder.encode([b.text() for b in beds])
        self.phrase_vectors = [encoder.encode(b.phrases()) for b in beds]

    @classmethod
    def load(cls, settings: Settings, music_dir: Path | str | None = None, encoder: Any = None) -> BedLibrary:
        """Read ``<assets>/music/music.json``, measure each bed once (cached) and embed them.

        Args:
            settings: :class:`core.settings.Settings` (``assets``, ``cache``).
            music_dir: folder holding ``music.json`` (default ``<assets>/music``).
            encoder: default :func:`processors.embeddings.get_encoder`.

        Raises:
            AssetError: ``music.json`` is missing/invalid, or no listed bed is usable.
        """
        from reelflow.processors.embeddings import get_encoder

        music_dir = Path(music_dir) if music_dir else Path(settings.assets) / "music"
        manifest = music_dir / "music.json"
        try:
            items = json.loads(manifest.read_text(encoding="utf-8"))["items"]
        except FileNotFoundError:
            raise AssetError(f"music bed list missing: {manifest}", hint="reinstall ReelFlow's assets") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AssetError(f"music bed list {manifest} is invalid ({exc})", hint="restore assets/music/music.json") from exc
        cache_file = Path(settings.cache) / "beds" / "measurements.json"
        with _LOCK:
            try:
                cache = json.loads(cache_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                cache = {}
            beds: list[Bed] = []
            skipped: list[tuple[str, str]] = []
            changed = False
            for item in items:
                try:
                    path = (music_dir / item["path"]).resolve()
                    if not path.is_file():
                        raise InputError(f"file not found: {path}")
                    if not is_renderable_licence(str(item["licence"])):
                        raise InputError(f"licence {item['licence']!r} may not appear in a video "
                                         "(only CC0, public domain, Pexels, CC BY)")
                    digest = sha256_file(path)
                    meas = cache.get(digest)
                    if meas is None:
                        meas = cache[digest] = measure_bed(path)
                        changed = True
                    beds.append(
                        Bed(
                            id=str(item.get("id") or path.stem),
                            path=path,
                            title=str(item.get("title") or path.stem),
                            artist=str(item.get("artist") or ""),
                            description=str(item.get("description") or ""),
                            licence=str(item["licence"]),
                            credit=str(item.get("credit") or ""),
                            tempo_bpm=meas.get("tempo_bpm"),
                            loudness_lufs=meas.get("loudness_lufs"),
                            duration_s=meas.get("duration_s"),
                        )
                    )
                except (KeyError, InputError) as exc:
                    log.warning("music bed %s skipped: %s", item.get("id"), exc)
                    skipped.append((str(item.get("id")), str(exc)))
            if changed:
                atomic_write_json(cache_file, cache)
        if not beds:
            raise AssetError(
                f"no usable music bed in {manifest} ({'; '.join(r for _, r in skipped) or 'empty list'})",
                hint="reinstall ReelFlow's assets",
            )
        return cls(beds, encoder or get_encoder(cache_dir=Path(settings.cache) / "models"), skipped)

    def search(self, query: str, k: int = 3) -> list[MusicBed]:
        """Beds ranked by cosine similarity of their text to ``query`` (best first).

        Raises:
            InputError: empty or over-long (> 1,000 chars) query.
        """
        from reelflow.processors.song_index import _check_query

        q = _check_query(query)
        qv = self.encoder.encode([q])[0]
        full = self.vectors @ qv
        phrase = np.array([np.sort(pv @ qv)[-PHRASE_TOP:].mean() for pv in self.phrase_vectors])
        sims = (1 - PHRASE_WEIGHT) * full + PHRASE_WEIGHT * phrase
        order = np.argsort(-sims, kind="stable")[: max(1, k)]
        return [self._bed(int(i), float(sims[i])) for i in order]

    def best(self, query: str) -> MusicBed:
        """The bed that best fits ``query`` (``.path`` absolute, ``.score`` cosine)."""
        return self.search(query, k=1)[0]

    def _bed(self, i: int, score: float) -> MusicBed:
        b = self.beds[i]
        return MusicBed(
            path=str(b.path), title=b.title, artist=b.artist, licence=b.licence, credit=b.credit,
            score=round(score, 6),
        )
