"""Captions from real Piper utterances: limits, timing, SRT/ASS output and a real libass burn-in."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pysubs2
import pytest

from reelflow.core.errors import InputError
from reelflow.core.models import Scene
from reelflow.processors.captions import (
    build_captions,
    default_font,
    safe_margins,
    write_ass,
    write_srt,
)
from reelflow.processors.local_tts import PiperSynthesizer

NARRATIONS = [
    "Meet the new TrailFox Grip trail running shoe.",
    "Sticky grip on gravel and wet rock, light enough for race day, and built to last eight hundred kilometres.",
    "TrailFox Grip. Find your trail.",
]
GAP_S = 0.4


@pytest.fixture(scope="session")
def utterances(tmp_path_factory):
    synth = PiperSynthesizer()
    out = tmp_path_factory.mktemp("captions")
    return [synth.synthesize_sync(Scene(index=i, narration=t, visual_prompt="trail", duration_s=5), out / f"{i}.wav")
            for i, t in enumerate(NARRATIONS)]


@pytest.fixture(scope="session")
def starts(utterances) -> list[float]:
    t, out = 0.25, []
    for u in utterances:
        out.append(t)
        t += u.duration_s + GAP_S
    return out


@pytest.fixture(scope="session")
def captions(utterances, starts):
    return build_captions(utterances, starts)


def test_line_limits_and_complete_text(captions) -> None:
    assert len(captions) >= 4
    for c in captions:
        lines = c.text.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(0 < len(line) <= 42 for line in lines)
    spoken = " ".join(NARRATIONS).split()
    assert " ".join(c.text.replace("\n", " ") for c in captions).split() == spoken


def test_timing_follows_narration_without_overlap(captions, utterances, starts) -> None:
    assert [c.index for c in captions] == list(range(len(captions)))
    for a, b in zip(captions, captions[1:]):
        assert a.end_s <= b.start_s + 1e-6
    for c in captions:
        assert c.end_s - c.start_s >= 0.3
    assert captions[0].start_s >= starts[0]
    assert captions[-1].end_s <= starts[-1] + utterances[-1].duration_s + 0.7 + 1e-6
    # each scene's first caption starts when its first word is spoken
    for u, s in zip(utterances, starts):
        first = next(c for c in captions if c.text.split()[0] == u.words[0].text and c.start_s >= s - 1e-6)
        assert abs(first.start_s - (s + u.words[0].start_s)) < 0.05


def test_srt_parses_back(captions, tmp_path) -> None:
    path = write_srt(captions, tmp_path / "captions.srt")
    subs = pysubs2.load(str(path))
    assert len(subs) == len(captions)
    for ev, c in zip(subs, captions):
        assert abs(ev.start / 1000 - c.start_s) < 0.002 and abs(ev.end / 1000 - c.end_s) < 0.002
        assert ev.plaintext == c.text


def test_ass_sits_in_the_platform_safe_zone(captions, tmp_path) -> None:
    font_path, family = default_font()
    assert font_path.name == "NotoSans-Bold.ttf" and family == "Noto Sans"
    path = write_ass(captions, tmp_path / "captions.ass", 1080, 1920, "tiktok", font_path, family)
    subs = pysubs2.load(str(path))
    assert subs.info["PlayResX"] == "1080" and subs.info["PlayResY"] == "1920"
    style = subs.styles["Default"]
    assert style.marginv >= 0.20 * 1920 and style.marginr >= 0.12 * 1080 and style.marginl > 0
    assert style.bold and style.fontname == "Noto Sans" and 30 <= style.fontsize <= 0.045 * 1920
    ml, mr, mv = safe_margins(1920, 1080, "youtube")
    assert mv >= 0.10 * 1080 and ml == mr


def test_bad_inputs_are_input_errors(utterances) -> None:
    with pytest.raises(InputError, match="scene start"):
        build_captions(utterances, [0.0])


def _frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"no frame at {t}s in {path}")


def test_ffmpeg_burns_the_ass_with_the_shipped_font(captions, tmp_path) -> None:
    font_path, family = default_font()
    ass = write_ass(captions, tmp_path / "c.ass", 1080, 1920, "reels", font_path, family)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    plain, burnt = tmp_path / "plain.mp4", tmp_path / "burnt.mp4"
    src = ["-f", "lavfi", "-i", "color=c=0x2040a0:s=1080x1920:d=2:r=30"]
    enc = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([ffmpeg, "-v", "error", "-y", *src, *enc, str(plain)], check=True)
    proc = subprocess.run(
        [ffmpeg, "-v", "verbose", "-y", *src, "-vf", f"subtitles={ass.name}:fontsdir={font_path.parent}", *enc, str(burnt)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "NotoSans-Bold.ttf" in proc.stderr  # libass loaded the shipped font
    t = captions[0].start_s + 0.2
    diff = np.abs(_frame_at(burnt, t) - _frame_at(plain, t)).sum(axis=2)
    rows, cols = np.nonzero(diff > 60)
    assert rows.size > 2000  # text was drawn
    assert rows.max() < 0.80 * 1920 and cols.max() < 0.88 * 1080  # inside the safe zone
    assert rows.min() > 0.5 * 1920


def _burn(ass: Path, tmp_path: Path, name: str, t: float, fonts: Path) -> np.ndarray:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    out = tmp_path / f"{name}.mp4"
    proc = subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=1080x1920:d=2:r=30",
         "-vf", f"subtitles={ass.name}:fontsdir={fonts}", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", str(out)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _frame_at(out, t)


def test_brief_text_cannot_inject_ass_override_or_drawing_commands(tmp_path) -> None:
    from reelflow.processors.captions import Caption, ass_escape

    fonts = default_font()[0].parent
    evil = [
        Caption(index=0, start_s=0.0, end_s=0.9, text=r"{\fs400}HUGE \N text"),
        Caption(index=1, start_s=1.0, end_s=1.9, text=r"{\p1}m 0 0 l 900 0 900 900 l 0 900{\p0}"),
    ]
    normal = [Caption(index=0, start_s=0.0, end_s=0.9, text="(fs400)HUGE text"),
              Caption(index=1, start_s=1.0, end_s=1.9, text="(p1)m 0 0 l 900 0 900 900 l 0 900(p0)")]
    for i, (c, ref) in enumerate(zip(evil, normal, strict=True)):
        a = write_ass([c], tmp_path / f"evil{i}.ass", 1080, 1920, "tiktok", highlight=(255, 200, 0))
        b = write_ass([ref], tmp_path / f"ref{i}.ass", 1080, 1920, "tiktok")
        lit_evil = _burn(a, tmp_path, f"evil{i}", c.start_s + 0.3, fonts).sum(axis=2) > 150
        lit_ref = _burn(b, tmp_path, f"ref{i}", c.start_s + 0.3, fonts).sum(axis=2) > 150
        rows = np.nonzero(lit_evil)[0]
        assert rows.size > 500  # the text is shown ...
        assert rows.max() - rows.min() < 0.15 * 1920  # ... at caption size, never 400 px type or a 900 px box
        assert lit_evil.sum() < 2.0 * max(lit_ref.sum(), 1)
    esc = ass_escape(r"{\fs400}x \N {\p1}")
    assert "{" not in esc.replace("{}", "") and "\\N" not in esc.replace("\\{}N", "")  # only inert empty blocks


def test_karaoke_highlights_the_word_being_spoken(utterances, starts, tmp_path) -> None:
    from reelflow.processors.captions import karaoke_events

    caps = build_captions(utterances, starts, max_chars_per_line=22)
    c = caps[0]
    events = karaoke_events(c, (255, 200, 0))
    assert len(events) == len(c.words) >= 2
    for (s, e, text), w in zip(events, c.words, strict=True):
        assert text.count("\\c&H00C8FF&") == 1  # exactly one highlighted word, colour in ASS BGR
        assert w.text in text.split("\\c&H00C8FF&}")[1]
        assert c.start_s <= s < e <= c.end_s + 1e-6
    # the caption text and line breaks stay the same in every event (no jumping layout)
    plain = {t.replace("{\\c&H00C8FF&}", "").replace("{\\r}", "") for _, _, t in events}
    assert len(plain) == 1
    assert len(c.text.split("\n")) <= 2


def test_a_word_wider_than_the_line_is_broken_not_refused(tmp_path) -> None:
    """A 15 s TikTok's 16-character caption lines and the spoken word "dentist-approved." (17): the
    caption breaks after the hyphen instead of failing the whole run (it did, at write-captions)."""
    synth = PiperSynthesizer()
    u = synth.synthesize_sync(Scene(index=0, narration="Zephyr is dentist-approved and incomprehensibilities too.",
                                    visual_prompt="x", duration_s=5), tmp_path / "long.wav")
    caps = build_captions([u], [0.2], max_chars_per_line=16)
    lines = [ln for c in caps for ln in c.text.split("\n")]
    assert all(len(ln) <= 16 for ln in lines), lines
    assert "incomprehensibi-" in lines, lines  # no hyphen of its own: hyphenated at the line width
    # every spoken letter is still on screen, in order (a forced break only adds a hyphen)
    import re

    shown = "".join(re.sub(r"[^a-z]", "", c.text.lower()) for c in caps)
    assert shown == re.sub(r"[^a-z]", "", "Zephyr is dentist-approved and incomprehensibilities too.".lower())


def test_a_sentence_too_long_for_one_caption_is_cut_in_balanced_parts(tmp_path: Path) -> None:
    """Real Piper word timings at a vertical video's line width (16 characters): a sentence that
    needs two captions is cut where neither part is a lone word ("Free first check-up for" +
    "kids." read as a stutter), and a sentence that fits stays whole."""
    lines = ["Free first check-up for kids. Nothing to lose.", "Evening and Saturday appointments. On your schedule.",
             "Meet Spoke & Chain, the bike repair shop in Leeds.", "Sports fans, this one's for you."]
    synth = PiperSynthesizer()
    utts = [synth.synthesize_sync(Scene(index=i, narration=t, visual_prompt="clinic", duration_s=5), tmp_path / f"{i}.wav")
            for i, t in enumerate(lines)]
    starts = [0.2]
    for u in utts[:-1]:
        starts.append(starts[-1] + u.duration_s + 0.4)
    caps = build_captions(utts, starts, max_chars_per_line=14, max_lines=2)
    texts = [" ".join(c.text.split()) for c in caps]
    assert all(len(t.split()) >= 2 for t in texts), texts
    assert not any(re.search(r"\b(?:the|a|an|of|for|this)$", t) for t in texts), texts  # "Meet Spoke & Chain, the" / ...
    assert "Sports fans," in texts, texts  # a cut at the comma, not "Sports fans, this" / "one's for you."
    assert "Nothing to lose." in texts and "On your schedule." in texts  # a sentence that fits is one caption
    assert " ".join(texts) == " ".join(lines)  # every word once, in order
