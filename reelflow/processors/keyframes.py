"""Keyframes: one representative frame per shot, frames at given times, contact sheets.

- :func:`select_keyframes` — per shot, the medoid of up to ``samples`` evenly spaced frames
  (distance = mean absolute difference of the 32-px HSV thumbnails kept by
  :func:`processors.shots.detect_shots`), penalising black frames (mean level < 20) and blurred
  ones (Laplacian variance under 40 % of the shot's median). The medoid is the frame most like
  the rest of the shot, so it avoids transition frames and flashes. A key frame of the stream
  (``ShotDetection.key_frames``: it decodes alone) inside the shot is preferred when its cost is
  within :data:`KEY_FRAME_SLACK` of the best, so that the full-resolution decode is one picture.
- :func:`extract_keyframes` — decode exactly the chosen frames: seek to the key frame before
  each, skip non-reference pictures (``skip_frame=NONREF``) up to it, decode it and drain;
  the picture is scaled by swscale straight to the JPEG width. Nothing else of the file is
  decoded again: every statistic comes from the detection pass.
- :func:`grab_frames` / :func:`extract_frames_at` — the frames shown at given times (full-quality
  decode, display rotation applied), written as JPEGs atomically.
- :func:`contact_sheet` — a Pillow grid of the keyframes with shot number and time.
- :func:`best_frame_index` — the frame most fit for a thumbnail (sharp, well exposed,
  colourful).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from reelflow.core.errors import InputError
from reelflow.core.models import Keyframe
from reelflow.core.storage import atomic_path
from reelflow.processors.shots import ShotDetection, open_video

#: JPEG quality of keyframes and contact sheets.
JPEG_QUALITY = 90


#: A key frame is chosen over the shot's best frame when its cost is at most this much higher
#: (costs are 0-1 medoid distances plus penalties of 2 for black and 0.5 for blur).
KEY_FRAME_SLACK = 0.15


class PictureSampler:
    """Keyframe candidates kept during the detection pass (a :class:`processors.shots.FrameSink`).

    Every ``interval_s`` seconds of decoded video, the picture is scaled by swscale to at most
    ``max_width`` pixels (display rotation applied) and kept as a JPEG (OpenCV, quality
    :data:`JPEG_QUALITY`): ~5 ms per kept picture, ~45 kB each, so an hour of video costs
    ~160 MB at one picture per second. :func:`extract_keyframes` then picks each shot's keyframe
    among these and writes the chosen JPEG bytes as they are: the video is not decoded again.

    Attributes:
        pictures: time (s from the first frame) → ``(JPEG bytes, width of the decoded picture)``.
    """

    def __init__(self, interval_s: float = 1.0, max_width: int = 640) -> None:
        self.interval_s, self.max_width = interval_s, max_width
        self.pictures: dict[float, tuple[bytes, int]] = {}
        self._last = -np.inf

    def offer(self, frame, t: float) -> None:
        """Keep ``frame`` (shown at ``t`` s) if ``interval_s`` has passed since the last kept one."""
        if t - self._last < self.interval_s - 1e-6:
            return
        self._last = t
        ok, buf = cv2.imencode(".jpg", _to_bgr_small(frame, self.max_width), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            self.pictures[round(t, 6)] = (buf.tobytes(), int(frame.width))

    def reset(self) -> None:
        """Forget every picture (the detector decodes the file again)."""
        self.pictures.clear()
        self._last = -np.inf

    def indices(self, det: ShotDetection) -> dict[int, bytes]:
        """Decoded frame index → JPEG bytes of the kept pictures usable as keyframes of ``det``
        (pictures decoded at reduced resolution, FFmpeg ``lowres``, are left out)."""
        out: dict[int, bytes] = {}
        for t, (jpeg, width) in self.pictures.items():
            if width < det.width:
                continue
            i = int(np.clip(np.searchsorted(det.frame_times_s, t - 1e-6), 0, det.frame_count - 1))
            if abs(det.frame_times_s[i] - t) < 1e-4:
                out[i] = jpeg
        return out


def select_keyframes(det: ShotDetection, samples: int = 16, kept: np.ndarray | None = None) -> list[int]:
    """Decoded frame index of the representative frame of each shot in ``det``.

    Args:
        det: result of :func:`processors.shots.detect_shots`.
        samples: frames considered per shot (evenly spaced, the outer 10 % skipped), plus the
            stream's key frames anywhere in the shot.
        kept: optional decoded frame indices whose pictures are already at hand
            (:class:`PictureSampler`): a shot that has any chooses among those only.

    Returns:
        One decoded frame index per shot, in shot order.
    """
    keys = det.key_frames if len(det.key_frames) == det.frame_count else np.zeros(det.frame_count, bool)
    kept_arr = np.unique(np.asarray(kept if kept is not None else [], dtype=np.int64))
    out: list[int] = []
    for shot in det.shots:
        a = det.index_of_frame(shot.start_frame)
        z = det.index_of_frame(shot.end_frame)
        z = max(z, a)
        margin = (z - a) // 10
        lo, hi = a + margin, z - margin
        at_hand = kept_arr[(kept_arr >= a) & (kept_arr <= z)]
        inner = at_hand[(at_hand >= lo) & (at_hand <= hi)]
        if len(at_hand):
            cand = inner if len(inner) else at_hand
            if len(cand) > 2 * samples:
                cand = cand[np.linspace(0, len(cand) - 1, 2 * samples).round().astype(int)]
        else:
            even = np.linspace(lo, hi, num=min(samples, z - a + 1)).round().astype(int)
            key_idx = a + np.flatnonzero(keys[a:z + 1])  # a key frame on the cut itself is a fine picture
            cand = np.unique(np.concatenate([even, key_idx]))
        if len(cand) == 1:
            out.append(int(cand[0]))
            continue
        feats = det.tiny[cand].reshape(len(cand), -1).astype(np.float32)
        dist = np.abs(feats[:, None, :] - feats[None, :, :]).mean(axis=2).mean(axis=1)
        cost = dist / max(float(dist.max()), 1e-6)
        bright = det.brightness[cand]
        sharp = det.sharpness[cand]
        cost = cost + (bright < 20) * 2.0 + (sharp < 0.4 * np.median(sharp)) * 0.5
        best = int(np.argmin(cost))
        is_key = keys[cand]
        if is_key.any() and not is_key[best]:
            k = int(np.flatnonzero(is_key)[np.argmin(cost[is_key])])
            if cost[k] <= cost[best] + KEY_FRAME_SLACK:
                best = k
        out.append(int(cand[best]))
    return out


def _rotation(frame) -> int:
    return int(getattr(frame, "rotation", 0) or 0) % 360


def _to_rgb(frame, max_width: int | None = None) -> np.ndarray:
    """RGB ``uint8 [h, w, 3]`` of a PyAV frame, display rotation applied, at most ``max_width``
    wide after rotation (scaled by swscale with area averaging, no full-size copy)."""
    rot = _rotation(frame)
    w, h = (frame.height, frame.width) if rot in (90, 270) else (frame.width, frame.height)
    if max_width and w > max_width:
        sw, sh = max_width, max(2, round(h * max_width / w))
        if rot in (90, 270):
            sw, sh = sh, sw
        rgb = frame.to_ndarray(width=sw, height=sh, format="rgb24", interpolation="AREA")
    else:
        rgb = frame.to_ndarray(format="rgb24")
    # PyAV's rotation is the display matrix angle (counter-clockwise degrees).
    if rot == 90:
        rgb = cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)
    elif rot == 180:
        rgb = cv2.rotate(rgb, cv2.ROTATE_180)
    elif rot == 270:
        rgb = cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    return np.ascontiguousarray(rgb)


def _to_bgr_small(frame, max_width: int) -> np.ndarray:
    """BGR ``uint8`` picture of a PyAV frame at most ``max_width`` wide after display rotation.

    8-bit 4:2:0 frames are scaled plane by plane with OpenCV's area filter straight from the
    decoder's buffers and converted once at the small size (BT.601, as swscale's default);
    other formats go through :func:`_to_rgb` (swscale).
    """
    from reelflow.processors.shots.decoder import plane

    rot = _rotation(frame)
    w, h = frame.width, frame.height
    limit = max_width if rot not in (90, 270) else max_width * w // max(h, 1)
    if frame.format.name not in ("yuv420p", "yuvj420p") or w < 4 or h < 4:
        return cv2.cvtColor(_to_rgb(frame, max_width), cv2.COLOR_RGB2BGR)
    tw = min(w, limit) // 2 * 2
    th = max(2, round(h * tw / w)) // 2 * 2
    y = plane(frame, 0, w, h)
    u = plane(frame, 1, (w + 1) // 2, (h + 1) // 2)
    v = plane(frame, 2, (w + 1) // 2, (h + 1) // 2)
    if (tw, th) != (w, h):
        y = cv2.resize(y, (tw, th), interpolation=cv2.INTER_AREA)
        u = cv2.resize(u, (tw // 2, th // 2), interpolation=cv2.INTER_AREA)
        v = cv2.resize(v, (tw // 2, th // 2), interpolation=cv2.INTER_AREA)
    else:
        y, u, v = y[:th, :tw], u[: th // 2, : tw // 2], v[: th // 2, : tw // 2]
    bgr = cv2.cvtColor(np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(th * 3 // 2, tw),
                       cv2.COLOR_YUV2BGR_I420)
    if rot == 90:
        bgr = cv2.rotate(bgr, cv2.ROTATE_90_COUNTERCLOCKWISE)
    elif rot == 180:
        bgr = cv2.rotate(bgr, cv2.ROTATE_180)
    elif rot == 270:
        bgr = cv2.rotate(bgr, cv2.ROTATE_90_CLOCKWISE)
    return bgr


def decode_pictures(path: Path | str, times_s: Sequence[float], max_width: int | None = None,
                    threads: int = 1) -> list[tuple[float, np.ndarray] | None]:
    """Decode exactly the pictures whose PTS is at ``times_s`` (seconds from the first frame).

    For each time: seek to the key frame at or before it, skip non-reference pictures on the
    way (``skip_frame=NONREF``; the wanted picture's own packet is decoded whatever its type),
    then drain the decoder once the wanted packet is in. A key frame costs one picture; any
    other frame costs the reference pictures between its key frame and itself.

    Returns:
        Per time, ``(its time, RGB uint8 [h, w, 3])`` at most ``max_width`` wide, or ``None``
        when no picture has that PTS (within half a frame; e.g. an unseekable file).

    Raises:
        InputError: the file is not a readable video.
    """
    import av

    container, stream = open_video(path, fast=False, threads=threads)
    out: list[tuple[float, np.ndarray] | None] = [None] * len(times_s)
    with container:
        tb = float(stream.time_base) if stream.time_base else 0.0
        cc = stream.codec_context
        try:
            first_frame = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise InputError(f"{path} is not a readable video ({exc})", hint="check the file") from exc
        if first_frame is None or first_frame.pts is None or not tb:
            return out
        first = int(first_frame.pts)
        rate = stream.guessed_rate or stream.average_rate
        tol = max(1, int(0.5 / (float(rate) * tb))) if rate else 1
        for i in sorted(range(len(times_s)), key=lambda j: times_s[j]):
            target = first + round(float(times_s[i]) / tb)
            container.seek(target, stream=stream, backward=True)
            cc.flush_buffers()
            found = None
            try:
                for pk in container.demux(stream):
                    hit = pk.pts is not None and abs(int(pk.pts) - target) <= tol
                    cc.skip_frame = "DEFAULT" if hit or pk.pts is None else "NONREF"
                    frames = list(stream.decode(pk if pk.size else None))
                    if hit:
                        frames += stream.decode(None)  # drain: the picture may sit in the reorder buffer
                    for f in frames:
                        if f.pts is not None and abs(int(f.pts) - target) <= tol:
                            found = f
                    if found is not None or hit or not pk.size or (pk.pts is not None and pk.pts > target + 64 * tol):
                        break
            except av.FFmpegError:
                found = None
            cc.flush_buffers()
            cc.skip_frame = "DEFAULT"
            if found is not None:
                out[i] = ((int(found.pts) - first) * tb, _to_rgb(found, max_width))
    return out


def grab_frames(path: Path | str, times_s: Sequence[float]) -> list[tuple[float, np.ndarray]]:
    """Decode the frames shown at ``times_s`` (seconds from the first frame).

    For each time, the last frame whose PTS is ≤ the time (the frame on screen then) is
    returned, as ``(its time in seconds, RGB uint8 [h, w, 3])``; times past the end give the
    last frame. Seeks to the preceding key frame for each time that is more than 2 s past the
    previous one, otherwise decodes forward.

    Raises:
        InputError: the file is not a readable video.
    """
    import av

    order = sorted(range(len(times_s)), key=lambda i: times_s[i])
    out: list[tuple[float, np.ndarray] | None] = [None] * len(times_s)
    container, stream = open_video(path, fast=False)
    tb = float(stream.time_base) if stream.time_base else 1.0
    with container:
        try:
            first_frame = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise InputError(f"{path} is not a readable video ({exc})", hint="check the file") from exc
        if first_frame is None:
            raise InputError(f"{path} is not a readable video (no frame decodes)", hint="check the file")
        first = first_frame.pts or 0

        def t_of(f) -> float:
            return ((f.pts if f.pts is not None else first) - first) * tb

        it = None
        cur = buf = None  # cur: last frame at/before the target; buf: first frame past it
        for i in order:
            target = max(0.0, float(times_s[i]))
            if it is None or cur is None or target - cur[0] > 2.0:
                container.seek(int(first + target / tb) if target > 0 else first, stream=stream, backward=True)
                it = container.decode(stream)
                cur = buf = None
            try:
                while True:
                    if buf is None:
                        f = next(it, None)
                        if f is None:
                            break
                        buf = (t_of(f), f)
                    if buf[0] <= target + 1e-6:
                        cur, buf = buf, None
                        continue
                    break
            except av.FFmpegError as exc:
                raise InputError(f"{path} could not be decoded near {target:.2f} s ({exc})",
                                 hint="the video may be corrupt; re-encode it") from exc
            chosen = cur if cur is not None else buf
            if chosen is None:
                raise InputError(f"{path}: no frame at {target:.2f} s", hint="check the video")
            out[i] = (float(chosen[0]), _to_rgb(chosen[1]))
    return [o for o in out if o is not None]


def save_jpeg(rgb: np.ndarray, dest: Path, max_width: int | None = None) -> Path:
    """Write an RGB image as JPEG atomically, optionally downscaled to ``max_width``."""
    from PIL import Image

    im = Image.fromarray(rgb)
    if max_width and im.width > max_width:
        im = im.resize((max_width, max(1, round(im.height * max_width / im.width))), Image.Resampling.LANCZOS)
    with atomic_path(dest) as tmp:
        im.save(tmp, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return dest


def extract_keyframes(det: ShotDetection, out_dir: Path | str, max_width: int = 640,
                      indices: Sequence[int] | None = None, threads: int = 1,
                      pictures: PictureSampler | None = None) -> tuple[list[Keyframe], list[np.ndarray]]:
    """Write one JPEG per shot (``shot_0000.jpg`` …) into ``out_dir``.

    Args:
        det: detection result (only its keyframes are decoded again, see :func:`decode_pictures`).
        out_dir: destination folder (created).
        max_width: JPEG width limit in pixels.
        indices: decoded frame indices to use (default :func:`select_keyframes`).
        threads: decoder threads.
        pictures: candidates kept during detection (``detect_shots(..., sink=pictures)``); a
            shot that has kept pictures gets its keyframe from them, written without re-encoding.

    Returns:
        ``(keyframes, images)``: :class:`core.models.Keyframe` records and the RGB arrays
        (≤ ``max_width`` wide) for feature extraction.

    Raises:
        InputError: the video is no longer readable.
    """
    kept = pictures.indices(det) if pictures is not None and pictures.max_width == max_width else {}
    idx = list(indices) if indices is not None else select_keyframes(det, kept=list(kept))
    times = [float(det.frame_times_s[i]) for i in idx]
    todo = [k for k, i in enumerate(idx) if i not in kept]
    frames: list[tuple[float, np.ndarray] | None] = [None] * len(idx)
    if todo:
        for k, got in zip(todo, decode_pictures(det.path, [times[k] for k in todo], max_width, threads=threads),
                          strict=True):
            frames[k] = got
    missing = [k for k in todo if frames[k] is None]
    if missing:  # PTS that do not seek exactly: the frame on screen at that time instead
        for k, got in zip(missing, grab_frames(det.path, [times[k] for k in missing]), strict=True):
            frames[k] = got
    out_dir = Path(out_dir)
    kfs: list[Keyframe] = []
    imgs: list[np.ndarray] = []
    for k, (shot, i) in enumerate(zip(det.shots, idx, strict=True)):
        dest = out_dir / f"shot_{shot.index:04d}.jpg"
        if i in kept:
            jpeg = kept[i]
            t, rgb = times[k], cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR),
                                            cv2.COLOR_BGR2RGB)
            with atomic_path(dest) as tmp:
                Path(tmp).write_bytes(jpeg)
        else:
            t, rgb = frames[k]
            if rgb.shape[1] > max_width:
                rgb = cv2.resize(rgb, (max_width, round(rgb.shape[0] * max_width / rgb.shape[1])),
                                 interpolation=cv2.INTER_AREA)
            save_jpeg(rgb, dest)
        kfs.append(Keyframe(shot_index=shot.index, frame=int(det.frame_numbers[i]), time_s=t, path=str(dest)))
        imgs.append(rgb)
    return kfs, imgs


def extract_frames_at(path: Path | str, times_s: Sequence[float], out_dir: Path | str,
                      max_width: int | None = None, prefix: str = "frame") -> list[Path]:
    """Write the frames shown at ``times_s`` as ``<prefix>_000.jpg`` … in ``out_dir``.

    Args:
        path: video file.
        times_s: seconds from the first frame (one JPEG per entry, in the given order).
        out_dir: destination folder (created).
        max_width: optional width limit in pixels (default: full size).

    Returns:
        The JPEG paths, one per time.

    Raises:
        InputError: the video is not readable.
    """
    frames = grab_frames(path, times_s)
    out_dir = Path(out_dir)
    return [save_jpeg(rgb, out_dir / f"{prefix}_{k:03d}.jpg", max_width) for k, (_, rgb) in enumerate(frames)]


def thumbnail_score(rgb: np.ndarray) -> float:
    """Thumbnail fitness: log sharpness × exposure closeness to mid-grey × (1 + colourfulness).

    Colourfulness is Hasler & Süsstrunk (2003)'s M metric / 100.
    """
    small = cv2.resize(rgb, (256, max(1, round(rgb.shape[0] * 256 / rgb.shape[1]))), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sharp = np.log1p(cv2.Laplacian(grey, cv2.CV_64F).var())
    exposure = 1.0 - abs(float(grey.mean()) - 128.0) / 128.0
    r, g, b = (small[:, :, k].astype(np.float64) for k in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    colourful = np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(sharp * max(exposure, 0.05) * (1.0 + colourful / 100.0))


def best_frame_index(paths: Sequence[Path | str]) -> int:
    """Index of the image in ``paths`` with the highest :func:`thumbnail_score` (0 if empty)."""
    from reelflow.processors.features import load_image

    if not paths:
        return 0
    scores = [thumbnail_score(load_image(p, max_side=512)) for p in paths]
    return int(np.argmax(scores))


def contact_sheet(images: Sequence[Path | str | np.ndarray], dest: Path | str, labels: Sequence[str] | None = None,
                  cols: int = 4, thumb_width: int = 320) -> Path:
    """Grid of ``images`` (JPEG) with an optional caption under each, written atomically.

    Args:
        images: image files or RGB ``uint8 [h, w, 3]`` arrays, in reading order.
        dest: output JPEG path.
        labels: one short caption per image (ASCII recommended).
        cols: images per row.
        thumb_width: width of each cell's image in pixels.
    """
    from PIL import Image, ImageDraw, ImageFont

    from reelflow.processors.features import load_image

    dest = Path(dest)
    thumbs = []
    for p in images:
        rgb = p if isinstance(p, np.ndarray) else load_image(p, max_side=thumb_width * 2)
        im = Image.fromarray(rgb)
        im = im.resize((thumb_width, max(1, round(im.height * thumb_width / im.width))), Image.Resampling.LANCZOS)
        thumbs.append(im)
    cols = max(1, min(cols, len(thumbs) or 1))
    rows = max(1, -(-len(thumbs) // cols))
    cell_h = max((t.height for t in thumbs), default=thumb_width * 9 // 16)
    label_h = 22 if labels else 0
    pad = 6
    sheet = Image.new("RGB", (cols * (thumb_width + pad) + pad, rows * (cell_h + label_h + pad) + pad), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    for k, t in enumerate(thumbs):
        x = pad + (k % cols) * (thumb_width + pad)
        y = pad + (k // cols) * (cell_h + label_h + pad)
        sheet.paste(t, (x, y))
        if labels:
            draw.text((x + 2, y + cell_h + 3), str(labels[k])[:48], fill=(230, 230, 230), font=font)
    with atomic_path(dest) as tmp:
        sheet.save(tmp, format="JPEG", quality=85)
    return dest
