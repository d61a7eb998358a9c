"""Fast shot detection: hard cuts, fades through black and dissolves, decoding as little as possible.

The reference is PySceneDetect (https://www.scenedetect.com/docs/latest/, source
``Breakthrough/PySceneDetect`` ``scenedetect/detectors/*.py``). This module reproduces the
scores of its detectors on far less work:

- **Two passes, coarse to fine** (default ``mode="fast"``, H.264/HEVC): pass 1 decodes only the
  reference pictures (``skip_frame=NONREF``, FFmpeg ``AVCodecContext.skip_frame``; 33-52 % of
  the frames of x264 output) and scores consecutive decoded frames; every packet's PTS gives the
  full timeline. Pass 2 decodes only short windows around gaps between decoded frames whose
  score could hide a hard cut, seeking to the key frame before the window and switching
  ``skip_frame`` per packet so that only the window's non-reference frames are added. Reference
  frames decode bit-identically either way, so every score on two adjacent decoded frames is
  the precise one; hard cuts are evaluated twice, with pessimistic and optimistic stand-ins for
  the steps never decoded, and windows are added until both agree. Encoders put a key frame (and
  so a decoded I frame after a decoded P frame) on most scene cuts, so pass 2 is usually tiny;
  with fixed GOPs (cuts on B-frames) it costs ~1/4 of pass 1 (``bench/bench_shots.py``).
  ``mode="precise"`` decodes and scores every frame (and is used for other codecs).
- **Cheap decode**: frame-threaded (``thread_type="AUTO"``) and, by default (``fast=True``),
  with the H.264/HEVC in-loop deblocking filter skipped (``skip_loop_filter=all``): ~12 % of an
  H.264 decode; it changes pixel values by a few levels at block edges, which a
  mean-of-differences score averages away.
- **Tiny thumbnails**: each plane of the decoder's YUV buffer is downscaled with OpenCV (bilinear
  to 2x, then a 2x box) and converted to a BGR thumbnail ``THUMB_WIDTH`` (128) pixels wide — no
  full-size RGB frame is ever made — and all per-frame statistics are computed on batches of 32
  thumbnails at once. PySceneDetect scores at 256 px (``DEFAULT_MIN_WIDTH``); at 128 px the
  hard-cut F1 is the same on every benchmark file and the detector is ~1.24x faster overall
  (``bench/bench_shots.py`` measures both).
- **Hard cuts** — ContentDetector's score: the mean absolute difference of the HSV channels of
  consecutive thumbnails, averaged over H, S and V (weights 1, 1, 1, edges 0), against
  ``threshold`` (27), with its MERGE flash filter (``min_scene_len`` 15 frames). An adaptive
  guard in the style of AdaptiveDetector (score / mean score of the ``window`` frames either
  side) drops candidates that are not a local jump (``min_adaptive_ratio``), i.e. fast camera
  motion or flicker inside a fade.
- **Fades** — ThresholdDetector (FLOOR, threshold 12 on the mean pixel value, ``fade_bias`` 0):
  a fade-out below and fade-in above the threshold makes one boundary in the middle of the
  dark stretch.
- **Dissolves** — a sustained-change window: frames ``i - k`` and ``i + k`` differ as much as a
  cut (long-range HSV difference on 32-px thumbnails ≥ ``dissolve_threshold``) while every
  single step in between stays under the cut threshold and the stretches before and after are
  stable (ratio ≥ ``dissolve_ratio``). Checked at ``k`` = 4 and 12 frames (0.25 s and ~1 s
  cross-fades at 25–30 fps).

Timestamps come from each frame's PTS (normalised so the first frame is 0 s),
so boundaries stay exact on variable-frame-rate input. Frame numbers follow PySceneDetect's
convention: ``round(t * nominal_fps)`` with the stream's guessed (nominal) rate — equal to the
decoded index on constant-rate video, and on VFR video the frame number PySceneDetect reports
(see ``../shared/data/videos/cuts.json`` ``_conventions``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel

from reelflow.core.errors import InputError
from reelflow.core.models import Shot

#: Thumbnail width used for scoring, px (half of PySceneDetect's ``DEFAULT_MIN_WIDTH``, 256:
#: same F1 on every file of ``bench/bench_shots.py``, ~1.24x faster).
THUMB_WIDTH = 128
#: Width of the tiny thumbnails kept for every frame (dissolves, keyframe medoids).
TINY_WIDTH = 32

#: Lag (seconds) of the frozen-picture statistic ``ShotDetection.drift``.
DRIFT_LAG_S = 0.5

TransitionKind = Literal["cut", "fade", "dissolve"]


class Transition(BaseModel):
    """A boundary between two shots.

    ``frame`` is the first frame of the new shot (nominal frame number); ``start_frame`` /
    ``end_frame`` span the transition (equal to ``frame`` for a hard cut; the dark stretch for
    a fade; the blended frames for a dissolve).
    """

    kind: TransitionKind
    frame: int
    time_s: float
    start_frame: int
    end_frame: int


@dataclass(frozen=True)
class DetectorParams:
    """Tunables of :func:`detect_shots` (defaults = PySceneDetect's detector defaults).

    Attributes:
        threshold: ContentDetector threshold on the HSV score (0-255 scale).
        min_scene_len: minimum shot length in frames (flash filter, MERGE mode).
        window: AdaptiveDetector ``window_width``: frames either side for the rolling mean.
        min_adaptive_ratio: a hard-cut candidate must also be this many times the rolling mean
            of its neighbours (0 disables the guard).
        fade_threshold: ThresholdDetector threshold on the mean pixel value (0-255).
        detect_fades: also split shots at fades through black.
        detect_dissolves: also split shots at cross-dissolves.
        dissolve_max_corr: the two ends of a dissolve window correlate (NCC of grey thumbnails)
            less than this.
        dissolve_min_stable: each end correlates at least this much with the frame ``k``
            further out (the shots either side are steady).
        dissolve_spans: half-widths ``k`` (frames) of the dissolve windows tried.
        dissolve_min_colour_change: the colour distribution must change between the two ends
            of a dissolve window: total variation distance of their HSV histograms (16 bins per
            channel, 0-1) at least this. Measured: real cross-dissolves 0.17-0.53 (testvideo,
            xfade between stills); a Ken Burns pan or zoom over one texture 0.006-0.011 — it
            moves pixels (low NCC between the ends) but keeps the colours.
        dark_value: pixels whose HSV value (max of B, G, R) is below this count as black: their
            hue and saturation are scaled by ``V / dark_value`` before scoring. Near black, 8-bit HSV hue/saturation
            is quantisation noise that makes ContentDetector fire on the first frames of a
            fade-in (PySceneDetect's testvideo "cut" at frame 394). 0 = PySceneDetect behaviour.
        fast: skip the in-loop deblocking filter while decoding (``skip_loop_filter=all``).
        skip_nonref: decode only reference frames (``skip_frame=nonref``) and nothing else:
            the raw speed trick without the second pass, so cuts on skipped frames land late or
            vanish (kept for the benchmark's accuracy-cost row). Off by default.
        thumb_width: scoring thumbnail width in pixels.
        threads: decoder threads (0 = FFmpeg's automatic choice).
        mode: ``"fast"`` (default): two-pass coarse-to-fine decode for H.264/HEVC (reference
            frames first, then only windows around gaps that may hide a hard cut), per-frame
            statistics of undecoded frames interpolated (fade/black edges therefore located on
            brightness interpolated across gaps of at most a few frames; a black flash shorter
            than one gap inside a single shot can be missed); other codecs use ``"precise"``.
            ``"precise"``: decode and score every frame.
        coarse_ratio: in ``fast`` mode, a gap between two decoded frames is re-decoded when
            their score reaches ``coarse_ratio * threshold`` (high recall: a cut inside the gap
            scores about as high across the gap as on its own frame).
    """

    threshold: float = 27.0
    min_scene_len: int = 15
    window: int = 2
    min_adaptive_ratio: float = 2.0
    fade_threshold: float = 12.0
    detect_fades: bool = True
    detect_dissolves: bool = True
    dissolve_max_corr: float = 0.5
    dissolve_min_stable: float = 0.85
    dissolve_spans: tuple[int, ...] = (4, 12)
    dissolve_min_colour_change: float = 0.05
    dark_value: int = 48
    fast: bool = True
    skip_nonref: bool = False
    thumb_width: int = THUMB_WIDTH
    threads: int = 0
    mode: Literal["fast", "precise"] = "fast"
    coarse_ratio: float = 0.5


@dataclass
class ShotDetection:
    """Result of :func:`detect_shots`.

    Attributes:
        path: the video.
        fps: nominal frame rate (stream's guessed rate), frames/s.
        frame_count: decoded frames.
        duration_s: end of the last frame (its PTS plus its duration), seconds.
        width, height: coded frame size in pixels.
        shots: contiguous shots covering the whole video (``end_frame`` inclusive, ``end_s``
            exclusive = start of the next shot).
        transitions: every boundary between shots, in order.
        cuts: nominal frame numbers of hard cuts only (first frame of the new shot).
        fade_frames: nominal frame numbers of fade boundaries (ThresholdDetector convention).
        dissolve_frames: nominal frame numbers of dissolve centres.
        frame_times_s: float64 ``[frame_count]`` PTS of every decoded frame, first = 0.
        frame_numbers: int64 ``[frame_count]`` nominal frame number of every decoded frame.
        scores: float32 ``[frame_count]`` ContentDetector score vs the previous frame (0 first).
        brightness: float32 ``[frame_count]`` mean pixel value (0-255) of each frame.
        sharpness: float32 ``[frame_count]`` variance of the Laplacian of the grey thumbnail.
        tiny: uint8 ``[frame_count, h, 32, 3]`` HSV thumbnails (for keyframes and features).
        drift: float32 ``[frame_count]`` mean absolute grey-level difference (0-255) between
            each frame and the frame ``drift_lag`` frames (:data:`DRIFT_LAG_S` s) earlier at
            thumbnail size (NaN for the first ``drift_lag``): ~0 only when the picture is frozen,
            while a slow Ken Burns zoom accumulates visible change over that lag.
        drift_lag: the lag in decoded frames.
        rotation: display rotation of the first frame in degrees (PyAV ``VideoFrame.rotation``).
        mode: the :attr:`DetectorParams.mode` that produced this result.
        decoded: bool ``[frame_count]``: frames actually decoded and measured. In ``fast`` mode
            the other frames' ``scores`` are their gap's score divided by its length, and their
            ``brightness``, ``sharpness``, ``drift`` and ``tiny`` are interpolated linearly
            between decoded neighbours (black-frame edges are always decoded).
    """

    path: str
    fps: float
    frame_count: int
    duration_s: float
    width: int
    height: int
    shots: list[Shot]
    transitions: list[Transition]
    cuts: list[int]
    fade_frames: list[int]
    dissolve_frames: list[int]
    frame_times_s: np.ndarray = field(repr=False)
    frame_numbers: np.ndarray = field(repr=False)
    scores: np.ndarray = field(repr=False)
    brightness: np.ndarray = field(repr=False)
    sharpness: np.ndarray = field(repr=False)
    tiny: np.ndarray = field(repr=False)
    drift: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32), repr=False)
    drift_lag: int = 1
    rotation: int = 0
    mode: str = "precise"
    decoded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)

    @property
    def cut_times_s(self) -> list[float]:
        """PTS (seconds) of the first frame after each hard cut."""
        return [t.time_s for t in self.transitions if t.kind == "cut"]

    @property
    def boundary_times_s(self) -> list[float]:
        """Start time (seconds) of every shot after the first."""
        return [s.start_s for s in self.shots[1:]]

    def index_of_frame(self, frame_number: int) -> int:
        """Decoded index of the frame with nominal number ``frame_number`` (nearest at or after)."""
        return int(min(np.searchsorted(self.frame_numbers, frame_number), self.frame_count - 1))


def _bad_video(path: Path, why: str) -> InputError:
    return InputError(
        f"{path} is not a readable video ({why})",
        hint="pass an mp4/mov/mkv/webm file with a video stream that ffmpeg can decode",
    )


def open_video(path: Path | str, *, fast: bool = True, skip_nonref: bool = False, threads: int = 0):
    """Open ``path`` with PyAV and return ``(container, video_stream)`` ready to decode.

    Args:
        path: video file.
        fast: skip the in-loop deblocking filter (``skip_loop_filter=all``).
        skip_nonref: skip non-reference frames (``skip_frame=NONREF``).
        threads: decoder threads (0 = automatic).

    Raises:
        InputError: missing, empty, not media, or no video stream (message names the file).
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(f"video not found: {path}", hint="check the path")
    if path.stat().st_size == 0:
        raise _bad_video(path, "the file is empty")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _bad_video(path, str(exc).strip() or type(exc).__name__) from exc
    streams = [v for v in container.streams.video if not (v.disposition & av.stream.Disposition.attached_pic)]
    if not streams:
        container.close()
        raise _bad_video(path, "it has no video stream (audio only or cover art only)")
    stream = streams[0]
    stream.thread_type = "AUTO"
    if threads:
        stream.thread_count = threads
    opts = {}
    if fast:
        opts["skip_loop_filter"] = "all"
    if opts:
        stream.codec_context.options = opts
    if skip_nonref:
        stream.codec_context.skip_frame = "NONREF"
    return container, stream


def nominal_fps(stream) -> float:
    """Nominal frame rate of a PyAV stream (``guessed_rate``, else ``average_rate``, else 25)."""
    rate = stream.guessed_rate or stream.average_rate or stream.base_rate
    return float(Fraction(rate)) if rate else 25.0


def _thumb_size(width: int, height: int, target: int) -> tuple[int, int]:
    """Even-sized thumbnail dimensions (I420 needs even sides)."""
    if width > target:
        height = height * target / width
        width = target
    return max(2, int(width) // 2 * 2), max(2, int(round(height)) // 2 * 2)


def _plane(frame, i: int, w: int, h: int) -> np.ndarray:
    """Zero-copy ``uint8 [h, w]`` view of plane ``i`` of a PyAV frame."""
    plane = frame.planes[i]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:h, :w]


def _shrink(img: np.ndarray, tw: int, th: int) -> np.ndarray:
    """Low-pass downscale of a ``uint8 [h, w]`` plane to ``[th, tw]``.

    A bilinear step to twice the target size (2x2 taps per output pixel) then a 2x box filter
    (``INTER_AREA``): each thumbnail pixel averages 16 source pixels. ~3x cheaper than one
    ``INTER_AREA`` resize by a fractional factor (1080p: 0.56 vs 1.4 ms per frame for the three
    planes) and within ~1.5 grey levels of it. PySceneDetect itself downscales with plain
    bilinear interpolation (4 taps).
    """
    h, w = img.shape
    if w > 2 * tw and h > 2 * th:
        img = cv2.resize(img, (2 * tw, 2 * th), interpolation=cv2.INTER_LINEAR)
        return cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)  # exact 2x: OpenCV's fast path
    # under 2x, bilinear already reads every source pixel (and skips INTER_AREA's slow general path)
    return cv2.resize(img, (tw, th), interpolation=cv2.INTER_LINEAR)


def _thumbnail(frame, tw: int, th: int) -> np.ndarray:
    """BGR ``uint8 [th, tw, 3]`` thumbnail of a PyAV video frame.

    For 8-bit 4:2:0 video (nearly all H.264/HEVC/VP9/AV1 delivery files) each plane is
    downscaled with OpenCV straight from the decoder's buffers (:func:`_shrink`) and converted to
    BGR at thumbnail size (BT.601 limited range, ``COLOR_YUV2BGR_I420``): ~2-3x cheaper than
    swscale scaling + conversion in one ``frame.reformat`` call. Other pixel formats go through
    swscale.
    """
    if frame.format.name in ("yuv420p", "yuvj420p") and frame.width >= 2 and frame.height >= 2:
        w, h = frame.width, frame.height
        q = (th // 2) * (tw // 2)
        buf = np.empty(th * tw + 2 * q, np.uint8)
        buf[: th * tw] = _shrink(_plane(frame, 0, w, h), tw, th).reshape(-1)
        buf[th * tw: th * tw + q] = _shrink(_plane(frame, 1, (w + 1) // 2, (h + 1) // 2), tw // 2, th // 2).reshape(-1)
        buf[th * tw + q:] = _shrink(_plane(frame, 2, (w + 1) // 2, (h + 1) // 2), tw // 2, th // 2).reshape(-1)
        return cv2.cvtColor(buf.reshape(th * 3 // 2, tw), cv2.COLOR_YUV2BGR_I420)
    return frame.reformat(width=tw, height=th, format="bgr24", interpolation="AREA").to_ndarray()


@dataclass
class _Batch:
    """Statistics of a run of consecutive frames (see :func:`_frame_stats`)."""

    scores: np.ndarray  # float32 [n]: HSV score vs the previous frame (NaN if unknown)
    bright: np.ndarray  # float32 [n]
    sharp: np.ndarray  # float32 [n]
    tiny: np.ndarray  # uint8 [n, tiny_h, TINY_WIDTH, 3] HSV
    grey: np.ndarray  # uint8 [n, th, tw] HSV value plane
    last: np.ndarray  # float32 [th, tw, 3] weighted HSV of the last frame


def _frame_stats(bgr: np.ndarray, dark_value: int, tiny_h: int, prev: np.ndarray | None) -> _Batch:
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
    tiny = np.stack([cv2.resize(x, (TINY_WIDTH, tiny_h), interpolation=cv2.INTER_AREA) for x in hsv])
    return _Batch(scores, bright, sharp, tiny, grey, scored[-1].copy())


class _Thumbs:
    """Thumbnails a stream of decoded frames and reduces them to statistics in batches.

    ``drift`` (the frozen-picture statistic) compares each frame with the one ``lag_frames``
    earlier in the stream, or — when ``lag_frames`` is 0 — with the latest frame at least
    ``lag_s`` seconds earlier (for decodes that skip frames).
    """

    BATCH = 32

    def __init__(self, p: DetectorParams, lag_frames: int = 0, lag_s: float = 0.0, eps: float = 1e-6) -> None:
        self.p = p
        self.lag_frames, self.lag_s, self.eps = lag_frames, lag_s, eps
        self.tw = self.th = self.tiny_h = 0
        self.buf: np.ndarray | None = None
        self.ts: list[float] = []
        self.prev: np.ndarray | None = None
        self.hist: list[tuple[float, np.ndarray]] = []
        self.out: list[_Batch] = []
        self.drift: list[np.ndarray] = []

    def add(self, frame, t: float) -> None:
        """Thumbnail ``frame`` (shown at ``t`` seconds)."""
        if self.buf is None:
            self.tw, self.th = _thumb_size(frame.width, frame.height, self.p.thumb_width)
            self.tiny_h = max(2, round(self.th * TINY_WIDTH / self.tw))
            self.buf = np.empty((self.BATCH, self.th, self.tw, 3), np.uint8)
        self.buf[len(self.ts)] = _thumbnail(frame, self.tw, self.th)
        self.ts.append(t)
        if len(self.ts) == self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Reduce the buffered thumbnails to statistics."""
        k = len(self.ts)
        if not k:
            return
        b = _frame_stats(self.buf[:k], self.p.dark_value, self.tiny_h, self.prev)
        self.prev = b.last
        drift = np.full(k, np.nan, dtype=np.float32)
        if self.lag_frames or self.lag_s:
            eps = self.eps
            for j, t in enumerate(self.ts):
                if self.lag_frames:
                    ref = self.hist[-self.lag_frames][1] if len(self.hist) >= self.lag_frames else None
                else:
                    cut = 0
                    while cut + 1 < len(self.hist) and self.hist[cut + 1][0] <= t - self.lag_s + eps:
                        cut += 1
                    del self.hist[:cut]
                    ref = self.hist[0][1] if self.hist and self.hist[0][0] <= t - self.lag_s + eps else None
                if ref is not None:
                    drift[j] = cv2.absdiff(b.grey[j], ref).mean()
                self.hist.append((t, b.grey[j]))
                if self.lag_frames and len(self.hist) > self.lag_frames:
                    del self.hist[0]
        b.grey = b.grey[:0]  # keep memory bounded: greys live on only in ``hist``
        self.out.append(b)
        self.drift.append(drift)
        self.ts = []

    def cat(self, name: str) -> np.ndarray:
        """Concatenated per-frame array ``name`` of all batches (``"drift"`` included)."""
        if name == "drift":
            return np.concatenate(self.drift)
        return np.concatenate([getattr(b, name) for b in self.out])


def detect_shots(
    path: Path | str,
    params: DetectorParams | None = None,
    **overrides: object,
) -> ShotDetection:
    """Detect shots in a video: hard cuts, fades through black and dissolves.

    Args:
        path: video file (any container/codec FFmpeg decodes).
        params: detector settings (defaults: :class:`DetectorParams`).
        **overrides: individual :class:`DetectorParams` fields, e.g. ``threshold=30`` or
            ``mode="precise"``.

    Returns:
        :class:`ShotDetection` with contiguous shots (frame numbers at the nominal rate, times
        from PTS) and per-frame statistics. In ``mode="fast"`` (H.264/HEVC; other codecs fall
        back to ``"precise"``) the statistics of frames that were never decoded are
        interpolated from the decoded ones (``ShotDetection.decoded`` is false there).

    Raises:
        InputError: the file is missing, empty, not a video, has no video stream, or is
            corrupt/truncated so that no frame (or not all frames) decode; unknown ``mode``.
    """
    p = params or DetectorParams()
    if overrides:
        p = DetectorParams(**{**p.__dict__, **overrides})
    if p.mode not in ("fast", "precise"):
        raise InputError(f"unknown shot detection mode {p.mode!r}", hint='use mode="fast" or mode="precise"')
    path = Path(path)
    if p.mode == "fast" and not p.skip_nonref:
        det = _detect_two_pass(path, p)
        if det is not None:
            return det
    return _detect_full(path, p)


def _decode_error(path: Path, n: int, exc: Exception) -> InputError:
    return _bad_video(path, f"decoding failed after {n} frames: {str(exc).strip()}")


def _detect_full(path: Path, p: DetectorParams) -> ShotDetection:
    """Decode and score every frame (``mode="precise"``; any codec FFmpeg decodes)."""
    import av

    container, stream = open_video(path, fast=p.fast, skip_nonref=p.skip_nonref, threads=p.threads)
    fps = nominal_fps(stream)
    lag = max(1, round(fps * DRIFT_LAG_S))
    times: list[float] = []
    durs: list[float] = []
    thumbs = _Thumbs(p, lag_frames=lag)
    width = height = 0
    first_pts: float | None = None
    rotation = 0
    try:
        with container:
            for frame in container.decode(stream):
                if not width:
                    width, height = frame.width, frame.height
                    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                t = frame.time
                if t is None:
                    t_abs = (len(times) / fps) if first_pts is None else times[-1] + first_pts + 1 / fps
                else:
                    t_abs = float(t)
                if first_pts is None:
                    first_pts = t_abs
                times.append(t_abs - first_pts)
                thumbs.add(frame, times[-1])
                d = frame.duration
                durs.append(float(d * frame.time_base) if d and frame.time_base else 0.0)
    except av.FFmpegError as exc:
        raise _decode_error(path, len(times), exc) from exc
    thumbs.flush()
    if not times:
        raise _bad_video(path, "no frame could be decoded")
    scores = np.nan_to_num(thumbs.cat("scores"), nan=0.0)
    det = _finish(path, p, fps, width, height, np.asarray(times), durs[-1], scores, thumbs.cat("bright"),
                  thumbs.cat("sharp"), thumbs.cat("tiny"))
    det.drift = thumbs.cat("drift")
    det.drift_lag = lag
    det.rotation = rotation
    det.decoded = np.ones(det.frame_count, dtype=bool)
    return det


#: Codecs whose non-reference pictures can be skipped without changing any other picture.
FAST_CODECS = frozenset({"h264", "hevc"})


def _detect_two_pass(path: Path, p: DetectorParams) -> ShotDetection | None:
    """Coarse-to-fine detection (``mode="fast"``); ``None`` when the file needs the full path.

    Pass 1 decodes only reference pictures (``skip_frame=NONREF``: 33-52 % of the frames of x264
    output, and always the P and I frames either side of a scene change that the encoder made a
    key frame) and scores consecutive decoded frames. Pass 2 decodes, frame-accurately, only
    short windows around the coarse steps that could hide a cut (a gap whose score reaches
    ``coarse_ratio * threshold`` and is not a smooth fade/dissolve, :func:`_linear_gaps`), plus
    the adaptive guard's neighbours, seeking to the
    key frame before each window and skipping non-reference frames outside the windows
    (``skip_frame`` switched per packet). Frames are numbered from the PTS of every packet, so
    the timeline equals a full decode's; reference frames decode bit-identically either way, so
    a score between two adjacent decoded frames equals the precise path's. Hard cuts are then
    computed twice, with pessimistic and optimistic stand-ins for the steps never decoded, and
    windows are added around any cut on which they disagree, until they agree.
    """
    import av

    container, stream = open_video(path, fast=p.fast, skip_nonref=True, threads=p.threads)
    if stream.codec_context.name not in FAST_CODECS or not stream.time_base:
        container.close()
        return None
    fps = nominal_fps(stream)
    tb = float(stream.time_base)
    lag = max(1, round(fps * DRIFT_LAG_S))
    pk_pts: list[int] = []  # decode order
    pk_key: list[bool] = []
    pk_dur: list[int] = []
    f_pts: list[int] = []
    thumbs = _Thumbs(p, lag_s=lag / fps, eps=0.25 / fps)
    width = height = rotation = 0
    try:
        with container:
            for pk in container.demux(stream):
                if pk.size:
                    if pk.pts is None:
                        return None
                    pk_pts.append(int(pk.pts))
                    pk_key.append(bool(pk.is_keyframe))
                    pk_dur.append(int(pk.duration or 0))
                for frame in stream.decode(pk):
                    if frame.pts is None:
                        return None
                    if not width:
                        width, height = frame.width, frame.height
                        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                    f_pts.append(int(frame.pts))
                    thumbs.add(frame, (f_pts[-1] - f_pts[0]) * tb)
    except av.FFmpegError as exc:
        raise _decode_error(path, len(f_pts), exc) from exc
    thumbs.flush()
    if not f_pts:
        raise _bad_video(path, "no frame could be decoded")

    # --- timeline from the packets ---------------------------------------------------------
    first = f_pts[0]
    all_pts = np.unique(np.asarray([x for x in pk_pts if x >= first], dtype=np.int64))
    n = len(all_pts)
    fp = np.asarray(f_pts, dtype=np.int64)
    idx1 = np.searchsorted(all_pts, fp)
    if np.any(idx1 >= n) or np.any(all_pts[np.minimum(idx1, n - 1)] != fp) or np.any(np.diff(idx1) <= 0):
        return None  # decoded timestamps do not match the packets: decode everything instead
    last_dur = pk_dur[int(np.argmax(pk_pts))] * tb

    # --- pass-1 values, spread over every frame ----------------------------------------------
    s1 = np.nan_to_num(thumbs.cat("scores"), nan=0.0)  # step from the previous decoded frame
    bright1 = thumbs.cat("bright")
    s_lo, s_hi, s_exact, bright, sharp, tiny, drift = _spread(
        n, idx1, s1, bright1, thumbs.cat("sharp"), thumbs.cat("tiny"), thumbs.cat("drift"))

    # --- windows to decode exactly -----------------------------------------------------------
    need = np.zeros(n, dtype=bool)
    gaps = np.diff(idx1)
    low = p.coarse_ratio * p.threshold
    linear = _linear_gaps(idx1, thumbs.cat("tiny"), s1, p)
    for j in np.flatnonzero(gaps > 1):
        a, z = int(idx1[j]), int(idx1[j + 1])
        if s1[j + 1] >= low and not linear[j + 1]:
            # a cut may hide between a and z: decode the gap and the adaptive guard's neighbours
            need[max(0, a - p.window): z + p.window + 1] = True
    captured = np.zeros(n, dtype=bool)
    pts_list = all_pts.tolist()
    for _round in range(6):
        todo = need & ~captured
        if not todo.any():
            break
        # widen each run by one frame to the left so that the step into it is exact too
        todo[:-1] |= todo[1:] & ~todo[:-1]
        got = _decode_windows(path, p, pts_list, pk_pts, pk_key, todo)
        for a, z in _runs(np.isin(np.arange(n), list(got))):
            b = _frame_stats(np.stack([got[i] for i in range(a, z)]), p.dark_value, thumbs.tiny_h, None)
            bright[a:z], sharp[a:z], tiny[a:z] = b.bright, b.sharp, b.tiny
            s_lo[a + 1: z] = s_hi[a + 1: z] = b.scores[1:]
            s_exact[a + 1: z] = True
        captured |= todo
        # a hard cut must not hinge on a step that was never decoded
        differ = set(_hard_cuts(s_lo, p, bright)) ^ set(_hard_cuts(s_hi, p, bright))
        need = np.zeros(n, dtype=bool)
        for c in differ:
            lo, hi = max(0, c - p.window - 1), min(n, c + p.window + 2)
            if not s_exact[lo + 1: hi].all():
                need[lo:hi] = True
    decoded = np.zeros(n, dtype=bool)
    decoded[idx1] = True
    decoded |= captured
    times_abs = (all_pts - first).astype(np.float64) * tb
    det = _finish(path, p, fps, width, height, times_abs, last_dur, s_lo, bright, sharp, tiny)
    det.drift = drift
    det.drift_lag = lag
    det.rotation = rotation
    det.decoded = decoded
    return det


def _linear_gaps(idx: np.ndarray, tiny: np.ndarray, s: np.ndarray, p: DetectorParams) -> np.ndarray:
    """Which steps between decoded frames are a smooth (pixel-linear) change: fades, dissolves.

    Step ``j`` (decoded frame ``j - 1`` to ``j``, spanning ``m`` frames) is linear when the
    tiny value-channel (HSV V) thumbnail at one end is predicted, within ``LINEAR_RESIDUAL`` of
    the step's own change, by extrapolating the two decoded frames on the other side (forward from ``j - 2,
    j - 1`` or backward from ``j + 1, j``) and its score per frame (``s / m``) stays well under
    the cut threshold. A hard cut inside the gap breaks both extrapolations (the frames on each
    side belong to different shots); a fade or cross-dissolve changes every pixel linearly in
    time, so its steps spread evenly over the skipped frames and none can reach the threshold.
    Returns bool ``[len(idx)]`` (first and last steps: False).
    """
    k = len(idx)
    out = np.zeros(k, dtype=bool)
    if k < 4:
        return out
    x = tiny[..., 2].reshape(k, -1).astype(np.float32)  # HSV value: linear in a fade, unlike H and S
    t = idx.astype(np.float32)
    j = np.arange(2, k - 1)
    step = np.abs(x[j] - x[j - 1]).mean(axis=1)
    fw = (t[j] - t[j - 1]) / np.maximum(t[j - 1] - t[j - 2], 1)
    res_f = np.abs(x[j] - (x[j - 1] + (x[j - 1] - x[j - 2]) * fw[:, None])).mean(axis=1)
    bw = (t[j] - t[j - 1]) / np.maximum(t[j + 1] - t[j], 1)
    res_b = np.abs(x[j - 1] - (x[j] + (x[j] - x[j + 1]) * bw[:, None])).mean(axis=1)
    m = np.maximum(t[j] - t[j - 1], 1)
    out[j] = (np.minimum(res_f, res_b) < LINEAR_RESIDUAL * step) & (s[j] / m < 0.7 * p.threshold)
    return out


#: Largest extrapolation residual, as a fraction of the step, for a "linear" (fade/dissolve) step.
LINEAR_RESIDUAL = 0.35


def _spread(n, idx, s, bright, sharp, tiny, drift):
    """Per-frame arrays over all ``n`` frames from values at the decoded indices ``idx``.

    Steps inside a gap of ``m`` frames whose ends differ by ``S`` get ``S / m`` (optimistic,
    ``s_lo``) and ``S`` (pessimistic, ``s_hi``); brightness, sharpness, drift and the tiny
    thumbnails are interpolated linearly between decoded neighbours.
    """
    s_lo = np.zeros(n, dtype=np.float32)
    s_hi = np.zeros(n, dtype=np.float32)
    s_exact = np.zeros(n, dtype=bool)
    gaps = np.diff(idx)
    for j in range(1, len(idx)):
        a, z = int(idx[j - 1]), int(idx[j])
        s_lo[a + 1: z + 1] = s[j] / gaps[j - 1]
        s_hi[a + 1: z + 1] = s[j]
        s_exact[z] = gaps[j - 1] == 1
    x = np.arange(n)
    interp = [np.interp(x, idx, v).astype(np.float32) for v in (bright, sharp, drift)]
    right = np.clip(np.searchsorted(idx, x, side="left"), 0, len(idx) - 1)
    left = np.clip(right - 1, 0, len(idx) - 1)
    left = np.where(idx[right] == x, right, left)
    span = np.maximum(idx[right] - idx[left], 1)
    w = np.clip((x - idx[left]) / span, 0.0, 1.0).astype(np.float32)[:, None, None, None]
    tiny_all = np.rint(tiny[left] * (1 - w) + tiny[right] * w).astype(np.uint8)
    return s_lo, s_hi, s_exact, interp[0], interp[1], tiny_all, interp[2]


def _decode_windows(path: Path, p: DetectorParams, pts_list: list[int], pk_pts: list[int], pk_key: list[bool],
                    want: np.ndarray) -> dict[int, np.ndarray]:
    """BGR thumbnails of the frames ``want`` (bool per frame index), decoding as little as possible.

    Packets are walked in decode order from the key frame before each still-missing frame
    (seeking only when that key frame lies ahead of the current position); a packet is fully
    decoded only when its frame is wanted, otherwise ``skip_frame=NONREF`` lets the decoder
    drop it unless other frames refer to it.
    """
    import av

    index_of = {x: i for i, x in enumerate(pts_list)}
    dec_of = {x: d for d, x in enumerate(pk_pts)}
    want_idx = np.flatnonzero(want).tolist()
    want_set = set(want_idx)
    want_pts = {pts_list[i] for i in want_idx}
    order = sorted(want_idx, key=lambda i: dec_of[pts_list[i]])
    keys = [d for d, k in enumerate(pk_key) if k]
    got: dict[int, np.ndarray] = {}
    container, stream = open_video(path, fast=p.fast, threads=p.threads)
    cc = stream.codec_context
    tw = th = 0
    pos = -1
    it = None
    ptr = 0
    seeks = 0
    with container:
        while True:
            while ptr < len(order) and order[ptr] in got:
                ptr += 1
            if ptr == len(order):
                break
            d_min = dec_of[pts_list[order[ptr]]]
            if it is not None and d_min < pos - 64:  # passed long ago and never came out
                ptr += 1
                continue
            k = keys[bisect.bisect_right(keys, d_min) - 1] if keys and keys[0] <= d_min else 0
            if it is None or k > pos:
                seeks += 1
                if seeks > 4 * len(order) + 8:
                    break
                container.seek(pk_pts[k], stream=stream, backward=True)
                cc.flush_buffers()
                it = container.demux(stream)
                pos = k - 1
            pk = next(it, None)
            if pk is None:  # end of file: the flush packet before it drained the decoder
                break
            if pk.size and pk.pts is not None:
                pos = dec_of.get(int(pk.pts), pos)
                cc.skip_frame = "DEFAULT" if int(pk.pts) in want_pts else "NONREF"
            try:
                frames = stream.decode(pk)
            except av.FFmpegError:
                continue
            for f in frames:
                i = index_of.get(f.pts)
                if i in want_set and i not in got:
                    if not tw:
                        tw, th = _thumb_size(f.width, f.height, p.thumb_width)
                    got[i] = _thumbnail(f, tw, th)
    return got


def _finish(path, p, fps, width, height, times, last_dur, scores, bright, sharp, tiny) -> ShotDetection:
    n = len(times)
    t = np.asarray(times, dtype=np.float64)
    # PTS can be out of order for a few broken files; keep it monotone for searching.
    t = np.maximum.accumulate(t)
    fnum = np.rint(t * fps).astype(np.int64)
    fnum = np.maximum.accumulate(fnum)
    s = np.asarray(scores, dtype=np.float32)
    b = np.asarray(bright, dtype=np.float32)
    tiny_arr = np.asarray(tiny)
    if not last_dur or last_dur <= 0:
        last_dur = float(np.median(np.diff(t))) if n > 1 else 1.0 / fps
    duration = float(t[-1] + last_dur)

    cut_idx = _hard_cuts(s, p, b)
    fade_idx, fade_spans = _fades(b, p) if p.detect_fades else ([], [])
    diss_idx, diss_spans = _dissolves(tiny_arr, s, b, p, cut_idx) if p.detect_dissolves else ([], [])
    # A fade through black also looks like a blend at its edges: the fade wins.
    reach = 2 * max(p.dissolve_spans, default=0)
    keep = [j for j, c in enumerate(diss_idx) if not any(a - reach <= c <= z + reach for a, z in fade_spans)]
    diss_idx, diss_spans = [diss_idx[j] for j in keep], [diss_spans[j] for j in keep]

    def frame_of(i: int) -> int:
        return int(fnum[i])

    transitions: list[Transition] = []
    for i in cut_idx:
        transitions.append(Transition(kind="cut", frame=frame_of(i), time_s=float(t[i]), start_frame=frame_of(i),
                                      end_frame=frame_of(i)))
    for i, (a, z) in zip(fade_idx, fade_spans, strict=True):
        transitions.append(Transition(kind="fade", frame=frame_of(i), time_s=float(t[i]), start_frame=frame_of(a),
                                      end_frame=frame_of(z)))
    for i, (a, z) in zip(diss_idx, diss_spans, strict=True):
        transitions.append(Transition(kind="dissolve", frame=frame_of(i), time_s=float(t[i]),
                                      start_frame=frame_of(a), end_frame=frame_of(z)))
    transitions.sort(key=lambda tr: (tr.frame, tr.kind != "cut"))
    # Two boundaries on the same frame collapse into one (a cut wins).
    merged: list[Transition] = []
    for tr in transitions:
        if tr.frame <= 0:
            continue
        if merged and tr.frame == merged[-1].frame:
            continue
        merged.append(tr)

    shots: list[Shot] = []
    starts = [0] + [int(np.searchsorted(fnum, tr.frame)) for tr in merged]
    for k, a in enumerate(starts):
        z = starts[k + 1] if k + 1 < len(starts) else n
        if z <= a:
            continue
        end_s = float(t[z]) if z < n else duration
        end_frame = int(fnum[z]) - 1 if z < n else int(fnum[-1])
        shots.append(Shot(index=len(shots), start_frame=int(fnum[a]), end_frame=max(int(fnum[a]), end_frame),
                          start_s=float(t[a]), end_s=end_s))
    return ShotDetection(
        path=str(path), fps=fps, frame_count=n, duration_s=duration, width=width, height=height,
        shots=shots, transitions=merged,
        cuts=[tr.frame for tr in merged if tr.kind == "cut"],
        fade_frames=[tr.frame for tr in merged if tr.kind == "fade"],
        dissolve_frames=[tr.frame for tr in merged if tr.kind == "dissolve"],
        frame_times_s=t, frame_numbers=fnum, scores=s, brightness=b,
        sharpness=np.asarray(sharp, dtype=np.float32), tiny=tiny_arr, mode=p.mode,
    )


def _adaptive_ratio(s: np.ndarray, window: int) -> np.ndarray:
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


def _hard_cuts(s: np.ndarray, p: DetectorParams, b: np.ndarray | None = None) -> list[int]:
    """ContentDetector threshold + adaptive guard + MERGE flash filter; returns decoded indices.

    A candidate next to a black frame (a cut to/from black, or the last/first step of a fast
    fade) must also be isolated: both neighbouring steps under half its score. A real cut to
    black is one big step; a fade is a run of similar steps.
    """
    above = s >= p.threshold
    if p.min_adaptive_ratio > 0:
        above &= _adaptive_ratio(s, p.window) >= p.min_adaptive_ratio
    if b is not None and len(s) > 2:
        dark = b < p.fade_threshold
        touches_black = dark | np.concatenate([[False], dark[:-1]])
        prev_s = np.concatenate([[0.0], s[:-1]])
        next_s = np.concatenate([s[1:], [0.0]])
        isolated = (prev_s < 0.5 * s) & (next_s < 0.5 * s)
        above &= ~touches_black | isolated
    above[0] = False
    return _flash_merge(above, p.min_scene_len)


def _flash_merge(above: np.ndarray, length: int) -> list[int]:
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


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` index ranges where ``mask`` is true."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _fades(b: np.ndarray, p: DetectorParams) -> tuple[list[int], list[tuple[int, int]]]:
    """ThresholdDetector (FLOOR, fade_bias 0): boundary in the middle of each dark stretch."""
    out: list[int] = []
    spans: list[tuple[int, int]] = []
    last = 0
    for a, z in _runs(b < p.fade_threshold):
        if z >= len(b):  # video ends dark: no fade-in, no boundary (add_final_scene=False)
            break
        split = a + round((z - a) / 2.0)
        if split - last >= p.min_scene_len and z - last >= p.min_scene_len:
            out.append(split)
            spans.append((a, z - 1))
            last = z
    return out, spans


def _ncc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise normalised cross-correlation of two ``[n, d]`` float arrays (flat → 1)."""
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    nx = np.sqrt((x * x).sum(axis=1))
    ny = np.sqrt((y * y).sum(axis=1))
    denom = nx * ny
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(denom > 1e-6, (x * y).sum(axis=1) / denom, 1.0)
    return r


def _hsv_histograms(tiny: np.ndarray) -> np.ndarray:
    """Per-frame HSV histograms of tiny thumbnails: float32 ``[n, 48]`` (16 bins each of H, S,
    V, OpenCV 8-bit ranges), each row summing to 1."""
    n = len(tiny)
    px = tiny.reshape(n, -1, 3).astype(np.int64)
    bins = np.concatenate([np.minimum(px[..., 0] * 16 // 180, 15), px[..., 1] * 16 // 256 + 16,
                           px[..., 2] * 16 // 256 + 32], axis=1)
    rows = np.repeat(np.arange(n), bins.shape[1])
    counts = np.bincount(rows * 48 + bins.ravel(), minlength=n * 48).reshape(n, 48).astype(np.float32)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)


def _dissolves(tiny: np.ndarray, s: np.ndarray, b: np.ndarray, p: DetectorParams,
               cut_idx: list[int]) -> tuple[list[int], list[tuple[int, int]]]:
    """Cross-dissolves: stable → blend → stable, with no single-step cut.

    For a window half-width ``k`` and centre ``i``: the grey (V) thumbnails at ``i - k`` and
    ``i + k`` are unlike (NCC < ``1 - dissolve_ratio/10``), each is like its own neighbour ``k``
    further out (stable shots, not camera motion), the centre frame correlates better with the
    average of the two ends than with either end (a blend, not a fade or a pan), the colours
    change between the ends (HSV histogram distance ≥ ``dissolve_min_colour_change``: a pan or
    zoom over one texture moves pixels but not colours), no single step in the window reaches
    the cut threshold and neither end is dark (fades are handled apart).
    """
    n = len(tiny)
    v = tiny[:, :, :, 2].reshape(n, -1).astype(np.float32)
    hits: set[int] = set()
    hists: np.ndarray | None = None
    for k in p.dissolve_spans:
        if n < 4 * k + 1:
            continue
        idx = np.arange(2 * k, n - 2 * k)
        a, z, mid = v[idx - k], v[idx + k], v[idx]
        far = _ncc(a, z)
        stable = np.minimum(_ncc(v[idx - 2 * k], a), _ncc(z, v[idx + 2 * k]))
        blend = _ncc(mid, 0.5 * (a + z)) - np.maximum(_ncc(mid, a), _ncc(mid, z))
        win = np.lib.stride_tricks.sliding_window_view(s, 2 * k)[idx - k + 1]
        step_max = win.max(axis=1)
        dark = (b[idx - k] < p.fade_threshold) | (b[idx + k] < p.fade_threshold)
        ok = (far < p.dissolve_max_corr) & (stable > p.dissolve_min_stable) & (blend > 0.02)
        ok &= (step_max < p.threshold) & ~dark
        if ok.any() and p.dissolve_min_colour_change > 0:
            if hists is None:
                hists = _hsv_histograms(tiny)
            c = idx[ok]
            change = 0.5 * np.abs(hists[c - k] - hists[c + k]).sum(axis=1)
            ok[np.flatnonzero(ok)[change < p.dissolve_min_colour_change]] = False
        hits.update(idx[ok].tolist())
    if not hits:
        return [], []
    centres: list[int] = []
    spans: list[tuple[int, int]] = []
    arr = np.zeros(n, dtype=bool)
    arr[sorted(hits)] = True
    cut_set = np.asarray(cut_idx, dtype=np.int64)
    for a, z in _runs(arr):
        centre = (a + z - 1) // 2
        if cut_set.size and np.min(np.abs(cut_set - centre)) < p.min_scene_len:
            continue
        if centres and centre - centres[-1] < p.min_scene_len:
            continue
        centres.append(centre)
        k = max(p.dissolve_spans)
        spans.append((max(0, a - k // 2), min(n - 1, z + k // 2)))
    return centres, spans


def frames_to_times(det: ShotDetection, frames: list[int]) -> list[float]:
    """PTS (seconds) of nominal frame numbers in ``det`` (nearest decoded frame at or after)."""
    return [float(det.frame_times_s[det.index_of_frame(f)]) for f in frames]


def match_boundaries(predicted: list[float], truth: list[float], tolerance: float) -> tuple[int, int, int]:
    """Greedy one-to-one matching of boundaries within ``tolerance`` (same unit as inputs).

    Returns:
        ``(true_positives, false_positives, false_negatives)``.
    """
    used: set[int] = set()
    tp = 0
    for x in sorted(predicted):
        best, best_d = None, math.inf
        for j, y in enumerate(truth):
            d = abs(x - y)
            if j not in used and d <= tolerance and d < best_d:
                best, best_d = j, d
        if best is not None:
            used.add(best)
            tp += 1
    return tp, len(predicted) - tp, len(truth) - tp


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
