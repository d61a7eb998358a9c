"""Scene design: what each scene shows (layout kind, on-screen words, matched assets).

:func:`derive_visual` turns a scene whose ``visual`` is still the default (kind ``kinetic``, no
headline, no keywords) into a :class:`core.models.VisualSpec` from its narration and
``on_screen_text``: a number becomes a ``stat``, an enumeration of 3-4 short items a ``list``, the
last scene (or a ``cta`` beat) the ``end_card``, anything else ``hero`` (``kinetic`` when no asset
matches). :func:`design_scenes` then matches assets for every scene of a video in order, never
repeating a hero, and returns :class:`SceneDesign` records (kind, words, assets with scores and
licences) for the renderer and for ``metadata.json``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from reelflow.core.models import Scene, VisualSpec
from reelflow.processors.motion.assets import (
    MATCH_THRESHOLD,
    NEGATIVE_FEELING,
    AssetLibrary,
    AssetMatch,
    content_words,
)

#: An end card shows its own matched asset only at or above this score; else brand + call to action only.
END_CARD_THRESHOLD = 0.55
#: An end card's own match beats the opening hero (the product shot) only at this score and when
#: the sign-off says what it shows ("Get your tickets" → tickets; "water" → a shower does not).
END_CARD_OWN_MIN = 0.62
#: Supporting assets (the small ones orbiting a hero) are decoration: shown only at or above this
#: score, so a passing word ("float" → whale) never adds an unrelated picture.
SUPPORT_THRESHOLD = 0.52
#: A subject already shown as a hero comes back (small, over the words) rather than the best
#: unused asset when that one scores this much lower: "paper lanterns" again is a lantern, not a
#: cityscape.
REPEAT_MARGIN = 0.05

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000,
}
_UNITS = {"dollars": "$", "dollar": "$", "euros": "€", "euro": "€", "pounds": "£", "percent": "%", "times": "x"}
_STAT_RX = re.compile(
    r"(?P<pre>[$€£])?(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<suf>%|x\b|×|k\b|m\b|\+"
    r"|dollars?\b|euros?\b|pounds\b|percent\b|times\b)?"
    r"|\b(?P<word>two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty)\b"
    r"(?:\s+(?P<scale>hundred|thousand|million|billion))?",
    re.IGNORECASE,
)
_SPLIT_RX = re.compile(r"\s*(?:,|;|\band\b|\bor\b|\+|&)\s*", re.IGNORECASE)


class AssetChoice(BaseModel):
    """A matched asset as recorded in the design and in metadata."""

    id: str
    label: str
    score: float
    via: str
    licence: str
    source: str
    file: str


class SceneDesign(BaseModel):
    """What one scene shows. Input of the motion renderer; also written to ``metadata.json``."""

    index: int
    kind: str = Field(description="kinetic | hero | stat | list | photo | end_card")
    visual: VisualSpec
    headline: str = ""
    emphasis: str = Field(default="", description="The headline word drawn in the accent.")
    assets: list[AssetChoice] = Field(default_factory=list, description="Hero first, then supporting assets.")
    item_assets: list[AssetChoice | None] = Field(default_factory=list, description="One per list item.")
    footage: str | None = Field(default=None, description="Footage file (photo scenes).")
    footage_score: float | None = None
    footage_licence: str = ""
    footage_credit: str = ""
    fallback: str = Field(default="", description="Why the scene shows typography only, when it does.")


def _is_default(v: VisualSpec) -> bool:
    return v.kind == "kinetic" and not v.headline and not v.keywords and not v.items and not v.stat_value


_DANGLING = frozenset("a an the of to in on at for with from by and or but your our my their its is are was "
                      "were be that this these those as than so very just".split())


def _short(text: str, max_words: int = 6, max_chars: int = 40) -> str:
    """At most ``max_words`` words / ``max_chars`` characters of ``text``, never ending on a
    dangling function word ("Adopt a puppy from your" → "Adopt a puppy")."""
    words = text.strip().rstrip(".!?").split()
    out: list[str] = []
    for w in words:
        if len(out) >= max_words or len(" ".join(out + [w])) > max_chars:
            break
        out.append(w)
    cut = len(out) < len(words)
    while cut and len(out) > 2 and out[-1].lower().strip(",;:") in _DANGLING:
        out.pop()
    return " ".join(out).rstrip(",;:")


#: A line that addresses the audience ("Teens and young adults, this one's for you."): its picture is
#: the viewers, never the pack shot the end card closes on.
_ADDRESS = re.compile(r"this one's for you|listen up|calling all", re.I)


def _headline_from(narration: str) -> str:
    """The first clause of the narration, cut to 6 words / 40 characters."""
    first = re.split(r"(?<=[.!?;:])\s+|\s+[-–—]\s+", narration.strip())[0]
    clause = re.split(r",\s+", first)[0]
    base = clause if len(clause.split()) >= 2 else first
    return _short(base)


def _stat(text: str) -> tuple[str, str] | None:
    """``(value, label)`` for the first number in ``text``, e.g. ``("8", "gold medals")``."""
    quoted = [(q.start(), q.end()) for q in re.finditer(r"'[^']+'|\"[^\"]+\"|‘[^’]+’|“[^”]+”", text)]
    for m in _STAT_RX.finditer(text):
        if any(a <= m.start() < b for a, b in quoted):
            continue  # part of a name or a quote ("Goat 4 Sale"), not a figure
        if m.group("num"):
            digits = m.group("num").replace(",", "")
            if re.fullmatch(r"(19|20)\d\d", digits) and not m.group("pre"):
                continue  # a year, not a stat
            suf = (m.group("suf") or "").replace("×", "x").lower()
            pre = m.group("pre") or ""
            unit = _UNITS.get(suf)
            if unit in ("$", "€", "£"):
                pre, suf = unit, ""
            elif unit:
                suf = unit
            value = f"{pre}{m.group('num')}{suf}"
        else:
            value = m.group("word").lower()
            scale = (m.group("scale") or "").lower()
            sentence_start = not text[: m.start()].strip() or text[: m.start()].rstrip()[-1:] in ".!?:;"
            if not scale and (value == "two" or sentence_start):
                continue  # "Two bears raid a cabin" tells a story; "won eight" / "ten thousand" are figures
            n = _NUMBER_WORDS[value] * (_NUMBER_WORDS[scale] if scale else 1)
            value = f"{n:,}"
        rest = re.split(r"[.,;:!?]|\b(?:she|he|they|we|you|it|is|are|was|were|later|and|but|that|who|which)\b",
                        text[m.end():], maxsplit=1, flags=re.IGNORECASE)[0]
        kept = content_words_keep(rest)
        cut = next((k for k, w in enumerate(kept) if k and w.lower() in {"in", "at", "on", "for", "from", "by", "of", "to"}),
                   len(kept))
        label = _short(" ".join(kept[: min(cut, 4)]), 4, 28)
        before = re.split(r"[.!?;]", text[: m.start()])[-1]
        if (not label or len(label.split()) == 1) and len(before.split()) >= 2:
            # "free delivery to your door on orders over 20 dollars" → the clause before the number
            clause = re.split(r"\s+(?:on|over|under|for|at|with|from)\s+", re.sub(r"^\s*(and|but|so|or|yet)\s+", "", before,
                                                                                flags=re.IGNORECASE), maxsplit=1)[0]
            label = _short(clause, 5, 28) or label
        if not label:
            label = _short(" ".join(content_words_keep(text[: m.start()])[-3:]), 4, 28)
        return value, label
    return None


def content_words_keep(text: str) -> list[str]:
    """Words of ``text`` (original case) skipping leading articles/prepositions."""
    words = re.findall(r"[A-Za-z][A-Za-z'\-]*", text)
    skip = {"a", "an", "the", "of", "to", "in", "on", "for", "and", "with", "every", "our", "your"}
    while words and words[0].lower() in skip:
        words.pop(0)
    return words


def _list_items(text: str) -> list[str]:
    """3-4 short items when ``text`` enumerates them ("grip, speed and comfort")."""
    core = text.split(":", 1)[1] if ":" in text else text
    parts = [p.strip(" .!?") for p in _SPLIT_RX.split(core) if p and p.strip(" .!?")]
    if 3 <= len(parts) <= 4 and all(1 <= len(p.split()) <= 4 and len(p) <= 28 for p in parts):
        return parts
    return []


def derive_visual(scene: Scene, *, last: bool) -> VisualSpec:
    """A :class:`VisualSpec` for ``scene`` from its words (used while the planner leaves it default)."""
    if not _is_default(scene.visual):
        return scene.visual
    text = scene.on_screen_text or scene.narration
    keywords = content_words(scene.narration + " " + scene.on_screen_text)[:8]
    if last or scene.beat == "cta":
        head = _short(scene.on_screen_text or _headline_from(scene.narration), 6, 40)
        return VisualSpec(kind="end_card", headline=head, keywords=keywords)
    items = _list_items(scene.on_screen_text) or _list_items(scene.narration)
    if items:
        return VisualSpec(kind="list", headline=_short(scene.on_screen_text) if scene.on_screen_text else "",
                          keywords=keywords, items=items)
    stat = _stat(scene.on_screen_text) or _stat(scene.narration)
    if stat:
        value, label = stat
        return VisualSpec(kind="stat", headline=_headline_from(scene.narration), keywords=keywords,
                          stat_value=value[:12], stat_label=label)
    head = _short(text) if scene.on_screen_text else _headline_from(scene.narration)
    return VisualSpec(kind="hero", headline=head, keywords=keywords)


def _choice(m: AssetMatch) -> AssetChoice:
    return AssetChoice(id=m.asset.id, label=m.asset.label, score=round(m.score, 3), via=m.via,
                       licence=m.asset.licence, source=m.asset.source, file=str(m.asset.path))


def _emphasis(headline: str, keywords: Sequence[str], asset_label: str = "", brand: str = "") -> str:
    """The headline word to highlight: a number, else the brand, else the word naming the hero
    asset (shared 3-letter stem: "skiing" ~ "skier"), else the longest content word."""
    words = [w.strip(",.!?:;\"'") for w in headline.split()]
    for w in words:
        if any(ch.isdigit() for ch in w):
            return w
    brand_words = {_norm_word(b) for b in brand.split()} if brand else set()
    for w in words:
        if _norm_word(w) in brand_words and len(w) >= 3:
            return w
    stems = {x[:3] for x in content_words(asset_label) if len(x) >= 3}
    for w in words:
        if len(w) >= 4 and w.lower()[:3] in stems:
            return w
    cands = [w for w in words if w.lower() in set(content_words(headline))] or words
    return max(cands, key=len) if cands else ""


def match_scene_text(library: AssetLibrary, text: str, k: int = 3) -> list[AssetMatch]:
    """Assets for one line of narration as :func:`design_scenes` matches a default scene's hero."""
    kw = content_words(text)[:8]
    return library.match(kw, text, k=k)


