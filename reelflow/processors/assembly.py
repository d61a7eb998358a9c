"""Final assembly: scene clips + narration + ducked music bed + burned-in captions → one MP4.

The whole picture is ONE ffmpeg filter graph (plain argument lists, the static ffmpeg from
``imageio-ffmpeg``). moviepy is not used: measured here it was 7.6× slower than plain ffmpeg
for the same composite (see ``../shared/docs/env-notes.md``).

Stages (timed in :attr:`AssemblyResult.timings_s`); the soundtrack (1-2) runs in a worker
thread while the video (3) encodes, then 4-5 follow:

1. ``mix`` — an audio-only ffmpeg graph renders the soundtrack to a float WAV: each scene's
   narration placed at its start (``adelay``), the music bed looped (``-stream_loop``),
   trimmed to the video length, levelled to ``music_level_db`` below the narration's
   integrated loudness, **ducked by ``music_duck_db`` under every narration interval** with a
   smooth volume envelope built from the known intervals (``volume=...:eval=frame``, 0.2 s
   ramps), and faded in/out.
2. ``audio`` — loudness normalisation: gain + a true-peak limiter (``alimiter`` run at 4× the
   sample rate); since limiting lowers the loudness, the gain is found by a short secant
   search measured with BS.1770-4 (:mod:`processors.loudness`: pyloudnorm + 4× oversampled
   true peak); then AAC-LC 48 kHz stereo is encoded once and the *encoded* audio measured
   (re-done with a lower ceiling if AAC overshoots the true-peak target).
3. ``video`` — the single composition graph: clips normalised to the output size/fps (only
   when they differ), joined in order with ``xfade`` cross-fades, captions burned in with
   libass (``subtitles`` filter with ``fontsdir``), libx264 High yuv420p.
4. ``mux`` — video and AAC stream-copied into the MP4 with ``-movflags +faststart``.
5. ``verify`` — the final file's decoded audio is measured (:func:`processors.loudness.measure`):
   ``AssemblyResult.loudness_lufs`` / ``true_peak_dbtp`` are measured after encoding.

Timing: scene *i* starts at the sum of the previous scenes' durations. A cross-fade of
``transition_s`` into scene *i+1* starts exactly at that scene's start and uses the last
``transition_s`` of scene *i*'s clip, so clips other than the last should be
``duration_s + transition_s`` long (shorter clips are extended by freezing their last frame).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from reelflow.core.errors import InputError, ProcessingError
from reelflow.core.settings import RenderSettings
from reelflow.core.storage import atomic_path
from reelflow.processors import loudness
from reelflow.processors.media import audio_duration, ffmpeg_exe, probe, run_ffmpeg
from reelflow.processors.motion.render import MotionSpec

SAMPLE_RATE = 48_000
#: Duck envelope ramp (attack before / release after each narration interval), seconds.
DUCK_RAMP_S = 0.2


class ClipInput(BaseModel):
    """One scene's clip in the timeline (``path`` is unused for scenes drawn by ``motion``)."""

    path: str = ""
    duration_s: float = Field(gt=0, description="The scene's slot in the timeline, seconds.")


class NarrationInput(BaseModel):
    """One narration audio file placed at ``start_s`` seconds into the video."""

    path: str
    start_s: float = Field(ge=0)
    duration_s: float | None = Field(default=None, gt=0, description="Probed when None.")


