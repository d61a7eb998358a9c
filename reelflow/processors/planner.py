"""Deterministic template planner: the embedded ``ScriptWriter``.

It turns a :class:`~core.models.Brief` into a :class:`~core.models.ScriptPlan` without any model:
the brief is parsed into *production directions* (``Show ...``, ``end with 'X'``, ``fast cuts``),
which become visual prompts, and *content* (product, benefit lists, story clauses, facts, the
quoted tagline), which becomes the narration, reusing the brief's own phrases. The scenes follow
a short-ad structure:

``hook → benefit/story beats → proof → call to action``

with 3-8 scenes (about 4 for 15 s, 6 for 30 s, 8 for 60-90 s). Narration is fitted to the scene
durations at :data:`core.models.WORDS_PER_SECOND` (every scene speaks at 50-100 % of that rate)
and the durations add up to ``brief.duration_s`` exactly (rounded to 0.01 s). Where the brief is
too thin to fill the time, short tone-matched lines (a hook, an audience line) are added; where
it is too long, clauses are split or dropped.

The output validates against the same pydantic schema as the OpenAI structured-output path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reelflow.core.errors import InputError
from reelflow.core.models import WORDS_PER_SECOND, Brief, Scene, ScriptPlan

NEGATIVE_PROMPT = "text, watermark, logo distortion, blurry, low quality, deformed hands, extra limbs"

#: Speaking rate the planner aims for (words/s); the hard limits are 0.5-1.0 × WORDS_PER_SECOND.
TARGET_WPS = 2.15
MIN_SCENE_S = 1.6

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

_PRODUCTION = {
    "video", "videos", "ad", "ads", "advert", "spot", "reel", "reels", "clip", "clips", "commercial",
    "cuts", "cut", "shot", "shots", "pacing", "music", "montage", "storytelling", "visible",
    "dialogue", "punchline", "twist", "escalation", "payoff", "logo", "card", "hashtag", "tagline",
    "slogan", "colours", "colors", "scene", "scenes", "camera", "voiceover", "b-roll", "footage",
    "vertical", "frame", "beats", "build", "pov", "cameo", "narrator", "voice-over", "visuals", "celebrity-led", "slapstick", "comedy", "short",
    "film", "trailer", "subscribe", "youtube", "channel", "http", "https", "www", "watch",
    "aired", "advertiser", "agency", "director", "directed", "copywriting", "upload", "uploaded",
    "commercials", "superbowl", "transcript", "credits", "starring", "featuring", "brandcenter",
    "cinematography", "production", "producer", "anunciante", "agencia", "dirección", "reclame",
}
_DIRECTION_START = re.compile(
    r"^(show|showing|feature|featuring|open|opening|end|ending|close|closing|finish|keep|use|include|"
    r"add|cut|make it|product visible|shot|film)\b",
    re.I,
)
_TONE_WORDS = {
    "upbeat", "energetic", "warm", "relaxed", "bold", "exciting", "playful", "funny", "nostalgic",
    "heartfelt", "heartwarming", "inspirational", "inspiring", "comedic", "absurd", "whimsical",
    "slapstick", "light-hearted", "epic", "celebratory", "uplifting", "patriotic", "emotional",
    "fast", "quick", "calm", "fun", "cosy", "cozy", "dramatic", "cinematic", "serious", "moody",
    "happy", "sad", "quirky", "witty", "premium", "minimal", "modern", "retro",
}
_CONJ_START = re.compile(r"^(yet|but|so|and|then|while|which|who|because|until|when|as|or|with|without)\b", re.I)
_META_SENTENCE = re.compile(
    r"(super ?bowl|commercial|youtube|subscribe|channel|follow (us|the)|http|www\.|\.com\b|"
    r"agency|advertiser|directed by|copywrit|brandcenter|uploaded|fair usage|fair use|"
    r"watch (the|this|our|it)|you can watch|tv spot|sb ?\d\d|\bad\b (agency|week)|"
    r"all rights reserved|©|\bcopyright|u\.s\.c|title 17|section 107|this post|fair use|research and|"
    r"educational purposes|no copyright|not own|rights belong|learn more|click here|check out|visit us|"
    r"link in bio|download (the|our)|available (now )?on|sign up)",
    re.I,
)

# keyword regex → concrete footage-like description (helps embedding match and real generators)
_VISUAL_LEXICON: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(p, re.I), v, t)
    for p, v, t in [
        (r"\b(coffee|espresso|latte|roast\w*|blend|brew\w*|caf[eé])\b", "a cup of coffee on a wooden table, warm morning light", "coffee"),
        (r"\b(trail\w*|hik\w+|gravel|rock|terrain|outdoors?|running|runners?|shoes?)\b", "trail runner on a gravel mountain path, outdoor adventure", "trailrunning"),
        (r"\b(cats?|kittens?)\b", "close-up of a curious cat", "cats"),
        (r"\b(squirrels?)\b", "a playful squirrel eating on a wooden table", "squirrel"),
        (r"\b(pets?|dogs?|pupp(y|ies))\b", "a happy puppy at home", "pets"),
        (r"\b(rockets?|launch\w*|lift-?off)\b", "a rocket launching into the sky with bright flames", "launch"),
        (r"\b(sky|stars?|space|galax\w*|universe|possibilit\w+|dreams?)\b", "deep space full of stars and galaxies", "space"),
        (r"\b(apps?|software|dashboards?|deploys?|developers?|startups?|teams?|code)\b", "a small team working on laptops with live dashboards", "startups"),
        (r"\b(photos?|vintage|generations?|history|nostalg\w*|heritage|memor\w+|19\d\d)\b", "vintage black and white photo, memories", "vintage"),
        (r"\b(bak\w+|bread|recipe|flour|loaf)\b", "fresh bread on a bakery counter", "bakery"),
        (r"\b(cars?|driv\w+|hybrid|vehicles?|road|brak\w+)\b", "a car driving on an open road", "cars"),
        (r"\b(bears?|cabin)\b", "bears near a forest cabin", "bears"),
        (r"\b(horses?|clydesdales?|farm)\b", "a Clydesdale horse on a green farm", "horses"),
        (r"\b(ski\w*|alpine|slopes?|snow)\b", "alpine skier racing down a snowy slope", "skiing"),
        (r"\b(medals?|podium|gold|champions?|won|wins?|winning|odds)\b", "athlete celebrating on the podium with a gold medal", "goldmedal"),
        (r"\b(football|stadium|fans|jerseys?|kick|game-day|sports?)\b", "cheering sports fans in a stadium", "sports"),
        (r"\b(astronauts?|mission)\b", "portrait of a smiling astronaut", "astronaut"),
        (r"\b(city|urban|street)\b", "busy city street", "city"),
        (r"\b(planet|nature|trees|whales|ice caps|eco\w*|green)\b", "green nature, trees and wildlife", "nature"),
        (r"\b(flights?|planes?|seats?|travel\w*|airport)\b", "passengers on a packed airplane", "travel"),
        (r"\b(goats?)\b", "a goat on a farm", "goat"),
        (r"\b(snacks?|chips|treats?|doritos|food|ingredients)\b", "close-up of tasty snacks", "snacks"),
        (r"\b(drinks?|soda|coke|pepsi|cola|beers?|brewery|fridge)\b", "an ice-cold drink with condensation", "drinks"),
        (r"\b(phones?|online|comments?|internet|social)\b", "person smiling while scrolling on a phone", "online"),
        (r"\b(famil\w+|kids?|child\w*|dads?|sons?|parents?|mom|mother|father)\b", "family moments at home", "family"),
        (r"\b(camera|filmmak\w+|creator)\b", "photographer with a camera on a tripod", "filmmaking"),
    ]
]

_BEAT_STYLE = {
    "hook": "dynamic eye-catching opening shot",
    "benefit": "close-up detail shot",
    "story": "cinematic storytelling shot",
    "proof": "authentic real-life moment",
    "cta": "hero shot, clean composition with space for text",
}


@dataclass(frozen=True)
class _ToneProfile:
    emotion: str
    instruction: str
    music: str
    hooks: tuple[str, ...]
    bridge: tuple[str, ...]


_TONES: list[tuple[tuple[str, ...], _ToneProfile]] = [
    (("upbeat", "energetic", "exciting", "bold", "hype", "fast"), _ToneProfile(
        "excited", "energetic, bright, smiling", "upbeat energetic pop, high energy, positive",
        ("Ready for more?", "This changes everything."),
        ("Feel the difference.", "No compromises.", "Go further, faster.", "Built for your best days."))),
    (("playful", "funny", "comedic", "absurd", "whimsical", "slapstick", "light-hearted", "quirky", "witty", "fun"), _ToneProfile(
        "playful", "playful, light, with comic timing", "playful quirky bouncy pop, fun",
        ("Wait for it.", "You won't believe this."),
        ("Some things are just irresistible.", "Worth every second.", "No regrets.", "Seriously, it happens."))),
    (("nostalgic", "heartfelt", "heartwarming", "emotional", "sentimental", "tender"), _ToneProfile(
        "tender", "warm, gentle, heartfelt", "nostalgic warm acoustic, gentle, emotional",
        ("Some things never change.", "Every great story starts somewhere."),
        ("Some bonds last forever.", "It was always worth it.", "Proud of where we come from.", "Made with heart, every time."))),
    (("inspirational", "inspiring", "epic", "celebratory", "triumphant", "uplifting", "patriotic", "motivational"), _ToneProfile(
        "inspired", "confident, rising, inspiring", "inspiring cinematic build, uplifting, powerful",
        ("What does it take?", "It starts with a dream."),
        ("Never give up.", "Together, anything is possible.", "Every step counts.", "This is what greatness looks like."))),
    (("warm", "relaxed", "calm", "cosy", "cozy", "chill", "soothing"), _ToneProfile(
        "calm", "warm, relaxed, friendly", "chill relaxed lo-fi, warm acoustic, mellow",
        ("Slow down for a moment.", "Good mornings start here."),
        ("Take your time.", "Simple pleasures, done right.", "Made to be savoured.", "Your moment, every day."))),
]
_DEFAULT_TONE = _ToneProfile(
    "confident", "clear, friendly, confident", "modern upbeat pop, positive",
    ("Here's something new.", "Take a closer look."),
    ("See it for yourself.", "Designed with you in mind.", "Quality you can feel.", "Made to make a difference."))
#: Tone-neutral closing lines used only when a brief is too thin to fill its duration.
_GENERIC_BRIDGES: tuple[str, ...] = (
    "Every detail matters.", "This is just the beginning.", "You deserve the best.",
    "See it for yourself.", "Made for moments like this.", "Don't miss it.",
    "Once you try it, you'll know.", "It's time to make your move.", "Big things are coming.",
    "Bring your friends along.", "Life's better when you share it.", "Stay curious.",
)


def _tone_profile(tone: str | None) -> _ToneProfile:
    words = set(re.findall(r"[a-z\-]+", (tone or "").lower()))
    for keys, prof in _TONES:
        if words & set(keys):
            return prof
    return _DEFAULT_TONE


# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------

_QUOTE = re.compile(r"(?<![\w])['\"]((?:[^'\"\n]|(?<=\w)'(?=\w)){2,80}?)['\"](?!\w)")
_TAGLINE_CUE = re.compile(
    r"(end|ends|ending|close|closes|closing|finish\w*|tagline|slogan|message|sign[- ]off|cta|call to action|line)"
    r"[^.;]{0,30}$",
    re.I,
)
_URL = re.compile(r"(https?://\S+|www\.\S+|\S+@\S+\.\w+|\S+\.(com|ly|net|org)/\S*)")
_HASHTAG = re.compile(r"(?<![\w&])#([A-Za-z][A-Za-z0-9_]{1,40})")
_WS = re.compile(r"\s+")


def _wc(text: str) -> int:
    return len(text.split())


def _camel_split(tag: str) -> str:
    s = re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", tag)
    return s.strip()


def _sentence(text: str) -> str:
    """Tidy a phrase into a spoken sentence: trimmed, capitalised, ending with punctuation."""
    s = _WS.sub(" ", text).strip(" ,;:-–—\"'")
    s = re.sub(r"\s+([,.!?])", r"\1", s)
    if not s:
        return s
    s = s[0].upper() + s[1:]
    if s[-1] not in ".!?":
        s += "."
    return s


def _strip_end(s: str) -> str:
    return s.strip().rstrip(".!?;:,").strip()


def _short_product(product: str, brand: str | None) -> str:
    """Name part of a product phrase: leading capitalised words ("TrailFox Grip trail running shoe" →
    "TrailFox Grip"), else the phrase itself."""
    words = product.split()
    caps = []
    for w in words:
        if w[:1].isupper() or w == "&" or w[:1].isdigit():
            caps.append(w)
        else:
            break
    name = " ".join(caps) if caps else product
    if brand and caps and name.lower() == brand.lower() and len(words) > len(caps):
        name = " ".join(words[: len(caps) + 1])
    return name.rstrip("'")


def _tag(text: str) -> str:
    parts = re.findall(r"[A-Za-z0-9]+", text.replace("'", ""))
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return "".join(p if p[:1].isupper() or p.isdigit() else p.capitalize() for p in parts)


# --------------------------------------------------------------------------------------------
# Brief analysis
# --------------------------------------------------------------------------------------------


@dataclass
class _Unit:
    """One candidate narration line."""

    text: str
    role: str  # hook | benefit | story | proof | cta | filler
    priority: int = 5  # lower = keep first
    order: int = 0
    visual: str = ""


@dataclass
class _Analysis:
    brand: str | None
    product: str | None
    product_full: str | None
    topic: str | None
    tagline: str | None
    hashtags: list[str] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)
    show_cues: list[str] = field(default_factory=list)
    end_cue: str | None = None
    pronoun: str | None = None


def _clean_text(text: str) -> tuple[str, list[str]]:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2014", " - ").replace("\u2013", " - ")
    hashtags = [m.group(1) for m in _HASHTAG.finditer(text)]
    text = _URL.sub(" ", text)
    # drop lines that are only hashtags / credits-like "Key: value" boilerplate
    text = re.sub(r"\.{2,}", ". ", text)
    raw_lines = [ln for ln in text.splitlines() if ln.strip()]
    lines = []
    for line in raw_lines:
        ls = line.strip(" •*-_=\t")
        if not ls:
            continue
        if re.fullmatch(r"(#\w+[\s,]*)+", ls):
            continue
        if len(raw_lines) > 1 and re.match(r"^[^:]{1,30}:\s*\S", ls) and _wc(ls) <= 6:
            continue  # credits ("Agency: X", "Director: Y")
        lines.append(ls if ls[-1] in ".!?:;'\"" else ls + ".")
    text = " ".join(lines)
    text = _WS.sub(" ", text).strip()
    return text, hashtags


def _split_sentences(text: str) -> list[str]:
    text = re.sub(r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|St|vs|No)\.\s", r"\1 ", text)
    parts = re.split(r"(?<=[.!?;])\s+(?=[\"'A-Z#])|;\s*", text)
    return [p.strip() for p in parts if p and p.strip(" .;")]


def _is_direction(clause: str) -> bool:
    c = clause.strip().lower()
    if not c:
        return True
    toks = re.findall(r"[a-z0-9][a-z0-9\-+]*", c)
    if not toks:
        return True
    if _DIRECTION_START.match(c):
        return True
    if any(t in _PRODUCTION for t in toks):
        return True
    if all(t in _TONE_WORDS or t in {"and", "with", "very", "a", "bit", "of", "tone", "feel", "vibe", "energy", "colours", "bright"} for t in toks):
        return True
    if re.search(r"\b(first|last|final)\s+(three|two|few|\d+)?\s*(seconds?|frames?)\b", c):
        return True
    return False


_LEAD_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(please\s+)?(make|create|produce|write|generate|build)\s+(me\s+)?(a|an)\s+[^:]*?\b(video|ad|advert|spot|reel|short|clip|commercial|story)\s+(about|on|for|showing|that shows|featuring|of)\s+", re.I), "topic"),
    (re.compile(r"^(a\s+)?\d+\s*[- ]?(second|sec|s)\b[^:]*?\b(video|ad|spot|reel|short|clip|commercial)\s+(about|for|on|of)\s+", re.I), "topic"),
    (re.compile(r"^(a\s+)?(short|quick|fun|vertical|punchy|bold|\w+)?\s*(ad|advert|video|spot|reel|commercial|teaser)\s+(for|about|on)\s+", re.I), "topic"),
    (re.compile(r"^(announce|introduce|introducing|promote|launch|present|presenting|celebrate)\s+", re.I), "announce"),
    (re.compile(r"^tell\s+", re.I), "story"),
    (re.compile(r"^(this|the)\s+(film|ad|spot|video|commercial|story)\s+(follows|shows|features|tells|is about|celebrates)\s+", re.I), "story"),
    (re.compile(r"^(comedy|drama|documentary|mini[- ]doc|animated|animation)\s*(short|spot|ad|piece)?\s*$", re.I), "drop"),
]


def _find_quotes(text: str) -> list[tuple[str, bool]]:
    """Quoted phrases and whether each is the closing tagline (cued by end/close/tagline...)."""
    out = []
    for m in _QUOTE.finditer(text):
        phrase = m.group(1).strip()
        if not phrase or not re.search(r"[A-Za-z]", phrase):
            continue
        before = text[max(0, m.start() - 45):m.start()]
        out.append((phrase, bool(_TAGLINE_CUE.search(before))))
    return out


def _find_product(text: str, brand: str | None) -> tuple[str | None, str | None]:
    """(short product name, phrase as written) from 'our new X' / "Brand's new X" / 'Brand X'."""
    m = re.search(r"\b((?:[Oo]ur|[Tt]he|[Aa]|[Ii]ts|[Tt]heir)\s+)?(?:all[- ])?new\s+([^,.:;!?()\"]{3,60})", text)
    if m:
        raw = m.group(2).strip()
        raw = re.split(r"\s+(?:that|which|with|for|to|who|is|are|helps?|delivered|made)\b", raw, maxsplit=1)[0]
        raw = raw.strip()
        if 1 <= len(raw.split()) <= 7:
            full = text[m.start():m.start() + len(m.group(0))].strip()
            pre = text[max(0, m.start() - 40):m.start()]
            pm = re.search(r"([A-Z][\w&]*(?:\s+(?:&\s+)?[A-Z][\w&]*)*)'s?\s*$", pre)
            if pm:
                return raw, f"{pm.group(1)}'s new {raw}" if not pm.group(0).rstrip().endswith("s'") else f"{pm.group(0).strip()} new {raw}"
            return raw, f"the new {raw}" if not full.lower().startswith("our") else f"our new {raw}"
    if brand:
        bm = re.search(re.escape(brand) + r"((?:\s+[A-Z][\w\-]+){1,3})(\s+(?:hybrid|treats?|app|shoes?|blend|phone|car|suv|truck|drink|beer|chips))?", text)
        if bm:
            name = (brand + bm.group(1) + (bm.group(2) or "")).strip()
            return name, name
    return None, None


def _infer_brand(text: str) -> str | None:
    m = re.search(r"\b([A-Z][\w&]+(?:\s+(?:&\s+)?[A-Z][\w&]+){0,2})'s?\s+(?:new|latest)\b", text)
    if m:
        return m.group(1)
    return None


def _split_list(body: str) -> list[str]:
    items = [i.strip() for i in re.split(r",\s*|\s+-\s+", body) if i.strip()]
    # "a, b and c" / "a, b, and c": the last item keeps its noun, drops the "and"
    if len(items) >= 2 and re.match(r"^and\s+\w+$|^and\s+(?:no|a|an|the)\s", items[-1], re.I):
        items[-1] = re.sub(r"^and\s+", "", items[-1], flags=re.I)
    return items


def _is_list(items: list[str]) -> bool:
    if len(items) < 2:
        return False
    if any(_CONJ_START.match(i) for i in items[1:]):
        return False
    return all(_wc(i) <= 9 for i in items)


def _pronoun(text: str) -> str | None:
    """Subject pronoun to restore on a split clause ("... and finds its way" → "It finds its way")."""
    low = text.lower()
    for pat, pron in ((r"\b(she|her)\b", "She"), (r"\b(he|his|him)\b", "He"), (r"\bits\b", "It")):
        if re.search(pat, low):
            return pron
    return None


def _fix_subject(part: str, left: str, pronoun: str | None) -> str:
    """Give a verb-initial clause split off a sentence a subject (or keep it joined by 'And')."""
    m = re.match(r"^(and|then|and then)\s+(\w+)(.*)$", part, re.I)
    if not m:
        return part
    verb = m.group(2)
    plural = bool(re.match(r"^(two|three|four|five|some|many|\w+s)\b", left.strip(), re.I)) and not verb.endswith("s")
    if plural and verb.lower() not in {"will", "can"}:
        return f"They {verb}{m.group(3)}"
    if pronoun and (verb.endswith("s") or verb.lower() in {"will", "can", "must"}):
        return f"{pronoun} {verb}{m.group(3)}"
    return part


def _condense(text: str, max_words: int, pronoun: str | None = None) -> list[str]:
    """Split a long sentence into <= max_words pieces at clause boundaries (no dangling ends).

    Only safe boundaries are used (", yet/but/so/then ...", ", " between long clauses, " and "
    between long clauses); a sentence without one is kept whole (the duration allocator gives it
    time) unless it is far too long, then it is cut after a content word.
    """
    text = _strip_end(text)
    if _wc(text) <= max_words:
        return [text]
    for pat, min_part in (
        (r",\s+(?=(?:yet|but|so|and then|then|while|until|because|who|which)\b)", 3),
        (r",\s+", 5),
        (r"\s+(?=(?:yet|but|and then|while|until|because|so that)\b)", 4),
        (r"\s+(?=and\b)", 4),
    ):
        parts = [p.strip() for p in re.split(pat, text) if p.strip()]
        if len(parts) > 1 and all(_wc(p) >= min_part for p in parts):
            out: list[str] = []
            for p in parts:
                if out and _wc(out[-1]) + _wc(p) <= max_words and not _CONJ_START.match(p):
                    out[-1] = out[-1] + ", " + p
                else:
                    fixed = _fix_subject(p, out[-1] if out else "", pronoun) if out else p
                    out.extend(_condense(fixed, max_words, pronoun))
            return out
    if _wc(text) <= int(max_words * 1.6):
        return [text]
    words = text.split()[:max_words]
    while words and words[-1].lower().strip(",") in _TRAILING_STOP:
        words.pop()
    return [" ".join(words)]


def _analyse(brief: Brief) -> _Analysis:
    text, hashtags = _clean_text(brief.text)
    brand = (brief.brand or "").strip() or _infer_brand(text)
    quotes = _find_quotes(text)
    tagline = next((q for q, is_tag in reversed(quotes) if is_tag), None)
    product, product_full = _find_product(text, brand)
    an = _Analysis(brand=brand or None, product=product, product_full=product_full, topic=None,
                   tagline=tagline, hashtags=hashtags, pronoun=_pronoun(text))

    order = 0
    for sent in _split_sentences(text):
        # "Brand 2006 Super Bowl commercial where fans ..." → "fans ..."
        sent = re.sub(r"^.*?\b(?:commercials?|ads?|advert|spot|video)\b[^.]{0,40}?\b(?:where|in which|about|featuring|that shows|showing|shows)\s+",
                      "", sent, flags=re.I)
        sent = re.sub(r",\s*[^,]*\b(?:commercials?|ad|advert)\b[^,]*$", "", sent, flags=re.I)
        sent = sent[:1].upper() + sent[1:]
        if _META_SENTENCE.search(sent) and not re.search(r"\b(show|end|close)\b", sent, re.I):
            # YouTube-description boilerplate; keep only clauses that carry no meta words
            continue
        # quoted tagline clauses, hashtags → not narration
        lead, colon, body = sent.partition(":")
        segments: list[tuple[str, bool]] = []  # (text, is_after_colon_list)
        if colon and body.strip():
            lead_s = lead.strip()
            handled = False
            for pat, _kind in _LEAD_PATTERNS:
                if pat.match(lead_s):
                    order += 1
                    lead_unit = _classify_clause(lead_s, an, False, order)
                    if lead_unit is not None:
                        an.units.append(lead_unit)
                    handled = True
                    break
            if not handled:
                if _is_direction(lead_s):
                    an.show_cues.append(_strip_end(re.sub(r"^(show|showing)\s+", "", lead_s, flags=re.I)))
                elif _wc(lead_s) <= 6 and not re.search(r"\b(is|are|was|were|has|have|gets?|finds?)\b", lead_s):
                    an.topic = an.topic or _strip_end(lead_s)
                else:
                    segments.append((lead_s, False))
            items = _split_list(body.strip())
            if _is_list(items):
                for it in items:
                    segments.append((it, True))
            else:
                segments.append((body.strip(), False))
        else:
            segments.append((sent, False))

        for seg, is_item in segments:
            seg = _strip_end(seg)
            if not seg:
                continue
            clauses = [seg] if is_item else _split_list(seg) if _is_list(_split_list(seg)) else [seg]
            for clause in clauses:
                clause = _strip_end(clause)
                order += 1
                unit = _classify_clause(clause, an, is_item or len(clauses) > 1, order)
                if unit is not None:
                    an.units.append(unit)
    return an


def _classify_clause(clause: str, an: _Analysis, is_item: bool, order: int) -> _Unit | None:
    c = _fix_subject(clause.strip(), "", an.pronoun)
    low = c.lower()
    # drop quoted taglines / hashtags mentions from narration text
    if an.tagline and an.tagline.lower() in low and re.search(r"(end|close|tagline|message|slogan|with|on)\b", low):
        m = re.match(r"^(?:show|showing)\s+(.*?)\s+(?:and|then)\s+(?:end|close|finish)", c, re.I)
        if m:  # "Show the cosy morning ritual and close on 'X'" keeps its visual cue
            an.show_cues.append(_strip_end(m.group(1)))
        return None
    if re.search(r"\bhashtag\b|#\w", low):
        return None
    for pat, kind in _LEAD_PATTERNS:
        m = pat.match(c)
        if m:
            rest = _strip_end(c[m.end():])
            if kind == "drop" or not rest:
                return None
            if kind in ("topic", "announce"):
                an.topic = an.topic or rest
                rest = re.sub(r"\s+(?:in|with)\s+(?:a\s+)?(?:few|\d+|several)\s+(?:quick\s+)?(?:beats|scenes|shots|steps)\b.*$", "", rest, flags=re.I)
                if kind == "announce":
                    verbish = re.search(r"\b(is|are|helps?|makes?|gets?|brings?|will)\b", rest, re.I)
                    line = rest if verbish else f"Big news: {rest} is here"
                    return _Unit(_sentence(line), "hook", 1, order)
                return None
            if kind == "story":
                rest = re.sub(r"\s+(?:in|with)\s+(?:a\s+)?(?:few|\d+|several)\s+(?:quick\s+)?(?:beats|scenes|shots|steps)\b.*$", "", rest, flags=re.I)
                return _Unit(_sentence(rest), "story", 3, order)
    m = re.match(r"^(?:show|showing|feature|featuring)\s+(.*)$", c, re.I)
    if m:
        an.show_cues.append(_strip_end(m.group(1)))
        return None
    m = re.match(r"^(?:end|ending|close|closing|finish|finishing)\s+(?:on|with)\s+(.*)$", c, re.I)
    if m:
        cue = _strip_end(m.group(1))
        if not (an.tagline and an.tagline.lower() in cue.lower()):
            an.end_cue = cue
        return None
    m = re.match(r"^(.*?)\b(?:show|shows|showing)\s+why\s+(.*)$", c, re.I)
    if m:  # "A curious cat and a playful squirrel show why X" → cue + content X
        an.show_cues.append(_strip_end(m.group(1)))
        return _Unit(_sentence(m.group(2)), "hook", 1, order)
    m = re.match(r"^(montage|sequence|series)\s+of\s+(.*)$", c, re.I)
    if m:
        an.show_cues.append(_strip_end(m.group(2)))
        return None
    if _is_direction(c):
        vis = re.sub(r"^.*?\bwith\s+", "", c) if " with " in c else ""
        if vis and not _is_direction(vis.replace("shots", "")):
            an.show_cues.append(_strip_end(vis))
        elif re.search(r"\b(photos?|turning into|shots?)\b", low) and " with " in c:
            an.show_cues.append(_strip_end(c.split(" with ", 1)[1]))
        return None
    if re.match(r"^(imagine|what if|picture)\b", low) or c.endswith("?"):
        return _Unit(_sentence(c), "hook", 0, order)
    if an.product and low.startswith(("our new", "the new", "new ")):
        return None  # the product intro line is generated from the product phrase
    if re.search(r"\b(since\s+1[89]\d\d|since\s+20\d\d|\d+\s*(%|km|miles|years|generations|million|billion)|award|approved|certified|rated|tested|trusted|#1|number one|guarantee)", low):
        role = "proof" if is_item else "story"
        if is_item:
            return _Unit(_sentence(c), "proof", 2, order)
        return _Unit(_sentence(c), role, 2, order)
    words = c.split()
    while len(words) > 2 and words[-1].lower() in _TRAILING_STOP:
        words.pop()  # "... at" left by a removed URL
    c = " ".join(words)
    if sum(1 for w in words if re.search(r"[A-Za-z]{3,}", w)) < (1 if is_item else 3):
        return None
    if is_item:
        return _Unit(_sentence(c), "benefit" if (an.product or an.tagline) else "story", 2, order)
    return _Unit(_sentence(c), "story", 3, order)


# --------------------------------------------------------------------------------------------
# Planner
# --------------------------------------------------------------------------------------------


def _title_phrase(text: str) -> str:
    """A title-length phrase from a narration line: its first clause, at most 8 words."""
    first = _strip_end(re.split(r"[,.;:!?]\s", text)[0])
    words = first.replace("'", " ").replace('"', " ").split()[:8]
    while len(words) > 2 and words[-1].lower() in _TRAILING_STOP | {"do", "does", "did", "get", "gets", "make", "makes"}:
        words.pop()
    return " ".join(words)


def _scene_count(duration_s: float) -> int:
    if duration_s <= 10:
        return 3
    if duration_s <= 17:
        return 4
    if duration_s <= 24:
        return 5
    if duration_s <= 36:
        return 6
    if duration_s <= 50:
        return 7
    return 8


def _audience_phrase(audience: str | None) -> str | None:
    if not audience:
        return None
    first = re.split(r"[,;/(]", audience)[0].strip()
    first = re.sub(r"\s*\b\d+\s*[-–+]\s*\d*\+?|\b\d+\+", "", first).strip()
    first = re.sub(r"^(adults|people|everyone|general audience|all ages)$", "", first, flags=re.I).strip()
    if not first or _wc(first) > 6:
        return None
    return first


def _visual_for(text: str, fallback_text: str) -> str:
    for source in (text, fallback_text):
        for pat, desc, _ in _VISUAL_LEXICON:
            if pat.search(source):
                return desc
    return ""


def _visuals_all(text: str) -> list[str]:
    """Every concrete footage description whose keywords occur in ``text`` (lexicon order)."""
    return [desc for pat, desc, _ in _VISUAL_LEXICON if pat.search(text)]


def _topic_tags(text: str) -> list[str]:
    return [tag for pat, _, tag in _VISUAL_LEXICON if pat.search(text)]


_TRAILING_STOP = {"the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "from", "at", "is", "are",
                  "your", "our", "its", "their", "her", "his", "every", "all", "some", "more", "most", "very", "will",
                  "would", "can", "could", "be", "was", "were", "that", "this", "these", "those", "by", "as", "into",
                  "than", "but", "yet", "so", "who", "which", "what", "how", "about", "like", "just"}


def _on_screen(text: str, max_words: int = 5) -> str:
    t = _strip_end(text.split(". ")[0] if ". " in text else text)
    t = re.sub(r"^(meet|and|but|yet|so|then)\s+", "", t, flags=re.I)
    words = t.split()
    if len(words) > max_words:
        words = words[:max_words]
        while words and words[-1].lower().strip(",") in _TRAILING_STOP:
            words.pop()
    out = " ".join(words)
    return out[:1].upper() + out[1:] if out else out


class _Seen(set):
    """Set of spoken lines compared without case or end punctuation ("Ready?" == "ready.")."""

    @staticmethod
    def _k(text: str) -> str:
        return _strip_end(text).lower()

    def add(self, text: str) -> None:  # type: ignore[override]
        super().add(self._k(text))

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and super().__contains__(self._k(text))

    def __ior__(self, other):  # type: ignore[override]
        for t in other:
            self.add(t)
        return self


class TemplatePlanner:
    """Deterministic, offline ``ScriptWriter``: a short-ad template filled from the brief.

    The same brief always gives the same plan. No network, no model, ~1 ms per plan.

    Attributes:
        provider: ``"local-template"``.
        model: ``"template-v1"``.
    """

    provider = "local-template"
    model = "template-v1"

    async def write_plan(self, brief: Brief) -> ScriptPlan:
        """Async port method; see :meth:`plan`."""
        return self.plan(brief)

    def plan(self, brief: Brief) -> ScriptPlan:
        """Write the plan for ``brief``.

        Args:
            brief: the validated brief.

        Returns:
            A :class:`~core.models.ScriptPlan` with 3-8 scenes whose ``duration_s`` add up to
            ``brief.duration_s`` (±0.01 s) and whose narration speaks at 50-100 % of
            :data:`~core.models.WORDS_PER_SECOND` in every scene.

        Raises:
            InputError: the brief holds no usable words (names the field and the fix).
        """
        if not re.search(r"[A-Za-z]{2,}", brief.text):
            raise InputError("brief text has no words to build a script from",
                             hint="describe the product, its benefits and the audience in plain words")
        an = _analyse(brief)
        prof = _tone_profile(brief.tone)
        n = _scene_count(brief.duration_s)
        D = float(brief.duration_s)

        brand = an.brand
        topic = _strip_end(an.topic) if an.topic and _wc(an.topic) <= 6 else None
        used = _Seen()
        bridges = list(prof.bridge + _GENERIC_BRIDGES)

        # ---- call to action (tagline > hashtag phrase > topic > tone sign-off)
        if an.tagline:
            tl = _sentence(an.tagline)
            call_to_action = tl
            lead = None
            if brand and brand.lower() not in tl.lower():
                short = _short_product(an.product, brand) if an.product else None
                lead = short if short and brand.lower() in short.lower() and _wc(short) <= 3 else brand
            cta_line = f"{lead}. {tl}" if lead else tl
        else:
            tagish = next((_camel_split(h) for h in an.hashtags if not brand or _tag(brand).lower() != h.lower()), None)
            if tagish and brand:
                tagish = re.sub(re.escape(brand), "", tagish, flags=re.I).strip() or tagish
            if an.product and not tagish and (re.search(r"[A-Z]", _short_product(an.product, brand)) or not brand):
                short = _short_product(an.product, brand)
                cta_line = f"{short}. See it for yourself."
                call_to_action = f"Discover {short} today."
                used.add("see it for yourself.")
            else:
                closer = tagish or topic or bridges[0]
                used.add(_sentence(closer).lower())
                cta_line = f"{brand}. {_sentence(closer)}" if brand else _sentence(closer)
                call_to_action = _sentence(cta_line)
        cta = _Unit(_sentence(cta_line), "cta", 0, 10_000)

        # ---- hook
        hooks = sorted([u for u in an.units if u.role == "hook"], key=lambda u: (u.priority, u.order))
        body = [u for u in an.units if u.role != "hook"]
        intro: _Unit | None = None
        if an.product and an.product_full:
            pf = an.product_full
            intro = _Unit(_sentence(f"Meet {pf}" if re.search(r"\bnew\b|'", pf) else f"Meet the new {pf}"), "hook", 1, 0)
        if hooks:
            hook, rest_hooks = hooks[0], hooks[1:]
            if intro is not None:
                body.insert(0, _Unit(intro.text, "benefit", 1, 0))
        elif intro is not None:
            hook, rest_hooks = intro, []
        elif body and body[0].role == "story":
            hook, rest_hooks = body.pop(0), []
        elif topic:
            hook, rest_hooks = _Unit(_sentence(topic), "hook", 1, 0), []
        else:
            hook, rest_hooks = _Unit(prof.hooks[0], "hook", 4, 0), []
        for u in rest_hooks:
            u.role = "story"
        body = rest_hooks + body

        # ---- condense long lines at clause boundaries
        pronoun = _pronoun(brief.text)
        per_scene_cap = max(9, int(round(WORDS_PER_SECOND * D / n * 1.4)))
        hook_parts = _condense(hook.text, min(per_scene_cap, 15), pronoun)
        hook = _Unit(_sentence(hook_parts[0]), "hook", hook.priority, hook.order)
        condensed = [_Unit(_sentence(p), "story", 3, hook.order) for p in hook_parts[1:]]
        for u in body:
            for p in _condense(u.text, per_scene_cap, pronoun):
                condensed.append(_Unit(_sentence(p), u.role, u.priority, u.order))
        used |= {hook.text.lower(), cta.text.lower()}
        body = []
        for u in condensed:
            if u.text.lower() not in used:
                used.add(u.text.lower())
                body.append(u)

        if _wc(hook.text) < 4 and body and _wc(hook.text) + _wc(body[0].text) <= per_scene_cap:
            hook = _Unit(f"{hook.text} {body.pop(0).text}", "hook", hook.priority, hook.order)
        # ---- short lines (< 4 words) join their neighbour: "Smooth." + "Fresh-roasted." ...
        i = 0
        while i < len(body):
            if _wc(body[i].text) < 4 and len(body) > 1:
                j = i + 1 if i + 1 < len(body) else i - 1
                a, b = sorted((i, j))
                if _wc(body[a].text) + _wc(body[b].text) <= per_scene_cap:
                    body[a:b + 1] = [_Unit(f"{body[a].text} {body[b].text}", body[a].role, min(body[a].priority, body[b].priority), body[a].order)]
                    continue
            i += 1

        # ---- filler pool (brief-derived first, generic last; each used at most once)
        aud = _audience_phrase(brief.audience)
        pool: list[_Unit] = []
        for cue in an.show_cues:
            cue = re.sub(r"\s+as\s+.*$", "", cue) if _wc(cue) > 10 else cue
            if cue and 3 <= _wc(cue) <= 14 and not _is_direction(cue) and not re.search(r"\b(energy|shots?)\b", cue, re.I):
                pool.append(_Unit(_sentence(cue), "story", 5, 7_000 + len(pool)))
        if aud:
            pool.append(_Unit(f"Made for {aud}." if an.product else f"For all the {aud} out there.", "proof", 6, 9_000))
        if brand:
            pool.append(_Unit(f"Only from {brand}." if an.product else f"Brought to you by {brand}.", "proof", 8, 9_500))
        for j, line in enumerate(bridges):
            pool.append(_Unit(line, "story", 9, 9_600 + j))

        def take() -> _Unit | None:
            while pool:
                u = pool.pop(0)
                if u.text.lower() not in used:
                    used.add(u.text.lower())
                    return u
            return None

        middle_slots = n - 2
        while len(body) > middle_slots:
            best = None
            for i in range(len(body) - 1):
                joined = _wc(body[i].text) + _wc(body[i + 1].text)
                if joined <= per_scene_cap and (best is None or joined < best[0]):
                    best = (joined, i)
            if best is not None:
                i = best[1]
                a, b = body[i], body[i + 1]
                body[i:i + 2] = [_Unit(f"{a.text} {b.text}", a.role if a.role != "story" else b.role,
                                       min(a.priority, b.priority), a.order)]
            else:
                body.pop(max(range(len(body)), key=lambda j: (body[j].priority, body[j].order)))
        # brief-derived fillers may take free slots; generic lines only when words are short
        while len(body) < middle_slots and pool and pool[0].priority < 9 and (u := take()) is not None:
            body.append(u)
        body.sort(key=lambda u: (u.priority >= 9, u.role == "proof", u.order))

        scenes_u = [hook] + body + [cta]

        # ---- word budget: total words inside the speaking-rate window
        max_total = WORDS_PER_SECOND * D * 0.92
        min_total = WORDS_PER_SECOND * D * 0.5 * 1.04

        def total() -> int:
            return sum(_wc(u.text) for u in scenes_u)

        def shrink_once() -> bool:
            order_ = sorted(range(len(scenes_u) - 1), key=lambda k: -_wc(scenes_u[k].text))
            for j in order_:
                u = scenes_u[j]
                sents = re.split(r"(?<=[.!?])\s+", u.text)
                if len(sents) > 1:
                    u.text = " ".join(sents[:-1])
                    return True
                parts = _condense(u.text, max(4, _wc(u.text) - 3), pronoun)
                if _wc(parts[0]) < _wc(u.text):
                    u.text = _sentence(parts[0])
                    return True
            if len(scenes_u) > 3:
                mids = range(1, len(scenes_u) - 1)
                scenes_u.pop(max(mids, key=lambda k: (scenes_u[k].priority, _wc(scenes_u[k].text))))
                return True
            words = scenes_u[0].text.split()
            if len(words) > 4:  # last resort: cut the hook after a content word
                words = words[: max(4, len(words) - 3)]
                while len(words) > 2 and words[-1].lower().strip(",") in _TRAILING_STOP:
                    words.pop()
                scenes_u[0].text = _sentence(" ".join(words))
                return True
            return False

        guard = 0
        while total() > max_total and guard < 80 and shrink_once():
            guard += 1
        hook_prefixed = False
        while total() < min_total:
            if len(scenes_u) < min(8, n) and pool:
                u = take()
                if u is not None:
                    pos = len(scenes_u) - 1
                    scenes_u.insert(pos, u)
                    continue
            if not hook_prefixed and _wc(scenes_u[0].text) <= 10:
                hook_prefixed = True
                line = next((h for h in prof.hooks if h.lower() not in used), None)
                if line:
                    used.add(line.lower())
                    scenes_u[0].text = f"{line} {scenes_u[0].text}"
                    continue
            u = take()
            if u is None:
                break
            mid = range(1, len(scenes_u) - 1)
            j = min(mid, key=lambda k: (-scenes_u[k].priority, _wc(scenes_u[k].text)))
            scenes_u[j].text = f"{scenes_u[j].text} {u.text}"

        # no scene may speak fewer than 3 words (a short scene would fall under half speaking rate)
        k = 1
        while k < len(scenes_u) - 1 and len(scenes_u) > 3:
            if _wc(scenes_u[k].text) < 3:
                nb = k - 1 if k - 1 >= 1 or k + 1 >= len(scenes_u) - 1 else k + 1
                a_, b_ = sorted((k, nb))
                scenes_u[a_:b_ + 1] = [_Unit(f"{scenes_u[a_].text} {scenes_u[b_].text}", scenes_u[a_].role,
                                             min(scenes_u[a_].priority, scenes_u[b_].priority), scenes_u[a_].order)]
                continue
            k += 1

        # brand must be heard
        if brand and not any(brand.lower() in u.text.lower() for u in scenes_u):
            scenes_u[-1].text = f"{brand}. {scenes_u[-1].text}"

        durations = _allocate(D, [_wc(u.text) for u in scenes_u])

        # ---- visuals
        global_ctx = " ".join([brief.text, an.product or "", an.topic or ""])
        cues = [c for c in an.show_cues if c]
        scenes: list[Scene] = []
        used_visuals: set[str] = set()
        for i, (u, d) in enumerate(zip(scenes_u, durations, strict=True)):
            role = "cta" if i == len(scenes_u) - 1 else ("hook" if i == 0 else u.role if u.role in ("benefit", "story", "proof") else "story")
            cue = ""
            if role == "cta" and an.end_cue:
                cue = an.end_cue
            elif cues and 0 < i < len(scenes_u) - 1:
                cue = cues[(i - 1) % len(cues)]
            elif role == "hook" and cues:
                cue = cues[0]
            local = _visuals_all(u.text + " " + cue)
            candidates = local + [v for v in _visuals_all(global_ctx) if v not in local]
            fresh = [v for v in candidates if v not in used_visuals]
            concrete = (fresh or candidates or [""])[0]
            used_visuals.add(concrete)
            subject_bits = _strip_end(re.sub(r"^(meet|for all the|made for|only from|brought to you by)\s+", "", u.text, flags=re.I))
            subject_bits = re.sub(r"\s+out there$", "", subject_bits)
            if role == "cta" and (an.product or brand):
                subject_bits = f"{an.product or brand} hero shot"
            parts = [p for p in (concrete, _strip_end(cue), subject_bits, _BEAT_STYLE[role]) if p]
            visual = ", ".join(dict.fromkeys(parts))[:590]
            if role == "cta" and an.tagline:
                ost = _on_screen(an.tagline, 6)
            elif role == "hook" and an.product:
                ost = _on_screen(an.product, 5)
            else:
                ost = _on_screen(u.text, 5)
            instr = prof.instruction
            if role == "hook":
                instr += "; grab attention in the first second"
            elif role == "cta":
                instr += "; clear and confident, land the final line"
            scenes.append(Scene(
                index=i, beat=role, narration=_sentence(u.text)[:600], visual_prompt=visual,
                negative_prompt=NEGATIVE_PROMPT, duration_s=d, on_screen_text=ost[:80],
                voice_instruction=instr[:300], emotion=prof.emotion,
            ))

        # ---- metadata
        first_content = next((u.text for u in an.units), scenes[0].narration)
        title_tail = an.tagline or (an.product and _short_product(an.product, None)) or topic or _title_phrase(first_content)
        title_tail = title_tail[:1].upper() + title_tail[1:]
        if brand and brand.lower() not in title_tail.lower():
            title = f"{brand}: {_strip_end(title_tail)}"
        else:
            title = _strip_end(title_tail)
        title = title[:100]
        hashtags = self._hashtags(brief, an)
        music_mood = self._music(brief, an, prof)
        desc_parts = [scenes[0].narration]
        mids = [s.narration for s in scenes[1:-1] if s.beat in ("benefit", "proof")]
        if mids:
            desc_parts.append(" ".join(mids[:2]))
        desc_parts.append(scenes[-1].narration)
        description = " ".join(desc_parts)[:2200]
        return ScriptPlan(
            title=title or "New video",
            hook=scenes[0].narration[:200],
            scenes=scenes,
            description=description,
            hashtags=hashtags,
            music_mood=music_mood[:300],
            call_to_action=call_to_action[:200],
        )

    @staticmethod
    def _hashtags(brief: Brief, an: _Analysis) -> list[str]:
        tags: list[str] = []
        if an.brand:
            tags.append(_tag(an.brand))
        if an.product and (not an.brand or _tag(_short_product(an.product, an.brand)).lower() != _tag(an.brand).lower()):
            pt = _tag(_short_product(an.product, an.brand))
            if len(pt) <= 30:
                tags.append(pt)
        tags.extend(an.hashtags)
        if an.tagline and _wc(an.tagline) <= 4:
            tags.append(_tag(an.tagline))
        ctx = " ".join(u.text for u in an.units) + " " + (an.topic or "") + " " + " ".join(an.show_cues)
        tags.extend(_topic_tags(ctx)[:3])
        platform_tags = {"tiktok": ["fyp"], "reels": ["reels"],
                         "shorts": ["shorts"], "youtube": []}
        tags.extend(platform_tags.get(str(brief.platform.value), []))
        out: list[str] = []
        for t in tags:
            t = t.lstrip("#")
            if t and t.lower() not in {o.lower() for o in out}:
                out.append("#" + t)
        return out[:10]

    @staticmethod
    def _music(brief: Brief, an: _Analysis, prof: _ToneProfile) -> str:
        parts: list[str] = []
        if brief.music:
            parts.append(brief.music.strip())
        if brief.tone:
            parts.append(brief.tone.strip())
        parts.append(prof.music)
        aud = _audience_phrase(brief.audience)
        if aud:
            parts.append(f"for {aud}")
        topic_vis = _visual_for(" ".join(u.text for u in an.units) + " " + (an.topic or ""), brief.text)
        if topic_vis:
            parts.append(topic_vis.split(",")[0])
        return ", ".join(dict.fromkeys(p for p in parts if p))


def _allocate(total_s: float, words: list[int]) -> list[float]:
    """Scene durations (s) summing to ``total_s`` with words/s inside [0.5, 1.0] × WORDS_PER_SECOND.

    Durations follow the word counts (plus a small pause allowance) and are clamped to each
    scene's feasible window by bisection on the common scale; the rounding residue goes to the
    longest scene.
    """
    wps_hi = WORDS_PER_SECOND * 0.98
    wps_lo = WORDS_PER_SECOND * 0.5 * 1.04
    lo = [max(w / wps_hi, MIN_SCENE_S) for w in words]
    hi = [max(w / wps_lo, l) for w, l in zip(words, lo, strict=True)]
    weights = [w + 1.2 for w in words]

    def dur(k: float) -> list[float]:
        return [min(max(k * wt, a), b) for wt, a, b in zip(weights, lo, hi, strict=True)]

    a, b = 0.0, total_s * 10
    for _ in range(80):
        mid = (a + b) / 2
        if sum(dur(mid)) < total_s:
            a = mid
        else:
            b = mid
    raw = dur(b)
    if sum(raw) < total_s - 0.01:  # too few words to fill the time: everyone slows down alike
        free = total_s - sum(lo)
        raw = [a_ + free * wt / sum(weights) for a_, wt in zip(lo, weights, strict=True)]
    d = [round(x, 2) for x in raw]
    resid = round(total_s - sum(d), 2)
    j = max(range(len(d)), key=lambda i: hi[i] - d[i] if resid > 0 else d[i] - lo[i])
    d[j] = round(d[j] + resid, 2)
    return d
