"""Library analysis throughput: ``reelflow analyze`` (the CLI) vs PySceneDetect's detection alone.

Run from the repo root::

    .venv/bin/python bench/bench_analyze.py [--rounds 3]

A user analysing a library runs the whole ``reelflow analyze`` (shots, keyframes, contact
sheets, features, motion, QA, clusters); a peer user runs PySceneDetect
``detect(path, ContentDetector())`` and gets cuts only. Both are timed as fresh processes on
two libraries of the same kinds of files, a small one (~1,400 frames) and a large one (~5,000
frames), and the **marginal** throughput ``(frames_large - frames_small) / (t_large - t_small)``
excludes each side's start-up (Python imports, Prefect's ephemeral server, the encoder-free
CLI's own set-up). The PySceneDetect side runs its files one after another in one process (the
way its ``detect()`` is used); ReelFlow's CLI runs its default: files in parallel up to the
cores, one Prefect task per file.

Libraries (``bench/footage.py``, all with known hard cuts): three kinds of H.264 delivery
footage — 1080p30 x264 defaults, a 240p source upscaled to 720p, 720p with a 10 s GOP — as
15 s versions (small: 3 files, 1,350 frames) and 60 s versions (large: 3 files, 5,400 frames),
encoded with the same settings. The libraries differ only in length, so per-file costs
(Prefect task runs, probing, clustering items) do not enter the marginal rate.

Rounds are interleaved (ReelFlow small, PySceneDetect small, ReelFlow large, PySceneDetect
large, then again) on a shared machine; each time is the median over ``--rounds``. Hard-cut F1
(±1 frame) is scored on the large library from ReelFlow's ``shots.json`` (transitions of kind
``cut``) and from PySceneDetect's scenes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from footage import analysis_library

from tests.shot_metrics import prf1

PSD_SCRIPT = """
import json, sys
from scenedetect import ContentDetector, detect
out = {}
for p in sys.argv[1:]:
    out[p] = [s.frame_num for s, _ in detect(p, ContentDetector())[1:]]
print(json.dumps(out))
"""


def libraries() -> tuple[list[tuple[Path, list[int]]], list[tuple[Path, list[int]]]]:
    """``(small, large)``: lists of ``(video, hard cuts)``."""
    return analysis_library(15), analysis_library()


def frame_count(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sum(1 for pk in c.demux(s) if pk.size)


def stage(files: list[tuple[Path, list[int]]], root: Path) -> list[Path]:
    """Copy the files into a fresh folder (distinct names, so no analysis is a cache hit)."""
    root.mkdir(parents=True)
    out = []
    for path, _ in files:
        dest = root / path.name
        shutil.copy(path, dest)
        out.append(dest)
    return out


def run_reelflow(files: list[Path], out_dir: Path) -> float:
    t0 = time.perf_counter()
    res = subprocess.run([str(REPO / ".venv" / "bin" / "reelflow"), "analyze", *map(str, files), "--out", str(out_dir),
                          "--json"], capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"reelflow analyze failed ({res.returncode}):\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
    return dt


def run_psd(files: list[Path]) -> tuple[float, dict[str, list[int]]]:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", PSD_SCRIPT, *map(str, files)], capture_output=True, text=True,
                         check=True)
    return time.perf_counter() - t0, json.loads(res.stdout.strip().splitlines()[-1])


def reelflow_cuts(out_dir: Path, path: Path) -> list[int]:
    doc = json.loads((out_dir / path.stem / "shots.json").read_text())
    return [t["frame"] for t in doc["transitions"] if t["kind"] == "cut"]


def mean_f1(pairs: list[tuple[list[int], list[int]]]) -> float:
    return statistics.fmean(prf1(pred, truth, 1)[2] for pred, truth in pairs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    small, large = libraries()
    frames = {"small": sum(frame_count(p) for p, _ in small), "large": sum(frame_count(p) for p, _ in large)}
    print(f"libraries: small {len(small)} files / {frames['small']} frames, large {len(large)} files / "
          f"{frames['large']} frames; {os.cpu_count()} cores", flush=True)
    times: dict[tuple[str, str], list[float]] = {}
    f1: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-analyze-") as tmp:
        for r in range(args.rounds):
            for size, lib in (("small", small), ("large", large)):
                files = stage(lib, Path(tmp) / f"r{r}-{size}" / "in")
                out_dir = Path(tmp) / f"r{r}-{size}" / "out"
                t_rf = run_reelflow(files, out_dir)
                t_psd, psd_cuts = run_psd(files)
                times.setdefault(("reelflow", size), []).append(t_rf)
                times.setdefault(("psd", size), []).append(t_psd)
                print(f"round {r + 1} {size:5s}: reelflow analyze {t_rf:6.2f} s   PySceneDetect detect {t_psd:6.2f} s",
                      flush=True)
                if size == "large" and not f1:
                    truth = [c for _, c in lib]
                    f1["reelflow"] = mean_f1([(reelflow_cuts(out_dir, f), t) for f, t in zip(files, truth, strict=True)])
                    f1["psd"] = mean_f1([(psd_cuts[str(f)], t) for f, t in zip(files, truth, strict=True)])
                shutil.rmtree(Path(tmp) / f"r{r}-{size}")
    med = {k: statistics.median(v) for k, v in times.items()}
    dframes = frames["large"] - frames["small"]
    fps = {who: dframes / max(med[(who, "large")] - med[(who, "small")], 1e-9) for who in ("reelflow", "psd")}
    print(f"\nmedian of {args.rounds} rounds      small (s)  large (s)  marginal fps  mean hard-cut F1 (large)")
    for who, label in (("reelflow", "reelflow analyze (CLI)"), ("psd", "PySceneDetect detect()")):
        print(f"{label:26s} {med[(who, 'small')]:9.2f} {med[(who, 'large')]:10.2f} {fps[who]:13.0f} {f1[who]:12.3f}")
    print(f"\nreelflow analyze marginal throughput = {fps['reelflow'] / fps['psd']:.2f}x PySceneDetect detect() alone")


if __name__ == "__main__":
    main()
