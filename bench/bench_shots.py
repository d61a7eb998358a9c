"""Shot-detection speed and accuracy: ReelFlow's detector vs PySceneDetect vs decode-only.

Run from the repo root::

    .venv/bin/python bench/bench_shots.py [--repeat 3] [--skip-long]

Files (``bench/footage.py``, generated once into ``.reelflow/bench/``): the shared test videos;
a 60 s 1080p30 H.264 clip with 24 known hard cuts (x264 defaults, so the encoder puts a key
frame on most cuts); the same with a fixed 2 s GOP and scene-cut detection off (most cuts on
non-reference B-frames); and the widened set derived from it — a 240p source upscaled to 720p
(H.264), 720p with a 10 s GOP (H.264), MPEG-4 Part 2 720p in AVI, and interlaced SD MPEG-2
(720x480, field-coded) in MPEG-TS. For each file it prints frames/s and hard-cut F1 (±1 frame) of:

- ``ffmpeg -i X -f null -`` (decode only, the imageio-ffmpeg binary, default threads),
- ``scenedetect.detect(X, ContentDetector())`` and ``AdaptiveDetector()`` (defaults),
- ``processors.shots.detect_shots`` in its default ``fast`` mode and in ``precise`` mode (every
  frame), and the default with one speed trick changed at a time, so that each trick's gain and
  accuracy cost show in its own row: the raw non-reference skip without the second pass
  (``skip_nonref=True``), the in-loop deblocking filter kept (``fast=False``), 256-px scoring
  thumbnails (PySceneDetect's size) instead of 128, full-resolution decoding of MPEG-1/2/4
  (``lowres=False``) and no packet-size lookahead in pass 1 (``lookahead_ratio=0``).

Runs are interleaved (method A, B, C, ... then again) and each timing is the median of
``--repeat`` rounds: the machine is shared, and interleaving gives every method the same noise.
Ratios are against PySceneDetect ContentDetector measured in the same rounds. Next to the
wall-clock ratio (the goal) each row prints the CPU-time ratio (user + system of this process's
threads and of child processes): on a loaded shared machine the wall clock swings by +-30 %
between identical runs while CPU time stays within a few per cent, so the CPU ratio shows what
a change did when the wall clock is too noisy to tell. The last lines check the goal: the
default detector at >= 1.5x ContentDetector on every file of >= 500 frames, with F1 equal or
better.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from footage import all_files

from reelflow.processors.media import ffmpeg_exe
from reelflow.processors.shots import detect_shots
from tests.shot_metrics import prf1


def cpu_s() -> float:
    """CPU seconds used so far by this process (all threads) and its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def decode_only(path: Path) -> None:
    """``ffmpeg -i path -f null -``: the cost of a full decode, nothing else."""
    subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"], check=True)


def psd(path: Path, kind: str) -> list[int]:
    """Cut frames of ``scenedetect.detect`` with ContentDetector or AdaptiveDetector defaults."""
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    det = ContentDetector() if kind == "content" else AdaptiveDetector()
    return [s.frame_num for s, _ in detect(str(path), det)[1:]]


BASE = "PySceneDetect ContentDetector"
DEFAULT = "reelflow fast (default)"
METHODS = {
    "decode only (ffmpeg -f null)": lambda p: (decode_only(p), None)[1],
    BASE: lambda p: psd(p, "content"),
    "PySceneDetect AdaptiveDetector": lambda p: psd(p, "adaptive"),
    DEFAULT: lambda p: detect_shots(p).cuts,
    "reelflow precise": lambda p: detect_shots(p, mode="precise").cuts,
    "  skip non-ref only, no 2nd pass": lambda p: detect_shots(p, skip_nonref=True).cuts,
    "  fast, deblocking kept": lambda p: detect_shots(p, fast=False).cuts,
    "  fast, 256-px thumbnails": lambda p: detect_shots(p, thumb_width=256).cuts,
    "  fast, full-res MPEG decode": lambda p: detect_shots(p, lowres=False).cuts,
    "  fast, no packet lookahead": lambda p: detect_shots(p, lookahead_ratio=0).cuts,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-long", action="store_true", help="only the shared videos")
    ap.add_argument("--only", nargs="*", help="only files whose name contains one of these")
    args = ap.parse_args()
    files = all_files(shared_only=args.skip_long)
    if args.only:
        files = [(p, c) for p, c in files if any(o in p.name for o in args.only)]
    totals: dict[str, float] = {}
    cpu_totals: dict[str, float] = {}
    frames = 0
    verdict: list[tuple[str, int, float, float, float, float]] = []
    for path, truth in files:
        det = detect_shots(path, mode="precise")  # also warms the page cache
        n_frames = det.frame_count
        frames += n_frames
        fast = detect_shots(path)
        print(f"\n== {path.name}: {n_frames} frames, {det.width}x{det.height}, {fast.decoded.sum()} decoded by the "
              f"fast mode ({fast.mode}), truth cuts {truth if len(truth) < 6 else f'{len(truth)} cuts'}", flush=True)
        runs: dict[str, list[float]] = {name: [] for name in METHODS}
        cpus: dict[str, list[float]] = {name: [] for name in METHODS}
        f1: dict[str, float | None] = {}
        for _ in range(args.repeat):  # interleaved: A B C ... A B C ...
            for name, fn in METHODS.items():
                c0, t0 = cpu_s(), time.perf_counter()
                cuts = fn(path)
                runs[name].append(time.perf_counter() - t0)
                cpus[name].append(cpu_s() - c0)
                f1[name] = None if cuts is None else prf1(cuts, truth, 1)[2]
        med = {name: statistics.median(v) for name, v in runs.items()}
        cpu = {name: statistics.median(v) for name, v in cpus.items()}
        print(f"{'':34s} {'fps':>8s} {'x Content':>10s} {'cpu-s':>7s} {'x (cpu)':>8s} {'F1':>6s}")
        for name, t in med.items():
            score = f1[name]
            print(f"{name:34s} {n_frames / t:8.0f} {med[BASE] / t:10.2f} {cpu[name]:7.2f} {cpu[BASE] / cpu[name]:8.2f} "
                  f"{'' if score is None else f'{score:6.2f}'}", flush=True)
            totals[name] = totals.get(name, 0.0) + t
            cpu_totals[name] = cpu_totals.get(name, 0.0) + cpu[name]
        verdict.append((path.name, n_frames, med[BASE] / med[DEFAULT], cpu[BASE] / cpu[DEFAULT], f1[DEFAULT] or 0.0,
                        f1[BASE] or 0.0))
    print(f"\n== all files ({frames} frames, median-of-{args.repeat} times summed)")
    for name, t in totals.items():
        print(f"{name:34s} {frames / t:8.0f} fps {totals[BASE] / t:6.2f}x ContentDetector "
              f"({cpu_totals[BASE] / cpu_totals[name]:.2f}x in CPU time)")
    print("\n== goal: default >= 1.5x ContentDetector (wall clock) on every file of >= 500 frames, F1 equal or better")
    ok = True
    for name, n, ratio, cpu_ratio, f_ours, f_psd in verdict:
        if n < 500:
            continue
        good = ratio >= 1.5 and f_ours >= f_psd
        ok &= good
        print(f"{name:34s} {ratio:5.2f}x  ({cpu_ratio:.2f}x CPU)  F1 {f_ours:.3f} vs {f_psd:.3f}  "
              f"{'ok' if good else 'MISSED'}")
    print("all met" if ok else "NOT all met")


if __name__ == "__main__":
    main()
