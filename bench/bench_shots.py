"""Shot-detection speed and accuracy: ReelFlow's detector vs PySceneDetect vs decode-only.

Run from the repo root::

    .venv/bin/python bench/bench_shots.py [--repeat 2] [--skip-long]

For each file (the shared test videos plus a generated 60 s 1080p30 H.264 clip with 24 known
hard cuts, cached in ``.reelflow/bench/``) it prints frames/s and hard-cut F1 (±1 frame) of:

- ``ffmpeg -i X -f null -`` (decode only, the imageio-ffmpeg binary, default threads),
- ``scenedetect.detect(X, ContentDetector())`` and ``AdaptiveDetector()`` (defaults),
- ``processors.shots.detect_shots`` (defaults), and one row per speed trick switched off/on so
  each trick's speed gain and accuracy cost show: deblocking kept (``fast=False``), 128-px
  thumbnails, non-reference frames skipped (``skip_nonref=True``).

Ratios are against PySceneDetect ContentDetector measured in the same run. Timings are the best
of ``--repeat`` runs (the machine is shared; best-of is the least noisy estimate).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from processors.media import ffmpeg_exe  # noqa: E402
from processors.shots import detect_shots, prf1  # noqa: E402
from tests.processors.test_shots import HARD_CUTS, make_cut_video  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def long_clip() -> tuple[Path, list[int]]:
    """60 s 1080p30 clip of real footage/stills/test patterns with known hard cuts (cached)."""
    out_dir = REPO / ".reelflow" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "cuts_1080p_60s.mp4"
    imgs = SHARED / "footage" / "images"
    sources = [
        str(SHARED / "footage" / "videos" / "squirrel.mp4"), str(imgs / "coffee.png"), "testsrc2",
        str(imgs / "astronaut.png"), str(imgs / "rocket.jpg"), "mandelbrot", str(imgs / "hubble_deep_field.jpg"),
        str(imgs / "chelsea.png"), "smptehdbars", str(imgs / "camera.png"), str(imgs / "brick.png"),
        str(imgs / "gravel.png"),
    ]
    lengths = [95, 60, 70, 85, 40, 75, 110, 65, 50, 90, 80, 55, 70, 60, 100, 45, 85, 75, 60, 90, 70, 65, 80, 50, 75]
    assert sum(lengths) == 1800
    segs = [(sources[i % len(sources)], n) for i, n in enumerate(lengths)]
    cuts, acc = [], 0
    for n in lengths[:-1]:
        acc += n
        cuts.append(acc)
    if not path.exists():
        print("generating", path, "(one-time) ...", flush=True)
        tmp = path.with_suffix(".tmp.mp4")
        make_cut_video(tmp, segs, width=1920, height=1080, fps=30, preset="veryfast", crf=21)
        tmp.replace(path)
    return path, cuts


def timed(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def decode_only(path: Path) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"], check=True)


def psd(path: Path, kind: str) -> list[int]:
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    det = ContentDetector() if kind == "content" else AdaptiveDetector()
    return [s.frame_num for s, _ in detect(str(path), det)[1:]]


VARIANTS = {
    "reelflow (default)": {},
    "  - deblocking kept (fast=False)": {"fast": False},
    "  + 128-px thumbnails": {"thumb_width": 128},
    "  + skip non-ref frames": {"skip_nonref": True},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-long", action="store_true", help="only the shared videos")
    args = ap.parse_args()
    files: list[tuple[Path, list[int]]] = [(SHARED / "videos" / n, HARD_CUTS[n]) for n in
                                           ("testvideo.mp4", "goldeneye-vfr-drop3.mp4", "fades.mp4", "counter.mp4")]
    if not args.skip_long:
        files.append(long_clip())
    totals: dict[str, list[float]] = {}
    for path, truth in files:
        n_frames = detect_shots(path).frame_count  # also warms the page cache
        print(f"\n== {path.name}: {n_frames} frames, truth cuts {truth if len(truth) < 6 else f'{len(truth)} cuts'}")
        rows: list[tuple[str, float, float | None]] = []
        t, _ = timed(lambda p=path: decode_only(p), args.repeat)
        rows.append(("decode only (ffmpeg -f null)", t, None))
        for kind in ("content", "adaptive"):
            t, cuts = timed(lambda p=path, k=kind: psd(p, k), args.repeat)
            rows.append((f"PySceneDetect {kind.title()}Detector", t, prf1(cuts, truth, 1)[2]))
        for name, opts in VARIANTS.items():
            t, det = timed(lambda p=path, o=opts: detect_shots(p, **o), args.repeat)
            rows.append((name, t, prf1(det.cuts, truth, 1)[2]))
        base = rows[1][1]
        print(f"{'':34s} {'fps':>8s} {'x Content':>10s} {'F1':>6s}")
        for name, t, f1 in rows:
            print(f"{name:34s} {n_frames / t:8.0f} {base / t:10.2f} {'' if f1 is None else f'{f1:6.2f}'}")
            totals.setdefault(name, []).append(t)
        totals.setdefault("_frames", []).append(n_frames)
    frames = sum(totals.pop("_frames"))
    base = sum(totals["PySceneDetect ContentDetector"])
    print(f"\n== all files ({frames} frames)")
    for name, ts in totals.items():
        print(f"{name:34s} {frames / sum(ts):8.0f} fps {base / sum(ts):6.2f}x ContentDetector")


if __name__ == "__main__":
    main()
