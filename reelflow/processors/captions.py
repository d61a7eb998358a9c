"""Phrase-level captions from narration word timings, written as SRT and as styled ASS.

- :func:`build_captions` groups each scene's words into phrases of at most ``max_lines`` lines of
  ``max_chars_per_line`` characters (balanced line breaks, sentence ends and commas preferred as
  phrase ends), timed by the narration's word timings shifted by each scene's start. Captions
  never overlap and stay up at least :data:`MIN_DISPLAY_S` where the next one leaves room.
- :func:`write_srt` / :func:`write_ass` write them with `pysubs2 <https://pysubs2.readthedocs.io>`_,
  atomically. The ASS style (bold white, black outline + soft shadow) sits inside the platform's
  safe zone: TikTok/Reels/Shorts keep clear of the bottom ~20 % (captions, buttons) and right
  ~12 % (action rail); YouTube 16:9 uses a ~10 % bottom margin. Burn it with ffmpeg's libass
  filter: ``subtitles=captions.ass:fontsdir=assets/fonts``.
- :func:`default_font` returns the shipped OFL font (``assets/fonts/NotoSans-Bold.ttf``).
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, Field

from reelflow.core.errors import AssetError, InputError
from reelflow.core.models import Platform, Utterance, WordTiming
from reelflow.core.storage import atomic_path

#: Shortest time a caption stays on screen when the next one leaves room, seconds.
MIN_DISPLAY_S = 0.7
#: Gaps shorter than this between two captions of one scene are closed (less flicker), seconds.
BRIDGE_GAP_S = 0.35

FONTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
DEFAULT_FONT_FILE = "NotoSans-Bold.ttf"
DEFAULT_FONT_FAMILY = "Noto Sans"


class Caption(BaseModel):
    """One on-screen caption. ``text`` holds at most two lines separated by ``"\\n"``."""

    index: int = Field(ge=0, description="0-based position.")
    start_s: float = Field(ge=0, description="Start, seconds from the start of the video.")
    end_s: float = Field(ge=0, description="End, seconds from the start of the video.")
    text: str = Field(min_length=1)
    words: list[WordTiming] = Field(
        default_factory=list,
        description="The caption's words with times in seconds from the start of the video (for the "
        "karaoke highlight); empty when unknown.",
    )


def default_font() -> tuple[Path, str]:
    """The shipped caption font: ``(path to NotoSans-Bold.ttf, family name "Noto Sans")``.

    Source: Debian ``fonts-noto-core`` 20201225-1, SIL OFL 1.1 (see ``assets/fonts/LICENSES.md``).

    Raises:
        AssetError: the font file is missing or unreadable (reinstall/restore ``assets/fonts``).
    """
    path = FONTS_DIR / DEFAULT_FONT_FILE
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise AssetError(
            f"caption font {path} is missing or unreadable: {exc.strerror or exc}",
            hint="restore assets/fonts/ from the repository (git checkout -- assets/fonts)",
        ) from exc
    if magic not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        raise AssetError(f"caption font {path} is not a TrueType/OpenType file",
                         hint="restore assets/fonts/ from the repository (git checkout -- assets/fonts)")
    return path, DEFAULT_FONT_FAMILY


def wrap_lines(text: str, max_chars: int = 42, max_lines: int = 2) -> str | None:
    """Break ``text`` into at most ``max_lines`` balanced lines of ``max_chars``; ``None`` if it cannot.

    Returns:
        The text with ``"\\n"`` between lines (two lines are balanced so neither is much longer).
    """
    words = text.split()
    if not words:
        return None
    if len(text) <= max_chars:
        return text
    if max_lines < 2:
        return None
    best: tuple[int, str] | None = None
    for k in range(1, len(words)):
        a, b = " ".join(words[:k]), " ".join(words[k:])
        if len(a) > max_chars:
            break
        if len(b) > max_chars and max_lines == 2:
            continue
        if len(b) > max_chars:
            rest = wrap_lines(b, max_chars, max_lines - 1)
            if rest is None:
                continue
            cand = a + "\n" + rest
            score = max(len(x) for x in cand.split("\n")) - min(len(x) for x in cand.split("\n"))
        else:
            cand = a + "\n" + b
            score = abs(len(a) - len(b))
            # prefer breaking after punctuation
            if a[-1] in ",.;:!?":
                score -= 6
        if best is None or score < best[0]:
            best = (score, cand)
    return best[1] if best else None


def _fallback_words(utt: Utterance) -> list[WordTiming]:
    """Character-proportional word timings over the whole utterance (engine gave none)."""
    words = utt.text.split()
    weights = [len(w) + 1 for w in words]
    total = float(sum(weights)) or 1.0
    out, acc = [], 0.0
    for w, wt in zip(words, weights, strict=True):
        start = utt.duration_s * acc / total
        acc += wt
        out.append(WordTiming(text=w, start_s=start, end_s=utt.duration_s * acc / total))
    return out


def scene_words(utt: Utterance, offset_s: float = 0.0) -> list[WordTiming]:
    """The utterance's word timings shifted by ``offset_s`` (character-proportional when the
    engine gave none), e.g. relative to the scene start for kinetic type."""
    words = [w for w in (utt.words or _fallback_words(utt)) if w.text.strip()]
    return [WordTiming(text=w.text, start_s=round(w.start_s + offset_s, 3), end_s=round(w.end_s + offset_s, 3))
            for w in words]


def _phrases(words: list[WordTiming], max_chars: int, max_lines: int) -> list[list[WordTiming]]:
    """Phrase grouping: each sentence is one caption when it fits (``max_lines`` lines of
    ``max_chars``); a longer sentence is cut into the fewest captions that fit, at commas where it
    can, else balanced in length (so no caption is a lone "kids." after "Free first check-up for")."""
    def fits(ws: list[WordTiming]) -> bool:
        return wrap_lines(" ".join(x.text for x in ws), max_chars, max_lines) is not None

    sentences: list[list[WordTiming]] = []
    cur: list[WordTiming] = []
    for w in words:
        cur.append(w)
        if w.text[-1:] in ".!?":
            sentences.append(cur)
            cur = []
    if cur:
        sentences.append(cur)
    groups: list[list[WordTiming]] = []
    for sent in sentences:
        groups.extend(_balanced(sent, fits))
    return groups


#: Words a caption should not end on when the sentence goes on ("Meet Spoke & Chain, the" / "bike ...").
_DANGLING = frozenset("the a an of to in on for and or with at by from your our its their my his her is are "
                      "was were be than as this that these those every each no some any so but if when who which "
                      "not very".split())


def _balanced(ws: list[WordTiming], fits) -> list[list[WordTiming]]:
    """``ws`` cut into the fewest contiguous groups that each ``fits`` (one more when that avoids a
    lone word or a group ending on "the"/"of"/"and"); among those, no lone word and no dangling
    end where another cut avoids it, then the most cuts after a comma (a phrase boundary reads
    better than an even split: "Sports fans," / "this one's for you."), then the longest group as
    short as possible. A word that fits nowhere on its own still gets a group (it is broken later by
    :func:`_break_long_words`)."""
    n = len(ws)
    if n == 0:
        return []
    if fits(ws):
        return [ws]
    length = [len(" ".join(x.text for x in ws[i:j])) for i in range(n) for j in range(n + 1)]

    def seg_len(i: int, j: int) -> int:
        return length[i * (n + 1) + j]

    ok = [[j > i and (j - i == 1 or fits(ws[i:j])) for j in range(n + 1)] for i in range(n + 1)]
    # best[k][j]: (lone-word groups, groups ending on "the"/"of"/..., -comma cuts, longest group)
    inf = (10 ** 9, 0, 0, 0)
    best = [[inf] * (n + 1) for _ in range(n + 1)]
    back = [[-1] * (n + 1) for _ in range(n + 1)]
    best[0][0] = (0, 0, 0, 0)
    for k in range(1, n + 1):
        for j in range(1, n + 1):
            for i in range(j):
                if best[k - 1][i] == inf or not ok[i][j]:
                    continue
                comma = 1 if j < n and ws[j - 1].text[-1:] in ",;:" else 0
                prev = best[k - 1][i]
                dangling = j < n and ws[j - 1].text.lower().strip(",.;:") in _DANGLING
                cand = (prev[0] + (j - i == 1), prev[1] + dangling, prev[2] - comma, max(prev[3], seg_len(i, j)))
                if cand < best[k][j]:
                    best[k][j], back[k][j] = cand, i
    ks = [k for k in range(1, n + 1) if best[k][n] != inf]
    if not ks:
        return [ws]  # unreachable: one word per group always fits the "single word" rule above
    # the fewest captions, unless one more caption avoids a lone word or a dangling "the"
    k = ks[0]
    if len(ks) > 1 and best[ks[1]][n][:2] < best[k][n][:2] and ks[1] == k + 1:
        k = ks[1]
    out: list[list[WordTiming]] = []
    j, kk = n, k
    while kk > 0:
        i = back[kk][j]
        out.append(ws[i:j])
        j, kk = i, kk - 1
    return out[::-1]


def _break_long_words(text: str, max_chars: int, max_lines: int) -> str:
    """Wrap ``text`` whose longest word is wider than a line ("dentist-approved." at 16 characters).

    The word breaks after a hyphen or slash when it has one ("dentist-" / "approved."), else it is
    split with a hyphen at the line width; a caption is never dropped and the run never fails on
    a long word. Returns the text with ``"\n"`` between lines (``max_lines`` may be exceeded only
    by a single word longer than ``max_lines`` lines).
    """
    parts: list[str] = []
    for word in text.split():
        while len(word) > max_chars:
            cut = max((word.rfind(c, 0, max_chars) for c in "-/"), default=-1)
            cut = cut + 1 if cut > 0 else max_chars - 1
            parts.append(word[:cut] + ("" if word[cut - 1] in "-/" else "-"))
            word = word[cut:]
        parts.append(word)
    return wrap_lines(" ".join(parts), max_chars, max_lines) or wrap_lines(" ".join(parts), max_chars, len(parts)) \
        or "\n".join(parts)


def build_captions(
    utterances: list[Utterance],
    scene_starts_s: list[float],
    max_chars_per_line: int = 42,
    max_lines: int = 2,
    scene_ends_s: list[float] | None = None,
) -> list[Caption]:
    """Phrase-level captions for a whole video.

    Args:
        utterances: one per scene, in scene order; their ``words`` give timings in seconds from
            the start of each utterance's audio (character-proportional timings are used when
            an engine gave none).
        scene_starts_s: where each scene's narration starts in the final video, seconds
            (same length as ``utterances``).
        max_chars_per_line: line length limit, characters (42 is the common broadcast limit).
        max_lines: lines per caption.
        scene_ends_s: where each scene ends in the final video, seconds; a caption is never held
            past its scene's end (the minimum display time and bridging stop at the cut).

    Returns:
        Captions in time order, non-overlapping, each within its narration's span (plus the
        minimum display time where the next caption and its scene leave room), 0-based ``index``.

    Raises:
        InputError: the two lists differ in length. A word wider than a line is broken at its hyphen
            (or hyphenated at the line width), never refused.
    """
    if len(utterances) != len(scene_starts_s):
        raise InputError(
            f"build_captions got {len(utterances)} utterances but {len(scene_starts_s)} scene starts",
            hint="pass one scene start time per utterance, in scene order",
        )
    raw: list[tuple[float, float, str, list[WordTiming], float, int]] = []
    limits = scene_ends_s if scene_ends_s is not None else [float("inf")] * len(utterances)
    for k, (utt, offset, limit) in enumerate(zip(utterances, scene_starts_s, limits, strict=True)):
        words = [w for w in (utt.words or _fallback_words(utt)) if w.text.strip()]
        for group in _phrases(words, max_chars_per_line, max_lines):
            text = " ".join(w.text for w in group)
            wrapped = wrap_lines(text, max_chars_per_line, max_lines) or _break_long_words(
                text, max_chars_per_line, max_lines)
            start = offset + min(w.start_s for w in group)
            end = offset + max(w.end_s for w in group)
            timed = [WordTiming(text=w.text, start_s=round(offset + w.start_s, 3), end_s=round(offset + w.end_s, 3))
                     for w in group]
            raw.append((start, max(end, start + 0.05), wrapped, timed, limit, k))
    raw.sort(key=lambda r: r[0])
    out: list[Caption] = []
    for i, (start, end, text, timed, limit, k) in enumerate(raw):
        nxt = raw[i + 1][0] if i + 1 < len(raw) else None
        if out and start < out[-1].end_s:
            start = out[-1].end_s
        want = max(end, start + MIN_DISPLAY_S)
        if nxt is not None:
            same_line = raw[i + 1][5] == k  # the next caption belongs to the same utterance
            if nxt - end < BRIDGE_GAP_S and same_line:
                want = max(want, nxt)
            want = min(want, nxt) if nxt > start else want
        # a caption never outlives its scene (the cut changes what is on screen)
        end = max(min(want, max(limit, end)), start + 0.05)
        out.append(Caption(index=i, start_s=round(start, 3), end_s=round(end, 3), text=text, words=timed))
    return out


def ass_escape(text: str) -> str:
    """Make user text inert in an ASS event: it can never start an override block or an escape.

    ``{``/``}`` become ``(``/``)`` (ASS has no portable brace escape), and every backslash is
    followed by an empty override block ``{}`` so ``\\N``, ``\\n``, ``\\h`` or ``\\fs400`` from a
    brief stay literal text; ``{\\p1}`` drawing commands therefore cannot form either. Line breaks
    become ``\\N``. Source: Aegisub/libass ASS tag reference (override blocks, ``\\N \\n \\h``).
    """
    text = text.replace("{", "(").replace("}", ")").replace("\\", "\\{}")
    return text.replace("\r\n", "\n").replace("\n", "\\N")


def ass_color(rgb: tuple[int, int, int]) -> str:
    """``(r, g, b)`` → ASS inline colour ``&HBBGGRR&``."""
    r, g, b = rgb
    return f"&H{b:02X}{g:02X}{r:02X}&"


def karaoke_events(c: Caption, highlight: tuple[int, int, int]) -> list[tuple[float, float, str]]:
    """ASS events ``(start_s, end_s, text)`` showing ``c`` with the word being spoken in ``highlight``.

    One event per word interval (from a word's start to the next word's start; the first starts
    at the caption's start, the last ends at its end), all with the same text and line breaks, so
    the caption stays still while the highlight moves. Text is escaped with :func:`ass_escape`.
    """
    words = c.words
    tokens = c.text.replace("\n", " \n ").split(" ")
    if not words or len([t for t in tokens if t != "\n"]) != len(words):
        return [(c.start_s, c.end_s, ass_escape(c.text))]
    col = ass_color(highlight)
    out = []
    for k in range(len(words)):
        start = c.start_s if k == 0 else max(c.start_s, words[k].start_s)
        end = c.end_s if k == len(words) - 1 else min(c.end_s, words[k + 1].start_s)
        if end - start < 0.01:
            continue
        parts, j = [], 0
        for t in tokens:
            if t == "\n":
                parts.append("\\N")
                continue
            esc = ass_escape(t)
            parts.append(f"{{\\c{col}}}{esc}{{\\r}}" if j == k else esc)
            j += 1
        text = " ".join(parts).replace(" \\N ", "\\N")
        out.append((start, end, text))
    return out or [(c.start_s, c.end_s, ass_escape(c.text))]


def _ssa_file(captions: list[Caption]):
    import pysubs2

    subs = pysubs2.SSAFile()
    for c in captions:
        ev = pysubs2.SSAEvent(start=int(round(c.start_s * 1000)), end=int(round(c.end_s * 1000)))
        ev.plaintext = c.text
        subs.events.append(ev)
    return subs


def write_srt(captions: list[Caption], path: Path | str) -> Path:
    """Write SubRip captions to ``path`` atomically (UTF-8, ``HH:MM:SS,mmm`` timing); return it."""
    subs = _ssa_file(captions)
    with atomic_path(path, suffix=".srt") as tmp:
        subs.save(str(tmp), format_="srt", encoding="utf-8")
    return Path(path)


def safe_margins(width: int, height: int, platform: Platform | str) -> tuple[int, int, int]:
    """``(margin_left, margin_right, margin_bottom)`` in pixels for the platform's safe zone.

    TikTok/Reels/Shorts overlay the caption/description block on the bottom ~20 % and the
    like/comment/share rail on the right ~12 %; YouTube 16:9 players overlay the bottom ~10 %
    (progress bar, controls). Margins add a small extra pad.
    """
    p = Platform(platform)
    if p is Platform.YOUTUBE:
        return math.ceil(0.05 * width), math.ceil(0.05 * width), math.ceil(0.10 * height)
    return math.ceil(0.06 * width), math.ceil(0.12 * width), math.ceil(0.21 * height)


def _font_size(captions: list[Caption], font_path: Path, width: int, height: int,
               margin_l: int, margin_r: int) -> int:
    """Largest size (≤ 4.5 % of the frame height) at which the longest line fits between the margins."""
    from PIL import ImageFont

    target = max(12, int(round(0.045 * height)))
    usable = (width - margin_l - margin_r) * 0.96
    lines = [ln for c in captions for ln in c.text.split("\n")] or ["M" * 20]
    probe = ImageFont.truetype(str(font_path), 100)
    widest = max(probe.getlength(ln) for ln in lines)
    fit = int(100 * usable / widest) if widest > 0 else target
    return max(12, min(target, fit))


def write_ass(
    captions: list[Caption],
    path: Path | str,
    width: int,
    height: int,
    platform: Platform | str,
    font_path: Path | str | None = None,
    font_name: str | None = None,
    *,
    highlight: tuple[int, int, int] | None = None,
    margins: tuple[int, int, int] | None = None,
    size: int | None = None,
) -> Path:
    """Write styled Advanced SubStation captions for burning in with libass; return ``path``.

    Args:
        captions: from :func:`build_captions`.
        path: ``.ass`` file to write (atomically).
        width, height: output video size in pixels (becomes ``PlayResX``/``PlayResY``).
        platform: decides the safe-zone margins (:func:`safe_margins`).
        font_path, font_name: caption font file and its family name; default :func:`default_font`.
            Pass the font's folder to ffmpeg as ``fontsdir`` so libass finds it.

    The style is bold white text with a black outline (~8 % of the size) and a soft shadow,
    bottom-centred above ``MarginV``; the size is ~4.5 % of the frame height, reduced where the
    longest line would not fit between the side margins.

    With ``highlight`` (an ``(r, g, b)`` colour) the word being spoken is drawn in it, from the
    words' timings (:func:`karaoke_events`); ``margins`` ``(left, right, bottom)`` and ``size``
    override the platform defaults (the motion layout's caption band). All caption text is
    escaped (:func:`ass_escape`): a brief cannot inject ASS override or drawing commands.

    Raises:
        AssetError: the font is missing.
        InputError: ``platform`` is unknown.
    """
    import pysubs2

    if font_path is None or font_name is None:
        dp, dn = default_font()
        font_path, font_name = font_path or dp, font_name or dn
    font_path = Path(font_path)
    if not font_path.is_file():
        raise AssetError(f"caption font {font_path} not found", hint="pass an existing TTF or restore assets/fonts/")
    try:
        ml, mr, mv = safe_margins(width, height, platform)
    except ValueError as exc:
        raise InputError(f"unknown platform {platform!r}", hint="use tiktok, reels, shorts or youtube") from exc
    if margins is not None:
        ml, mr, mv = margins
    fitted = _font_size(captions, font_path, width, height, ml, mr)
    size = min(size, fitted) if size else fitted
    subs = pysubs2.SSAFile()
    for c in captions:
        for start, end, text in (karaoke_events(c, highlight) if highlight else [(c.start_s, c.end_s, ass_escape(c.text))]):
            subs.events.append(pysubs2.SSAEvent(start=int(round(start * 1000)), end=int(round(end * 1000)), text=text))
    subs.info["PlayResX"] = str(width)
    subs.info["PlayResY"] = str(height)
    subs.info["WrapStyle"] = "0"
    subs.info["ScaledBorderAndShadow"] = "yes"
    subs.info["Title"] = "ReelFlow captions"
    style = pysubs2.SSAStyle(
        fontname=font_name,
        fontsize=size,
        primarycolor=pysubs2.Color(255, 255, 255, 0),
        secondarycolor=pysubs2.Color(255, 255, 255, 0),
        outlinecolor=pysubs2.Color(0, 0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 110),
        bold=True,
        borderstyle=1,
        outline=max(2.0, round(size * 0.08, 1)),
        shadow=max(1.0, round(size * 0.04, 1)),
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=ml,
        marginr=mr,
        marginv=mv,
    )
    subs.styles = {"Default": style}
    for ev in subs.events:
        ev.style = "Default"
    with atomic_path(path, suffix=".ass") as tmp:
        subs.save(str(tmp), format_="ass", encoding="utf-8")
    return Path(path)

