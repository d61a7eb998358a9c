"""Shot detection: hard cuts, fades through black and dissolves, decoding as little as possible.

:func:`detect_shots` runs the decoder (:mod:`.decoder`), reduces thumbnails to per-frame
statistics (:mod:`.stats`) and hands them to the three detectors (:mod:`.cuts`, :mod:`.fades`,
:mod:`.dissolves`). The reference is PySceneDetect (https://www.scenedetect.com/docs/latest/,
source ``Breakthrough/PySceneDetect`` ``scenedetect/detectors/*.py``); this module reproduces the
scores of its detectors on far less work:

- **Two passes, coarse to fine** (default ``mode="fast"``, :data:`.decoder.FAST_CODECS`): pass 1
  decodes only the reference pictures (``skip_frame=NONREF``; 33-52 % of the frames of x264
  output, a third of MPEG-4 Part 2 with two B-frames) and scores consecutive decoded frames;
  every packet's PTS gives the full timeline. Pass 2 decodes only short windows around gaps
  between decoded frames whose score could hide a hard cut, seeking to the key frame before the
  window and switching ``skip_frame`` per packet so that only the window's non-reference frames
  are added. Reference frames decode bit-identically either way, so every score on two adjacent
  decoded frames is the precise one; hard cuts are evaluated twice, with pessimistic and
  optimistic stand-ins for the steps never decoded, and windows are added until both agree.
  ``mode="precise"`` decodes and scores every frame (and is used for other codecs).

Timestamps come from each frame's PTS (normalised so the first frame is 0 s), so boundaries
stay exact on variable-frame-rate input. Frame numbers follow PySceneDetect's convention:
``round(t * nominal_fps)`` with the stream's guessed (nominal) rate — equal to the decoded index
on constant-rate video, and on VFR video the frame number PySceneDetect reports (see
``../shared/data/videos/cuts.json`` ``_conventions``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel

from reelflow.core.errors import InputError
from reelflow.core.models import Shot
from reelflow.processors.shots.cuts import CutParams, hard_cuts
from reelflow.processors.shots.decoder import (
    FAST_CODECS,
    DecoderParams,
    bad_video,
    decode_error,
    decode_frames,
    nominal_fps,
    open_video,
)
from reelflow.processors.shots.dissolves import DissolveParams, dissolves
from reelflow.processors.shots.fades import FadeParams, fades, runs
from reelflow.processors.shots.stats import DRIFT_LAG_S, ThumbnailStats, frame_stats

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



#: Flat (pre-package) parameter names → (section, field) of :class:`DetectorParams`.
_LEGACY = {
    "threshold": ("cuts", "threshold"), "min_scene_len": ("*", "min_scene_len"), "window": ("cuts", "window"),
    "min_adaptive_ratio": ("cuts", "min_adaptive_ratio"), "dark_value": ("cuts", "dark_value"),
    "fade_threshold": ("fades", "threshold"), "detect_fades": ("fades", "enabled"),
    "detect_dissolves": ("dissolves", "enabled"), "dissolve_max_corr": ("dissolves", "max_corr"),
    "dissolve_min_stable": ("dissolves", "min_stable"), "dissolve_spans": ("dissolves", "spans"),
    "dissolve_min_colour_change": ("dissolves", "min_colour_change"),
    **{f.name: ("decoder", f.name) for f in fields(DecoderParams)},
}


@dataclass(frozen=True)
class DetectorParams:
    """Settings of :func:`detect_shots`: the decoder's and each detector's own.

    Attributes:
        decoder: how frames are decoded (:class:`.decoder.DecoderParams`).
        cuts: hard cuts (:class:`.cuts.CutParams`, ContentDetector defaults).
        fades: fades through black (:class:`.fades.FadeParams`, ThresholdDetector defaults).
        dissolves: cross-dissolves (:class:`.dissolves.DissolveParams`).
    """

    decoder: DecoderParams = field(default_factory=DecoderParams)
    cuts: CutParams = field(default_factory=CutParams)
    fades: FadeParams = field(default_factory=FadeParams)
    dissolves: DissolveParams = field(default_factory=DissolveParams)

    def with_overrides(self, **overrides: object) -> DetectorParams:
        """A copy with flat overrides applied, e.g. ``mode="precise"``, ``threshold=30``,
        ``fade_threshold=10`` (the pre-package field names; ``min_scene_len`` sets all three
        detectors').

        Raises:
            InputError: an unknown name.
        """
        parts = {"decoder": {}, "cuts": {}, "fades": {}, "dissolves": {}}
        for name, value in overrides.items():
            if name not in _LEGACY:
                raise InputError(f"unknown shot detection parameter {name!r}",
                                 hint=f"use one of {', '.join(sorted(_LEGACY))}")
            section, attr = _LEGACY[name]
            for sec in (("cuts", "fades", "dissolves") if section == "*" else (section,)):
                parts[sec][attr] = value
        return DetectorParams(**{sec: replace(getattr(self, sec), **kw) for sec, kw in parts.items()})


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
        key_frames: bool ``[frame_count]``: key frames (pictures that decode alone, where a seek
            lands): the cheap full-resolution keyframe candidates of :mod:`processors.keyframes`.
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
    key_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)

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



class FrameSink(Protocol):
    """Receives every picture the detection pass decodes (e.g. to keep keyframe candidates).

    ``offer`` is called with the PyAV frame and its time in seconds from the first frame, in
    display order; it must not keep the frame object (its buffer is reused) — copy what it needs.
    """

    def offer(self, frame: Any, t: float) -> None:
        """Look at one decoded picture."""
        ...

    def reset(self) -> None:
        """Forget everything offered: the file is being decoded again from the start."""
        ...


def detect_shots(
    path: Path | str,
    params: DetectorParams | None = None,
    *,
    sink: FrameSink | None = None,
    **overrides: object,
) -> ShotDetection:
    """Detect shots in a video: hard cuts, fades through black and dissolves.

    Args:
        path: video file (any container/codec FFmpeg decodes).
        params: detector settings (defaults: :class:`DetectorParams`).
        sink: optional :class:`FrameSink` offered every picture of the first (or only) decoding
            pass, so that callers get pictures without decoding the file again.
        **overrides: individual settings by their flat name (:meth:`DetectorParams.with_overrides`),
            e.g. ``threshold=30``, ``mode="precise"`` or ``threads=1``.

    Returns:
        :class:`ShotDetection` with contiguous shots (frame numbers at the nominal rate, times
        from PTS) and per-frame statistics. In ``mode="fast"`` (:data:`.decoder.FAST_CODECS`;
        other codecs fall back to ``"precise"``) the statistics of frames that were never decoded
        are interpolated from the decoded ones (``ShotDetection.decoded`` is false there).

    Raises:
        InputError: the file is missing, empty, not a video, has no video stream, or is
            corrupt/truncated so that no frame (or not all frames) decode; unknown ``mode`` or
            parameter name.
    """
    p = params or DetectorParams()
    if overrides:
        p = p.with_overrides(**overrides)
    if p.decoder.mode not in ("fast", "precise"):
        raise InputError(f"unknown shot detection mode {p.decoder.mode!r}", hint='use mode="fast" or mode="precise"')
    path = Path(path)
    if p.decoder.mode == "fast" and not p.decoder.skip_nonref:
        det = _detect_two_pass(path, p, sink)
        if det is not None:
            return det
        if sink is not None:
            sink.reset()
    return _detect_full(path, p, sink)


def _detect_full(path: Path, p: DetectorParams, sink: FrameSink | None = None) -> ShotDetection:
    """Decode and score every frame (``mode="precise"``; any codec FFmpeg decodes)."""
    import av

    d = p.decoder
    container, stream = open_video(path, fast=d.fast, skip_nonref=d.skip_nonref, threads=d.threads,
                                   lowres_width=d.thumb_width if d.lowres else 0)
    width, height = stream.codec_context.width, stream.codec_context.height  # coded size (before lowres)
    fps = nominal_fps(stream)
    lag = max(1, round(fps * DRIFT_LAG_S))
    times: list[float] = []
    durs: list[float] = []
    keys: list[bool] = []
    thumbs = ThumbnailStats(d.thumb_width, p.cuts.dark_value, lag_frames=lag)
    first_pts: float | None = None
    rotation = 0
    try:
        with container:
            for frame in container.decode(stream):
                if not times:
                    width, height = width or frame.width, height or frame.height
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
                if sink is not None:
                    sink.offer(frame, times[-1])
                dur = frame.duration
                durs.append(float(dur * frame.time_base) if dur and frame.time_base else 0.0)
                keys.append(bool(frame.key_frame))
    except av.FFmpegError as exc:
        raise decode_error(path, len(times), exc) from exc
    thumbs.flush()
    if not times:
        raise bad_video(path, "no frame could be decoded")
    scores = np.nan_to_num(thumbs.cat("scores"), nan=0.0)
    det = _finish(path, p, fps, width, height, np.asarray(times), durs[-1], scores, thumbs.cat("bright"),
                  thumbs.cat("sharp"), thumbs.cat("tiny"))
    det.drift = thumbs.cat("drift")
    det.drift_lag = lag
    det.rotation = rotation
    det.decoded = np.ones(det.frame_count, dtype=bool)
    det.key_frames = np.asarray(keys, dtype=bool)
    return det



def _detect_two_pass(path: Path, p: DetectorParams, sink: FrameSink | None = None) -> ShotDetection | None:
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

    d = p.decoder
    container, stream = open_video(path, fast=d.fast, skip_nonref=True, threads=d.threads,
                                   lowres_width=d.thumb_width if d.lowres else 0)
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
    thumbs = ThumbnailStats(d.thumb_width, p.cuts.dark_value, lag_s=lag / fps, eps=0.25 / fps)
    cc = stream.codec_context
    width, height = cc.width, cc.height  # coded size (before lowres)
    rotation = 0
    # Packet-size lookahead: in decode order the reference picture that closes a gap of skipped
    # pictures comes before them; when it is much larger than the recent ones (intra-coded
    # blocks: a scene change), the gap's pictures are decoded now, in pass 1, instead of by a
    # pass-2 seek back to the key frame (what long GOPs make expensive).
    sizes: list[int] = []
    top = None  # largest PTS so far: packets above it are the next anchors
    gap = (0, -1)  # PTS range whose non-reference pictures decode in pass 1
    try:
        with container:
            for pk in container.demux(stream):
                if pk.size:
                    if pk.pts is None:
                        return None
                    pts = int(pk.pts)
                    pk_pts.append(pts)
                    pk_key.append(bool(pk.is_keyframe))
                    pk_dur.append(int(pk.duration or 0))
                    if d.lookahead_ratio > 0:
                        if top is None or pts > top:
                            recent = sorted(sizes[-16:])
                            if len(recent) >= 4 and pk.size >= d.lookahead_ratio * recent[len(recent) // 2]:
                                gap = (top if top is not None else pts, pts)
                            sizes.append(pk.size)
                            top = pts
                            cc.skip_frame = "NONREF"
                        else:
                            cc.skip_frame = "DEFAULT" if gap[0] < pts < gap[1] else "NONREF"
                try:
                    frames = stream.decode(pk)
                except av.FFmpegError:
                    if cc.skip_frame != "DEFAULT" or not pk.size:
                        raise
                    # a non-reference picture decoded only for the lookahead: skipping it, as
                    # pass 1 otherwise would, loses nothing (pass 2 covers its gap if needed)
                    continue
                for frame in frames:
                    if frame.pts is None:
                        return None
                    if not f_pts:
                        width, height = width or frame.width, height or frame.height
                        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                    f_pts.append(int(frame.pts))
                    thumbs.add(frame, (f_pts[-1] - f_pts[0]) * tb)
                    if sink is not None:
                        sink.offer(frame, (f_pts[-1] - f_pts[0]) * tb)
    except av.FFmpegError as exc:
        raise decode_error(path, len(f_pts), exc) from exc
    thumbs.flush()
    if not f_pts:
        raise bad_video(path, "no frame could be decoded")

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
    low = d.coarse_ratio * p.cuts.threshold
    linear = _linear_gaps(idx1, thumbs.cat("tiny"), s1, p.cuts.threshold)
    for j in np.flatnonzero(gaps > 1):
        a, z = int(idx1[j]), int(idx1[j + 1])
        if s1[j + 1] >= low and not linear[j + 1]:
            # a cut may hide between a and z: decode the gap and the adaptive guard's neighbours
            need[max(0, a - p.cuts.window): z + p.cuts.window + 1] = True
    captured = np.zeros(n, dtype=bool)
    pts_list = all_pts.tolist()
    for _round in range(6):
        todo = need & ~captured
        if not todo.any():
            break
        # widen each run by one frame to the left so that the step into it is exact too
        todo[:-1] |= todo[1:] & ~todo[:-1]
        got = decode_frames(path, d, pts_list, pk_pts, pk_key, todo)
        for a, z in runs(np.isin(np.arange(n), list(got))):
            b = frame_stats(np.stack([got[i] for i in range(a, z)]), p.cuts.dark_value, thumbs.tiny_h, None)
            bright[a:z], sharp[a:z], tiny[a:z] = b.bright, b.sharp, b.tiny
            s_lo[a + 1: z] = s_hi[a + 1: z] = b.scores[1:]
            s_exact[a + 1: z] = True
        captured |= todo
        # a hard cut must not hinge on a step that was never decoded
        black = p.fades.threshold
        differ = set(hard_cuts(s_lo, p.cuts, bright, black)) ^ set(hard_cuts(s_hi, p.cuts, bright, black))
        need = np.zeros(n, dtype=bool)
        for c in differ:
            lo, hi = max(0, c - p.cuts.window - 1), min(n, c + p.cuts.window + 2)
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
    det.key_frames = np.isin(all_pts, np.asarray([x for x, k in zip(pk_pts, pk_key, strict=True) if k], np.int64))
    return det


def _linear_gaps(idx: np.ndarray, tiny: np.ndarray, s: np.ndarray, threshold: float) -> np.ndarray:
    """Which steps between decoded frames are a smooth (pixel-linear) change: fades, dissolves.

    Step ``j`` (decoded frame ``j - 1`` to ``j``, spanning ``m`` frames) is linear when the
    tiny value-channel (HSV V) thumbnail at one end is predicted, within ``LINEAR_RESIDUAL`` of
    the step's own change, by extrapolating the two decoded frames on the other side (forward from ``j - 2,
    j - 1`` or backward from ``j + 1, j``) and its score per frame (``s / m``) stays well under
    the cut ``threshold``. A hard cut inside the gap breaks both extrapolations (the frames on each
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
    out[j] = (np.minimum(res_f, res_b) < LINEAR_RESIDUAL * step) & (s[j] / m < 0.7 * threshold)
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

    black = p.fades.threshold
    cut_idx = hard_cuts(s, p.cuts, b, black)
    fade_idx, fade_spans = fades(b, p.fades) if p.fades.enabled else ([], [])
    diss_idx, diss_spans = dissolves(tiny_arr, s, b, p.dissolves, cut_idx, cut_threshold=p.cuts.threshold,
                                     black_level=black) if p.dissolves.enabled else ([], [])
    # A fade through black also looks like a blend at its edges: the fade wins.
    reach = 2 * max(p.dissolves.spans, default=0)
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
        sharpness=np.asarray(sharp, dtype=np.float32), tiny=tiny_arr, mode=p.decoder.mode,
    )



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

