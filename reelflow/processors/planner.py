"""The embedded ``ScriptWriter``: brief → :class:`~reelflow.core.models.ScriptPlan`, offline.

Three named steps, each its own module:

1. :func:`reelflow.processors.brief_analysis.analyze_brief` — what to say (brand, product, key
   facts, offer, story, required lines) vs how to make it (production notes, never spoken);
2. :func:`reelflow.processors.copywriter.write_copy` — spoken ad copy to a word budget (hook
   variants scored, every fact a whole sentence, CTA with the brand and the closing line last);
3. this module — scenes with the one scene contract (:class:`~reelflow.core.models.VisualSpec`:
   numbers → ``stat``, benefit lists → ``list``, CTA → ``end_card``, product/subject → ``hero``,
   other lines ``kinetic``/``photo``), estimated durations, title/description/hashtags/music.
   A stat card keeps its unit and names what it measures (:func:`_stat`), else the line is kinetic;
   a line saying two figures is a list; a list is introduced ("Why Copperline?"), not titled with
   the hero's words; headlines are complete phrases that keep an offer whole (:func:`_headline`).

Scene durations here are estimates at :data:`reelflow.processors.pacing.VOICE_WPS`; the flow
replaces them with lengths from the measured utterances (:mod:`reelflow.processors.pacing`).

:func:`check_plan` holds the rules every plan must meet (offline or LLM): brand said, no
production notes spoken, required closing line last, lengths within the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelflow.core.errors import InputError
from reelflow.core.models import Brief, PlannedScript, Scene, ScriptPlan, VisualSpec
from reelflow.processors.brief_analysis import PLATFORM_WORDS, BriefAnalysis, analyze_brief
from reelflow.processors.copywriter import _PRODUCT_VERBS, Copy, Line, keywords_for, sentence, word_count, write_copy
from reelflow.processors.motion.assets import NEGATIVE_FEELING
from reelflow.processors.pacing import END_MIN_S, LEAD_IN_S, VOICE_WPS, build_timeline, max_words, target_speech_s

NEGATIVE_PROMPT = "text, watermark, logo distortion, blurry, low quality, deformed hands, extra limbs"

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


_TONES: list[tuple[tuple[str, ...], _ToneProfile]] = [
    (("upbeat", "energetic", "exciting", "bold", "hype", "fast", "punchy", "lively"),
     _ToneProfile("excited", "energetic, bright, smiling", "upbeat energetic pop, high energy, positive")),
    (("playful", "funny", "comedic", "absurd", "whimsical", "slapstick", "light-hearted", "quirky", "witty", "fun"),
     _ToneProfile("playful", "playful, light, with comic timing", "playful quirky bouncy pop, fun")),
    (("nostalgic", "heartfelt", "heartwarming", "emotional", "sentimental", "tender"),
     _ToneProfile("tender", "warm, gentle, heartfelt", "nostalgic warm acoustic, gentle, emotional")),
    (("inspirational", "inspiring", "epic", "celebratory", "triumphant", "uplifting", "patriotic", "motivational"),
     _ToneProfile("inspired", "confident, rising, inspiring", "inspiring cinematic build, uplifting, powerful")),
    (("warm", "relaxed", "calm", "cosy", "cozy", "chill", "soothing", "friendly", "gentle"),
     _ToneProfile("calm", "warm, relaxed, friendly", "chill relaxed lo-fi, warm acoustic, mellow")),
]
_DEFAULT_TONE = _ToneProfile("confident", "clear, friendly, confident", "modern upbeat pop, positive")

#: Words that must never be heard: production vocabulary a viewer should not hear read out.
_SPOKEN_NOTE = re.compile(
    r"\b(\d+\s*[- ]?(?:second|sec|s)\b|vertical|landscape|9:16|16:9|1:1|tiktok|instagram|youtube|reels?\b|shorts\b|"
    r"tone\b|audience\b|brief\b|explainer|end card|fast cuts|no dialogue|close on the logo|b-roll|voice-?over|"
    r"aspect ratio|hashtag|call to action|\bcta\b|the logo|(?:this|the|a|our)\s+video\b|commercial|super ?bowl|"
    r"subscribe|\bad meter\b)",
    re.I,
)


def _tone(words: list[str]) -> _ToneProfile:
    for keys, prof in _TONES:
        if set(words) & set(keys):
            return prof
    return _DEFAULT_TONE


def _tag(text: str) -> str:
    parts = re.findall(r"[A-Za-z0-9]+", text.replace("'", ""))
    return "".join(p if p[:1].isupper() or p.isdigit() else p.capitalize() for p in parts)


_HEAD_END_STOP = {"a", "an", "the", "and", "or", "of", "to", "for", "with", "on", "in", "at", "your", "its", "their",
                  "from", "is", "are", "was", "be", "by", "per", "every", "each", "our", "my", "this", "that", "than",
                  "being", "who", "which", "what", "his", "her", "some", "as", "such", "may", "will", "can",
                  # modifiers that need their noun ("... potted plants the same" without "day")
                  "same", "very", "other", "own", "more", "most", "extra", "next", "few", "many", "much", "both",
                  "so", "nothing", "because", "but", "if", "when", "while", "into", "onto", "about"}


def _item_text(item: str, limit: int = 28) -> str:
    """A list card's text: ``item`` whole when it fits ``limit`` characters, else its first words up
    to the limit without a dangling "so"/"the"/"of" ("ingredients pre-portioned so nothing goes to
    waste" → "ingredients pre-portioned"), never cut mid-word."""
    item = item.strip().rstrip(".")
    if len(item) <= limit:
        return item
    words: list[str] = []
    for w in item.split():
        if len(" ".join([*words, w])) > limit:
            break
        words.append(w)
    while len(words) > 1 and words[-1].lower().strip(",;:") in _HEAD_END_STOP:
        words.pop()
    return " ".join(words).rstrip(",;:-") or item[:limit]


#: Words that carry an offer: a headline never drops them ("Buy two, get one" without "free" is no offer).
_OFFER_WORD = re.compile(r"\b(?:free|off|half price|discount|deal|bogo|(?:buy|pay for)\s+(?:\d+|one|two|three|four|five|"
                         r"six)|for the price of \w+)\b|\bsave\s+(?:up to\s+)?[$€£\d]|%", re.I)


def _fits(words: list[str], max_words: int, max_chars: int) -> bool:
    return 0 < len(words) <= max_words and len(" ".join(words)) <= max_chars


#: A voice-over connective before a line (copywriter's transitions): spoken, never shown.
_CONNECTIVE = re.compile(r"^(?:And the best part\?|Here's the best part:|Plus,|Then)\s+")


def _headline(text: str, max_words: int = 6, max_chars: int = 40, *, fact: str | None = None) -> str:
    """On-screen words of a line (≤ ``max_words`` words / ``max_chars`` chars), never cut mid-phrase.

    The line's first sentence when it fits; else a complete phrase of it that fits: the part after a
    header colon ("Friday promo: buy two, get one free" → "Buy two, get one free"), its last clauses
    (leading clauses dropped: "Join in January and get your first month free" → "Get your first month
    free"), the brief's fact the line says (``fact``), else its first clause. A line that carries an
    offer keeps its end (the offer's object and "free"/"off"); any other line, as a last resort, keeps
    its first words up to a phrase boundary (no dangling "the/of/for/is").
    """
    text = _CONNECTIVE.sub("", text.strip())  # "And the best part? Kids go free." shows "Kids go free"
    sents = [x for x in re.split(r"(?<=[.!?])\s+", text) if x]
    # a one-word opener ("Yes.", "Eight.") is not a headline when the line says more
    while len(sents) > 1 and (len(sents[0].split()) < 2 or (sents[0].endswith("?") and len(sents[0].split()) <= 3)):
        sents.pop(0)  # ... nor a set-up question ("How far?") before the fact it introduces
    if len(sents) > 1 and any(_OFFER_WORD.search(x) for x in sents[1:]) and not _OFFER_WORD.search(sents[0]) \
            and not _fits(sents[0].rstrip(".!?,;:").split(), max_words, max_chars):
        sents = [next(x for x in sents[1:] if _OFFER_WORD.search(x))]
    t = (sents[0] if sents else text.strip()).rstrip(".!?,;:")

    def clean(phrase: str) -> list[str]:
        p = re.sub(r"^(and|but|yet|so|then|plus|or)\s+", "", phrase.strip(" ,;:"), flags=re.I)
        return p.split()

    def out(words: list[str]) -> str:
        o = " ".join(words).rstrip(",;:")
        return o[:1].upper() + o[1:]

    whole = clean(t)
    if _fits(whole, max_words, max_chars):
        return out(whole)
    offer = bool(_OFFER_WORD.search(t))
    parts = re.split(r",\s+|;\s+|:\s+|\s+(?=(?:and|but|so|then|plus)\s)|\s+-\s+", t)
    candidates: list[list[str]] = []
    if offer:
        # its time qualifier dropped ("Buy one, get one half price this month" → "... half price"),
        # the part after a header ("Friday promo: buy two, get one free"), then its last clauses
        untimed = re.sub(r"\s+(?:this|next|every|each|all|until|till|through|on|from)\s+(?:\w+\s?){1,2}$|\s+(?:today|"
                         r"tonight|now|only)$", "", t, flags=re.I)
        for c in (untimed, untimed.split(": ", 1)[1] if ": " in untimed else "", t.split(": ", 1)[1] if ": " in t else ""):
            if c and c != t:
                candidates.append(clean(c))
        for k in range(1, len(parts)):
            candidates.append(clean(", ".join(parts[k:])))
    else:  # the fact the line says, its first clause (of 2+ words), the part after a short header
        if fact:
            candidates.append(clean(fact.rstrip(".")))
        first = clean(re.split(r",\s+|;\s+|:\s+|\s+-\s+", t)[0])
        if len(first) >= 2:
            candidates.append(first)
        head, sep, tail = t.partition(": ")
        if sep and len(head.split()) <= 3:
            candidates.append(clean(tail))
            t = tail  # "Picture this: an eco-warrior ..." is cut from its content, not its header
    for c in candidates:
        if _fits(c, max_words, max_chars) and (not offer or _OFFER_WORD.search(" ".join(c))) and \
                c[-1].lower().strip(",") not in _HEAD_END_STOP:
            return out(c)
    words = clean(t)
    if offer:  # keep the end (the offer's object): drop leading words
        if len(words) > 2 and re.fullmatch(r"[$€£]?\d[\d,.]*|two|three|four|five", words[0], re.I) \
                and _fits([words[0], *words[2:]], max_words, max_chars):
            return out([words[0], *words[2:]])  # "2 pairs for the price of 1" → "2 for the price of 1"
        while words and not _fits(words, max_words, max_chars):
            words = words[1:]
        while len(words) > 2 and words[0].lower().strip(",") in _HEAD_END_STOP:
            words = words[1:]
        return out(words)
    words = words[:max_words]
    while words and len(" ".join(words)) > max_chars:
        words.pop()
    while len(words) > 2 and words[-1].lower().strip(",") in _HEAD_END_STOP:
        words.pop()
    return out(words)


#: Units a measured value keeps on the card ("80 mg", "330 ml", "10,000 mAh", "2 TB", "25 km/h", "3x").
_UNIT = (r"(?:%|x|km/h|kph|km|kg|mg|g|mcg|oz|fl oz|lbs?|ml|cl|l|litres?|liters?|cm|mm|m|mi|miles?|ft|mph|mah|kwh|wh|"
         r"kw|w|v|hz|khz|mhz|ghz|kb|mb|gb|tb|mp|fps|kcal|cal|am|pm|k|hrs?|h|hours?|minutes?|mins?|seconds?|secs?|"
         r"days?|nights?|weeks?|months?|years?|bn)")
#: A unit joined by a hyphen ("48-hour dough", "256-bit encryption", "12-inch pizza").
_HYPHEN_UNIT = (r"(?:second|minute|hour|day|night|week|month|year|bit|inch|megapixel|core|speed|piece|pack|litre|liter|"
                r"metre|meter|mile|km|kg|gram|watt|volt|layer|step|point|star|ply)")
_STAT_NUM = re.compile(r"(?<![\w$€£])(?P<value>\d[\d,]*\s+in\s+\d[\d,]*\b|\d{1,2}/\d{1,2}(?![\d/])|"
                       r"\d[\d,.]*-" + _HYPHEN_UNIT + r"\b|"
                       r"(?:[$€£]\s?)?\d[\d,.]*\+?(?:\s?(?:billion|million|thousand|bn)\b)?(?:\s?" + _UNIT
                       + r"(?![\w]))?)", re.I)
_LABEL_EDGE = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "at", "by", "from", "is", "are",
               "it", "its", "it's", "they", "they're", "we", "we're", "you", "you're", "he", "she", "he's", "she's",
               "that's", "there's", "here's", "your", "our", "their", "my", "just", "only", "that", "this", "how", "yes",
               "almost", "about", "over", "nearly", "up", "within", "under", "around", "than", "was",
               "were", "be", "every", "each", "has", "have", "had", "can", "will", "now", "also", "still"}
