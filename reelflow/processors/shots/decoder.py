"""Cheap video decoding for shot detection: PyAV with FFmpeg's skip options, tiny thumbnails.

- :func:`open_video` — a PyAV container and video stream set up for speed: frame-threaded
  (``thread_type="AUTO"``, ``threads`` sized by the caller so that parallel files do not
  oversubscribe the cores), the H.264/HEVC in-loop deblocking filter skipped
  (``skip_loop_filter=all``: ~12 % of an H.264 decode; it changes pixel values by a few levels
  at block edges, which a mean-of-differences score averages away), optionally non-reference
  pictures skipped (``skip_frame=NONREF``, FFmpeg ``AVCodecContext.skip_frame``) and, for the
  DCT codecs that support it (MPEG-1/2, MPEG-4 Part 2, H.263, MJPEG), reduced-resolution
  decoding (``lowres``: the IDCT and motion compensation run at 1/4 or 1/8 size, chosen so
  that the picture stays at least as wide as the thumbnail; level 1, 1/2 size, is never used:
  FFmpeg runs it in plain C and it decoded no faster than full size, see :func:`lowres_factor`).
- :func:`thumbnail` — each plane of the decoder's YUV buffer downscaled with OpenCV (bilinear to
  2x, then a 2x box) and converted to a BGR thumbnail ``thumb_width`` (128) pixels wide: no
  full-size RGB frame is ever made. PySceneDetect scores at 256 px (``DEFAULT_MIN_WIDTH``); at
  128 px the hard-cut F1 is the same on every benchmark file (``bench/bench_shots.py``).
- :func:`decode_frames` — thumbnails of chosen frames only, seeking to the key frame before each
  and switching ``skip_frame`` per packet (what the two-pass detector's second pass uses).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from reelflow.core.errors import InputError

#: Thumbnail width used for scoring, px (half of PySceneDetect's ``DEFAULT_MIN_WIDTH``, 256:
#: same F1 on every file of ``bench/bench_shots.py``, faster).
THUMB_WIDTH = 128

#: Codecs whose non-reference pictures can be skipped without changing any other picture
#: (H.264/HEVC non-reference pictures, MPEG-4 Part 2 B-frames) and whose key frames seek
#: exactly. MPEG-1/2 are left out: their open GOPs (B-frames before an I-frame refer to the
#: previous GOP) and MPEG-TS's inexact seeks made pass 2 lose windows (F1 0.96 → 0.74 on
#: ``bench/footage.py``'s interlaced SD file); they take the precise path, at reduced resolution.
FAST_CODECS = frozenset({"h264", "hevc", "mpeg4"})
#: Decoders with FFmpeg's ``lowres`` option (reduced-resolution IDCT and motion compensation).
LOWRES_CODECS = frozenset({"mpeg1video", "mpeg2video", "mpeg4", "h263", "h263p", "msmpeg4v3", "mjpeg", "wmv2"})


@dataclass(frozen=True)
class DecoderParams:
    """How the detector decodes (speed tricks; the detectors' thresholds live in their own params).

    Attributes:
        mode: ``"fast"`` (default): two-pass coarse-to-fine decode for the codecs in
            :data:`FAST_CODECS` (reference frames first, then only windows around gaps that may
            hide a hard cut; statistics of undecoded frames interpolated); other codecs use
            ``"precise"``. ``"precise"``: decode and score every frame.
        fast: skip the in-loop deblocking filter (``skip_loop_filter=all``).
        lowres: decode DCT codecs (:data:`LOWRES_CODECS`) at reduced resolution, the largest
            reduction that keeps the picture at least ``thumb_width`` wide (:func:`lowres_factor`).
        skip_nonref: decode only reference frames and nothing else: the raw speed trick without
            the second pass, so cuts on skipped frames land late or vanish (kept for the
            benchmark's accuracy-cost row). Off by default.
        thumb_width: scoring thumbnail width in pixels.
        threads: decoder threads (0 = FFmpeg's automatic choice: one per core).
        coarse_ratio: in ``fast`` mode, a gap between two decoded frames is re-decoded when
            their score reaches ``coarse_ratio`` × the cut threshold (high recall: a cut inside
            the gap scores about as high across the gap as on its own frame).
        lookahead_ratio: in ``fast`` mode, pass 1 also decodes the skipped pictures of a gap
            whose closing reference picture's packet is at least this many times the median
            of the 16 previous ones (a scene change makes the next reference picture intra-coded,
            so large); 0 disables. Measured on the benchmark files: the anchor after a cut is
            2.4-30x the median in 22 of 24 cuts (the other two are caught by pass 2), other
            anchors rarely over 3x (key frames aside).
    """

    mode: Literal["fast", "precise"] = "fast"
    fast: bool = True
    lowres: bool = True
    skip_nonref: bool = False
    thumb_width: int = THUMB_WIDTH
    threads: int = 0
    coarse_ratio: float = 0.5
    lookahead_ratio: float = 2.0


def bad_video(path: Path, why: str) -> InputError:
    """The error for an unreadable video (names the file and the fix)."""
    return InputError(
        f"{path} is not a readable video ({why})",
        hint="pass an mp4/mov/mkv/webm file with a video stream that ffmpeg can decode",
    )


class DecodeFailed(InputError):
    """A video stopped decoding part-way (corrupt or cut-off data).

    Attributes:
        frames: pictures decoded before the failure.
    """

    def __init__(self, message: str, *, frames: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.frames = frames


def decode_error(path: Path, n: int, exc: Exception) -> DecodeFailed:
    """The error for a video that stops decoding after ``n`` frames."""
    why = f"decoding failed after {n} frames: {str(exc).strip()}"
    return DecodeFailed(f"{path} is not a readable video ({why})", frames=n,
                        hint="the file may be cut off or corrupt: copy or download it again, or re-export it")


def lowres_factor(codec: str, width: int, thumb_width: int) -> int:
    """FFmpeg ``lowres`` level for ``codec``: 0, 2 or 3, the largest with ``width >> level ≥ thumb_width``.

    Level 1 (half size) is skipped: FFmpeg's half-size IDCT and motion compensation have no
    SIMD versions, and PyAV decoded no faster at level 1 than at full size (interlaced MPEG-2
    720x480: 0.66 vs 0.58 s CPU for 1,800 frames; MPEG-4 Part 2 720p: 1.41 vs 1.39 s), while
    levels 2 and 3 took 0.42 / 0.41 s (MPEG-2) and 0.90 / 0.78 s (MPEG-4). At levels 2-3 the
    reduced IDCT keeps only each block's low frequencies, itself a good low-pass before the
    thumbnail's bilinear step.
    """
    if codec not in LOWRES_CODECS or width <= 0:
        return 0
    level = 0
    while level < 3 and (width >> (level + 1)) >= thumb_width:
        level += 1
    return 0 if level == 1 else level


def open_video(path: Path | str, *, fast: bool = True, skip_nonref: bool = False, threads: int = 0,
               lowres_width: int = 0):
    """Open ``path`` with PyAV and return ``(container, video_stream)`` ready to decode.

    Args:
        path: video file.
        fast: skip the in-loop deblocking filter (``skip_loop_filter=all``).
        skip_nonref: skip non-reference frames (``skip_frame=NONREF``).
        threads: decoder threads (0 = automatic).
        lowres_width: if > 0 and the codec supports it, decode at reduced resolution keeping at
            least ``lowres_width`` pixels of width (:func:`lowres_factor`); the stream's
            ``codec_context.width`` then still reports the coded size read before opening.

    Raises:
        InputError: missing, empty, not media, or no video stream (message names the file).
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(f"video not found: {path}", hint="check the path")
    if path.stat().st_size == 0:
        raise bad_video(path, "the file is empty")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise bad_video(path, str(exc).strip() or type(exc).__name__) from exc
    streams = [v for v in container.streams.video if not (v.disposition & av.stream.Disposition.attached_pic)]
    if not streams:
        container.close()
        raise bad_video(path, "it has no video stream (audio only or cover art only)")
    stream = streams[0]
    stream.thread_type = "AUTO"
    if threads:
        stream.thread_count = threads
    cc = stream.codec_context
    opts = {}
    if fast:
        opts["skip_loop_filter"] = "all"
    level = lowres_factor(cc.name, cc.width, lowres_width) if lowres_width else 0
    if level:
        opts["lowres"] = str(level)
    if opts:
        cc.options = opts
    if skip_nonref:
        cc.skip_frame = "NONREF"
    return container, stream


def nominal_fps(stream) -> float:
    """Nominal frame rate of a PyAV stream (``guessed_rate``, else ``average_rate``, else 25)."""
    rate = stream.guessed_rate or stream.average_rate or stream.base_rate
    return float(Fraction(rate)) if rate else 25.0


def thumb_size(width: int, height: int, target: int) -> tuple[int, int]:
    """Even-sized thumbnail dimensions (I420 needs even sides)."""
    if width > target:
        height = height * target / width
        width = target
    return max(2, int(width) // 2 * 2), max(2, int(round(height)) // 2 * 2)


def plane(frame, i: int, w: int, h: int) -> np.ndarray:
    """Zero-copy ``uint8 [h, w]`` view of plane ``i`` of a PyAV frame."""
    plane = frame.planes[i]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:h, :w]


def shrink(img: np.ndarray, tw: int, th: int) -> np.ndarray:
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


def thumbnail(frame, tw: int, th: int) -> np.ndarray:
    """BGR ``uint8 [th, tw, 3]`` thumbnail of a PyAV video frame.

    For 8-bit 4:2:0 video (nearly all H.264/HEVC/VP9/AV1 delivery files) each plane is
    downscaled with OpenCV straight from the decoder's buffers (:func:`shrink`) and converted to
    BGR at thumbnail size (BT.601 limited range, ``COLOR_YUV2BGR_I420``): ~2-3x cheaper than
    swscale scaling + conversion in one ``frame.reformat`` call. Other pixel formats go through
    swscale.
    """
    if frame.format.name in ("yuv420p", "yuvj420p") and frame.width >= 2 and frame.height >= 2:
        w, h = frame.width, frame.height
        q = (th // 2) * (tw // 2)
        buf = np.empty(th * tw + 2 * q, np.uint8)
        buf[: th * tw] = shrink(plane(frame, 0, w, h), tw, th).reshape(-1)
        buf[th * tw: th * tw + q] = shrink(plane(frame, 1, (w + 1) // 2, (h + 1) // 2), tw // 2, th // 2).reshape(-1)
        buf[th * tw + q:] = shrink(plane(frame, 2, (w + 1) // 2, (h + 1) // 2), tw // 2, th // 2).reshape(-1)
        return cv2.cvtColor(buf.reshape(th * 3 // 2, tw), cv2.COLOR_YUV2BGR_I420)
    return frame.reformat(width=tw, height=th, format="bgr24", interpolation="AREA").to_ndarray()



def decode_frames(path: Path, p: DecoderParams, pts_list: list[int], pk_pts: list[int], pk_key: list[bool],
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
    container, stream = open_video(path, fast=p.fast, threads=p.threads, lowres_width=p.thumb_width if p.lowres else 0)
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
                        tw, th = thumb_size(f.width, f.height, p.thumb_width)
                    got[i] = thumbnail(f, tw, th)
    return got

