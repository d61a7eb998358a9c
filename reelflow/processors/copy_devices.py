"""Copywriting devices that fill a short ad's runtime from the brief's own content (no filler).

A human copywriter fills 30 s from a thin brief without inventing anything: they echo a number
("Almost a billion to one."), walk through a journey the brief names ("It all started in
childhood. And then, the podium."), frame the topic and reprise it at the end ("That's what beating
the odds looks like."), restate the offer to the viewer ("Your first ride is on us."), put the
picture the brief describes into words ("Picture mean online comments turning into kind ones."),
and address the audience ("Sports fans, this one's for you."). Each device here builds whole
spoken sentences from phrases of a :class:`~reelflow.processors.brief_analysis.BriefAnalysis`
only, has several phrasings picked deterministically by the seed, and is written for brief
*shapes* (a number, a "from A to B" journey, a gerund topic, a "first X free" offer, a visual cue),
not for any one brief. No device adds a number, a claim about the product or a competitor.

What is *not* a device, because it reads oddly aloud: a bare repeat of a figure or a name ("It's
baked at 4am daily. Every day. 4am.", "Yes, 18 hours.", "Obsessed with Doritos."), an offer
echoed right after itself, staccato intensifiers ("Nothing. Stops. Him."). Odds and bare counts
keep an echo ("Almost a billion to one.", "Not one. Not two. Eight.") — the one place a spoken
repeat is how the line lands — and a count is echoed only as the result of a verb ("won eight"),
said once, in a fact with no deal, price or other figure: "buy two, get one free" would come out
as "Not one. Not two. Two." (meaningless and self-contradicting), so the device refuses.
"Not one. Not two. N." is only offered for N ≥ 3. A device that cannot be sure its line reads as
English on arbitrary facts returns None rather than a doubtful line.

:func:`fill_devices` lists the candidates in the order a copywriter would reach for them;
:func:`reelflow.processors.copywriter.write_copy` adds them while the copy is under its word budget.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from reelflow.processors.brief_analysis import BriefAnalysis, is_production_note
from reelflow.processors.copy_benefits import CAUSE_KINDS, benefit_line

_NUM_WORD = (r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
             r"thousand|million|billion|half|double|triple|twice)")
_QUANT = r"(?:(?:almost|nearly|about|over|more than|less than|just|only|up to|under|around)\s+)?"
#: Odds ("almost a billion to one", "1 in 10").
_ODDS = re.compile(_QUANT + r"(?:(?:a|one|\d[\d,.]*)\s+)?(?:\d[\d,.]*|" + _NUM_WORD + r")\s+(?:to\s+(?:one|1)|in\s+(?:\d[\d,.]*|" +
                   _NUM_WORD + r"))\b", re.I)
#: A number with its unit or noun ("800 km", "30 meals", "$10", "4am", "eight").
_NUM_PHRASE = re.compile(_QUANT + r"(?P<num>[$€£]\s?\d[\d,.]*\w*|\b\d[\d,.]*(?:\s?(?:%|x|km|kg|am|pm|mph|k|h|hrs?|min)\b)?|"
                         r"\b" + _NUM_WORD + r"\b)(?P<noun>(?:\s+(?!(?:to|in|on|at|for|of|and|or|the|a|with|from|"
                         r"by|per|every|is|are|was|were)\b)[a-z][\w\-]*){0,2})", re.I)
_DAILY = re.compile(r"\b(daily|every day|each day|every morning|each morning|every night)\b", re.I)
_STOP_END = {"a", "an", "the", "of", "to", "in", "on", "at", "for", "with", "and", "or", "from", "by", "is", "are"}


def pick(options: list[str], seed: int, salt: str) -> str:
    """One of ``options``, fixed for a given ``seed`` and ``salt`` (sha256, not Python's salted hash)."""
    h = int(hashlib.sha256(f"{seed}:{salt}".encode()).hexdigest()[:8], 16)
    return options[h % len(options)]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _low(s: str) -> str:
    """Lower the first letter unless it starts a name/acronym ("Coke", "NFL" stay)."""
    if re.match(r"^(I\b|[A-Z][a-z]*[A-Z]|[A-Z]{2})", s) or (s[:1].isupper() and not re.match(
            r"^(A|An|The|One|Two|Three|Four|Five|Some|Every|Each|Her|His|Their|Our|Your|Mean|Old|New)\b", s)):
        return s
    return s[:1].lower() + s[1:]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower().replace("'", "")).split())