#: Verbs alone are no label ("Weighs", "Costs", "Pay"): the card names what the number measures.
_VERB_LABEL = re.compile(r"^(?:weighs?|costs?|lasts?|takes?|runs?|gets?|goes|has|have|pay|buy|get|save|charges?|"
                         r"holds?|fits?|reaches?|hits?|tops?|does|makes?|gives?|offers?|delivers?|arrives?|comes?)$", re.I)
#: A deal's terms ("buy two, get one free", "buy 3, pay for 2"): its figures are not one statistic.
_DEAL_TERMS = re.compile(r"\b(?:buy|pay for|get)\s+(?:\d+|one|two|three|four|five|six)\b|\bfor the price of\b|"
                         r"\b(?:\d+|two|three|four)\s+for\s+(?:1|one)\b", re.I)
#: A product's verb before a duration, as the noun a spec sheet uses ("charges in 2 hours" → "Charge time").
_TIME_OF = {"charge": "Charge time", "arrive": "Arrival time", "deliver": "Delivery time", "ship": "Shipping time",
            "respond": "Response time", "boil": "Boil time", "cook": "Cooking time", "dry": "Drying time",
            "load": "Load time", "sync": "Sync time", "heat": "Heat-up time", "install": "Install time"}
#: What a set-up question says the figure measures ("How heavy? 200 g." → "Weight").
_QUESTION_LABEL = {"how heavy": "Weight", "how far": "Range", "how fast": "Speed", "the price": "Price",
                   "how long": "Duration"}


