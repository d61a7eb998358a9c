"""Hard cuts: PySceneDetect ContentDetector's score and flash filter, with an adaptive guard.

Score (computed per frame by :mod:`.stats`): the mean absolute difference of the HSV channels
of consecutive thumbnails, averaged over H, S and V (weights 1, 1, 1, edges 0), compared with
``threshold`` (27) — ``scenedetect/detectors/content_detector.py``. The MERGE flash filter
(``min_scene_len`` 15 frames) is a port of ``scenedetect.detector.FlashFilter``. An adaptive
guard in the style of AdaptiveDetector (score / mean score of the ``window`` frames either side)
drops candidates that are not a local jump (``min_adaptive_ratio``): fast camera motion, or
flicker inside a fade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CutParams:
    """Tunables of the hard-cut detector (defaults = ContentDetector's).

    Attributes:
        threshold: ContentDetector threshold on the HSV score (0-255 scale).
        min_scene_len: minimum shot length in frames (flash filter, MERGE mode).
        window: AdaptiveDetector ``window_width``: frames either side for the rolling mean.
        min_adaptive_ratio: a candidate must also be this many times the rolling mean of its
            neighbours (0 disables the guard).
        dark_value: pixels whose HSV value (max of B, G, R) is below this count as black: their
            hue and saturation are scaled by ``V / dark_value`` before scoring. Near black,
            8-bit HSV hue/saturation is quantisation noise that makes ContentDetector fire on
            the first frames of a fade-in (PySceneDetect's testvideo "cut" at frame 394).
            0 = PySceneDetect behaviour.
    """

    threshold: float = 27.0
    min_scene_len: int = 15
    window: int = 2
    min_adaptive_ratio: float = 2.0
    dark_value: int = 48


def adaptive_ratio(s: np.ndarray, window: int) -> np.ndarray:
    """AdaptiveDetector ratio: score / mean score of the ``window`` frames either side."""
    n = len(s)
    if n == 0:
        return s.copy()
    pad = np.pad(s.astype(np.float64), window, mode="edge")
    csum = np.concatenate([[0.0], np.cumsum(pad)])
    total = csum[2 * window + 1:] - csum[: n]  # sum over [i - w, i + w]
    mean_nb = (total - s) / (2.0 * window)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mean_nb > 1e-5, s / mean_nb, 255.0)
    return np.minimum(ratio, 255.0)


def hard_cuts(s: np.ndarray, p: CutParams, b: np.ndarray | None = None, black_level: float = 12.0) -> list[int]:
    """ContentDetector threshold + adaptive guard + MERGE flash filter; returns decoded indices.

    A candidate next to a black frame (mean level ``b`` under ``black_level``: a cut to/from
    black, or the last/first step of a fast fade) must also be isolated: both neighbouring steps
    under half its score. A real cut to black is one big step; a fade is a run of similar steps.

    Args:
        s: float32 ``[n]`` score of each frame vs the previous one (0-255).
        p: detector settings.
        b: float32 ``[n]`` mean pixel level of each frame (0-255), optional.
        black_level: mean level under which a frame is black (the fade detector's threshold).
    """
    above = s >= p.threshold
    if p.min_adaptive_ratio > 0:
        above &= adaptive_ratio(s, p.window) >= p.min_adaptive_ratio
    if b is not None and len(s) > 2:
        dark = b < black_level
        touches_black = dark | np.concatenate([[False], dark[:-1]])
        prev_s = np.concatenate([[0.0], s[:-1]])
        next_s = np.concatenate([s[1:], [0.0]])
        isolated = (prev_s < 0.5 * s) & (next_s < 0.5 * s)
        above &= ~touches_black | isolated
    above[0] = False
    return flash_merge(above, p.min_scene_len)


def flash_merge(above: np.ndarray, length: int) -> list[int]:
    """PySceneDetect ``FlashFilter`` MERGE mode over a boolean series (indices of cuts).

    Port of ``scenedetect.detector.FlashFilter._filter_merge`` (frame-count lengths).
    """
    if length <= 0:
        return [int(i) for i in np.flatnonzero(above)]
    cuts: list[int] = []
    last_above = 0
    merge_enabled = merge_triggered = False
    merge_start = 0
    for i, is_above in enumerate(above.tolist()):
        min_length_met = i - last_above >= length
        if is_above:
            last_above = i
        if merge_triggered:
            if min_length_met and not is_above and last_above - merge_start >= length:
                merge_triggered = False
                cuts.append(last_above)
            continue
        if not is_above:
            continue
        if min_length_met:
            merge_enabled = True
            cuts.append(i)
        elif merge_enabled:
            merge_triggered = True
            merge_start = i
    return cuts