def _named(m: AssetMatch, text: str) -> bool:
    """Whether ``text`` names the asset: one of its words (singular) is the asset's label or a tag."""
    names = {m.asset.label.lower(), *(t.lower() for t in m.asset.tags)}
    words = [w.lower() for w in content_words(text)]
    return any(w in names or (w.endswith("s") and w[:-1] in names) for w in words)


def _label_said(label: str, text: str) -> bool:
    """Whether ``text`` says a word of the asset's label ("tickets" → "admission tickets"), singular
    or plural; a tag match ("water" → shower) does not count."""
    label_words = {w.lower().rstrip("s") for w in content_words(label)}
    return any(w.lower().rstrip("s") in label_words for w in content_words(text))


def _strip_brand(text: str, brand_words: set[str]) -> str:
    if not brand_words:
        return text
    return " ".join(w for w in text.split() if _norm_word(w) not in brand_words)


def _norm_word(w: str) -> str:
    return "".join(ch for ch in w.lower() if ch.isalnum())


def design_scenes(scenes: Sequence[Scene], library: AssetLibrary | None, *, footage: object | None = None,
                  brand: str | None = None) -> list[SceneDesign]:
    """Designs for all scenes of a video, in order (heroes never repeat within the video).

    Args:
        scenes: the plan's scenes.
        library: the asset library (``None``: typography only).
        footage: optional ``processors.motion.footage.FootageLibrary``; a photo scene uses it only
            above its own threshold.
        brand: the brand name; its words never drive matching ("Bloom & Crumb" is not a flower).

    Returns:
        One :class:`SceneDesign` per scene.
    """
    used: set[str] = set()
    used_footage: set[str] = set()
    out: list[SceneDesign] = []
    brand_words = {_norm_word(w) for w in (brand or "").split() if len(_norm_word(w)) >= 3}
    video_text = " ".join(s.narration for s in scenes)  # names the occasion (Christmas, Halloween) if any
    for i, scene in enumerate(scenes):
        v = derive_visual(scene, last=i == len(scenes) - 1)
        kw = [k for k in (list(v.keywords) or content_words(scene.narration)[:8]) if _norm_word(k) not in brand_words]
        narration = _strip_brand(scene.narration, brand_words)
        head = v.headline or (v.stat_label if v.kind == "stat" else "") or _headline_from(scene.narration)
        # a feeling a line soothes ("gentle care for nervous patients") is not what it shows: no
        # frightened face; a question ("Tired of waiting?") may show the problem
        soothing = not scene.narration.split(".")[0].rstrip().endswith("?")
        if soothing:
            kw = [k for k in kw if not NEGATIVE_FEELING.search(k)]
            narration = NEGATIVE_FEELING.sub(" ", narration)
        if library is not None:
            # what the on-screen words name comes first: the picture fits the headline even when
            # the planner's keywords drift ("paper lanterns" → a lantern, not a whale)
            shown = _strip_brand(head, brand_words).strip()
            if soothing:
                shown = " ".join(NEGATIVE_FEELING.sub(" ", shown).split())
            if shown and any(library.names_an_asset(w) for w in content_words(shown)) and shown not in kw:
                kw = [shown, *kw][:8]
        d = SceneDesign(index=i, kind=v.kind, visual=v, headline=head, emphasis=_emphasis(head, kw))
        if footage is not None and v.kind in ("photo", "hero", "kinetic"):
            pick = footage.best(_strip_brand(f"{head}. {scene.narration}", brand_words), used_footage)  # type: ignore[attr-defined]
            if pick is not None:
                item, score = pick
                d.kind = "photo"
                d.footage, d.footage_score = item.path, round(score, 3)
                d.footage_licence, d.footage_credit = item.licence, item.credit
                used_footage.add(item.id)
        if d.kind == "photo" and not d.footage:
            d.kind = "hero"
        if library is not None and d.kind != "photo":
            head_m = _strip_brand(head, brand_words)
            if soothing:
                head_m = " ".join(NEGATIVE_FEELING.sub(" ", head_m).split())
            context = narration if head_m.lower() in narration.lower() else f"{head_m}. {narration}"
            if v.kind == "stat":
                # the icon row shows what is counted ("8 gold medals" → medals, "4.9 stars" →
                # stars, "45 minutes" → a clock): matched on the number's unit and label only,
                # never on another word of the line ("driveway" → a row of motorways)
                unit = " ".join(re.findall(r"[A-Za-z][A-Za-z'-]*", v.stat_value or ""))
                counted = " ".join(x for x in (unit, v.stat_label) if x)
                matches = library.match([x for x in (unit, v.stat_label) if x], counted, k=3,
                                        occasion_text=video_text) if counted else []
                # an asset that is exactly the counted word ("stars" → star) leads the row
                exact = {w.lower().rstrip("s") for w in content_words(counted)} | {w.lower() for w in content_words(counted)}
                matches.sort(key=lambda m: m.asset.label.lower() not in exact)
            else:
                matches = library.match(kw, context, k=3, exclude=used, occasion_text=video_text)
                if d.kind in ("hero", "kinetic") and used:
                    # the subject was already a hero ("the goat" again) and nothing unused fits as
                    # well: show it small over the words rather than repeat the hero layout, drop
                    # the topic or show a weaker, unrelated picture
                    again = library.match(kw, context, k=1, occasion_text=video_text)
                    if again and again[0].asset.id in used and (
                            not matches or matches[0].score < again[0].score - REPEAT_MARGIN
                            or (_named(again[0], head_m) and not _named(matches[0], head_m))):
                        matches, d.kind = again, "kinetic"
            d.assets = [_choice(m) for k, m in enumerate(matches) if k == 0 or m.score >= SUPPORT_THRESHOLD]
            if v.kind == "list":
                d.item_assets = []
                for it in v.items:
                    ms = library.match(content_words(it) or [it], it, k=1, occasion_text=video_text)
                    d.item_assets.append(_choice(ms[0]) if ms else None)
        if d.kind == "end_card" and not (d.assets and d.assets[0].score >= END_CARD_OWN_MIN
                                         and _label_said(d.assets[0].label, scene.narration)):
            opening = next((o for o in out if o.kind == "hero" and o.assets
                            and not _ADDRESS.search(scenes[o.index].narration)), None)  # a product, not the audience
            if opening is not None:
                # the pack shot: the sign-off shows the subject the video opened on (a coffee cup,
                # not a teapot matched on "try it today"), as ads close on the product
                d.assets = opening.assets[:1]
                d.fallback = "end card: the opening hero (product shot)"
            elif d.assets and d.assets[0].score < END_CARD_THRESHOLD:
                d.assets = []  # a weak match on a sign-off line ("Best Buds" → headphones): a clean brand card
                d.fallback = "end card: brand and call to action only"
        d.emphasis = _emphasis(head, kw, d.assets[0].label if d.assets else "", brand or "")
        if d.assets and d.kind in ("hero", "kinetic", "end_card"):
            used.add(d.assets[0].id)
        if not d.assets and d.kind == "hero":
            d.kind = "kinetic"
            d.fallback = "no asset scored above the threshold"
        elif not d.assets and d.kind in ("kinetic", "stat", "list", "end_card"):
            d.fallback = "no asset scored above the threshold"
        out.append(d)
    return out