@dataclass
class Device:
    """One fill candidate: ``text`` (whole sentences), the ``kind`` of device and where it goes.

    ``where``: ``"after:<text of the line it elaborates>"`` (appended to that line, same scene),
    ``"after_hook"``, ``"before_cta"`` (own scene) or ``"cta_prefix"`` (said just before the CTA).
    ``anchor``: for ``after:``, the sentence of that line it follows when not the last one (a
    benefit goes right after its fact in a list line: "It's dentist-approved. The experts ...").
    """

    kind: str
    text: str
    where: str
    anchor: str = ""


_COUNT_RANK = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
               "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100}
#: Words of a deal, a price or a quantity bought ("buy two, get one free", "pay for two", "two for $10"):
#: a count there is a term of the offer, not an achievement to echo.
_DEAL = re.compile(r"(buy|get|pay|free|off|save|deal|promo|offer|sale|price|half|for\s+[$€£\d]|per|each|pack|"
                   r"bundle|discount|coupon|voucher|only|from)\b|[$€£%]", re.I)
#: Verbs whose object count is a result worth a spoken echo ("won eight", "scored three", "climbed five").
_RESULT_VERB = re.compile(r"\b(won|wins|win|scored|scores|earned|earns|took|takes|claimed|claims|set|sets|broke|"
                          r"breaks|climbed|climbs|finished|finishes|raised|raises|saved|rescued|rescues|beat|beats|"
                          r"ran|runs|completed|completes|collected|collects|built|builds|planted|plants)\s+$", re.I)


def _count_result(fact: str, start: int, num: str) -> bool:
    """Whether the count word ``num`` at ``start`` is a result ("she won eight") that an echo can
    land: the object of a result verb, the fact's last figure, the fact no deal or price, and the
    count word said once (an echo of "buy two, get one free" would name the wrong number)."""
    if _DEAL.search(fact) or re.search(r"\d", fact):
        return False
    if len(re.findall(r"\b" + _NUM_WORD + r"\b", fact, re.I)) > 1:
        return False
    return bool(_RESULT_VERB.search(fact[:start]))


def number_echo(fact: str, seed: int) -> str | None:
    """A short punchy echo of a fact's number ("Almost a billion to one.", "Eight. Not one, eight.").

    Returns None when the fact has no number worth echoing (a bare "one" or "a").
    """
    f = fact.strip().rstrip(".!?")
    odds = _ODDS.search(f)
    if odds:
        key = _cap(odds.group(0).strip())
        return pick([f"{key}.", f"{key}. Think about that."], seed, "odds:" + f)
    daily = _DAILY.search(f)
    for m in _NUM_PHRASE.finditer(f):
        num = m.group("num").strip()
        if num.lower() in {"one", "a", "1"}:
            continue
        before, after = f[:m.start()].split()[-1:], f[m.end("num"):].split()[:1]
        if (before and before[0][:1].isupper() and m.start() > 0) or (after and after[0][:1].isupper()):
            continue  # part of a name ("Goat 4 Sale", "Super Bowl 52")
        if not f[:m.start()].strip() or re.match(r"^(?:the|a|an|his|her|their|our)\s*$", f[:m.start()].strip(), re.I):
            continue  # the sentence's subject ("Two bears raid ..."), not a fact's number
        words = (m.group(0).strip()).split()
        while words and words[-1].lower() in _STOP_END:
            words.pop()
        key = " ".join(words)
        if key.lower() == num.lower() and re.fullmatch(_NUM_WORD, num, re.I) and not daily \
                and _count_result(f, m.start(), num):  # "won eight"
            opts = [f"{_cap(num)}. Not one, {num.lower()}."]
            if _COUNT_RANK.get(num.lower(), 0) >= 3:  # "Not one. Not two. Two." contradicts itself
                opts.append(f"Not one. Not two. {_cap(num)}.")
            return pick(opts, seed, "count:" + f)
        # other figures ("baked at 4am daily", "$25 feeds a dog", "18 hours") are not echoed: a bare
        # repeat ("Every day. 4am.", "Yes, 18 hours.") reads oddly aloud
    return None


