"""Fast shot detection: hard cuts, fades through black and dissolves, decoding as little as possible.

The package along its seams:

- :mod:`.decoder` — PyAV decoding with FFmpeg's skip options and tiny thumbnails
  (:class:`DecoderParams`);
- :mod:`.stats` — per-frame statistics of the thumbnails, in batches;
- :mod:`.cuts` — hard cuts, ContentDetector's score (:class:`CutParams`);
- :mod:`.fades` — fades through black, ThresholdDetector (:class:`FadeParams`);
- :mod:`.dissolves` — cross-dissolves (:class:`DissolveParams`);
- :mod:`.detection` — :func:`detect_shots`: one decode (two passes, coarse to fine) feeding the
  three detectors, and the :class:`ShotDetection` result the library analysis, keyframes and
  QA read; :func:`match_boundaries` for comparing boundary lists.

Accuracy metrics for benchmarks and tests (precision/recall/F1) live in ``tests/shot_metrics.py``.
"""

from reelflow.processors.shots.cuts import CutParams
from reelflow.processors.shots.decoder import (
    FAST_CODECS,
    THUMB_WIDTH,
    DecoderParams,
    nominal_fps,
    open_video,
)
from reelflow.processors.shots.detection import (
    LINEAR_RESIDUAL,
    DetectorParams,
    FrameSink,
    ShotDetection,
    Transition,
    TransitionKind,
    detect_shots,
    frames_to_times,
    match_boundaries,
)
from reelflow.processors.shots.dissolves import DissolveParams
from reelflow.processors.shots.fades import FadeParams
from reelflow.processors.shots.stats import DRIFT_LAG_S, TINY_WIDTH

__all__ = [
    "DRIFT_LAG_S",
    "FAST_CODECS",
    "LINEAR_RESIDUAL",
    "THUMB_WIDTH",
    "TINY_WIDTH",
    "CutParams",
    "DecoderParams",
    "DetectorParams",
    "DissolveParams",
    "FadeParams",
    "FrameSink",
    "ShotDetection",
    "Transition",
    "TransitionKind",
    "detect_shots",
    "frames_to_times",
    "match_boundaries",
    "nominal_fps",
    "open_video",
]
