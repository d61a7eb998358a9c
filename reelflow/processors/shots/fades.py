"""Fades through black: PySceneDetect ThresholdDetector (FLOOR mode, ``fade_bias`` 0).

A fade-out below and a fade-in above ``threshold`` (mean pixel value, 0-255) make one boundary
in the middle of the dark stretch (``scenedetect/detectors/threshold_detector.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FadeParams:
    """Tunables of the fade detector (defaults = ThresholdDetector's).

    Attributes:
        enabled: split shots at fades through black.
        threshold: mean pixel value (0-255) under which a frame is black. Also what the cut and
            dissolve detectors call black.
        min_scene_len: minimum shot length in frames.
    """

    enabled: bool = True
    threshold: float = 12.0
    min_scene_len: int = 15


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` index ranges where ``mask`` is true."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def fades(b: np.ndarray, p: FadeParams) -> tuple[list[int], list[tuple[int, int]]]:
    """ThresholdDetector (FLOOR, fade_bias 0): boundary in the middle of each dark stretch."""
    out: list[int] = []
    spans: list[tuple[int, int]] = []
    last = 0
    for a, z in runs(b < p.threshold):
        if z >= len(b):  # video ends dark: no fade-in, no boundary (add_final_scene=False)
            break
        split = a + round((z - a) / 2.0)
        if split - last >= p.min_scene_len and z - last >= p.min_scene_len:
            out.append(split)
            spans.append((a, z - 1))
            last = z
    return out, spans