#: Intensifiers a copywriter echoes on their own ("will do anything" → "Anything.").
_INTENSIFIERS: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"\b(?:do|try|give) anything\b", re.I), ["And we mean anything."]),
    (re.compile(r"\bstop at nothing\b", re.I), ["Nothing will stop him."]),
]


def intensifier_echo(line: str, seed: int) -> str | None:
    """An intensifier of ``line`` said on its own ("Anything.", "Again. And again.").

    The pronoun in "Nothing will stop him." follows the line ("she"/"they" lines get her/them).
    """
    for pat, opts in _INTENSIFIERS:
        if pat.search(line):
            out = pick(opts, seed, "int:" + line)
            if re.search(r"\b(she|her|woman|girl|mom|mother)\b", line, re.I):
                out = out.replace("him", "her").replace("Him", "Her")
            elif re.search(r"\b(they|their|two|three|bears|fans|friends)\b", line, re.I):
                out = out.replace("him", "them").replace("Him", "Them")
            elif not re.search(r"\b(he|his|him|man|guy|dad|father|boy|son|husband|brother|grandpa|grandfather|uncle|"
                               r"king)\b", line, re.I):
                out = out.replace("him", "it").replace("Him", "It")  # "The goat will stop at nothing ..."
            return out
    return None


def scene_setting(line: str) -> str | None:
    """"On a packed flight, one man will ..." → "A packed flight." (the setting said as its own beat)."""
    m = re.match(r"^(?:on|in|at|inside|aboard)\s+(a|an|the)\s+([\w\-]+(?:\s+[\w\-]+){0,3}),\s+\S", line.strip(), re.I)
    if not m or is_production_note(m.group(2)):
        return None
    return f"{_cap(m.group(1).lower())} {m.group(2)}."


def named_echo(line: str, brand: str | None, product: str | None, seed: int) -> str | None:
    """The brand/product phrase of a story line said again on its own ("Obsessed with Doritos.",
    "No Pepsi.", "The Kia Niro hybrid."), else a trailing appositive ("..., the Clydesdales." →
    "The Clydesdales.")."""
    t = line.strip().rstrip(".!?")
    for name in [n for n in (product, brand) if n]:
        m = re.search(r"(?:\b(?P<lead>\w+(?:ed|ing)\s+(?:with|about|by|on|for|in)|no|the|a|an)\s+)?"
                      + re.escape(name) + r"(?P<tail>(?:\s+[A-Z][\w\-]*)*(?:\s+(?!(?:and|or|to|in|on|at|for|with|from|"
                      r"saves|is|are|was|that|which|who|every|forever|of|by|as|so|but)\b)[a-z][\w\-]*)?)\b", t)
        if m and m.start() > 0:
            phrase = m.group(0).strip()
            core = re.sub(r"^(the|a|an)\s+", "", phrase, flags=re.I)
            if len(phrase.split()) < 2 or core.lower() == (brand or "").lower():
                continue  # "the Pepsi": nothing to echo
            opts = [f"{_cap(phrase)}."]
            if re.match(r"^(the|a|an)\b", phrase, re.I):
                opts.append(f"That's {phrase}.")
            return pick(opts, seed, "named:" + t)
    m = re.search(r",\s+(the\s+[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)?)$", t)
    if m:
        return f"{_cap(m.group(1))}."
    return None


