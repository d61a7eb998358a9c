"""Benchmark footage with known hard cuts, generated once from ``../shared/data`` with ffmpeg.

Every file is cached in ``.reelflow/bench/`` (written to a temporary name, then renamed) and
carries the ground truth of the clip it derives from:

- ``cuts_1080p_60s.mp4`` — 60 s 1080p30 H.264 (x264 defaults: key frames on most cuts) of real
  footage, Ken Burns stills and test patterns, 24 known hard cuts;
- ``cuts_1080p_60s_fixedgop.mp4`` — the same with a fixed 2 s GOP and no scene-cut key frames,
  so most cuts fall on non-reference B-frames;
- the widened set (issue 12: the detector must hold its lead on any footage), each derived
  from the 60 s clip so it keeps the same 24 cuts (same frame rate, same frame count):

  - ``up_240p_to_720p.mp4`` — a low-resolution source (426×240) scaled up to 1280×720, H.264:
    soft pictures, cheap to decode, so fixed per-frame costs dominate;
  - ``longgop_720p.mp4`` — H.264 720p, 10 s GOP (keyint 300), no scene-cut key frames, 3
    B-frames: few key frames to seek to and cuts inside long GOPs;
  - ``mpeg4_720p.avi`` — MPEG-4 Part 2 (FFmpeg ``mpeg4``, the DivX/Xvid codec) 720p, q 4,
    2 B-frames, in AVI;
  - ``mpeg2_480i.ts`` — interlaced SD: MPEG-2 720×480 coded as interlaced fields
    (``+ilme+ildct``, top field first), 6 Mb/s, 15-frame GOP, 2 B-frames, in MPEG-TS.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reelflow.processors.media import ffmpeg_exe
from tests.processors.test_shots import make_cut_video

SHARED = REPO.parent / "shared" / "data"
OUT = REPO / ".reelflow" / "bench"

LENGTHS = [95, 60, 70, 85, 40, 75, 110, 65, 50, 90, 80, 55, 70, 60, 100, 45, 85, 75, 60, 90, 70, 65, 80, 50, 75]
#: Hard cuts (first frame of each new shot) of the 60 s clip and everything derived from it.
LONG_CUTS = [sum(LENGTHS[: i + 1]) for i in range(len(LENGTHS) - 1)]


def _cached(path: Path, make) -> Path:
    if not path.exists():
        print("generating", path, "(one-time) ...", flush=True, file=sys.stderr)
        tmp = path.with_name(path.stem + ".tmp" + path.suffix)
        make(tmp)
        tmp.replace(path)
    return path


def long_clip() -> tuple[Path, list[int]]:
    """60 s 1080p30 clip of real footage/stills/test patterns with known hard cuts (cached)."""
    OUT.mkdir(parents=True, exist_ok=True)
    imgs = SHARED / "footage" / "images"
    sources = [
        str(SHARED / "footage" / "videos" / "squirrel.mp4"), str(imgs / "coffee.png"), "testsrc2",
        str(imgs / "astronaut.png"), str(imgs / "rocket.jpg"), "mandelbrot", str(imgs / "hubble_deep_field.jpg"),
        str(imgs / "chelsea.png"), "smptehdbars", str(imgs / "camera.png"), str(imgs / "brick.png"),
        str(imgs / "gravel.png"),
    ]
    assert sum(LENGTHS) == 1800
    segs = [(sources[i % len(sources)], n) for i, n in enumerate(LENGTHS)]
    path = _cached(OUT / "cuts_1080p_60s.mp4",
                   lambda tmp: make_cut_video(tmp, segs, width=1920, height=1080, fps=30, preset="veryfast", crf=21))
    return path, list(LONG_CUTS)


def _ffmpeg(src: Path, *args: str):
    def make(tmp: Path) -> None:
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-an", *args, str(tmp)], check=True)

    return make


def fixed_gop_clip(src: Path) -> Path:
    """``src`` re-encoded with a fixed 2 s GOP, 3 B-frames and no scene-cut key frames (cached)."""
    return _cached(src.with_name(src.stem + "_fixedgop.mp4"), _ffmpeg(
        src, "-c:v", "libx264", "-preset", "veryfast", "-crf", "21",
        "-x264-params", "scenecut=0:keyint=60:min-keyint=60:bframes=3", "-pix_fmt", "yuv420p"))


def widened_set(src: Path) -> list[Path]:
    """The four varied files derived from ``src`` (see the module docstring), cached."""
    return [
        _cached(OUT / "up_240p_to_720p.mp4", _ffmpeg(
            src, "-vf", "scale=426:240:flags=area,scale=1280:720:flags=bicubic,setsar=1", "-c:v", "libx264",
            "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p")),
        _cached(OUT / "longgop_720p.mp4", _ffmpeg(
            src, "-vf", "scale=1280:720:flags=area", "-c:v", "libx264", "-preset", "veryfast", "-crf", "21",
            "-x264-params", "scenecut=0:keyint=300:min-keyint=300:bframes=3", "-pix_fmt", "yuv420p")),
        _cached(OUT / "mpeg4_720p.avi", _ffmpeg(
            src, "-vf", "scale=1280:720:flags=area", "-c:v", "mpeg4", "-q:v", "4", "-bf", "2",
            "-pix_fmt", "yuv420p")),
        _cached(OUT / "mpeg2_480i.ts", _ffmpeg(
            src, "-vf", "scale=720:480:flags=area,setsar=8/9,setfield=tff", "-c:v", "mpeg2video", "-flags", "+ilme+ildct",
            "-b:v", "6M", "-maxrate", "8M", "-bufsize", "1835k", "-g", "15", "-bf", "2",
            "-pix_fmt", "yuv420p")),
    ]


def analysis_library(seconds: int | None = None) -> list[tuple[Path, list[int]]]:
    """Three kinds of H.264 delivery footage with known cuts, for ``bench/bench_analyze.py``:
    the 1080p clip (x264 defaults), the upscaled 240p source and the 10 s-GOP 720p file.

    ``seconds``: the first ``seconds`` of each, encoded with the same settings (cached), so two
    libraries differ only in length — not in file count, codecs or content.
    """
    long_path, cuts = long_clip()
    files = [long_path, *widened_set(long_path)[:2]]
    if not seconds:
        return [(f, list(cuts)) for f in files]
    n = seconds * 30
    settings = {
        long_path.name: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p"],
        "up_240p_to_720p.mp4": ["-vf", "scale=426:240:flags=area,scale=1280:720:flags=bicubic,setsar=1",
                                "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p"],
        "longgop_720p.mp4": ["-vf", "scale=1280:720:flags=area", "-c:v", "libx264", "-preset", "veryfast",
                             "-crf", "21", "-x264-params", "scenecut=0:keyint=300:min-keyint=300:bframes=3",
                             "-pix_fmt", "yuv420p"],
    }
    out = []
    for f in files:
        short = OUT / f"{Path(f).stem}_{seconds}s.mp4"
        out.append((_cached(short, _ffmpeg(long_path, "-frames:v", str(n), *settings[f.name])),
                    [c for c in cuts if c < n]))
    return out


def all_files(shared_only: bool = False) -> list[tuple[Path, list[int]]]:
    """``(path, hard cuts)`` of the shared videos plus (unless ``shared_only``) the generated set."""
    from tests.processors.test_shots import HARD_CUTS

    files = [(SHARED / "videos" / n, HARD_CUTS[n]) for n in
             ("testvideo.mp4", "goldeneye-vfr-drop3.mp4", "fades.mp4", "counter.mp4")]
    if not shared_only:
        long_path, cuts = long_clip()
        files += [(long_path, cuts), (fixed_gop_clip(long_path), cuts)]
        files += [(p, cuts) for p in widened_set(long_path)]
    return files


if __name__ == "__main__":
    for p, c in all_files():
        print(p, len(c))
