"""reelflow.processors.loudness against known signals (BS.1770 reference tones, inter-sample peaks) and
against ffmpeg's own EBU R128 meter (``ebur128=peak=true``) on real music."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from reelflow.core.errors import InputError
from reelflow.processors import loudness
from reelflow.processors.media import ffmpeg_exe, run_ffmpeg


def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as measured by ffmpeg's ebur128 filter."""
    import subprocess

    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    summary = proc.stderr[proc.stderr.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    return integrated, peak


def test_reference_tone_reads_its_level(tmp_path: Path):
    # BS.1770: a 997 Hz sine at -20 dBFS peak in both channels of a stereo file reads -20 LUFS.
    wav = tmp_path / "tone.wav"
    amp = 10 ** (-20 / 20)
    run_ffmpeg(["-f", "lavfi", "-i", f"aevalsrc={amp}*sin(2*PI*997*t)|{amp}*sin(2*PI*997*t):s=48000:d=10",
                "-c:a", "pcm_f32le", str(wav)], what="make a reference tone")
    report = loudness.measure(wav)
    assert report.integrated_lufs == pytest.approx(-20.0, abs=0.1)
    assert report.true_peak_dbtp == pytest.approx(-20.0, abs=0.05)
    assert (report.sample_rate, report.channels) == (48000, 2)
    assert report.duration_s == pytest.approx(10.0, abs=1e-3)


def test_true_peak_finds_inter_sample_peak():
    # fs/4 sine with a 45 degree phase: every sample is at +-A/sqrt(2), the waveform peaks at A.
    sr, amp = 48000, 0.5
    n = np.arange(sr * 2)
    x = amp * np.sin(2 * np.pi * n / 4 + np.pi / 4)
    fade = np.hanning(960)  # soft edges: an abrupt start rings in any band-limited interpolator
    x[:480] *= fade[:480]
    x[-480:] *= fade[480:]
    x = x.astype(np.float32)
    report = loudness.measure_array(x, sr)
    assert report.sample_peak_dbfs == pytest.approx(20 * math.log10(amp / math.sqrt(2)), abs=0.01)
    assert report.true_peak_dbtp == pytest.approx(20 * math.log10(amp), abs=0.1)


def test_silence_and_tiny_clip():
    silent = loudness.measure_array(np.zeros((48000, 2), np.float32), 48000)
    assert silent.integrated_lufs == loudness.SILENCE_LUFS
    assert silent.true_peak_dbtp == loudness.SILENCE_DBTP
    short = loudness.measure_array(np.full(1000, 0.1, np.float32), 48000)  # < one 400 ms block
    assert math.isfinite(short.integrated_lufs)


@pytest.mark.parametrize("name", ["kevin_macleod_freepd_30s.mp3", "8bit_battle_loop_theodore_kerr.ogg"])
def test_agrees_with_ffmpeg_ebur128(shared_data: Path, name: str):
    path = shared_data / "music" / name
    ours = loudness.measure(path)
    theirs_i, theirs_tp = ffmpeg_ebur128(path)
    assert ours.integrated_lufs == pytest.approx(theirs_i, abs=0.5)
    assert ours.true_peak_dbtp == pytest.approx(theirs_tp, abs=0.5)


def test_max_seconds_and_sample_peak_mode(shared_data: Path):
    path = shared_data / "music" / "happy_lofi_day_tarush_singhal.mp3"
    head = loudness.measure(path, true_peak=False, max_seconds=5)
    assert head.duration_s == pytest.approx(5.0, abs=1e-3)
    assert head.true_peak_dbtp == head.sample_peak_dbfs


def test_unreadable_inputs_are_input_errors(tmp_path: Path, shared_data: Path):
    with pytest.raises(InputError, match="no audio stream"):
        loudness.measure(shared_data / "videos" / "testvideo.mp4")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF....garbage" * 10)
    with pytest.raises(InputError, match="junk.wav"):
        loudness.measure(junk)
    with pytest.raises(InputError, match="not found"):
        loudness.measure(tmp_path / "missing.wav")