def journey_beats(line: str, seed: int) -> str | None:
    """"From childhood to the podium, this is her journey." → "It all started in childhood. And then, the podium."."""
    m = re.match(r"^from\s+(.+?)\s+to\s+(.+?),\s+this is (?:her|his|their|our|the|its)\s+\w+\.?$", line.strip(), re.I)
    if not m:
        return None
    a, b = m.group(1).strip(), m.group(2).strip()
    if re.search(r"(hood|youth|school|college)$", a, re.I) or re.match(r"^(a|an|the|her|his|their|our)\b", a, re.I):
        start = f"in {a}" if not re.match(r"^(a|an|the)\b", a, re.I) else f"with {a}"
        first = pick([f"It all started {start}.", f"It started {start}."], seed, "j1:" + line)
    else:  # a bare noun ("shelter"): no preposition guessed
        first = f"First, {a}."
    then = pick([f"And then, {b}.", f"Then came {b}.", f"Next stop: {b}."], seed, "j2:" + line)
    return f"{first} {then}"


def offer_echo(offer_line: str, seed: int) -> str | None:
    """"Your first ride is free." → "Your first ride is on us."; "20% off ..." → "That's 20% off."."""
    t = offer_line.strip().rstrip(".!?")
    m = re.search(r"\b(your (?:first|next|1st) .+?) (is|are) free\b", t, re.I)
    if m:
        thing = m.group(1)
        return pick([f"{_cap(thing)} {m.group(2)} on us.", f"{_cap(thing)}? Free."], seed, "offer:" + t)
    pct = re.search(r"\b\d+\s?%\s*off\b", t, re.I)
    if pct:
        return f"That's {pct.group(0)}."
    return None


def topic_reprise(topic: str, seed: int) -> str | None:
    """A gerund topic said again near the end ("That's what beating the odds looks like.")."""
    t = topic.strip().rstrip(".")
    if not re.match(r"^(?:(?:never|not|always|just|finally)\s+)?[a-z]+ing\b", t):
        return None
    return pick([f"That's what {t} looks like.", f"That's {t}.", f"Now that's {t}."], seed, "topic:" + t)


def picture_line(cue: str, spoken: str, seed: int, *, used_picture: str = "") -> str | None:
    """A visual cue of the brief put into words ("Picture mean online comments turning into kind ones ...").

    Only cues of 3+ words with no production word; trailing clauses already spoken are left out.
    """
    parts = [p.strip() for p in re.split(r",\s+", cue) if p.strip()]
    parts = [p for i, p in enumerate(parts) if i == 0 or _norm(p) not in _norm(spoken)]
    c = ", ".join(parts).strip().rstrip(".")
    if len(c.split()) < 3 or is_production_note(c) or _norm(c) in _norm(spoken):
        return None
    if re.match(r"^(how|why|what|that)\b", c, re.I):
        return None
    opts = ["Now picture", "Picture"] if used_picture == "imagine" else ["Imagine", "Now imagine"] \
        if used_picture == "picture" else ["Picture", "Now picture", "Imagine"]
    return f"{pick(opts, seed, 'pic:' + c)} {_low(c)}."


def audience_line(aud: str, seed: int) -> str:
    """Address the audience by name ("Sports fans, this one's for you.")."""
    a = _cap(aud)
    opts = [f"{a}, this one's for you.", f"{a}, listen up."]
    if re.search(r"(?<!s)s$|\b(people|folk|children|men|women)$", aud.strip()):  # "Calling all commuter" is not English
        opts.append(f"Calling all {_low(aud)}.")
    return pick(opts, seed, "aud:" + aud)


