"""QA of rendered videos and generated clips: cuts vs plan, black and frozen stretches.

One decode through :func:`processors.shots.detect_shots` gives everything:

- **Cuts**: every detected shot boundary (hard cut, dissolve, fade) is matched one-to-one to
  the expected scene boundaries within ``tolerance_s``. The final video joins scenes with short
  cross-fades (~0.25 s), which register as a dissolve (or, between similar shots, not at all);
  a boundary matched within the tolerance counts whatever its kind. Detected boundaries that
  match nothing are *unexpected cuts* (flagged, QA fails); expected boundaries that nothing
  matched are reported as a flag but do not fail QA (two scenes can legitimately look alike).
- **Black**: runs of frames whose mean pixel level is below 12/255 (PySceneDetect
  ThresholdDetector's default, close to ffmpeg ``blackdetect``'s pixel threshold 0.10) lasting
  more than ``max_black_s`` (1 s).
- **Frozen**: runs where each frame differs from the frame 0.5 s earlier by less than
  ``freeze_level`` (mean absolute grey difference on the 256-px thumbnail, 0-255) for more than
  ``max_frozen_s`` (1 s). Comparing over 0.5 s instead of one frame is what keeps a slow Ken
  Burns zoom/pan — tiny per-frame change that adds up — from reading as frozen, while an
  encoder repeating a picture stays near 0 (like ffmpeg ``freezedetect``'s ``n=-60dB``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reelflow.core.models import QAReport
from reelflow.processors.shots import ShotDetection, detect_shots, match_boundaries

#: Mean pixel level (0-255) under which a frame is black.
BLACK_LEVEL = 12.0
#: Mean absolute grey difference over 0.5 s under which the picture is frozen.
FREEZE_LEVEL = 0.35


def _segments(mask: np.ndarray, times: np.ndarray, end_s: float, min_s: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    for a, z in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        start = float(times[a])
        stop = float(times[z]) if z < len(times) else end_s
        if stop - start > min_s:
            out.append((round(start, 3), round(stop, 3)))
    return out


def black_segments(det: ShotDetection, max_black_s: float = 1.0, level: float = BLACK_LEVEL) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of black stretches longer than ``max_black_s``."""
    return _segments(det.brightness < level, det.frame_times_s, det.duration_s, max_black_s)


def frozen_segments(det: ShotDetection, max_frozen_s: float = 1.0, level: float = FREEZE_LEVEL,
                    ignore_black: bool = True) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of frozen stretches longer than ``max_frozen_s``.

    A frame ``i`` with ``drift[i] < level`` marks frames ``i - lag .. i`` as frozen. Black
    frames are left to :func:`black_segments` when ``ignore_black``.
    """
    n = det.frame_count
    frozen = np.zeros(n, dtype=bool)
    still = np.nan_to_num(det.drift, nan=np.inf) < level
    lag = det.drift_lag
    for i in np.flatnonzero(still):
        frozen[max(0, i - lag): i + 1] = True
    if ignore_black:
        frozen &= det.brightness >= BLACK_LEVEL
    return _segments(frozen, det.frame_times_s, det.duration_s, max_frozen_s)


def qa_video(path: Path | str, expected_cuts_s: list[float], tolerance_s: float = 0.5, *,
             max_black_s: float = 1.0, max_frozen_s: float = 1.0) -> QAReport:
    """Check a finished video: boundaries where the plan put them, no long black/frozen stretch.

    Args:
        path: the video.
        expected_cuts_s: planned scene boundaries (start of every scene after the first), s.
        tolerance_s: largest distance between a detected and a planned boundary that matches.
        max_black_s: longest allowed black stretch, s.
        max_frozen_s: longest allowed frozen stretch, s.

    Returns:
        :class:`core.models.QAReport` (``passed`` is false on an unexpected cut, a black or a
        frozen stretch).

    Raises:
        InputError: the video cannot be read.
    """
    det = detect_shots(path)
    detected = [round(t, 3) for t in det.boundary_times_s]
    expected = [float(t) for t in expected_cuts_s]
    tp, _, _ = match_boundaries(detected, expected, tolerance_s)
    flags: list[str] = []
    unexpected = [t for t in detected if not any(abs(t - e) <= tolerance_s for e in expected)]
    missed = [e for e in expected if not any(abs(t - e) <= tolerance_s for t in detected)]
    failed = False
    if unexpected:
        failed = True
        flags.append("unexpected cut(s) at " + ", ".join(f"{t:.2f} s" for t in unexpected))
    if missed:
        flags.append(f"{len(missed)} of {len(expected)} scene boundaries not detected (at "
                     + ", ".join(f"{t:.2f} s" for t in missed) + "); adjacent scenes may look alike")
    black = black_segments(det, max_black_s)
    frozen = frozen_segments(det, max_frozen_s)
    for a, z in black:
        failed = True
        flags.append(f"black frames {a:.2f}-{z:.2f} s ({z - a:.1f} s)")
    for a, z in frozen:
        failed = True
        flags.append(f"frozen picture {a:.2f}-{z:.2f} s ({z - a:.1f} s)")
    return QAReport(detected_cuts_s=detected, expected_cuts_s=expected, cuts_matched=tp, black_segments=black,
                    frozen_segments=frozen, flags=flags, passed=not failed)


def qa_clip(path: Path | str, expected_duration_s: float, *, duration_tolerance_s: float = 0.25,
            max_black_s: float = 1.0, max_frozen_s: float = 1.0,
            loop_seams_s: Sequence[float] = ()) -> QAReport:
    """Check one generated scene clip: a single shot at least as long as needed, no black/frozen run.

    Args:
        path: the clip.
        expected_duration_s: the scene's planned duration, s.
        duration_tolerance_s: how much shorter than planned the clip may be, s (longer is fine).
        max_black_s: longest allowed black stretch, s.
        max_frozen_s: longest allowed frozen stretch, s.
        loop_seams_s: where the clip's source restarts because it was looped to fill the scene
            (:attr:`core.models.Clip.loop_seams_s`); a cut within 1.5 frames of one is expected.

    Returns:
        :class:`core.models.QAReport` with ``expected_cuts_s`` = the loop seams; any other
        detected boundary is an unexpected cut.

    Raises:
        InputError: the clip cannot be read.
    """
    det = detect_shots(path)
    detected = [round(t, 3) for t in det.boundary_times_s]
    tol = 1.5 / det.fps if det.fps else 0.05
    seams = [float(x) for x in loop_seams_s]
    unexpected = [t for t in detected if not any(abs(t - x) <= tol for x in seams)]
    flags: list[str] = []
    if unexpected:
        flags.append("unexpected cut(s) inside the clip at " + ", ".join(f"{t:.2f} s" for t in unexpected))
    if det.duration_s < expected_duration_s - duration_tolerance_s:
        # Longer is fine (assembly trims to the scene; providers have minimum durations).
        flags.append(f"duration {det.duration_s:.2f} s, shorter than the {expected_duration_s:.2f} s needed")
    black = black_segments(det, max_black_s)
    frozen = frozen_segments(det, max_frozen_s)
    flags += [f"black frames {a:.2f}-{z:.2f} s" for a, z in black]
    flags += [f"frozen picture {a:.2f}-{z:.2f} s" for a, z in frozen]
    return QAReport(detected_cuts_s=detected, expected_cuts_s=seams, cuts_matched=len(detected) - len(unexpected),
                    black_segments=black,
                    frozen_segments=frozen, flags=flags, passed=not flags)
