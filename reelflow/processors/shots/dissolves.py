"""Cross-dissolves: a sustained-change window with no single-step cut.

Frames ``i - k`` and ``i + k`` differ as much as a cut (grey thumbnails barely correlate)
while every single step in between stays under the cut threshold, the stretches before and
after are stable, the centre frame is a blend of the two ends and the colours change. Checked at
``k`` = 4 and 12 frames (0.25 s and ~1 s cross-fades at 25-30 fps). No PySceneDetect detector
reports dissolves; this is ReelFlow's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelflow.processors.shots.fades import runs


@dataclass(frozen=True)
class DissolveParams:
    """Tunables of the dissolve detector.

    Attributes:
        enabled: split shots at cross-dissolves.
        max_corr: the two ends of a dissolve window correlate (NCC of grey thumbnails) less
            than this.
        min_stable: each end correlates at least this much with the frame ``k`` further out
            (the shots either side are steady).
        spans: half-widths ``k`` (frames) of the dissolve windows tried.
        min_colour_change: the colour distribution must change between the two ends of a
            dissolve window: total variation distance of their HSV histograms (16 bins per
            channel, 0-1) at least this. Measured: real cross-dissolves 0.17-0.53 (testvideo,
            xfade between stills); a Ken Burns pan or zoom over one texture 0.006-0.011 — it
            moves pixels (low NCC between the ends) but keeps the colours.
        min_scene_len: dissolves closer than this (frames) to a cut or to each other are dropped.
    """

    enabled: bool = True
    max_corr: float = 0.5
    min_stable: float = 0.85
    spans: tuple[int, ...] = (4, 12)
    min_colour_change: float = 0.05
    min_scene_len: int = 15


def ncc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise normalised cross-correlation of two ``[n, d]`` float arrays (flat → 1)."""
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    nx = np.sqrt((x * x).sum(axis=1))
    ny = np.sqrt((y * y).sum(axis=1))
    denom = nx * ny
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(denom > 1e-6, (x * y).sum(axis=1) / denom, 1.0)
    return r


def _ratio(num: np.ndarray, denom: np.ndarray) -> np.ndarray:
    """``num / denom`` where ``denom > 1e-6``, else 1 (the flat-picture convention of :func:`ncc`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 1e-6, num / denom, 1.0)


def centred_values(tiny: np.ndarray) -> np.ndarray:
    """float32 ``[n, h * w]``: each tiny thumbnail's HSV value plane minus its own mean."""
    v = tiny[:, :, :, 2].reshape(len(tiny), -1).astype(np.float32)
    v -= v.mean(axis=1, keepdims=True)
    return v