class AssemblySpec(BaseModel):
    """Everything :func:`assemble` needs. Build it with :meth:`from_settings` in the flow."""

    clips: list[ClipInput] = Field(min_length=1)
    narration: list[NarrationInput] = Field(default_factory=list)
    music_path: str | None = None
    music_level_db: float = Field(
        default=-8.0, le=0, description="Un-ducked bed level relative to the narration's loudness, dB."
    )
    music_duck_db: float = Field(default=14.0, ge=0, le=40, description="Extra attenuation under speech, dB.")
    music_fade_in_s: float = Field(default=0.5, ge=0)
    music_fade_out_s: float = Field(default=1.5, ge=0)
    captions_path: str | None = Field(default=None, description="ASS (or SRT) file burned in with libass.")
    fonts_dir: str | None = Field(default=None, description="Folder of TTF/OTF fonts for libass.")
    width: int = Field(default=1080, gt=0)
    height: int = Field(default=1920, gt=0)
    fps: int = Field(default=30, ge=12, le=60)
    transition_s: float = Field(default=0.25, ge=0, le=1.0)
    target_lufs: float = Field(default=-14.0, ge=-40, le=-5)
    true_peak_dbtp: float = Field(default=-1.0, ge=-9, le=0)
    x264_preset: str = "veryfast"
    crf: int = Field(default=20, ge=0, le=51)
    keyframe_times_s: list[float] = Field(
        default_factory=list,
        description="Times (s) to encode as key frames (``-force_key_frames``), e.g. each scene's "
        "middle, where the thumbnail candidates are taken: a seek there decodes one frame.",
    )
    keyframes_dir: str | None = Field(
        default=None,
        description="Motion encode only: write the frames shown at ``keyframe_times_s`` (as drawn, "
        "with the burned captions) here as ``frame_000.jpg`` …, so no decode of the output is needed "
        "for thumbnail candidates (:attr:`AssemblyResult.keyframes`).",
    )
    audio_bitrate: str = "192k"
    timeout_s: float = Field(default=900, gt=0)
    motion: MotionSpec | None = Field(
        default=None,
        description="Draw the scenes (motion design, :mod:`processors.motion.render`) straight into the "
        "final encode instead of joining clip files; a scene's ``clip_path`` puts a generated clip under "
        "its overlays. ``clips`` then only give the scene lengths.",
    )

    @model_validator(mode="after")
    def _check(self) -> AssemblySpec:
        if self.width % 2 or self.height % 2:
            raise ValueError(f"width and height must be even for yuv420p, got {self.width}x{self.height}")
        if self.motion is not None and len(self.motion.scenes) != len(self.clips):
            raise ValueError(f"motion has {len(self.motion.scenes)} scenes but clips has {len(self.clips)}")
        shortest = min(c.duration_s for c in self.clips)
        if self.motion is None and len(self.clips) > 1 and self.transition_s >= shortest:
            raise ValueError(f"transition_s {self.transition_s} must be shorter than every scene ({shortest:.2f} s)")
        return self

    @property
    def duration_s(self) -> float:
        """Video length: the sum of the scene durations, seconds."""
        return sum(c.duration_s for c in self.clips)

    @property
    def scene_starts_s(self) -> list[float]:
        """Start time of each scene, seconds."""
        out, t = [], 0.0
        for c in self.clips:
            out.append(t)
            t += c.duration_s
        return out

    @classmethod
    def from_settings(cls, render: RenderSettings, **fields: object) -> AssemblySpec:
        """Spec with fps, loudness targets, x264 preset/CRF, transition and duck depth from settings."""
        base = {
            "fps": render.fps,
            "target_lufs": render.target_lufs,
            "true_peak_dbtp": render.true_peak_dbtp,
            "x264_preset": render.x264_preset,
            "crf": render.crf,
            "transition_s": render.transition_s,
            "music_duck_db": render.music_duck_db,
        }
        base.update(fields)
        return cls(**base)


class AssemblyResult(BaseModel):
    """What :func:`assemble` produced."""

    path: str
    duration_s: float
    width: int
    height: int
    fps: int
    loudness_lufs: float = Field(description="Integrated loudness of the final file's audio (BS.1770-4).")
    true_peak_dbtp: float = Field(description="True peak of the final file's audio (4× oversampled).")
    audio_gain_db: float = Field(description="Gain applied to the mix to reach the target.")
    music_gain_db: float | None = Field(default=None, description="Gain applied to the music file.")
    audio_passes: int = 1
    keyframes: list[str] = Field(default_factory=list, description="JPEGs of the frames shown at "
                                 "``AssemblySpec.keyframe_times_s`` (motion encode with ``keyframes_dir``).")
    timings_s: dict[str, float] = Field(default_factory=dict)


