"""Loudness and true-peak measurement (ITU-R BS.1770-4 / EBU R128).

- Integrated loudness: ``pyloudnorm`` (K-weighting + 400 ms blocks, absolute −70 LUFS and
  relative −10 LU gates; https://github.com/csteinmetz1/pyloudnorm).
- True peak: 4× oversampling with a polyphase FIR (``scipy.signal.resample_poly``) and the
  maximum absolute sample value, per BS.1770-4 Annex 2 (2× for rates ≥ 96 kHz).

Decoding goes through PyAV, so any audio or video file ffmpeg reads can be measured.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from reelflow.core.errors import InputError

#: Reported for silent audio instead of −inf (BS.1770's absolute gate).
SILENCE_LUFS = -70.0
#: Reported true peak of all-zero audio instead of −inf.
SILENCE_DBTP = -120.0


class LoudnessReport(BaseModel):
    """Loudness of one file's first audio stream."""

    integrated_lufs: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    duration_s: float
    sample_rate: int
    channels: int
    lra: float | None = None


def decode_audio(path: Path | str, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode the first audio stream of ``path`` to float32 PCM.

    Args:
        path: any file with an audio stream (WAV, MP3, OGG, MP4/AAC ...).
        max_seconds: stop after this much audio (``None`` = all of it).

    Returns:
        ``(samples, sample_rate)``; samples are float32 ``[n_samples, n_channels]`` in [-1, 1].

    Raises:
        InputError: the file is missing, unreadable or has no (non-empty) audio stream.
    """
    import av

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError(f"audio file not found or empty: {path}", hint="pass an existing audio/video file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, ValueError) as exc:
        raise InputError(f"{path} is not a readable media file ({exc})", hint="pass a decodable audio file") from exc
    with container:
        if not container.streams.audio:
            raise InputError(f"{path} has no audio stream", hint="pass a file with an audio track")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="fltp")
        chunks: list[np.ndarray] = []
        limit = None if max_seconds is None else int(max_seconds * rate)
        got = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    got += chunks[-1].shape[1]
                if limit is not None and got >= limit:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
        except av.FFmpegError as exc:
            raise InputError(f"cannot decode audio of {path} ({exc})", hint="re-export the file") from exc
    if not chunks:
        raise InputError(f"{path} has an empty audio stream", hint="pass a file with audible content")
    data = np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False)
    if limit is not None:
        data = data[:limit]
    return np.ascontiguousarray(data), int(rate)


def preload() -> None:
    """Import the meter's modules (``pyloudnorm``, ``scipy.signal``: ~0.7 s of CPU) now, e.g. while
    a run waits for its orchestration, rather than in the first measurement, which in
    ``reelflow make`` runs beside the video encode and competes with it for the cores."""
    import pyloudnorm  # noqa: F401
    from scipy.signal import resample_poly  # noqa: F401


def true_peak_dbtp(samples: np.ndarray, sample_rate: int) -> float:
    """True peak in dBTP by oversampling (BS.1770-4 Annex 2).

    Args:
        samples: float ``[n_samples]`` or ``[n_samples, n_channels]``, full scale = 1.0.
        sample_rate: Hz; 4× oversampling below 96 kHz, 2× up to 192 kHz, none above.

    Returns:
        ``20·log10(max |x_oversampled|)``; :data:`SILENCE_DBTP` for all-zero input.
    """
    from scipy.signal import resample_poly

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    factor = 4 if sample_rate < 96_000 else 2 if sample_rate < 192_000 else 1
    peak = 0.0
    for ch in range(x.shape[1]):
        y = resample_poly(x[:, ch], factor, 1) if factor > 1 else x[:, ch]
        peak = max(peak, float(np.max(np.abs(y))), float(np.max(np.abs(x[:, ch]))))
    return 20 * math.log10(peak) if peak > 0 else SILENCE_DBTP


def integrated_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """Gated integrated loudness in LUFS (BS.1770-4) via ``pyloudnorm.Meter``.

    Audio shorter than one 400 ms block is zero-padded to one block. Silence reports
    :data:`SILENCE_LUFS`.
    """
    import pyloudnorm

    x = np.asarray(samples, dtype=np.float64)
    block = int(0.4 * sample_rate) + 1
    if x.shape[0] < block:
        pad = [(0, block - x.shape[0])] + [(0, 0)] * (x.ndim - 1)
        x = np.pad(x, pad)
    value = pyloudnorm.Meter(sample_rate).integrated_loudness(x)
    return float(value) if math.isfinite(value) else SILENCE_LUFS


def measure_array(samples: np.ndarray, sample_rate: int, *, true_peak: bool = True) -> LoudnessReport:
    """Measure float PCM ``[n_samples, n_channels]`` (see :func:`measure`).

    With ``true_peak=False`` the (costlier) oversampled peak is skipped and ``true_peak_dbtp``
    holds the sample peak instead.
    """
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    sample_peak = 20 * math.log10(peak) if peak > 0 else SILENCE_DBTP
    return LoudnessReport(
        integrated_lufs=integrated_lufs(x, sample_rate),
        true_peak_dbtp=true_peak_dbtp(x, sample_rate) if true_peak else sample_peak,
        sample_peak_dbfs=sample_peak,
        duration_s=x.shape[0] / sample_rate,
        sample_rate=sample_rate,
        channels=x.shape[1],
    )


def measure(path: Path | str, *, true_peak: bool = True, max_seconds: float | None = None) -> LoudnessReport:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file's first audio stream.

    Measures the decoded audio as it will be heard, so run it on the encoded output (e.g. the
    final MP4's AAC track) to check a delivery spec such as −14 LUFS / −1 dBTP.

    Args:
        path: audio or video file.
        true_peak: compute the 4×-oversampled true peak (else report the sample peak).
        max_seconds: measure only the first ``max_seconds`` of audio.

    Returns:
        :class:`LoudnessReport` (``lra`` is not computed: ``None``).

    Raises:
        InputError: the file is missing, unreadable or has no audio.
    """
    samples, rate = decode_audio(path, max_seconds=max_seconds)
    return measure_array(samples, rate, true_peak=true_peak)
