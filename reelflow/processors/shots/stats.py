"""Per-frame statistics of thumbnails, computed in batches: scores, brightness, sharpness, tiny
thumbnails and the frozen-picture drift.

Every statistic is one OpenCV/NumPy call over a batch of 32 thumbnails instead of ~10 small
calls per frame. These arrays are what the detectors (:mod:`.cuts`, :mod:`.fades`,
:mod:`.dissolves`) and the library analysis (keyframe choice, motion energy, QA) read, so
nothing decodes the video again for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reelflow.processors.shots.decoder import thumb_size, thumbnail

#: Width of the tiny thumbnails kept for every frame (dissolves, keyframe medoids).
TINY_WIDTH = 32

#: Lag (seconds) of the frozen-picture statistic ``ShotDetection.drift``.
DRIFT_LAG_S = 0.5


@dataclass
class FrameBatch:
    """Statistics of a run of consecutive frames (see :func:`frame_stats`)."""

    scores: np.ndarray  # float32 [n]: HSV score vs the previous frame (NaN if unknown)
    bright: np.ndarray  # float32 [n]
    sharp: np.ndarray  # float32 [n]
    tiny: np.ndarray  # uint8 [n, tiny_h, TINY_WIDTH, 3] HSV
    grey: np.ndarray  # uint8 [n, th, tw] HSV value plane
    last: np.ndarray  # float32 [th, tw, 3] weighted HSV of the last frame


def frame_stats(bgr: np.ndarray, dark_value: int, tiny_h: int, prev: np.ndarray | None) -> FrameBatch:
    """Vectorised statistics of consecutive thumbnails ``bgr`` (``uint8 [n, th, tw, 3]``).

    One OpenCV/NumPy call per statistic for the whole batch instead of ~10 small calls per
    frame. ``prev`` is the weighted HSV thumbnail of the frame before the batch (``None``: the
    first score is NaN).
    """
    n, th, tw, _ = bgr.shape
    hsv = cv2.cvtColor(bgr.reshape(n * th, tw, 3), cv2.COLOR_BGR2HSV).reshape(n, th, tw, 3)
    scored = hsv.astype(np.float32)
    if dark_value > 0:
        # Hue/saturation of near-black pixels is quantisation noise: fade them out smoothly
        # below dark_value (a hard mask would itself make jumps).
        w = np.minimum(hsv[:, :, :, 2], dark_value).astype(np.float32)
        w *= 1.0 / dark_value
        scored[:, :, :, 0] *= w
        scored[:, :, :, 1] *= w
    flat = scored.reshape(n, -1)
    scores = np.full(n, np.nan, dtype=np.float32)
    if n > 1:
        scores[1:] = cv2.absdiff(flat[1:], flat[:-1]).mean(axis=1)
    if prev is not None:
        scores[0] = float(cv2.absdiff(flat[0], prev.reshape(-1)).mean())
    bright = bgr.reshape(n, -1).mean(axis=1, dtype=np.float32)
    grey = np.ascontiguousarray(hsv[:, :, :, 2])
    lap = cv2.Laplacian(grey.reshape(n * th, tw), cv2.CV_32F).reshape(n, th, tw)
    if th > 2:
        lap = lap[:, 1:-1]  # the edge rows touch the neighbouring frame in the stacked image
    sharp = lap.reshape(n, -1).var(axis=1).astype(np.float32)
    tiny = tiny_thumbnails(hsv, tiny_h)
    return FrameBatch(scores, bright, sharp, tiny, grey, scored[-1].copy())


def tiny_thumbnails(hsv: np.ndarray, tiny_h: int) -> np.ndarray:
    """``uint8 [n, tiny_h, TINY_WIDTH, 3]`` area-averaged copies of thumbnails ``[n, th, tw, 3]``.

    When both sides shrink by the same whole factor (128x72 → 32x18, 128x84 → 32x21), every tiny
    pixel averages a block inside one frame, so the whole stack is resized in one OpenCV call;
    otherwise frame by frame. Same values either way.
    """
    n, th, tw, c = hsv.shape
    f = tw // TINY_WIDTH
    if n and tw == f * TINY_WIDTH and th == f * tiny_h:
        flat = cv2.resize(hsv.reshape(n * th, tw, c), (TINY_WIDTH, n * tiny_h), interpolation=cv2.INTER_AREA)
        return flat.reshape(n, tiny_h, TINY_WIDTH, c)
    return np.stack([cv2.resize(x, (TINY_WIDTH, tiny_h), interpolation=cv2.INTER_AREA) for x in hsv])


class ThumbnailStats:
    """Thumbnails a stream of decoded frames and reduces them to statistics in batches.

    ``drift`` (the frozen-picture statistic) compares each frame with the one ``lag_frames``
    earlier in the stream, or — when ``lag_frames`` is 0 — with the latest frame at least
    ``lag_s`` seconds earlier (for decodes that skip frames).
    """

    BATCH = 32

    def __init__(self, thumb_width: int, dark_value: int, lag_frames: int = 0, lag_s: float = 0.0,
                 eps: float = 1e-6) -> None:
        self.thumb_width, self.dark_value = thumb_width, dark_value
        self.lag_frames, self.lag_s, self.eps = lag_frames, lag_s, eps
        self.tw = self.th = self.tiny_h = 0
        self.buf: np.ndarray | None = None
        self.ts: list[float] = []
        self.prev: np.ndarray | None = None
        self.hist: list[tuple[float, np.ndarray]] = []
        self.out: list[FrameBatch] = []
        self.drift: list[np.ndarray] = []

    def add(self, frame, t: float) -> None:
        """Thumbnail ``frame`` (shown at ``t`` seconds)."""
        if self.buf is None:
            self.tw, self.th = thumb_size(frame.width, frame.height, self.thumb_width)
            self.tiny_h = max(2, round(self.th * TINY_WIDTH / self.tw))
            self.buf = np.empty((self.BATCH, self.th, self.tw, 3), np.uint8)
        self.buf[len(self.ts)] = thumbnail(frame, self.tw, self.th)
        self.ts.append(t)
        if len(self.ts) == self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Reduce the buffered thumbnails to statistics."""
        k = len(self.ts)
        if not k:
            return
        b = frame_stats(self.buf[:k], self.dark_value, self.tiny_h, self.prev)
        self.prev = b.last
        drift = np.full(k, np.nan, dtype=np.float32)
        if self.lag_frames:
            # frame j against the one lag_frames before it: one absdiff over the block
            lag = self.lag_frames
            past = len(self.hist)
            greys = np.concatenate([np.stack([g for _, g in self.hist]), b.grey]) if past else b.grey
            j0 = max(0, lag - past)
            if j0 < k:
                cur, ref = greys[past + j0: past + k], greys[past + j0 - lag: past + k - lag]
                m, th, tw = cur.shape
                diff = cv2.absdiff(cur.reshape(m * th, tw), ref.reshape(m * th, tw))
                drift[j0:] = diff.reshape(m, -1).mean(axis=1)
            self.hist = [(0.0, g) for g in greys[-lag:]]
        elif self.lag_s:
            eps = self.eps
            for j, t in enumerate(self.ts):
                cut = 0
                while cut + 1 < len(self.hist) and self.hist[cut + 1][0] <= t - self.lag_s + eps:
                    cut += 1
                del self.hist[:cut]
                ref = self.hist[0][1] if self.hist and self.hist[0][0] <= t - self.lag_s + eps else None
                if ref is not None:
                    drift[j] = cv2.absdiff(b.grey[j], ref).mean()
                self.hist.append((t, b.grey[j]))
        b.grey = b.grey[:0]  # keep memory bounded: greys live on only in ``hist``
        self.out.append(b)
        self.drift.append(drift)
        self.ts = []

    def cat(self, name: str) -> np.ndarray:
        """Concatenated per-frame array ``name`` of all batches (``"drift"`` included)."""
        if name == "drift":
            return np.concatenate(self.drift)
        return np.concatenate([getattr(b, name) for b in self.out])