# --------------------------------------------------------------------------- helpers
def _check_file(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        raise InputError(f"{what} not found or empty: {p}", hint=f"check the {what} path (an earlier step may have failed)")
    return p.resolve()


def _f(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


def narration_intervals(spec: AssemblySpec) -> list[tuple[float, float]]:
    """Narration ``(start_s, end_s)`` intervals clipped to the video, sorted (durations probed)."""
    out = []
    for n in spec.narration:
        dur = n.duration_s if n.duration_s is not None else audio_duration(_check_file(n.path, "narration audio"))
        s, e = n.start_s, min(n.start_s + dur, spec.duration_s)
        if e > s:
            out.append((s, e))
    return sorted(out)


def duck_expression(intervals: list[tuple[float, float]], duck_db: float, ramp_s: float = DUCK_RAMP_S) -> str:
    """ffmpeg ``volume`` expression (of ``t``) attenuating by ``duck_db`` inside ``intervals``.

    The gain ramps linearly (in dB) over ``ramp_s`` before each interval and after it;
    intervals closer than two ramps are merged, so the envelope never pumps between phrases.

    Returns:
        An expression string for ``volume=volume='...':eval=frame``; ``"1"`` when nothing ducks.
    """
    if not intervals or duck_db <= 0:
        return "1"
    merged: list[list[float]] = []
    for s, e in sorted(intervals):
        if merged and s - merged[-1][1] < 2 * ramp_s:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    r = _f(ramp_s)
    terms = [
        f"clip((t-{_f(s - ramp_s)})/{r},0,1)*clip(({_f(e + ramp_s)}-t)/{r},0,1)" for s, e in merged
    ]
    return f"pow(10,-{_f(duck_db)}*({'+'.join(terms)})/20)"


def _level_gains(spec: AssemblySpec, narr_paths: list[Path], music: Path | None) -> tuple[float, float | None]:
    """(narration gain dB, music gain dB): the bed sits ``music_level_db`` under the narration."""
    if music is None:
        return 0.0, None
    music_l = loudness.measure(music, true_peak=False, max_seconds=spec.duration_s + 1).integrated_lufs
    if narr_paths:
        import numpy as np

        # Measure the narration as it will sound in the mix: ffmpeg upmixes mono to stereo
        # at -3 dB per channel (libswresample's default matrix), which BS.1770 reads as equal.
        parts: list[tuple[np.ndarray, int]] = []
        for p in narr_paths:
            x, sr = loudness.decode_audio(p)
            parts.append((np.repeat(x[:, :1], 2, axis=1) * np.sqrt(0.5) if x.shape[1] == 1 else x[:, :2], sr))
        if len({sr for _, sr in parts}) == 1:
            ref = loudness.integrated_lufs(np.concatenate([x for x, _ in parts]), parts[0][1])
        else:  # mixed rates: energy-average of the per-file loudness
            levels = [loudness.integrated_lufs(x, sr) for x, sr in parts]
            ref = 10 * float(np.log10(np.mean([10 ** (v / 10) for v in levels])))
    else:
        ref = spec.target_lufs
    return 0.0, (ref + spec.music_level_db) - music_l


def build_mix_args(
    spec: AssemblySpec,
    out_wav: Path,
    *,
    narration_gain_db: float = 0.0,
    music_gain_db: float | None = 0.0,
    include_narration: bool = True,
    include_music: bool = True,
) -> list[str]:
    """ffmpeg arguments rendering the soundtrack (float WAV, 48 kHz stereo, exactly the video length).

    Args:
        spec: the assembly spec.
        out_wav: output path.
        narration_gain_db / music_gain_db: levels applied before mixing.
        include_narration / include_music: render only one bus (the ducking still follows the
            narration intervals), e.g. to measure the duck depth.
    """
    total = spec.duration_s
    args: list[str] = ["-loglevel", "error"]
    chains: list[str] = []
    buses: list[str] = []
    fmt = f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    idx = 0
    if include_narration and spec.narration:
        labels = []
        for i, n in enumerate(spec.narration):
            args += ["-i", str(_check_file(n.path, "narration audio"))]
            ms = int(round(n.start_s * 1000))
            chains.append(f"[{idx}:a]{fmt},adelay=delays={ms}:all=1[n{i}]")
            labels.append(f"[n{i}]")
            idx += 1
        mix = f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest," if len(labels) > 1 else f"{labels[0]}anull,"
        chains.append(f"{mix}volume={_f(narration_gain_db)}dB,apad=whole_dur={_f(total)},atrim=0:{_f(total)}[nar]")
        buses.append("[nar]")
    if include_music and spec.music_path:
        args += ["-stream_loop", "-1", "-i", str(_check_file(spec.music_path, "music bed"))]
        duck = duck_expression(narration_intervals(spec), spec.music_duck_db)
        fade_out = min(spec.music_fade_out_s, total / 2)
        chain = (
            f"[{idx}:a]{fmt},atrim=0:{_f(total)},asetpts=N/SR/TB,volume={_f(music_gain_db or 0.0)}dB,"
            f"asetnsamples=n=480:p=0,volume=volume='{duck}':eval=frame"
        )
        if spec.music_fade_in_s > 0:
            chain += f",afade=t=in:st=0:d={_f(min(spec.music_fade_in_s, total / 2))}"
        if fade_out > 0:
            chain += f",afade=t=out:st={_f(total - fade_out)}:d={_f(fade_out)}"
        chains.append(chain + "[bed]")
        buses.append("[bed]")
        idx += 1
    if not buses:
        args += ["-f", "lavfi", "-t", _f(total), "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo"]
        chains.append("[0:a]anull[mix]")
    elif len(buses) == 1:
        chains.append(f"{buses[0]}anull[mix]")
    else:
        chains.append(f"{''.join(buses)}amix=inputs={len(buses)}:normalize=0:duration=first[mix]")
    args += [
        "-filter_complex", ";".join(chains), "-map", "[mix]",
        "-t", _f(total), "-ar", str(SAMPLE_RATE), "-ac", "2", "-c:a", "pcm_f32le", str(out_wav),
    ]
    return args


def mix_audio(
    spec: AssemblySpec,
    out_wav: Path | str,
    *,
    include_narration: bool = True,
    include_music: bool = True,
) -> tuple[Path, float | None]:
    """Render the soundtrack of ``spec`` (before loudness normalisation) to ``out_wav``.

    The music bed is levelled to ``music_level_db`` under the narration's integrated loudness,
    then ducked by ``music_duck_db`` under the narration intervals (see :func:`duck_expression`).

    Returns:
        ``(out_wav, music_gain_db)`` — float32 WAV, 48 kHz stereo, ``spec.duration_s`` long.

    Raises:
        InputError: a narration or music file is missing/unreadable.
        ProcessingError: ffmpeg failed.
    """
    out_wav = Path(out_wav)
    narr = [_check_file(n.path, "narration audio") for n in spec.narration]
    music = _check_file(spec.music_path, "music bed") if spec.music_path else None
    narr_gain, music_gain = _level_gains(spec, narr, music)
    run_ffmpeg(
        build_mix_args(
            spec, out_wav, narration_gain_db=narr_gain, music_gain_db=music_gain,
            include_narration=include_narration, include_music=include_music,
        ),
        what="mix the narration and music",
        timeout_s=spec.timeout_s,
    )
    return out_wav, music_gain


def _limit(spec: AssemblySpec, mix_wav: Path, out_wav: Path, gain_db: float, limit_dbfs: float) -> None:
    """Gain + true-peak limiter (``alimiter`` at 4× the sample rate) → float WAV."""
    limit = min(1.0, max(0.0625, 10 ** (limit_dbfs / 20)))
    af = (
        f"volume={_f(gain_db)}dB,aresample={4 * SAMPLE_RATE},"
        f"alimiter=limit={limit:.5f}:attack=2:release=60:level=false,aresample={SAMPLE_RATE}"
    )
    run_ffmpeg(
        ["-loglevel", "error", "-i", str(mix_wav), "-af", af, "-c:a", "pcm_f32le", str(out_wav)],
        what="normalise the soundtrack's loudness",
        timeout_s=spec.timeout_s,
    )


def _encode_aac(spec: AssemblySpec, wav: Path, out_m4a: Path) -> None:
    run_ffmpeg(
        ["-loglevel", "error", "-i", str(wav), "-c:a", "aac", "-profile:a", "aac_low", "-b:a", spec.audio_bitrate,
         "-ar", str(SAMPLE_RATE), "-ac", "2", "-t", _f(spec.duration_s), str(out_m4a)],
        what="encode the soundtrack to AAC",
        timeout_s=spec.timeout_s,
    )


def normalise_audio(
    spec: AssemblySpec, mix_wav: Path, out_m4a: Path, *, max_passes: int = 4
) -> tuple[float, int, loudness.LoudnessReport]:
    """Encode ``mix_wav`` to AAC at ``spec.target_lufs`` (±0.5 LU) with true peak ≤ target − 0.1 dB.

    Gain + 4×-oversampled ``alimiter`` (ceiling 0.6 dB under the true-peak target). Limiting
    lowers the integrated loudness, so the gain is found by a secant search on the limited WAV
    (each step ~0.3 s for 30 s of audio; aims at ±0.2 LU); then the AAC is encoded once,
    decoded and measured (BS.1770-4), and redone with a lower ceiling if AAC overshoots.

    Returns:
        ``(gain_db, limiter_passes, report_of_encoded_audio)``.
    """
    first = loudness.measure(mix_wav, true_peak=False)
    limited = out_m4a.with_suffix(".limited.wav")
    if first.integrated_lufs <= loudness.SILENCE_LUFS:  # silence: nothing to normalise
        _encode_aac(spec, mix_wav, out_m4a)
        return 0.0, 0, loudness.measure(out_m4a)
    target = spec.target_lufs
    gain = target - first.integrated_lufs
    limit = spec.true_peak_dbtp - 0.6
    passes = 0
    for _attempt in range(2):
        points: list[tuple[float, float]] = []
        for _ in range(max_passes):
            _limit(spec, mix_wav, limited, gain, limit)
            passes += 1
            level = loudness.measure(limited, true_peak=False).integrated_lufs
            points.append((gain, level))
            if abs(level - target) <= 0.2:
                break
            slope = 1.0
            if len(points) >= 2 and abs(points[-1][0] - points[-2][0]) > 1e-3:
                slope = (points[-1][1] - points[-2][1]) / (points[-1][0] - points[-2][0])
                slope = min(1.0, max(0.2, slope))
            gain += (target - level) / slope
        _encode_aac(spec, limited, out_m4a)
        report = loudness.measure(out_m4a)
        if report.true_peak_dbtp <= spec.true_peak_dbtp - 0.1:
            break
        limit -= report.true_peak_dbtp - (spec.true_peak_dbtp - 0.3)  # AAC overshoot: lower the ceiling
    limited.unlink(missing_ok=True)
    return gain, passes, report


def build_video_args(spec: AssemblySpec, audio_path: Path | None, out_path: Path, *, captions: str | None,
                     fonts: str | None) -> list[str]:
    """ffmpeg arguments of the single composition graph (clips → xfade chain → captions → x264).

    With ``audio_path`` its first audio stream is stream-copied in; with ``None`` the output
    has video only.

    ``captions`` / ``fonts`` are paths as the filter should see them (relative to the working
    directory ffmpeg runs in, so no filter-graph escaping is needed).
    """
    w, h, fps, x = spec.width, spec.height, spec.fps, spec.transition_s
    n = len(spec.clips)
    args: list[str] = ["-loglevel", "error"]
    chains: list[str] = []
    frame = 1.0 / fps
    for i, c in enumerate(spec.clips):
        path = _check_file(c.path, f"clip of scene {i}")
        args += ["-i", str(path)]
        need = c.duration_s + (x if i < n - 1 else 0.0)
        info = probe(path)
        if not info.has_video:
            raise InputError(f"clip of scene {i} has no video stream: {path}", hint="pass an MP4 with video")
        steps = [f"fps={fps}"]  # also gives every input the same time base, as xfade requires
        if (info.width, info.height, info.pix_fmt) != (w, h, "yuv420p") or info.color_range == "pc":
            # Foreign clip: crop to fill the frame, limited range yuv420p. Clips that already
            # match skip this (a no-op scale still costs a frame copy at 1080x1920).
            steps += [
                f"scale={w}:{h}:force_original_aspect_ratio=increase:out_range=tv",
                f"crop={w}:{h}",
                "setsar=1",
                "format=yuv420p",
            ]
        if info.duration_s < need - frame / 2:  # too short: hold the last frame
            steps.append(f"tpad=stop_mode=clone:stop_duration={_f(need - info.duration_s + frame)}")
        steps += [f"trim=duration={_f(need)}", "setpts=PTS-STARTPTS"]
        chains.append(f"[{i}:v]{','.join(steps)}[c{i}]")
    if n == 1:
        last = "[c0]"
    elif x > 0:
        prev, t = "[c0]", 0.0
        for i in range(1, n):
            t += spec.clips[i - 1].duration_s
            label = f"[x{i}]"
            chains.append(f"{prev}[c{i}]xfade=transition=fade:duration={_f(x)}:offset={_f(t)}{label}")
            prev = label
        last = prev
    else:
        chains.append(f"{''.join(f'[c{i}]' for i in range(n))}concat=n={n}:v=1:a=0[cat]")
        last = "[cat]"
    post = []
    if captions:
        sub = f"subtitles=filename={captions}"
        if fonts:
            sub += f":fontsdir={fonts}"
        post.append(sub)
    post.append("format=yuv420p")
    chains.append(f"{last}{','.join(post)}[vout]")
    audio = ["-map", f"{n}:a:0", "-c:a", "copy"] if audio_path is not None else ["-an"]
    if audio_path is not None:
        args += ["-i", str(audio_path)]
    args += [
        "-filter_complex", ";".join(chains),
        "-map", "[vout]", *audio,
        "-c:v", "libx264", "-preset", spec.x264_preset, "-crf", str(spec.crf),
        "-profile:v", "high", "-pix_fmt", "yuv420p", "-color_range", "tv", "-r", str(fps),
        *(["-force_key_frames", ",".join(_f(t) for t in spec.keyframe_times_s)] if spec.keyframe_times_s else []),
        "-t", _f(spec.duration_s), "-movflags", "+faststart", str(out_path),
    ]
    return args


def build_motion_args(spec: AssemblySpec, out_path: Path, *, captions: str | None, fonts: str | None) -> list[str]:
    """ffmpeg arguments of the one-pass motion encode: raw yuv420p frames on stdin (drawn in the
    output's pixel format: no conversion) → captions (libass) → x264 High yuv420p, no audio (muxed
    afterwards without re-encoding)."""
    post = []
    if captions:
        post.append(f"subtitles=filename={captions}" + (f":fontsdir={fonts}" if fonts else ""))
    post.append("format=yuv420p")
    return [
        "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-color_range", "tv",
        "-s", f"{spec.width}x{spec.height}", "-r", str(spec.fps), "-i", "pipe:0", "-vf", ",".join(post), "-an",
        "-c:v", "libx264", "-preset", spec.x264_preset, "-crf", str(spec.crf),
        "-profile:v", "high", "-pix_fmt", "yuv420p", "-color_range", "tv", "-r", str(spec.fps),
        *(["-force_key_frames", ",".join(_f(t) for t in spec.keyframe_times_s)] if spec.keyframe_times_s else []),
        "-frames:v", str(expected_frames(spec)), "-movflags", "+faststart", str(out_path),
    ]


def keyframe_indices(spec: AssemblySpec) -> list[int]:
    """Frame index shown at each of ``spec.keyframe_times_s`` (``floor(t · fps)``, clipped to the video)."""
    last = expected_frames(spec) - 1
    return [max(0, min(last, int(math.floor(t * spec.fps + 1e-6)))) for t in spec.keyframe_times_s]


def write_drawn_keyframes(spec: AssemblySpec, frames: list[bytes], out_dir: Path, *, captions: str | None,
                          fonts: str | None, cwd: Path) -> list[Path]:
    """JPEGs of drawn ``frames`` (raw yuv420p, one per ``spec.keyframe_times_s``) with the captions burned as
    the encode burns them: one ffmpeg run, each frame stamped with its time (``setpts``) so libass
    draws the caption shown then. Written atomically as ``out_dir/frame_000.jpg`` ….

    Raises:
        ProcessingError: ffmpeg failed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = cwd / "keyframes.yuv"
    raw.write_bytes(b"".join(frames))
    idx = keyframe_indices(spec)
    expr = "0"
    for k in reversed(range(len(idx))):
        expr = f"if(eq(N,{k}),{_f(idx[k] / spec.fps)},{expr})"
    post = [f"setpts='({expr})/TB'"]
    if captions:
        post.append(f"subtitles=filename={captions}" + (f":fontsdir={fonts}" if fonts else ""))
    tmp_dir = Path(tempfile.mkdtemp(prefix=".kf-", dir=out_dir))  # beside the results: os.replace is atomic
    try:
        _run_keyframes_ffmpeg(spec, post, tmp_dir, cwd)
        out = []
        for k in range(len(frames)):
            src, dst = tmp_dir / f"frame_{k + 1:03d}.jpg", out_dir / f"frame_{k:03d}.jpg"
            if not src.is_file():
                raise ProcessingError(f"ffmpeg wrote no keyframe {k} (of {len(frames)})")
            os.replace(src, dst)
            out.append(dst)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raw.unlink(missing_ok=True)
    return out


def _run_keyframes_ffmpeg(spec: AssemblySpec, post: list[str], tmp_dir: Path, cwd: Path) -> None:
    run_ffmpeg(
        ["-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-color_range", "tv",
         "-s", f"{spec.width}x{spec.height}", "-framerate", "1000", "-i", "keyframes.yuv", "-vf", ",".join(post), "-fps_mode", "passthrough",
         "-q:v", "2", "-f", "image2", str(tmp_dir / "frame_%03d.jpg")],
        what="write the keyframes", timeout_s=spec.timeout_s, cwd=cwd,
    )


def encode_motion(spec: AssemblySpec, out_path: Path, *, captions: str | None, fonts: str | None,
                  cwd: Path, keep: dict[int, bytes] | None = None) -> int:
    """Draw every scene of ``spec.motion`` and pipe the frames into one x264 encode.

    Frames are drawn in a worker thread (Pillow releases the GIL in its C loops) while this thread
    writes the previous ones to ffmpeg's stdin, so drawing, the pipe and x264's own threads overlap.
    ``keep``: frame index → ``None`` for frames to keep; filled with their yuv420p bytes as they pass.

    Returns:
        Frames written.

    Raises:
        ProcessingError: ffmpeg failed or a frame could not be drawn.
    """
    import queue
    import subprocess
    import threading

    from reelflow.core.errors import ProcessingError
    from reelflow.processors.motion.render import iter_frame_planes

    assert spec.motion is not None
    cmd = [ffmpeg_exe(), "-hide_banner", "-y", *build_motion_args(spec, out_path, captions=captions, fonts=fonts)]
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=cwd, env=env)
    _widen_pipe(proc.stdin)
    frames: queue.Queue = queue.Queue(maxsize=6)
    errors: list[BaseException] = []
    stop = threading.Event()

    def draw() -> None:
        try:
            for buf in iter_frame_planes(spec.motion):
                while not stop.is_set():
                    try:
                        frames.put(buf, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            errors.append(exc)
        finally:
            frames.put(None)

    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    drawer = threading.Thread(target=draw, name="motion-draw", daemon=True)
    drawer.start()
    written = 0
    want = expected_frames(spec)
    try:
        assert proc.stdin is not None
        while True:
            buf = frames.get()
            if buf is None:
                break
            if written < want:
                if keep is not None and written in keep:
                    keep[written] = b"".join(buf)
                for plane in buf:
                    proc.stdin.write(plane)
                written += 1
        proc.stdin.close()
        proc.wait(timeout=spec.timeout_s)
    except (BrokenPipeError, OSError, subprocess.TimeoutExpired) as exc:
        stop.set()
        proc.kill()
        proc.wait()
        reader.join(timeout=5)
        tail = b"".join(stderr_chunks).decode(errors="replace")[-STDERR_TAIL:]
        raise ProcessingError(f"ffmpeg failed while encoding the drawn scenes: {exc}\n{tail}") from exc
    finally:
        stop.set()
        drawer.join(timeout=10)
    reader.join(timeout=5)
    if errors:
        raise ProcessingError(f"drawing the scenes failed: {errors[0]}") from errors[0]
    if proc.returncode != 0:
        tail = b"".join(stderr_chunks).decode(errors="replace")[-STDERR_TAIL:]
        raise ProcessingError(f"ffmpeg failed (exit {proc.returncode}) while encoding the drawn scenes:\n{tail}")
    return written


STDERR_TAIL = 2000


def _widen_pipe(stream: object, size: int = 1 << 20) -> None:
    """Grow a pipe's kernel buffer (Linux ``F_SETPIPE_SZ``, default 64 KiB) towards ``size`` bytes,
    as far as ``/proc/sys/fs/pipe-max-size`` allows: a 3 MB frame then crosses in a few writes
    instead of ~50 writer/reader wake-ups. No-op where unsupported."""
    import fcntl

    setsz = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        try:
            limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        except (OSError, ValueError):
            limit = size
        fcntl.fcntl(fd, setsz, min(size, limit))
    except (OSError, ValueError, AttributeError):
        pass


def assemble(spec: AssemblySpec, out_path: Path | str) -> AssemblyResult:
    """Render the final video of ``spec`` to ``out_path`` (MP4, written atomically).

    Output: ``spec.width``×``spec.height``, ``spec.fps`` fps, H.264 High yuv420p, AAC-LC 48 kHz
    stereo, ``+faststart``, ``spec.duration_s`` long, loudness ``target_lufs`` ±0.5 LU
    integrated and true peak ≤ ``true_peak_dbtp`` (ITU-R BS.1770-4, measured after encoding).

    Args:
        spec: clips, narration, music, captions and encoding targets.
        out_path: destination ``.mp4``.

    Returns:
        :class:`AssemblyResult` with the measured loudness and per-stage timings (seconds).

    Raises:
        InputError: an input file is missing/empty, or ``out_path``'s folder is unwritable.
        ProcessingError: ffmpeg failed (the message carries its stderr tail).
    """
    out_path = Path(out_path)
    timings: dict[str, float] = {}
    keyframes: list[Path] = []
    for i, c in enumerate(spec.clips):
        if spec.motion is None:
            _check_file(c.path, f"clip of scene {i}")
        elif spec.motion.scenes[i].clip_path:
            _check_file(spec.motion.scenes[i].clip_path, f"clip of scene {i}")
    captions = _check_file(spec.captions_path, "captions file") if spec.captions_path else None
    fonts = Path(spec.fonts_dir).resolve() if spec.fonts_dir else None
    if fonts is not None and not fonts.is_dir():
        raise InputError(f"fonts folder not found: {fonts}", hint="pass the folder holding the caption font (assets/fonts)")

    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".assemble-", dir=out_path.parent))
    except OSError as exc:
        raise InputError(
            f"cannot write to output folder {out_path.parent}: {exc.strerror or exc}",
            hint="choose a writable folder with --out, or fix its permissions",
        ) from exc
    def audio_stage() -> tuple[Path, float | None, float, int, loudness.LoudnessReport]:
        t0 = time.perf_counter()
        mix_wav, music_gain = mix_audio(spec, work / "mix.wav")
        timings["mix"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        audio = work / "audio.m4a"
        gain, passes, report = normalise_audio(spec, mix_wav, audio)
        timings["audio"] = time.perf_counter() - t0
        return audio, music_gain, gain, passes, report

    try:
        # Captions/fonts are linked into the work folder and given to libass by relative name,
        # so no path ever needs filter-graph escaping.
        cap_rel = fonts_rel = None
        if captions is not None:
            cap_rel = "captions" + captions.suffix.lower()
            shutil.copyfile(captions, work / cap_rel)
        if fonts is not None:
            fonts_rel = "fonts"
            try:
                os.symlink(fonts, work / fonts_rel, target_is_directory=True)
            except OSError:
                shutil.copytree(fonts, work / fonts_rel)

        # The soundtrack (mix, loudness search, AAC) runs beside the video encode; the finished
        # streams are then muxed without re-encoding.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="assemble-audio") as pool:
            audio_future = pool.submit(audio_stage)
            t0 = time.perf_counter()
            video_only = work / "video.mp4"
            if spec.motion is not None:
                keep = dict.fromkeys(keyframe_indices(spec)) if spec.keyframes_dir else None
                encode_motion(spec, video_only, captions=cap_rel, fonts=fonts_rel, cwd=work, keep=keep)
                if keep is not None:
                    t1 = time.perf_counter()
                    keyframes = write_drawn_keyframes(
                        spec, [keep[i] for i in keyframe_indices(spec)], Path(spec.keyframes_dir),  # type: ignore[arg-type]
                        captions=cap_rel, fonts=fonts_rel, cwd=work)
                    timings["keyframes"] = time.perf_counter() - t1
            else:
                run_ffmpeg(
                    build_video_args(spec, None, video_only, captions=cap_rel, fonts=fonts_rel),
                    what="assemble the final video",
                    timeout_s=spec.timeout_s,
                    cwd=work,
                )
            timings["video"] = time.perf_counter() - t0
            audio, music_gain, gain, passes, encoded = audio_future.result()

        t0 = time.perf_counter()
        with atomic_path(out_path, suffix=".mp4") as tmp:
            run_ffmpeg(
                ["-loglevel", "error", "-i", str(video_only), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
                 "-c", "copy", "-t", _f(spec.duration_s), "-movflags", "+faststart", str(tmp)],
                what="mux the final video",
                timeout_s=spec.timeout_s,
            )
        timings["mux"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        final = _final_loudness(out_path, audio, encoded)
        timings["verify"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return AssemblyResult(
        path=str(out_path),
        duration_s=spec.duration_s,
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        loudness_lufs=round(final.integrated_lufs, 2),
        true_peak_dbtp=round(final.true_peak_dbtp, 2),
        audio_gain_db=round(gain, 2),
        music_gain_db=None if music_gain is None else round(music_gain, 2),
        audio_passes=passes,
        keyframes=[str(p) for p in keyframes],
        timings_s={k: round(v, 3) for k, v in timings.items()},
    )


def _final_loudness(final: Path, audio: Path, encoded: loudness.LoudnessReport) -> loudness.LoudnessReport:
    """Loudness and true peak of ``final``'s soundtrack (BS.1770-4, decoded as it will be heard).

    The mux stream-copies the AAC track that :func:`normalise_audio` encoded, decoded and measured
    (``encoded``), so the final file carries the very same packets: when its audio stream has the
    same codec, rate, channels and length as ``audio`` that measurement is the final's (checked
    bit-identical on 8-30 s mixes) and the file is not decoded again. Otherwise it is measured.
    """
    got, want = probe(final), probe(audio)
    same = (got.audio_codec, got.sample_rate, got.channels) == (want.audio_codec, want.sample_rate, want.channels)
    if same and got.audio_duration_s is not None and want.audio_duration_s is not None \
            and abs(got.audio_duration_s - want.audio_duration_s) < 1e-3:
        return encoded
    return loudness.measure(final)


def expected_frames(spec: AssemblySpec) -> int:
    """Number of video frames the output should have (``round(duration_s · fps)``)."""
    return int(math.floor(spec.duration_s * spec.fps + 0.5))