def window_correlations(v: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dissolve test's correlations for every centre ``i`` in ``[2k, n - 2k)``.

    With ``a = i - k`` and ``z = i + k`` (``v`` from :func:`centred_values`, NCC as :func:`ncc`):

    - ``far = ncc(v[a], v[z])`` — the two ends;
    - ``stable = min(ncc(v[a - k], v[a]), ncc(v[z], v[z + k]))`` — each end with its neighbour;
    - ``blend = ncc(v[i], (v[a] + v[z]) / 2) - max(ncc(v[i], v[a]), ncc(v[i], v[z]))``.

    Every pair is a fixed lag apart (``k`` or ``2k``) or involves the mean of two ends, so all
    follow from the rows' norms and two lagged dot products (``<v[j], v[j + k]>`` and
    ``<v[j], v[j + 2k]>``, and ``|v[a] + v[z]|^2 = |v[a]|^2 + |v[z]|^2 + 2 <v[a], v[z]>``): two
    passes over the thumbnails per ``k`` instead of ~20 row-wise NCCs. Returns three float
    arrays of length ``n - 4k``.
    """
    n = len(v)
    sq = np.einsum("ij,ij->i", v, v)
    norm = np.sqrt(sq)
    idx = np.arange(2 * k, n - 2 * k)
    dk = np.einsum("ij,ij->i", v[:-k], v[k:])  # dk[j] = <v[j], v[j + k]>
    d2k = np.einsum("ij,ij->i", v[: -2 * k], v[2 * k:])
    a, z = idx - k, idx + k
    far = _ratio(d2k[a], norm[a] * norm[z])
    stable = np.minimum(_ratio(dk[idx - 2 * k], norm[idx - 2 * k] * norm[a]), _ratio(dk[z], norm[z] * norm[z + k]))
    pair = np.sqrt(np.maximum(sq[a] + sq[z] + 2 * d2k[a], 0.0))  # |v[a] + v[z]|
    mix = _ratio(0.5 * (dk[a] + dk[idx]), norm[idx] * 0.5 * pair)
    blend = mix - np.maximum(_ratio(dk[a], norm[idx] * norm[a]), _ratio(dk[idx], norm[idx] * norm[z]))
    return far, stable, blend


def hsv_histograms(tiny: np.ndarray) -> np.ndarray:
    """Per-frame HSV histograms of tiny thumbnails: float32 ``[n, 48]`` (16 bins each of H, S,
    V, OpenCV 8-bit ranges), each row summing to 1."""
    n = len(tiny)
    px = tiny.reshape(n, -1, 3).astype(np.int64)
    bins = np.concatenate([np.minimum(px[..., 0] * 16 // 180, 15), px[..., 1] * 16 // 256 + 16,
                           px[..., 2] * 16 // 256 + 32], axis=1)
    rows = np.repeat(np.arange(n), bins.shape[1])
    counts = np.bincount(rows * 48 + bins.ravel(), minlength=n * 48).reshape(n, 48).astype(np.float32)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)


def dissolves(tiny: np.ndarray, s: np.ndarray, b: np.ndarray, p: DissolveParams, cut_idx: list[int], *,
              cut_threshold: float = 27.0, black_level: float = 12.0) -> tuple[list[int], list[tuple[int, int]]]:
    """Cross-dissolves: stable → blend → stable, with no single-step cut.

    For a window half-width ``k`` and centre ``i``: the grey (V) thumbnails at ``i - k`` and
    ``i + k`` are unlike (NCC < ``max_corr``), each is like its own neighbour ``k`` further out
    (NCC > ``min_stable``: stable shots, not camera motion), the centre frame correlates better
    with the average of the two ends than with either end (a blend, not a fade or a pan), the
    colours change between the ends (HSV histogram distance ≥ ``min_colour_change``: a pan or
    zoom over one texture moves pixels but not colours), no single step in the window reaches
    ``cut_threshold`` and neither end is darker than ``black_level`` (fades are handled apart).

    Args:
        tiny: uint8 ``[n, h, 32, 3]`` HSV thumbnails, one per frame.
        s: float32 ``[n]`` hard-cut score vs the previous frame.
        b: float32 ``[n]`` mean pixel level per frame (0-255).
        p: detector settings.
        cut_idx: frame indices of hard cuts (dissolves within ``min_scene_len`` of one are dropped).

    Returns:
        ``(centres, spans)``: frame index of each dissolve's centre and its ``(first, last)`` frames.
    """
    n = len(tiny)
    v = centred_values(tiny)
    hits: set[int] = set()
    hists: np.ndarray | None = None
    for k in p.spans:
        if n < 4 * k + 1:
            continue
        idx = np.arange(2 * k, n - 2 * k)
        far, stable, blend = window_correlations(v, k)
        win = np.lib.stride_tricks.sliding_window_view(s, 2 * k)[idx - k + 1]
        step_max = win.max(axis=1)
        dark = (b[idx - k] < black_level) | (b[idx + k] < black_level)
        ok = (far < p.max_corr) & (stable > p.min_stable) & (blend > 0.02)
        ok &= (step_max < cut_threshold) & ~dark
        if ok.any() and p.min_colour_change > 0:
            if hists is None:
                hists = hsv_histograms(tiny)
            c = idx[ok]
            change = 0.5 * np.abs(hists[c - k] - hists[c + k]).sum(axis=1)
            ok[np.flatnonzero(ok)[change < p.min_colour_change]] = False
        hits.update(idx[ok].tolist())
    if not hits:
        return [], []
    centres: list[int] = []
    spans: list[tuple[int, int]] = []
    arr = np.zeros(n, dtype=bool)
    arr[sorted(hits)] = True
    cut_set = np.asarray(cut_idx, dtype=np.int64)
    for a, z in runs(arr):
        centre = (a + z - 1) // 2
        if cut_set.size and np.min(np.abs(cut_set - centre)) < p.min_scene_len:
            continue
        if centres and centre - centres[-1] < p.min_scene_len:
            continue
        centres.append(centre)
        k = max(p.spans)
        spans.append((max(0, a - k // 2), min(n - 1, z + k // 2)))
    return centres, spans

