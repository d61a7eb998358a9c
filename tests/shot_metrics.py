"""Accuracy of boundary detection for tests and benchmarks: precision, recall, F1.

Moved out of the product package: only the tests and ``bench/`` score detectors; the product
itself only matches boundaries (:func:`reelflow.processors.shots.match_boundaries`, used by QA).
"""

from __future__ import annotations

from reelflow.processors.shots import match_boundaries


def prf1(predicted: list[float], truth: list[float], tolerance: float) -> tuple[float, float, float]:
    """Precision, recall and F1 of boundary detection (both lists empty → 1, 1, 1).

    Args:
        predicted: detected boundaries (frames or seconds).
        truth: expected boundaries in the same unit.
        tolerance: largest distance that still matches (e.g. 1 frame).
    """
    tp, fp, fn = match_boundaries(predicted, truth, tolerance)
    precision = tp / (tp + fp) if tp + fp else (1.0 if not truth else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
