"""Keyframes: one representative frame per shot, frames at given times, contact sheets.

- :func:`select_keyframes` — per shot, the medoid of up to ``samples`` evenly spaced frames
  (distance = mean absolute difference of the 32-px HSV thumbnails kept by
  :func:`processors.shots.detect_shots`), penalising black frames (mean level < 20) and blurred
  ones (Laplacian variance under 40 % of the shot's median). The medoid is the frame most like
  the rest of the shot, so it avoids transition frames and flashes.
- :func:`extract_keyframes` / :func:`extract_frames_at` — decode only the wanted frames with
  PyAV (seek to the previous key frame, decode forward; full-quality decode, display rotation
  applied) and write JPEGs atomically.
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


def select_keyframes(det: ShotDetection, samples: int = 16) -> list[int]:
    """Decoded frame index of the representative frame of each shot in ``det``.

    Args:
        det: result of :func:`processors.shots.detect_shots`.
        samples: frames considered per shot (evenly spaced, the outer 10 % skipped).

    Returns:
        One decoded frame index per shot, in shot order.
    """
    out: list[int] = []
    for shot in det.shots:
        a = det.index_of_frame(shot.start_frame)
        z = det.index_of_frame(shot.end_frame)
        if z < a:
            z = a
        margin = (z - a) // 10
        cand = np.unique(np.linspace(a + margin, z - margin, num=min(samples, z - a + 1)).round().astype(int))
        if len(cand) == 1:
            out.append(int(cand[0]))
            continue
        feats = det.tiny[cand].reshape(len(cand), -1).astype(np.float32)
        dist = np.abs(feats[:, None, :] - feats[None, :, :]).mean(axis=2).mean(axis=1)
        cost = dist / max(float(dist.max()), 1e-6)
        bright = det.brightness[cand]
        sharp = det.sharpness[cand]
        cost = cost + (bright < 20) * 2.0 + (sharp < 0.4 * np.median(sharp)) * 0.5
        out.append(int(cand[int(np.argmin(cost))]))
    return out


def _to_rgb(frame) -> np.ndarray:
    rgb = frame.to_ndarray(format="rgb24")
    rot = int(getattr(frame, "rotation", 0) or 0) % 360
    # PyAV's rotation is the display matrix angle (counter-clockwise degrees).
    if rot == 90:
        rgb = cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)
    elif rot == 180:
        rgb = cv2.rotate(rgb, cv2.ROTATE_180)
    elif rot == 270:
        rgb = cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    return np.ascontiguousarray(rgb)


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
                      indices: Sequence[int] | None = None) -> tuple[list[Keyframe], list[np.ndarray]]:
    """Write one JPEG per shot (``shot_0000.jpg`` …) into ``out_dir``.

    Args:
        det: detection result (its ``path`` is decoded again, only around the keyframes).
        out_dir: destination folder (created).
        max_width: JPEG width limit in pixels.
        indices: decoded frame indices to use (default :func:`select_keyframes`).

    Returns:
        ``(keyframes, images)``: :class:`core.models.Keyframe` records and the RGB arrays
        (≤ ``max_width`` wide) for feature extraction.
    """
    idx = list(indices) if indices is not None else select_keyframes(det)
    times = [float(det.frame_times_s[i]) for i in idx]
    frames = grab_frames(det.path, times)
    out_dir = Path(out_dir)
    kfs: list[Keyframe] = []
    imgs: list[np.ndarray] = []
    for shot, i, (t, rgb) in zip(det.shots, idx, frames, strict=True):
        dest = save_jpeg(rgb, out_dir / f"shot_{shot.index:04d}.jpg", max_width)
        if rgb.shape[1] > max_width:
            rgb = cv2.resize(rgb, (max_width, round(rgb.shape[0] * max_width / rgb.shape[1])),
                             interpolation=cv2.INTER_AREA)
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


def contact_sheet(images: Sequence[Path | str], dest: Path | str, labels: Sequence[str] | None = None,
                  cols: int = 4, thumb_width: int = 320) -> Path:
    """Grid of ``images`` (JPEG) with an optional caption under each, written atomically.

    Args:
        images: image files, in reading order.
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
        rgb = load_image(p, max_side=thumb_width * 2)
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