def fill_devices(an: BriefAnalysis, lines: list[str], *, seed: int, audience: str | None) -> list[Device]:
    """Fill candidates for the copy ``lines`` (hook first, CTA last), best first.

    Each device kind appears at most twice (benefit lines, :mod:`reelflow.processors.copy_benefits`,
    once per kind of fact and at most four); no candidate repeats a line already in ``lines``.
    """
    spoken = " ".join(lines)
    out: list[Device] = []
    seen = {_norm(x) for x in lines}

    def add(kind: str, text: str | None, where: str, most: int = 2, anchor: str = "") -> None:
        if not text or _norm(text) in seen or sum(d.kind == kind for d in out) >= most:
            return
        seen.add(_norm(text))
        out.append(Device(kind, text, where, anchor))

    body = lines[:-1]
    plain = [ln for ln in body if not re.match(r"^(remember|that's)\b", ln, re.I) and "That's" not in ln]
    for ln in plain:  # echo the number of the line's first sentence (a recap line is not echoed)
        first = re.split(r"(?<=[.!?])\s+", ln)[0]
        add("echo", number_echo(first, seed), "after:" + ln)
    for ln in plain:  # a fact about odds or chances is set up with the question it answers
        if _ODDS.search(ln) or re.search(r"\b(the )?(odds|chances?) (of|are|is)\b", ln, re.I):
            if not re.search(r"what are the odds", spoken, re.I):
                add("question", "What are the odds?", "prefix:" + ln)
    used: set[str] = set()
    for fact in [*an.facts, *an.story]:  # what each key fact means to the viewer, right after it ("No waiting around.")
        words = {w for w in _norm(fact).split() if len(w) > 2 or w.isdigit()}  # its line, however it was reworded
        ln = next((x for x in plain if words and words <= set(_norm(x).split())), None)
        if ln is None:
            continue
        # the sentence of the line that says the fact: in a list line the benefit follows its own item
        sent = next((x for x in re.split(r"(?<=[.!?])\s+", ln) if words <= set(_norm(x).split())), "")
        got = benefit_line(fact, seed, used=used, kinds=None if fact in an.facts else CAUSE_KINDS)
        if got and _norm(got[0]) not in _norm(spoken):
            used.add(got[1])
            add("benefit", got[0], "after:" + ln, most=4, anchor=sent)
    for ln in body:
        add("intensifier", intensifier_echo(ln, seed), "after:" + ln)
    for ln in body:
        add("setting", scene_setting(ln), "before:" + ln)
    for ln in body:
        add("journey", journey_beats(ln, seed), "after:" + ln)
    # (the offer is not echoed right after itself: "Your first class is free. Your first class is on us."
    # reads as a stutter; write_copy restates it once before the CTA when there is room)
    if an.topic:
        add("reprise", topic_reprise(an.topic, seed), "cta_prefix")
    used = "imagine" if "imagine" in spoken.lower() else "picture" if "picture" in spoken.lower() else ""
    notes = {_norm(n) for n in an.production_notes}
    for cue in an.visual_cues:
        if _norm(cue) in notes:  # a direction of its own ("big launch energy"), not a "show X" picture
            continue
        p = picture_line(cue, spoken, seed, used_picture=used)
        if p:
            used = "imagine" if p.lower().startswith(("imagine", "now imagine")) else "picture"
            add("picture", p, "after_hook")
    if audience and _norm(audience) not in _norm(spoken):
        add("audience", audience_line(audience, seed), "after_hook")
    if an.brand and an.product_name and an.product_name.lower() != an.brand.lower() \
            and _norm(an.product_name) not in _norm(lines[-1]) and len(an.product_name.split()) <= 4 \
            and all(w[:1].isupper() or w[:1].isdigit() for w in an.product_name.split()) \
            and "'" not in an.product_name and re.search(r"[A-Z]", an.product_name) \
            and not re.match(r"^\d", an.product_name):  # a product *name* ("TrailFox Grip"), not "12-week"
        pn = an.product_name
        name = pn if an.brand.lower() in pn.lower() else f"{pn}, from {an.brand}"
        add("brand", f"{_cap(name)}.", "cta_prefix")
    return out