_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
_PREPOSITIONS = {"across", "through", "around", "near", "over", "under", "along", "in", "on", "at", "for", "from", "to",
                 "with", "by", "into", "inside", "outside", "within", "per", "after", "before", "while", "when"}


def _edge_strip(words: list[str]) -> list[str]:
    while words and words[0].lower() in _LABEL_EDGE:
        words = words[1:]
    while words and words[-1].lower() in _LABEL_EDGE:
        words = words[:-1]
    return words


def _cap_label(label: str) -> str:
    """Capitalise a label as a phrase: its first letter only, and not a unit or a name ("mAh" stays)."""
    if not label or re.match(r"^[a-z]+[A-Z]", label):
        return label
    return label[:1].upper() + label[1:]


def _stat(text: str, *, names: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """(value, label) of the line's first figure, or None when no clean card can be made.

    The value keeps its unit, whatever it is ("80 mg", "12 hours", "2 TB", "$12", "48-hour", "3x",
    "20% off"); the label is what it counts or measures, in the line's own contiguous words
    (≤ 28 chars): after a bare count ("12 recycled bottles" → "recycled bottles"), before a measure
    ("Free returns for 60 days" → "Free returns"; "Top speed 25 km/h" → "Top speed"), else whichever
    side has words ("80 mg caffeine" → "caffeine", "12 hours steeped" → "steeped"). A count priced
    ("2 packs for $10") shows the price with the count as label. Never a pronoun, a verb alone, a
    preposition phrase ("for $5 a month") or the tail of a longer clause; a deal's terms ("buy two,
    get one free"), a number inside a product name (``names``: "Trekka 2"), a date or a year are no
    statistic. None → the planner shows the line as kinetic type or a hero instead.
    """
    sents = re.split(r"(?<=[.!?])\s+", text)
    asked = next((x.rstrip("?").lower() for x in sents if x.endswith("?") and len(x.split()) <= 3), "")
    body = " ".join(x for x in sents if not (x.endswith("?") and len(x.split()) <= 3))
    if _DEAL_TERMS.search(body):
        return None
    for name in sorted(names, key=len, reverse=True):  # "Meet the Trekka 2 e-bike": a model number is no figure
        if name and re.search(r"\d", name) and re.search(r"[A-Za-z]", name):
            body = re.sub(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", " ", body, flags=re.I)
    # a date or a year is not a statistic ("on 14 September", "the 2018 Kia Stinger", "in 2005")
    body = re.sub(r"\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTHS + r"|" + _MONTHS + r"\s+\d{1,2}(?:st|nd|rd|th)?\b"
                  r"|\b(?:19|20)\d\d\b(?!\s?(?:%|x\b|[a-z]))", " ", body, flags=re.I)
    m = _STAT_NUM.search(body)
    while m and (re.match(r"[A-Za-z]|-\w", body[m.end():m.end() + 2] or " ") or body[m.start() - 1:m.start()] == "-"):
        m = _STAT_NUM.search(body, m.end())  # "IPX7", "V2" (a name) or "1-to-1" (a ratio)
    if not m:
        return None
    value = m.group("value").strip().rstrip(",.")
    rest = body[m.end():].rstrip(".!?")
    priced = re.match(r"(?P<thing>\s+[a-z][\w\-]*(?:\s+[a-z][\w\-]*)?)?\s+for\s+(?P<price>[$€£]\s?\d[\d,]*(?:\.\d+)?)"
                      r"(?P<per>\s+(?:a|per)\s+(?:month|year|week|day|night|person))?\b", rest)
    if priced and value[:1] not in "$€£" and (priced.group("thing") or re.search(r"[A-Za-z]", value)):
        # "2 packs for $10" → $10 / "2 packs"; "2 TB for $5 a month" → $5/month / "2 TB"
        label = f"{value}{priced.group('thing') or ''}"
        price = priced.group("price") + (priced.group("per") or "")  # as said: "$5 a month"
        return (price, _cap_label(label)) if len(label) <= 28 and len(price) <= 12 else None
    after_clause = re.split(r"[,;:.!?]", rest, maxsplit=1)[0]
    paid = re.match(r"^\s+(?:pays|covers|buys|funds)\s+for\s+(?P<what>(?:[\w'\-]+\s+){0,3}?[\w'\-]+?)"
                    r"(?=\s+(?:for|in|on|at|every|each|per|a\s+(?:day|week|month|year))\b|\s*$)", after_clause)
    if paid and value[:1] in "$€£" and len(paid.group("what")) <= 28:
        return value, _cap_label(paid.group("what"))  # "$50 pays for a family's water for a year" → "A family's water"
    before_all = body[:m.start()]
    before_clause = re.split(r"[,;:.!?]\s", before_all)[-1]
    after_words = re.findall(r"[A-Za-z][\w\-/']*", after_clause)
    timed = False
    if after_words and after_words[0].lower() == "off":  # "20% off this week", "$100 off"
        value += " off"
        after_words = after_words[1:]
        timed = bool(after_words) and after_words[0].lower() in {"this", "next", "every", "all", "until", "today"}
        if not after_words:  # "Student discount: $100 off" → the header names it
            before_clause = re.split(r"[;.!?]\s|,\s", before_all)[-1].replace(":", " ")
    if after_words and after_words[0].lower() in (_PREPOSITIONS - {"to"}) | {"and", "or", "but", "a", "an"}:
        after_words = []  # "for $5 a month", "in every glass", "and the ...": not what the number measures
    for k, w in enumerate(after_words):  # "emergency plumbers across Bristol" → "emergency plumbers"
        if k and w.lower() in _PREPOSITIONS:
            after_words = after_words[:k]
            break
    after = after_words[:4]
    if not timed and not (after and after[0].lower() == "to" and len(after) >= 2):  # keeps "to charge", "this week"
        after = _edge_strip(after)
    # the subject is not the label: "TrailFox Grip is built to last 800 km" → "built to last"
    before_clause = re.split(r"\b(?:is|are|was|were|it's|they're|it’s|they’re)\s", before_clause, flags=re.I)[-1]
    before_words = _edge_strip(re.findall(r"[A-Za-z][\w\-/']*", before_clause))
    before = before_words if len(before_words) <= 4 else []  # never the tail of a longer clause
    when = before_clause.strip(" :")
    if value.endswith(" off") and not after and re.match(r"^(?:this|next|today|tonight|all|until|ends?|only)\b", when, re.I) \
            and len(when.split()) <= 4:
        return value[:12], _cap_label(when)  # "This week only: 20% off" → 20% off / "This week only", not "Week"
    measure = bool(re.search(r"\d\s?[A-Za-z%]|\d-[a-z]", value)) or value[:1] in "$€£"
    words = (before or after) if measure else (after or before)
    label = " ".join(words)
    last = words[-1].lower() if words else ""
    stem = re.sub(r"ies$", "y", last) if last.endswith("ies") else last.rstrip("s")
    infinitive = len(words) >= 2 and words[-2].lower() == "to"  # "built to last" names the figure
    verb = last if words and words is before and not infinitive and (
        _VERB_LABEL.match(last) or last in _PRODUCT_VERBS or stem in _TIME_OF) else None
    if verb and re.search(r"\d\s?(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|days?|weeks?)$", value, re.I) \
            and stem in _TIME_OF:
        label = _TIME_OF[stem]  # "It charges in 2 hours" → 2 hours / "Charge time"
    elif verb:
        words = []  # "Lumo desk lamp charges": a subject and its verb name nothing
    if not words or _VERB_LABEL.match(label):
        kind = _QUESTION_LABEL.get(asked, "")
        fits = {"Price": value[:1] in "$€£", "Weight": re.search(r"\d\s?(?:k?g|lbs?|oz)$", value, re.I),
                "Speed": re.search(r"\d\s?(?:mph|km/h|kph)$", value, re.I),
                "Range": re.search(r"\d\s?(?:km|mi|miles?)$", value, re.I),
                "Duration": re.search(r"\d\s?(?:hours?|hrs?|minutes?|mins?|days?|weeks?|months?|years?)$", value, re.I)}
        label = kind if kind and fits.get(kind) else ""
    if not label or len(label) > 28 or not re.search(r"[a-z]{2}", label, re.I) or \
            label.lower() in {"next", "last", "first", "more", "less", "new", "own", "other", "same"}:
        return None
    return value[:12], _cap_label(label)


def _product_label(an: BriefAnalysis) -> str | None:
    """The product as on-screen words: its name, with the brand before a one-word name ("Volta V2")."""
    pn = an.product_name
    if pn and len(pn.split()) == 1 and an.brand and an.brand.lower() not in pn.lower():
        return f"{an.brand} {pn}"
    return pn


def _visual(line: Line, an: BriefAnalysis, is_first: bool, is_last: bool, hero_headline: str = "") -> VisualSpec:
    text = _CONNECTIVE.sub("", line.text)  # what the scene shows: the line without its spoken lead-in
    kw = keywords_for(text)
    if line.beat in ("benefit", "proof", "cta") and not text.rstrip().endswith("?"):
        # "gentle care for nervous patients" shows the care, not a frightened face
        kw = [k for k in kw if not NEGATIVE_FEELING.search(k)]
    subject = " ".join(x for x in (an.product or "", an.topic or "") if x)
    if not kw:
        kw = keywords_for(subject + " " + " ".join(an.visual_cues))
    elif an.product_only and line.priority >= 3:
        # a line about using the product ("Every step, your way."): the product is what to show, the
        # line's words only after it (a "step" alone matched a ladder)
        kw = list(dict.fromkeys(keywords_for(subject) + kw))
    kw = kw[:8]
    if is_last:
        head = an.closing_line or an.brand or _headline(text)
        return VisualSpec(kind="end_card", headline=_headline(head), keywords=kw)
    names = tuple(x for x in (an.product_name, an.product, an.brand,
                              f"{an.brand} {an.product}" if an.brand and an.product else "") if x)
    # two measured facts said in one line ("1.1 kg. 18-hour battery.") are a list: a stat card would show one
    # figure while the voice says two
    figures = sum(bool(re.search(r"\d", i)) for i in line.items)
    stat = _stat(text, names=names) if line.beat in ("benefit", "proof", "hook") and len(line.items) < 3 \
        and figures < 2 else None
    if stat:
        value, label = stat
        return VisualSpec(kind="stat", headline=_headline(text, fact=line.fact), keywords=kw, stat_value=value[:12],
                          stat_label=label)
    if line.items and len(line.items) >= 2:
        items = [_item_text(i) for i in line.items[:4]]
        return VisualSpec(kind="list", headline=_list_headline(an, hero_headline), keywords=kw, items=items)
    if is_first and (an.product or an.brand):
        return VisualSpec(kind="hero", headline=_headline(_product_label(an) or text), keywords=kw)
    if line.beat == "benefit" and an.product and (an.product_name or "").lower() in text.lower():
        return VisualSpec(kind="hero", headline=_headline(text, fact=line.fact), keywords=kw)
    return VisualSpec(kind="photo" if kw and line.beat == "story" else "kinetic", headline=_headline(text, fact=line.fact),
                      keywords=kw)


def _list_headline(an: BriefAnalysis, hero_headline: str) -> str:
    """A headline that introduces a list of benefits ("Why Copperline?"), not a repeat of the hero's.

    The brand (else the product's name) asked as "Why X?"; "At a glance" when that would be too long
    or would only repeat scene 0's headline.
    """
    for name in (an.brand, _product_label(an)):
        if name and len(name.split()) <= 4 and len(name) <= 34:
            head = f"Why {name}?"
            if head.rstrip("?").lower() != hero_headline.lower():
                return head
    return "At a glance"


def spoken_production_notes(plan: ScriptPlan, an: BriefAnalysis | None = None) -> list[str]:
    """Production notes heard in ``plan``'s narration (should be empty).

    Checks production vocabulary (durations, platforms, aspect, "tone", "audience", "video", "end
    card", ...) and every production-note fragment of the brief of 4+ words read back verbatim.
    """
    hits: list[str] = []
    for s in plan.scenes:
        for m in _SPOKEN_NOTE.finditer(s.narration):
            hits.append(m.group(0))
    if an is not None:
        spoken = " ".join(s.narration.lower() for s in plan.scenes)
        for note in an.production_notes:
            n = re.sub(r"\s+", " ", note.lower()).strip(" .")
            if word_count(n) >= 4 and n in spoken:
                hits.append(note)
    return hits


def check_plan(plan: ScriptPlan, an: BriefAnalysis, brief: Brief) -> list[str]:
    """The hard rules a plan must meet, as problems stated for a re-ask (empty = good).

    Rules: the brand is said (when known); no production note is spoken; the required closing
    line is spoken verbatim in the last scene and ends it; scene 0 is the hook and the last
    scene the call to action; the narration fits the duration at the fastest allowed speech rate
    (:func:`processors.pacing.max_words`); no two scenes say the same line.
    """
    problems: list[str] = []
    spoken = " ".join(s.narration for s in plan.scenes)
    if an.brand and an.brand.lower() not in spoken.lower():
        problems.append(f"the brand {an.brand!r} is never said in the narration; say it (at least in the last scene)")
    notes = spoken_production_notes(plan, an)
    if notes:
        problems.append("production notes are spoken (" + ", ".join(repr(n) for n in notes[:5]) +
                        "); narration must be ad copy only, never durations, platforms, aspect, tone or audience")
    if an.closing_line:
        last = plan.scenes[-1].narration.strip().rstrip(".!?").lower()
        want = an.closing_line.strip().rstrip(".!?").lower()
        if not last.endswith(want):
            problems.append(f"the last scene's narration must end with the required line {an.closing_line!r} verbatim")
    words = sum(word_count(s.narration) for s in plan.scenes)
    limit = max_words(brief.duration_s, len(plan.scenes))
    if words > limit:
        problems.append(f"the narration has {words} words but {len(plan.scenes)} scenes of a {brief.duration_s:g} s "
                        f"video can speak at most {limit}; cut {words - limit} words")
    texts = [s.narration.strip().lower() for s in plan.scenes]
    if len(set(texts)) != len(texts):
        problems.append("two scenes speak the same line; every scene needs its own line")
    return problems


def repair_lengths(data: dict) -> tuple[dict, list[str]]:
    """Cut over-long strings of a plan object (as decoded JSON) at a word boundary, locally.

    String limits are not expressible in OpenAI's strict schema; an answer that only breaks them
    is repaired here, never re-asked. Limits come from :class:`ScriptPlan`/:class:`Scene`/
    :class:`VisualSpec` (``max_length``); lists over ``max_length`` keep their first items.

    Returns:
        (repaired copy, list of what was cut, e.g. ``"scenes[2].on_screen_text: 112 → 78 chars"``).
    """
    import copy

    fixed: list[str] = []
    out = copy.deepcopy(data)

    def cut(text: str, limit: int) -> str:
        if len(text) <= limit:
            return text
        head = text[: limit + 1]
        space = head.rfind(" ")
        head = head[:space] if space > limit * 0.5 else text[:limit]
        return head.rstrip(" ,;:-")

    def walk(obj: dict, model: type, path: str) -> None:
        for name, fld in model.model_fields.items():
            if name not in obj:
                continue
            value = obj[name]
            limit = next((m.max_length for m in fld.metadata if hasattr(m, "max_length") and m.max_length), None)
            if isinstance(value, str) and limit and len(value) > limit:
                obj[name] = cut(value, limit)
                fixed.append(f"{path}{name}: {len(value)} → {len(obj[name])} chars")
            elif isinstance(value, list) and limit and len(value) > limit and name != "scenes":
                obj[name] = value[:limit]
                fixed.append(f"{path}{name}: {len(value)} → {limit} items")
            if name == "scenes" and isinstance(value, list):
                for i, sc in enumerate(obj[name]):
                    if isinstance(sc, dict):
                        walk(sc, Scene, f"scenes[{i}].")
            if name == "visual" and isinstance(value, dict):
                walk(value, VisualSpec, f"{path}visual.")
                items = value.get("items")
                if isinstance(items, list):
                    value["items"] = [cut(str(i), 28) for i in items]
                head = value.get("headline")
                if isinstance(head, str) and len(head.split()) > 6:
                    value["headline"] = " ".join(head.split()[:6])
                    fixed.append(f"{path}visual.headline: cut to 6 words")
            if name == "title" and isinstance(obj.get(name), str) and len(obj[name]) > 60:
                obj[name] = cut(obj[name], 60)
                fixed.append(f"{path}title: cut to 60 chars")

    walk(out, ScriptPlan, "")
    return out, fixed


class TemplatePlanner:
    """Offline copywriting planner (the embedded ``ScriptWriter``): deterministic per brief and seed.

    Args:
        seed: picks among equally good hook variants (campaign A/B variants differ by brief).
    """

    provider = "local-template"
    model = "copywriter-v2"
    words_per_second = VOICE_WPS

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def check(self, plan: ScriptPlan, an: BriefAnalysis, brief: Brief) -> list[str]:
        """:class:`core.ports.ScriptRules`: :func:`check_plan`."""
        return check_plan(plan, an, brief)

    def repair(self, data: dict) -> tuple[dict, list[str]]:
        """:class:`core.ports.ScriptRules`: :func:`repair_lengths`."""
        return repair_lengths(data)

    @staticmethod
    def check_language(brief: Brief) -> None:
        """Refuse a brief this planner cannot write: its rules and the bundled Piper voice are
        English, so a Spanish brief would come out as English copy around Spanish fragments (the
        analysis alone still runs for any language: it checks an LLM's plan).

        Raises:
            InputError: ``brief.language`` is not English; the hint names the remote planner's key.
        """
        if not (brief.language or "en").lower().startswith("en"):
            raise InputError(f"the offline copywriter writes English only, got language={brief.language!r}",
                             hint="set OPENAI_API_KEY (and HUME_API_KEY for the voice) to write and speak other "
                                  "languages, or pass --language en with an English brief")

    def analyze(self, brief: Brief) -> BriefAnalysis:
        """Step 1: :func:`analyze_brief`, refusing briefs with nothing to say.

        Raises:
            InputError: the brief is only production notes (says what to add), or a required
                line cannot be spoken in the requested duration (names the line and the time).
        """
        if not re.search(r"[A-Za-z]{2}", brief.text):
            raise InputError("brief text has no words to build a script from",
                             hint="describe the product, offer or story in words")
        an = analyze_brief(brief)
        if not an.has_content and not (an.brand and an.brand_source == "field" and an.hashtags):
            notes = "; ".join(an.production_notes[:3]) or brief.text[:60]
            raise InputError(
                f"the brief only gives production notes ({notes!r}), nothing to say in the video",
                hint="add what to say: the product or brand, a key fact or offer (e.g. 'first ride free'), "
                     "a story, or a closing line ('end with \"...\"')",
            )
        for line in an.required_lines:
            need = word_count(line) / VOICE_WPS
            room = brief.duration_s - LEAD_IN_S - END_MIN_S
            if need > room:
                raise InputError(
                    f"the required line {line[:80]!r} needs about {need:.1f} s to speak, more than the "
                    f"{brief.duration_s:g} s video allows ({room:.1f} s)",
                    hint=f"shorten the line or ask for a longer video (--duration {int(need + 3)} or more)",
                )
        return an

    def plan(self, brief: Brief, *, speech_s: float | None = None, words_per_second: float | None = None) -> ScriptPlan:
        """Write the plan; ``speech_s`` is the speech time to write for (default: fill the duration).

        ``words_per_second`` is the voice's measured rate (the pacing step's re-plan passes it);
        default :data:`reelflow.processors.pacing.VOICE_WPS`.

        Raises:
            InputError: see :meth:`analyze`; or the brief's language is not English (the offline
                copywriter writes English only).
        """
        self.check_language(brief)
        an = self.analyze(brief)
        n_est = max(3, min(8, round(brief.duration_s / 5)))
        want_s = speech_s if speech_s is not None else target_speech_s(brief.duration_s, n_est)
        # about one scene per 3 s at most: every cut costs a breath of silence, so a 14 s video with six
        # two-second lines speaks less of its runtime than one with four fuller lines
        max_lines = max(4, min(8, int(brief.duration_s // 3)))
        copy = write_copy(an, want_s * (words_per_second or VOICE_WPS), seed=self.seed + _seed_of(brief),
                          max_lines=max_lines, recap=brief.duration_s >= 25)
        if len(copy.lines) < 3:
            raise InputError(
                "the brief gives too little to say for a video (one line at most: "
                f"{' '.join(ln.text for ln in copy.lines)!r})",
                hint="add what to say: a key fact or offer, a story, or the product's benefits",
            )
        return self._to_plan(brief, an, copy)

    async def write_plan(self, brief: Brief) -> PlannedScript:
        """``ScriptWriter`` port: :meth:`plan` (CPU only, fast, free: no cost entries)."""
        return PlannedScript(plan=self.plan(brief), provider=self.provider, model=self.model)

    def _to_plan(self, brief: Brief, an: BriefAnalysis, copy: Copy) -> ScriptPlan:
        prof = _tone(an.tone_words)
        est = [max(0.6, ln.words / VOICE_WPS) for ln in copy.lines]
        timeline = build_timeline(est, brief.duration_s)
        scenes: list[Scene] = []
        n = len(copy.lines)
        for i, (ln, length) in enumerate(zip(copy.lines, timeline.lengths, strict=True)):
            beat = "hook" if i == 0 else "cta" if i == n - 1 else ln.beat if ln.beat in ("benefit", "story", "proof") else "story"
            visual = _visual(ln, an, i == 0, i == n - 1, scenes[0].visual.headline if scenes else "")
            cue = an.visual_cues[(i - 1) % len(an.visual_cues)] if an.visual_cues and 0 < i < n - 1 else ""
            prompt_parts = [", ".join(visual.keywords[:3]), cue, ln.text.rstrip("."), _BEAT_STYLE[beat]]
            if beat == "cta":
                prompt_parts[2] = f"{an.product or an.brand or ''} hero shot".strip()
            instr = prof.instruction + ("; grab attention in the first second" if beat == "hook" else
                                        "; clear and confident, land the final line" if beat == "cta" else "")
            scenes.append(Scene(
                index=i, beat=beat, narration=ln.text[:600],
                visual_prompt=", ".join(p for p in prompt_parts if p)[:590] or "clean brand shot",
                negative_prompt=NEGATIVE_PROMPT, duration_s=max(0.1, min(60.0, length)),
                on_screen_text=visual.headline[:80], voice_instruction=instr[:300], emotion=prof.emotion,
                visual=visual,
            ))
        return ScriptPlan(
            title=self._title(an, copy),
            hook=scenes[0].narration[:200],
            scenes=scenes,
            description=self._description(an, copy)[:2200],
            hashtags=self._hashtags(brief, an),
            music_mood=self._music(brief, an, prof)[:300],
            call_to_action=self._pill(an, copy)[:200],
        )

    @staticmethod
    def _pill(an: BriefAnalysis, copy: Copy) -> str:
        """The end card's call to action, without the brand: the card prints the brand above it
        (``Brief.brand``, else the brand read from the brief's text; ``flows/create_video``)."""
        return copy.call_to_action

    @staticmethod
    def _title(an: BriefAnalysis, copy: Copy) -> str:
        """≤ 60 chars, names the brand or the product, a complete phrase (never cut mid-clause).

        Brand + the product name, else the closing line, the topic, the spoken hashtag, or the
        first story beat / hook when it fits whole (else its first clause).
        """
        def whole(text: str, room: int) -> str | None:
            t = text.strip().rstrip(".!?")
            if len(t) <= room:
                return t
            clause = re.split(r",\s|:\s|\s-\s|\?\s", t)[0]
            if 8 <= len(clause) <= room:
                return clause
            cut = _headline(t, 12, room)  # whole words, no dangling "the/of/on" at the end
            return cut if len(cut.split()) >= 4 else None

        brand = an.brand or ""
        room = 60 - (len(brand) + 2 if brand else 0)
        tag = re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])", " ", an.hashtags[0]) if an.hashtags else None
        candidates = [_product_label(an) if an.product else None, an.closing_line, an.topic, tag,
                      *(an.story[:1]), *(ln.text for ln in copy.lines[:2])]
        tail = next((w for c in candidates if c and (w := whole(c, room))), None)
        if tail is None:
            return (brand or _headline(copy.lines[0].text))[:60]
        tail = tail[:1].upper() + tail[1:]
        if brand and brand.lower() not in tail.lower():
            return f"{brand}: {tail}"
        return tail[:60]

    @staticmethod
    def _description(an: BriefAnalysis, copy: Copy) -> str:
        parts = [copy.lines[0].text]
        parts += [ln.text for ln in copy.lines[1:-1] if ln.fact or ln.beat == "story"][:4]
        parts.append(copy.lines[-1].text)
        tags = " ".join("#" + h for h in an.hashtags)
        return " ".join(dict.fromkeys(parts)) + (f" {tags}" if tags else "")

    @staticmethod
    def _hashtags(brief: Brief, an: BriefAnalysis) -> list[str]:
        """Brand, product, the brief's own hashtags, topic (from the shown nouns), platform convention."""
        tags: list[str] = []
        if an.brand:
            tags.append(_tag(an.brand))
        if an.product_name and an.product and _tag(an.product_name).lower() != _tag(an.brand or "").lower():
            t = _tag(an.product_name)
            if len(t) <= 30:
                tags.append(t)
        tags.extend(an.hashtags)
        if an.closing_line and word_count(an.closing_line) <= 4:
            tags.append(_tag(an.closing_line))
        topic = keywords_for(" ".join(an.facts + an.story + [an.topic or "", an.product or ""]))
        tags.extend(_tag(k) for k in topic[:2])
        tags.extend({"tiktok": ["fyp"], "reels": ["reels"], "shorts": ["shorts"], "youtube": []}
                    .get(brief.platform.value, []))
        out: list[str] = []
        for t in tags:
            if t and t.lower() not in {o.lower().lstrip("#") for o in out} and t.lower() not in PLATFORM_WORDS - {"shorts", "reels"}:
                out.append("#" + t)
        return out[:10] or ["#video"]

    @staticmethod
    def _music(brief: Brief, an: BriefAnalysis, prof: _ToneProfile) -> str:
        parts = [brief.music.strip()] if brief.music else []
        if brief.tone:
            parts.append(brief.tone.strip())
        parts.append(prof.music)
        return ", ".join(dict.fromkeys(p for p in parts if p))


def _seed_of(brief: Brief) -> int:
    import hashlib

    return int(hashlib.sha256((brief.id or "").encode()).hexdigest()[:6], 16)


__all__ = ["TemplatePlanner", "check_plan", "repair_lengths", "spoken_production_notes", "sentence"]
