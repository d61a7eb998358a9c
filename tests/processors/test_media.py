"""reelflow.processors.media on real files: the shared videos/music and files made by the real ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelflow.core.errors import InputError, ProcessingError
from reelflow.processors.media import audio_duration, ffmpeg_exe, mp4_top_level_atoms, probe, run_ffmpeg


def test_ffmpeg_exe_is_cached_static_binary():
    exe = ffmpeg_exe()
    assert Path(exe).is_file()
    assert ffmpeg_exe() is exe


def test_probe_squirrel_video(shared_data: Path):
    info = probe(shared_data / "footage" / "videos" / "squirrel.mp4")
    assert info.has_video and info.has_audio
    assert (info.width, info.height) == (1280, 720)
    assert info.fps == pytest.approx(25.0)
    assert info.frame_count == 250
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac" and info.audio_profile == "LC"
    assert info.duration_s == pytest.approx(10.0, abs=0.1)
    assert info.rotation == 0


def test_probe_vfr_and_ntsc_rates(shared_data: Path):
    info = probe(shared_data / "videos" / "testvideo.mp4")
    assert info.fps == pytest.approx(30000 / 1001, abs=1e-3)
    assert info.frame_count == 720
    assert not info.has_audio and info.audio_codec is None


def test_probe_music_and_audio_duration(shared_data: Path):
    mp3 = shared_data / "music" / "happy_lofi_day_tarush_singhal.mp3"
    info = probe(mp3)
    assert not info.has_video and info.has_audio
    assert (info.sample_rate, info.channels) == (48000, 2)
    assert audio_duration(mp3) == pytest.approx(116.4, abs=0.2)
    ogg = shared_data / "music" / "background_music_1_tozan.ogg"
    assert probe(ogg).channels == 1 and probe(ogg).sample_rate == 16000


def test_audio_duration_of_generated_wav(tmp_path: Path):
    wav = tmp_path / "tone.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=1.5", str(wav)], what="make a tone")
    assert audio_duration(wav) == pytest.approx(1.5, abs=1e-3)


def test_audio_duration_of_silent_video_is_input_error(shared_data: Path):
    with pytest.raises(InputError, match="testvideo.mp4 has no audio"):
        audio_duration(shared_data / "videos" / "testvideo.mp4")


@pytest.mark.parametrize("content", [b"", b"definitely not a media file\n" * 50])
def test_probe_rejects_empty_and_corrupt_files(tmp_path: Path, content: bytes):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(content)
    with pytest.raises(InputError, match="broken.mp4"):
        probe(bad)


def test_probe_missing_file(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        probe(tmp_path / "nope.wav")


def test_run_ffmpeg_failure_carries_stderr_tail(tmp_path: Path):
    with pytest.raises(ProcessingError) as exc:
        run_ffmpeg(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "out.mp4")], what="convert a missing file")
    msg = str(exc.value)
    assert "convert a missing file" in msg and "missing.mp4" in msg
    assert exc.value.retryable


def test_faststart_moves_moov_before_mdat(tmp_path: Path):
    src = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=1", "-c:v", "libx264", "-preset", "ultrafast"]
    plain, fast = tmp_path / "plain.mp4", tmp_path / "fast.mp4"
    run_ffmpeg([*src, str(plain)], what="encode")
    run_ffmpeg([*src, "-movflags", "+faststart", str(fast)], what="encode")
    atoms_plain, atoms_fast = mp4_top_level_atoms(plain), mp4_top_level_atoms(fast)
    assert atoms_plain.index("mdat") < atoms_plain.index("moov")
    assert atoms_fast.index("moov") < atoms_fast.index("mdat")
    assert probe(fast).frame_count == 10
