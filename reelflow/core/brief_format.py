"""The format a brief's own words ask for: length, aspect and platform ("15-second vertical TikTok").

A content team writes the format into the brief ("45-second landscape explainer for ...",
"Instagram reel, 20 seconds"). :class:`reelflow.core.models.Brief` fills its ``duration_s``,
``aspect`` and ``platform`` from here when they were not given as fields; a field given
explicitly (CLI option, JSON key, deployment parameter, campaign default) always wins.

Only phrases that can only mean the video's format are read: a length that qualifies the
video ("30-second video", "a 15 s TikTok", "20 seconds long", "length: 45 s"), not a product's
numbers ("folds in 3 seconds", "charges in 30 minutes"); an aspect word next to a video noun
("vertical video", "square post", "landscape explainer") or a ratio ("9:16"); a platform name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Nouns that name the piece being made ("30-second *video*", "vertical *ad*").
_PIECE = (r"(?:video|videos|ad|ads|advert|spot|reel|reels|clip|tiktok|short|shorts|explainer|promo|commercial|teaser|"
          r"trailer|story|stories|version|cut|film|piece|post|edit|montage|launch|announcement|sizzle)")
_NUM_WORDS = {"five": 5, "six": 6, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fortyfive": 45,
              "sixty": 60, "ninety": 90, "one": 1, "two": 2, "half": 0.5}
_NUM = r"(?P<num>\d{1,3}(?:\.\d)?|five|six|ten|fifteen|twenty|thirty|forty[- ]?five|forty|sixty|ninety|one|two|half)"
_UNIT = r"(?P<unit>seconds?|secs?|s|minutes?|mins?)"
#: "30-second video", "a 15 s vertical TikTok", "1-minute explainer" (up to three words between).
_LENGTH_OF_PIECE = re.compile(_NUM + r"\s*[- ]?\s*" + _UNIT + r"\b(?:[- ]long)?\s+(?:[\w\-/:]+\s+){0,3}?" + _PIECE + r"\b",
                              re.I)
#: "20 seconds long", "length: 45 s", "runtime 30 seconds", "under 30 seconds", "30s max".
_LENGTH_SAID = re.compile(r"(?:\b(?:length|runtime|duration)\s*(?:of|:|=|-)?\s*(?:about\s+)?" + _NUM + r"\s*[- ]?\s*" +
                          _UNIT + r"\b)|(?:\b" + _NUM.replace("num", "num2") + r"\s*[- ]?\s*" +
                          _UNIT.replace("unit", "unit2") + r"\s+(?:long|max|maximum|total)\b)", re.I)
_ASPECT_WORD = re.compile(r"\b(?P<word>vertical|portrait|landscape|horizontal|widescreen|square)\s+(?:[\w\-]+\s+){0,2}?"
                          + _PIECE + r"\b|\b(?:in|as)\s+(?P<word2>vertical|portrait|landscape|horizontal|widescreen|"
                          r"square)\b|\b(?P<word3>vertical|landscape|square|portrait)\s+format\b", re.I)
_RATIO = re.compile(r"(?<![\d:])(?P<ratio>9:16|16:9|1:1|4:5)(?!:?\d)")
_PLATFORM_NAME = r"(?P<name>tik\s?tok|instagram|insta|ig reels?|reels?|youtube shorts|yt shorts|shorts|youtube|yt)"
#: A platform named as where the piece goes: "TikTok ..." (a TikTok is always the piece), "for/on
#: Instagram", "Instagram reel", "YouTube pre-roll", "an ad for YouTube Shorts" — not "subscribe to
#: our YouTube channel" or "watch it on YouTube" in a pasted video description.
_PLATFORM = re.compile(r"\b(?:(?<!watch it )(?<!watch )(?<!available )(?:for|on)\s+(?:an?\s+|the\s+)?" + _PLATFORM_NAME +
                       r"|" + _PLATFORM_NAME.replace("name", "name2") + r"\s+(?:[\w\-]+\s+){0,2}?(?:" + _PIECE +
                       r"|pre-?roll|bumper|feed)|(?P<name3>tik\s?tok))\b", re.I)

_ASPECTS = {"vertical": "9:16", "portrait": "9:16", "landscape": "16:9", "horizontal": "16:9", "widescreen": "16:9",
            "square": "1:1"}
_RATIOS = {"9:16": "9:16", "16:9": "16:9", "1:1": "1:1", "4:5": "1:1"}


@dataclass(frozen=True)
class StatedFormat:
    """What the brief's words ask for; ``None`` where the text says nothing.

    ``duration_s`` in seconds (as written, not clamped), ``aspect`` one of ``"9:16"``,
    ``"16:9"``, ``"1:1"``, ``platform`` one of ``tiktok``, ``reels``, ``shorts``, ``youtube``.
    """

    duration_s: float | None = None
    aspect: str | None = None
    platform: str | None = None


def _seconds(num: str, unit: str) -> float:
    value = float(_NUM_WORDS.get(re.sub(r"[- ]", "", num.lower()), num))  # "forty-five", "forty five" → 45
    return value * 60 if unit.lower().startswith("m") else value


def stated_format(text: str) -> StatedFormat:
    """Read the video's length, aspect and platform from a brief's text.

    Args:
        text: the brief as written.

    Returns:
        :class:`StatedFormat`; the first length that qualifies the piece wins, then an explicit
        "N seconds long"/"length: N s". Platform: TikTok → ``tiktok``, Instagram/Reels → ``reels``,
        (YouTube) Shorts → ``shorts``, YouTube → ``youtube``. A YouTube (not Shorts) brief with no
        aspect word is landscape, the format that platform plays full-screen.
    """
    duration = None
    m = _LENGTH_OF_PIECE.search(text)
    if m:
        duration = _seconds(m.group("num"), m.group("unit"))
    else:
        m = _LENGTH_SAID.search(text)
        if m:
            num, unit = (m.group("num"), m.group("unit")) if m.group("num") else (m.group("num2"), m.group("unit2"))
            duration = _seconds(num, unit)
    aspect = None
    r = _RATIO.search(text)
    if r:
        aspect = _RATIOS[r.group("ratio")]
    else:
        a = _ASPECT_WORD.search(text)
        if a:
            aspect = _ASPECTS[(a.group("word") or a.group("word2") or a.group("word3")).lower()]
    platform = None
    # "Reels"/"Shorts" alone count only as names (capitalised): "running shorts", "a fishing reel" are products
    def _name(x: re.Match[str]) -> str:
        return x.group("name") or x.group("name2") or x.group("name3")

    p = next((x for x in _PLATFORM.finditer(text)
              if (not re.fullmatch(r"reels?|shorts", _name(x), re.I) or _name(x)[0].isupper())
              and not re.match(r"\s*:?\s*(?:https?://|www\.|/)", text[x.end():])  # "on Instagram: https://..."
              and not re.search(r"\b(?:follow|subscribe|watch|find us|available|like us)\b[^.]{0,25}$",
                                text[max(0, x.start() - 40):x.start()], re.I)), None)
    if p:
        name = _name(p).lower().replace(" ", "")
        platform = ("tiktok" if name.startswith("tik") else "shorts" if "shorts" in name
                    else "youtube" if name in ("youtube", "yt") else "reels")
    if platform == "youtube" and aspect is None:
        aspect = "16:9"
    return StatedFormat(duration, aspect, platform)
