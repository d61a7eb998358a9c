"""Fast shot detection: hard cuts, fades through black and dissolves, in one reduced decode.

The reference is PySceneDetect (https://www.scenedetect.com/docs/latest/, source
``Breakthrough/PySceneDetect`` ``scenedetect/detectors/*.py``). This module reproduces the
scores of its detectors on far less work:

- **Decode once** with PyAV (FFmpeg's libavcodec), frame-threaded (``thread_type="AUTO"``) and,
  in the default ``fast`` mode, with the H.264/HEVC in-loop deblocking filter skipped
  (``skip_loop_filter=all``): the deblocking filter is ~30 % of an H.264 decode and changes
  pixel values by a few levels at block edges, which a mean-of-differences score averages away
  (the accuracy cost is measured in ``bench/bench_shots.py``).
- **Tiny thumbnails**: each frame is scaled by swscale straight from YUV to a BGR thumbnail
  ``THUMB_WIDTH`` (256, PySceneDetect's own ``DEFAULT_MIN_WIDTH``) pixels wide — no full-size
  RGB frame is ever made.
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

Timestamps come from each frame's PTS (``frame.time``, normalised so the first frame is 0 s),
so boundaries stay exact on variable-frame-rate input. Frame numbers follow PySceneDetect's
convention: ``round(t * nominal_fps)`` with the stream's guessed (nominal) rate — equal to the
decoded index on constant-rate video, and on VFR video the frame number PySceneDetect reports
(see ``../shared/data/videos/cuts.json`` ``_conventions``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel

from core.errors import InputError
from core.models import Shot

#: Thumbnail width used for scoring (PySceneDetect ``scene_manager.DEFAULT_MIN_WIDTH``).
THUMB_WIDTH = 256
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
        dark_value: pixels whose HSV value (max of B, G, R) is below this count as black: their
            hue and saturation are scaled by ``V / dark_value`` before scoring. Near black, 8-bit HSV hue/saturation
            is quantisation noise that makes ContentDetector fire on the first frames of a
            fade-in (PySceneDetect's testvideo "cut" at frame 394). 0 = PySceneDetect behaviour.
        fast: skip the in-loop deblocking filter while decoding (``skip_loop_filter=all``).
        skip_nonref: decode only reference frames (``skip_frame=nonref``): much faster on
            B-frame video but drops frames, so cuts land up to a few frames late. Off by default.
        thumb_width: scoring thumbnail width in pixels.
        threads: decoder threads (0 = FFmpeg's automatic choice).
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
    dark_value: int = 48
    fast: bool = True
    skip_nonref: bool = False
    thumb_width: int = THUMB_WIDTH
    threads: int = 0


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
        dark_value: pixels whose HSV value (max of B, G, R) is below this count as black: their
            hue and saturation are scaled by ``V / dark_value`` before scoring. Near black, 8-bit HSV hue/saturation
            is quantisation noise that makes ContentDetector fire on the first frames of a
            fade-in (PySceneDetect's testvideo "cut" at frame 394). 0 = PySceneDetect behaviour.
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


def _area(img: np.ndarray, tw: int, th: int) -> np.ndarray:
    """Area-average ``img`` to ``(th, tw)``.

    OpenCV's INTER_AREA is ~6x faster for integer scale factors, so the bulk of the reduction
    is an exact integer decimation (when both sides divide) and only the last small step uses a
    fractional factor.
    """
    h, w = img.shape
    f = min(w // tw, h // th)
    if f >= 2 and (w // f, h // f) != (tw, th):
        while f >= 2 and (w % f or h % f):
            f -= 1
        if f >= 2:
            img = cv2.resize(img, (w // f, h // f), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)


def _thumbnail(frame, tw: int, th: int) -> np.ndarray:
    """BGR ``uint8 [th, tw, 3]`` thumbnail of a PyAV video frame.

    For 8-bit 4:2:0 video (nearly all H.264/HEVC/VP9/AV1 delivery files) each plane is
    area-averaged with OpenCV straight from the decoder's buffers and converted to BGR at
    thumbnail size (BT.601 limited range, ``COLOR_YUV2BGR_I420``) — ~2x cheaper than swscale
    scaling+conversion in one call. Other pixel formats go through swscale.
    """
    if frame.format.name in ("yuv420p", "yuvj420p") and frame.width >= 2 and frame.height >= 2:
        w, h = frame.width, frame.height
        y = _area(_plane(frame, 0, w, h), tw, th)
        u = _area(_plane(frame, 1, (w + 1) // 2, (h + 1) // 2), tw // 2, th // 2)
        v = _area(_plane(frame, 2, (w + 1) // 2, (h + 1) // 2), tw // 2, th // 2)
        buf = np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(th * 3 // 2, tw)
        return cv2.cvtColor(buf, cv2.COLOR_YUV2BGR_I420)
    return frame.reformat(width=tw, height=th, format="bgr24", interpolation="AREA").to_ndarray()


def detect_shots(
    path: Path | str,
    params: DetectorParams | None = None,
    **overrides: object,
) -> ShotDetection:
    """Detect shots in a video: hard cuts, fades through black and dissolves.

    Args:
        path: video file (any container/codec FFmpeg decodes).
        params: detector settings (defaults: :class:`DetectorParams`).
        **overrides: individual :class:`DetectorParams` fields, e.g. ``threshold=30``.

    Returns:
        :class:`ShotDetection` with contiguous shots (frame numbers at the nominal rate, times
        from PTS) and per-frame statistics.

    Raises:
        InputError: the file is missing, empty, not a video, has no video stream, or is
            corrupt/truncated so that no frame (or not all frames) decode.
    """
    import av

    p = params or DetectorParams()
    if overrides:
        p = DetectorParams(**{**p.__dict__, **overrides})
    path = Path(path)
    container, stream = open_video(path, fast=p.fast, skip_nonref=p.skip_nonref, threads=p.threads)
    fps = nominal_fps(stream)
    times: list[float] = []
    durs: list[float] = []
    scores: list[float] = []
    bright: list[float] = []
    sharp: list[float] = []
    tiny: list[np.ndarray] = []
    drift: list[float] = []
    greys: list[np.ndarray] = []
    lag = max(1, round(fps * DRIFT_LAG_S))
    prev_hsv: np.ndarray | None = None
    tw = th = tiny_h = 0
    width = height = 0
    first_pts: float | None = None
    rotation = 0
    try:
        with container:
            for frame in container.decode(stream):
                if not tw:
                    width, height = frame.width, frame.height
                    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                    tw, th = _thumb_size(width, height, p.thumb_width)
                    tiny_h = max(2, round(th * TINY_WIDTH / tw))
                bgr = _thumbnail(frame, tw, th)
                hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
                if p.dark_value > 0:
                    # Hue/saturation of near-black pixels is quantisation noise: fade them out
                    # smoothly below dark_value (a hard mask would itself make jumps).
                    w = np.minimum(hsv[:, :, 2], p.dark_value).astype(np.float32) * (1.0 / p.dark_value)
                    scored = hsv.astype(np.float32)
                    scored[:, :, 0] *= w
                    scored[:, :, 1] *= w
                else:
                    scored = hsv.astype(np.float32)
                if prev_hsv is None:
                    scores.append(0.0)
                else:
                    scores.append(float(cv2.absdiff(scored, prev_hsv).mean()))
                prev_hsv = scored
                bright.append(float(bgr.mean()))
                grey = hsv[:, :, 2]
                if len(times) % 2 == 0:  # every other frame is plenty for keyframe choice
                    sharp.append(float(cv2.Laplacian(grey, cv2.CV_32F).var()))
                else:
                    sharp.append(sharp[-1] if sharp else 0.0)
                greys.append(grey)
                if len(greys) > lag:
                    drift.append(float(cv2.absdiff(grey, greys.pop(0)).mean()))
                else:
                    drift.append(math.nan)
                tiny.append(cv2.resize(hsv, (TINY_WIDTH, tiny_h), interpolation=cv2.INTER_AREA))
                t = frame.time
                if t is None:
                    t = (len(times) / fps) if first_pts is None else times[-1] + 1 / fps
                    t_abs = t
                else:
                    t_abs = float(t)
                if first_pts is None:
                    first_pts = t_abs
                times.append(t_abs - first_pts)
                d = frame.duration
                durs.append(float(d * frame.time_base) if d and frame.time_base else 0.0)
    except av.FFmpegError as exc:
        raise _bad_video(path, f"decoding failed after {len(times)} frames: {str(exc).strip()}") from exc
    if not times:
        raise _bad_video(path, "no frame could be decoded")
    det = _finish(path, p, fps, width, height, times, durs, scores, bright, sharp, tiny)
    det.drift = np.asarray(drift, dtype=np.float32)
    det.drift_lag = lag
    det.rotation = rotation
    return det


def _finish(path, p, fps, width, height, times, durs, scores, bright, sharp, tiny) -> ShotDetection:
    n = len(times)
    t = np.asarray(times, dtype=np.float64)
    # PTS can be out of order for a few broken files; keep it monotone for searching.
    t = np.maximum.accumulate(t)
    fnum = np.rint(t * fps).astype(np.int64)
    fnum = np.maximum.accumulate(fnum)
    s = np.asarray(scores, dtype=np.float32)
    b = np.asarray(bright, dtype=np.float32)
    tiny_arr = np.stack(tiny)
    last_dur = durs[-1] if durs and durs[-1] > 0 else (float(np.median(np.diff(t))) if n > 1 else 1.0 / fps)
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
        sharpness=np.asarray(sharp, dtype=np.float32), tiny=tiny_arr,
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


def _dissolves(tiny: np.ndarray, s: np.ndarray, b: np.ndarray, p: DetectorParams,
               cut_idx: list[int]) -> tuple[list[int], list[tuple[int, int]]]:
    """Cross-dissolves: stable → blend → stable, with no single-step cut.

    For a window half-width ``k`` and centre ``i``: the grey (V) thumbnails at ``i - k`` and
    ``i + k`` are unlike (NCC < ``1 - dissolve_ratio/10``), each is like its own neighbour ``k``
    further out (stable shots, not camera motion), the centre frame correlates better with the
    average of the two ends than with either end (a blend, not a fade or a pan), no single step
    in the window reaches the cut threshold and neither end is dark (fades are handled apart).
    """
    n = len(tiny)
    v = tiny[:, :, :, 2].reshape(n, -1).astype(np.float32)
    hits: set[int] = set()
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
