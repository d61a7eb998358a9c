"""Offline copywriter: a :class:`~reelflow.processors.brief_analysis.BriefAnalysis` → spoken ad lines.

Structure of the copy (short-form ad convention): ``hook → benefit/story beats → offer → CTA``.

- Hooks of several kinds are generated from the analysis and scored: ``question`` ("What happens
  when a puppy gets lost far from the farm?", or the brief's own opening question), ``you``
  (a "you" problem from a "no X" fact: "Tired of fillers?", or the audience: "Trail runners, this
  one's for you."), ``claim`` ("Meet the new TrailFox Grip trail running shoe."), ``topic``
  ("This is what beating the odds looks like."). Only phrases of the brief are used: no numbers,
  claims or competitors are invented.
- Each key fact becomes one whole sentence (never cut): a noun phrase stays a punchy fragment
  ("Sticky grip on gravel and wet rock."), a participle or adjective phrase gets the product as
  subject ("It's built to last 800 km."), an imperative stays imperative ("Get paid 2x faster."),
  an offer is addressed to the viewer ("New members: your first loaf is free.").
- Story sentences are split into short spoken beats with their subject restored ("The puppy finds
  its way home ...").
- The CTA names the brand and ends on the required closing line verbatim when there is one; else
  it is the brief's own ask ("Ask people to donate or adopt" → "Paws Haven. Donate or adopt
  today."), or an action for what is sold (:func:`category`: try the product, grab a drink, book a
  class, call a service, download the app, get event tickets, support a charity, test-drive a
  car; "Discover <brand>" when nothing says). Never "Brought to you by X." / "Only from X.".
- Measured facts are set up by their question when there is room ("How far? 65 km range.");
  three or more short facts are said once as one list line ("Riverlights: 3,000 lanterns, live
  music and food stalls."); a product phrase takes its article ("Meet the Ridgeline recycled trail
  shoe", not "Meet Ridgeline recycled trail shoe"; mass nouns and plurals stay bare).

Every line has a short and (where the brief supports one) a longer form; :func:`write_copy`
picks forms and optional lines to approach a word target, deterministically for a seed. When the
brief's lines fall short of the target, the copywriter's devices
(:mod:`reelflow.processors.copy_devices`: odds and count echoes, journey beats, the offer restated,
the topic reprised, the visual cue pictured, the audience addressed) fill it from the brief's own
phrases, each at most twice, never a stock line and never a new claim; a key fact of a known kind
is followed by what it means to the viewer (:mod:`reelflow.processors.copy_benefits`: "It charges
a phone in 2 hours. Done before you know it."). A brief that names only the product gets lines
about using that kind of product; a long explainer still far short recaps its facts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from reelflow.processors.brief_analysis import BriefAnalysis
from reelflow.processors.copy_benefits import product_lines
from reelflow.processors.copy_devices import _low, fill_devices, offer_echo, pick

_PARTICIPLE = re.compile(
    r"^(built|made|baked|brewed|roasted|fresh-roasted|delivered|designed|crafted|grown|sourced|hand\w*|tested|loved|"
    r"trusted|approved|certified|packed|powered|engineered|shipped|served|cooked|filled|loaded|priced|rated|"
    r"created|inspired|available|ready|here|back|perfect|safe|proven|[a-z]+-(?:made|approved|tested|roasted|free))\b",
    re.I,
)
_ADJ_END = re.compile(r"^[a-z\-]+(y|ful|less|able|ible|ive|ous|ic|al|er|est|ent|ant|ish|proof|free|fresh)$", re.I)
#: Noun endings that _ADJ_END's "-y"/"-al"/"-er" would take for adjectives ("delivery", "battery", "rental").
_NOUN_END = re.compile(r"(?:ery|ory|ary|ity|acy|ency|ancy|ogy|phy|ment|ion|rental|arrival|removal|approval|"
                       r"renewal|trial|signal|portal|manual)$", re.I)
_ADJ_WORDS = {"smooth", "light", "fast", "quick", "fresh", "soft", "strong", "simple", "easy", "bold", "rich", "warm",
              "clean", "natural", "local", "organic", "affordable", "durable", "waterproof", "quiet", "cheap", "new",
              "secure", "smart", "handy", "tough", "sleek", "compact", "bright", "sweet", "crisp", "cool", "hot",
              "gentle", "pure", "green", "small", "big", "fun", "free", "open", "vegan", "whole"}
_IMPERATIVE = re.compile(
    r"^(send|get|save|try|find|start|join|book|order|shop|grab|make|take|ride|track|build|ship|share|earn|pay|"
    r"switch|meet|enjoy|discover|explore|skip|stop|cut|go|see|watch|feel|taste|sign|download|plan|learn|create)\b",
    re.I,
)
_VERB = re.compile(
    r"\b(is|are|was|were|will|can|has|have|had|does|do|gets?|goes|finds?|looks?|raids?|tries|try|buys?|discovers?|"
    r"keeps?|drives?|rescues?|saves?|starts?|sets?|turns?|meets?|makes?|takes?|wins?|won|helps?|comes?|becomes?|"
    r"learns?|passes|ends?|puts?|loves?|wants?|runs?|walks?|plays?|dreams?|beats?|tells?|unites?|grows?|flows?|"
    r"begs?|shows?|looks?|raid|find|put|unite|cheer\w*)\b",
    re.I,
)
_SUBJ_HEAD = (r"^(?:(?P<pron>they|she|he|it|we)\s+|(?:(?P<det>a|an|one|the|two|three|four|five|some|his|her|their)\s+)?"
              r"(?P<np>(?:(?!that\b|which\b|who\b)[\w\-]+\s+){0,3}?(?!that\b|which\b|who\b)[\w\-]+?)\s+)")
_EXPLICIT_VERBS = (r"is|are|was|were|will|can|has|have|gets?|goes|finds?|won|raid|find|put|unite|show|try|tries|buys?|"
                   r"discovers?|keeps?|drives?|rescues?|saves?|starts?|sets?|turns?|meets?|makes?|takes?|wins?|helps?|"
                   r"comes?|becomes?|learns?|passes|ends?|puts?|loves?|wants?|runs?|walks?|plays?|dreams?|beats?|tells?|"
                   r"unites?|grows?|raids?|looks?|reflects?|raises?|uses?|offers?|stops?|sees?|says?|waits?|watches|"
                   r"decides?|realizes?|realises?|returns?|brings?|gives?|leaves?|falls?|fights?|races?|rides?")
#: A subject noun phrase followed by a verb from the list (preferred), else by any "-s" word.
_SUBJ_EXPLICIT = re.compile(_SUBJ_HEAD + r"(?=(?:" + _EXPLICIT_VERBS + r")\b)", re.I)
_SUBJ = re.compile(_SUBJ_HEAD + r"(?=(?:(?!its\b|this\b|his\b|hers\b|ours\b|yours\b|theirs\b|always\b|perhaps\b|"
                   r"less\b|across\b|towards?\b|besides\b|plus\b|us\b|as\b|thus\b|was\b|years\b)[a-z]+s)\b)", re.I)
#: Verbs a product does, as a fact's first word ("charges in 2 hours", "folds flat"): said with its pronoun.
_PRODUCT_VERBS = {"charges", "keeps", "dims", "fits", "folds", "lasts", "works", "runs", "cleans", "connects", "syncs", "pairs",
                  "ships", "arrives", "costs", "saves", "plugs", "clips", "locks", "heats", "cools", "brews", "grinds",
                  "holds", "weighs", "stays", "tracks", "sends", "packs", "starts", "loads", "opens", "glows", "fits"}
#: Words that follow a verb, not a plural noun ("sorts every purchase", "alerts you", "links your bank").
_VERB_OBJECT_START = {"your", "you", "every", "the", "a", "an", "all", "any", "its", "their", "our", "my", "up", "yourself",
                      "itself", "them", "it", "more", "less", "twice", "straight", "right", "automatically", "instantly"}
_STOP = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "at", "by", "from", "is", "are", "it",
         "its", "it's", "your", "you", "our", "we", "that", "this", "be", "was", "were", "will", "can", "as", "but",
         "yet", "so", "then", "when", "into", "than", "every", "each", "has", "have", "they", "their", "them", "his",
         "her", "she", "he", "him", "who", "what", "does", "do", "not", "no", "up", "out", "just", "more", "all"}


def sentence(text: str) -> str:
    """Tidy ``text`` into a spoken sentence: collapsed spaces, capitalised, closing punctuation."""
    s = re.sub(r"\s+", " ", text).strip(" ,;:-\"'")
    s = re.sub(r"\s+([,.!?])", r"\1", s)
    if not s:
        return s
    s = s[0].upper() + s[1:]
    if s[-1] not in ".!?":
        s += "."
    if s.endswith(".") and re.match(r"^(what|who|why|how|where|which)\s+(will|would|do|does|did|is|are|can|could|should)"
                                    r"\s+\w+[^,.]*\.$", s, re.I):
        s = s[:-1] + "?"  # "What will you do." (its hashtag taken out) is a question
    return s


def word_count(text: str) -> int:
    """Spoken words in ``text`` (whitespace tokens with a letter or digit)."""
    return sum(1 for w in text.split() if re.search(r"[A-Za-z0-9]", w))


@dataclass
class Line:
    """One spoken line (one scene) with its alternatives and role.

    ``forms`` are the same content at increasing length (index 0 = shortest); ``choice`` is the
    picked form. ``priority``: 0 = must (hook, CTA, facts, required), 1 = story beat, 2 = optional.
    """

    forms: list[str]
    beat: str = "cta"  # hook | benefit | proof | story | cta
    priority: int = 0
    fact: str | None = None  # the key fact this line says (as written in the brief)
    items: list[str] = field(default_factory=list)  # for a list line: the spoken items
    choice: int = 0
    hook_kind: str = ""

    @property
    def text(self) -> str:
        """The chosen form."""
        return self.forms[min(self.choice, len(self.forms) - 1)]

    @property
    def words(self) -> int:
        """Words of the chosen form."""
        return word_count(self.text)


# ---------------------------------------------------------------------------------------------
# Sentences from facts and story
# ---------------------------------------------------------------------------------------------


def _plural(noun_phrase: str) -> bool:
    """Whether the phrase's head noun is plural ("meal kits"; "budgeting app for students" is singular)."""
    core = re.split(r"\s+(?:for|with|of|from|in|on|that|which|by|to)\s+", noun_phrase.strip(), maxsplit=1)[0]
    head = core.split()[-1].lower() if core.split() else ""
    return head.endswith("s") and not head.endswith(("ss", "us", "is"))


def _pronoun(an: BriefAnalysis) -> tuple[str, str]:
    """Subject pronoun and its 'be' contraction for the product ("It", "It's") / ("They", "They're")."""
    if an.product and _plural(an.product):
        return "They", "They're"
    return "It", "It's"


def _second_person(text: str) -> str:
    """"the first ride is free" → "your first ride is free" (offers are addressed to the viewer)."""
    return re.sub(r"^(the|a)\s+(first|next|1st)\b", r"your \2", text, flags=re.I)


def offer_sentence(offer: str) -> str:
    """An offer phrase as a line addressed to the viewer (same words, no new claims).

    ``"first loaf free for new members"`` → ``"New members: your first loaf is free."``;
    ``"the first ride is free"`` → ``"Your first ride is free."``.
    """
    o = offer.strip().rstrip(".")
    m = re.match(r"^(?:the\s+|your\s+)?(first|1st|next)\s+(.+?)\s+(?:is|are)?\s*free(?:\s+(?:for|to)\s+(.+))?$", o, re.I)
    if m:
        thing = m.group(2)
        verb = "are" if _plural(thing) or re.match(r"^\d+|^(two|three|four|five|ten)\b", thing, re.I) else "is"
        if re.search(r"\s(?:ship|ships|deliver|delivers|arrive|arrives|travel|travels|go|goes|come|comes|ride|rides|"
                     r"eat|eats|play|plays|stay|stays|park|parks)$", thing, re.I):
            verb = ""  # "first 100 orders ship free": the verb is the offer's own ("...ship free", not "ship are free")
        core = re.sub(r"\s+", " ", f"your {m.group(1).lower()} {thing} {verb} free")
        if m.group(3):
            return sentence(f"{m.group(3)}: {core}")
        return sentence(core)
    return sentence(_second_person(o))


_NUMBERISH = re.compile(r"\d|\b(?:one in|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|"
                        r"million|billion|half|double|twice|triple)\b", re.I)
#: A measured fact set up by the question it answers ("How far? 65 km range."): (pattern, question).
_REVEALS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:top speed|km/h|mph)\b", re.I), "How fast?"),
    (re.compile(r"\brange\b.*\d|\d.*\brange\b", re.I), "How far?"),
    (re.compile(r"\b(?:in|within|under)\s+(?:just\s+)?\d+\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\b", re.I),
     "How fast?"),
    (re.compile(r"\bfor\s+\d+\s*(?:minutes?|hours?|days?|weeks?|months?|years?)\b", re.I), "How long?"),
    (re.compile(r"^(?!.*\b(?:tows?|towing|carr(?:y|ies)|holds?|lifts?|loads?|payload|capacity)\b)(?:.*\b(?:weighs?|weight)\b"
                r".*\d|.*\d+\s?(?:g|kg|grams?|lbs?)(?=\s*$|\s+(?:per|each|apiece)\b))", re.I),
     "How heavy?"),  # "5 g per earbud", not "12 g protein per serving" nor "tows 3,500 kg"
    (re.compile(r"(?:from|only|just|for)\s+[$€£]\s?\d", re.I), "The price?"),
]


def reveal_form(line: str, fact: str) -> str | None:
    """``line`` set up by the question its number answers ("How far? 65 km range."), or None.

    Only for measured facts (range, speed, time, weight, price): the question adds no claim, it
    names what the number measures.
    """
    if not re.search(r"\d", fact) or line.rstrip().endswith("?"):
        return None
    for rx, q in _REVEALS:
        if rx.search(fact):
            return f"{q} {line}"
    return None


def fact_sentences(fact: str, an: BriefAnalysis) -> list[str]:
    """One key fact as whole spoken sentences, shortest first (each says the whole fact).

    A measured fact's second form is set up by its question (:func:`reveal_form`).
    """
    forms = _fact_sentences(fact, an)
    rev = reveal_form(forms[0], fact)
    return [forms[0], rev] if rev else forms


def _reminder(offer: str) -> str:
    """The offer said again before the CTA: "Friday promo: buy two, get one free" → "Remember: buy two,
    get one free." (a header before a colon is dropped; a name keeps its capital)."""
    o = offer_sentence(offer).rstrip(".!")
    head, sep, rest = o.partition(": ")
    if sep and word_count(rest) >= 3:
        o = rest
    return sentence("Remember, " + _low(o))


#: Units of time a measured participle fact takes "for" with ("12 hours steeped" → "Steeped for 12 hours.").
_TIME_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|nights?)"
_NUM_PARTICIPLE = re.compile(r"^(?P<n>(?:\d[\d,.]*|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                             r"twenty|thirty|forty|fifty|hundred)\+?[\s-](?:" + _TIME_UNIT + r"|times|x)|\d[\d,.]*x)\s+"
                             r"(?P<p>[a-z]+ed|[a-z]+-(?:aged|roasted|brewed|tested|fermented)|brewn|grown|sewn|done)$", re.I)


def num_participle_forms(fact: str, an: BriefAnalysis) -> list[str] | None:
    """A measure put before its participle ("12 hours steeped", "3 times filtered", "48-hour fermented")
    said the natural way round: "Steeped for 12 hours." / "They're steeped for 12 hours."; None otherwise."""
    m = _NUM_PARTICIPLE.match(fact.strip().rstrip("."))
    if not m:
        return None
    n, part = m.group("n").replace("-", " "), m.group("p").lower()
    unit = n.split()[-1].lower() if " " in n else ""
    if re.fullmatch(_TIME_UNIT, unit, re.I):
        first = n.split()[0]
        if not unit.endswith("s") and not (first.isdigit() and int(first) == 1) and first.lower() not in {"a", "one"}:
            n = f"{n}s"  # "48 hour" (from "48-hour") → "48 hours"
        rest = f"{part} for {n}"
    else:
        rest = f"{part} {n}"
    _, be = _pronoun(an)
    return [sentence(rest), sentence(f"{be} {rest}")]


def _fact_sentences(fact: str, an: BriefAnalysis) -> list[str]:
    f = fact.strip().rstrip(".")
    pron, be = _pronoun(an)
    name = an.product_name or an.brand
    low = f.lower()
    if an.offer and f == an.offer:
        return [offer_sentence(f)]
    if (natural := num_participle_forms(f, an)) is not None:
        return natural
    if _IMPERATIVE.match(f) and not _VERB.search(" ".join(f.split()[1:2])):
        return [sentence(f)]
    if re.match(r"^never\s+\S", low) and word_count(f) <= 5:  # "never bitter" → "It's never bitter."
        verb = re.match(r"^never\s+[a-z]+s\b", low) and not re.match(r"^never\s+\w+(?:ss|us|ous)\b", low)
        return [sentence(f"{pron} {f}" if verb else f"{be} {f}")]
    if re.match(r"^(no|zero|never|without)\b", low):
        return [sentence(f), sentence(f"And {f}")]
    if re.match(r"^(?:[$€£]\s?\d[\d,.]*\w*|\d[\d,.]*\s?%?)\s+(?:[a-z]+\s+)?[a-z]+s\s+(?:a|an|the|your|up|\d|one|two)\b", f):
        return [sentence(f)]  # "$25 feeds a shelter dog for two weeks": a sentence with a number subject
    first = low.split()[0]
    if word_count(f) > 9 or f[:1].isupper():
        return [sentence(f)]  # a full sentence as written: never bent into "It's ..."
    if (_PARTICIPLE.match(f) or (first.endswith("ed") and first not in {"need", "speed", "seed", "feed", "bed"})) and (
            len(f.split()) == 1 or f.split()[1].lower() in _AFTER_PARTICIPLE or re.match(r"[$€£\d]", f.split()[1])):
        # "baked at 4am daily" → "It's baked at 4am daily."; "handmade pasta every morning" is a noun phrase
        return [sentence(f"{be} {f}"), sentence(f"And {be.lower()} {f}")]
    words = f.split()
    if len(words) >= 2 and (first in _PRODUCT_VERBS or (
            re.fullmatch(r"[a-z]+[^su]s", first) and (words[1].lower() in _VERB_OBJECT_START
                                                     or re.match(r"^[$€£]?\d", words[1])))):
        if pron.lower() == "they":  # "keeps drinks cold" said of water bottles: "They keep drinks cold."
            f = _base_verb(words[0]) + f[len(words[0]):]
        return [sentence(f"{pron} {f}")]  # "charges in 2 hours", "links your bank" → "It links your bank."
    if (first in _ADJ_WORDS or (_ADJ_END.match(first) and not _NOUN_END.search(first))) and (
            len(words) == 1 or words[1].lower() in {"enough", "and", "for", "to", "as", "on", "in", "with", "at"}):
        return [sentence(f"{be} {f}"), sentence(f"{name} is {f}") if name and be.startswith("It") else sentence(f"{be} {f}")]
    if _VERB.search(f) and re.match(r"^(?:our|the|your|its|their|my|a|an|one|\w+'s|[A-Z])", f):
        return [sentence(f)]
    if len(words) <= 3 and words[-1].lower().endswith("ed"):
        return [sentence(f"{be} {f}"), sentence(f"And {be.lower()} {f}")]
    # a noun phrase: a punchy fragment; a longer form addressed to the viewer when it reads as one
    return [sentence(f)]  # a noun phrase: a punchy fragment ("Grip on wet rock.")


#: Words that follow a participle used as a predicate ("baked at 4am", "built to last", "ready in
#: 10 minutes"); any other next word makes the participle an adjective of a noun ("handmade pasta").
_AFTER_PARTICIPLE = {"at", "in", "on", "for", "from", "by", "with", "to", "daily", "every", "each", "since", "under",
                     "over", "within", "using", "and", "locally", "right", "here", "across", "around", "after",
                     "before", "without", "until", "into", "than", "as", "like", "fresh", "twice", "once", "weekly",
                     "nightly", "slowly", "entirely", "only", "now", "today", "near", "all", "just", "up", "out"}


def _base_verb(verb: str) -> str:
    """Third-person singular → plain form, for a plural subject: "keeps" → "keep", "charges" →
    "charge", "carries" → "carry", "goes" → "go", "has" → "have"."""
    low = verb.lower()
    irregular = {"has": "have", "does": "do", "goes": "go", "is": "are"}
    if low in irregular:
        return irregular[low]
    if re.search(r"[^aeiou]ies$", low):
        return verb[:-3] + "y"
    if re.search(r"(?:ch|sh|ss|x|zz)es$", low):
        return verb[:-2]
    return verb[:-1] if low.endswith("s") and not low.endswith("ss") else verb


def spoken_name(an: BriefAnalysis) -> str | None:
    """A short name for the product as a subject: "Kiln Coffee cold brew", "The Budgetly app",
    "Greenbox meal kits", "TrailFox Grip"; None without a product (then "it" stays "it")."""
    if an.brand and re.search(r"\w's\s+[A-Z]", an.brand):
        return an.brand  # a possessive name is the place itself ("Nonna's Kitchen"), never "The Nonna's Kitchen ..."
    if not an.product:
        return None
    pn = an.product_name or an.product
    if pn[:1].isupper() and word_count(pn) >= 2 and word_count(pn) <= 3 and (not an.brand or an.brand.lower() in pn.lower()):
        return _named_with_article(pn)
    core = re.split(r"\s+(?:for|with|of|from|in|on|that|which|by|to)\s+", an.product.strip(), maxsplit=1)[0]
    core = re.sub(r"^(?:new|latest|all-new)\s+", "", core, flags=re.I)
    if not an.brand or not core or core[:1].isupper():
        return None
    if an.brand.lower() in core.lower():
        return None
    if word_count(core) <= 2:
        return _named_with_article(f"{an.brand} {core}")
    return f"The {an.brand} {core.split()[-1]}"


def _list_name(an: BriefAnalysis) -> str | None:
    """The name that introduces a list of the product's facts ("Volta V2: 65 km range, ..."): the
    product's name, the brand before a one-word model name ("V2" → "Volta V2"), else the brand."""
    name = (an.product_name if an.product_name and an.product_name[:1].isupper() else an.brand) or None
    if name and an.brand and len(name.split()) == 1 and an.brand.lower() not in name.lower():
        return f"{an.brand} {name}"
    return name


def _named_with_article(name: str) -> str:
    """"Nimbus rain jacket" → "The Nimbus rain jacket" (a brand before a singular countable noun takes
    "the"); names ("TrailFox Grip"), plurals ("Greenbox meal kits") and mass nouns ("Kiln Coffee cold
    brew") stay bare."""
    head = name.split()[-1]
    if head[:1].isupper() or head[:1].isdigit() or _plural(name) or head.lower() in _MASS_NOUNS \
            or " ".join(name.lower().split()[-2:]) in _MASS_NOUNS:
        return name
    return f"The {name}"


def _named_forms(forms: list[str], an: BriefAnalysis) -> list[str]:
    """Add a form that names the product instead of "it" ("It weighs 240 g." → "The Ridgeline recycled
    trail shoe weighs 240 g."), used when the copy has room: the name is said, nothing is added."""
    name = spoken_name(an)
    if not name:
        return forms
    m = re.match(r"^(?:And\s+)?(it's|they're|it|they)\s+(.+)$", forms[0], re.I)
    if not m or any(f.endswith("?") or "? " in f for f in forms[1:]):
        return forms
    pron, rest = m.group(1).lower(), m.group(2)
    be = {"it's": " is", "they're": " are"}.get(pron, "")
    named = f"{name}{be} {rest}"
    return [forms[0], named]


def _subject_np(clause: str) -> tuple[str, str] | None:
    m = _SUBJ_EXPLICIT.match(clause.strip()) or _SUBJ.match(clause.strip())
    if not m:
        return None
    if m.group("pron"):
        return "pron", m.group("pron").lower()
    if not m.group("det") and not (clause[:1].isupper() and len(m.group("np").split()) == 1):
        return None  # no determiner: only a bare capitalised noun subject ("Guy tries ...")
    if not m.group("det") and m.group("np").lower() in {"our", "the", "this", "that", "your", "my", "its", "these",
                                                         "those", "i", "we", "every", "each", "all", "some", "no"}:
        return None  # "Our volunteers read ...", "The success of ...": not a bare noun subject
    return (m.group("det") or "a").lower(), m.group("np")


def story_beats(story: list[str]) -> list[str]:
    """Narrative sentences → short spoken beats with subjects restored, in order.

    Splits at ", then", " and <verb>", ", yet", "; ", " as ", " when " boundaries (kept whole when
    a part would be under 4 words); "A puppy ... and finds" → "The puppy finds ...".
    """
    beats: list[str] = []
    subject: str | None = None
    expanded: list[str] = []
    for sent in story:  # "Fans unite: rival fans ..., showing what people can do ..." → three beats
        s = sent.strip().rstrip(".")
        m = re.match(r"^([^:]{3,40}):\s+(.+)$", s)
        if m and word_count(m.group(1)) >= 2 and word_count(m.group(2)) >= 4:
            s_parts = [m.group(1), m.group(2)[:1].upper() + m.group(2)[1:]]
        else:
            s_parts = [s]
        for sp in s_parts:
            show = re.split(r",\s+(?:showing|proving|revealing)\s+(?=(?:what|how|that|why)\b)", sp, maxsplit=1)
            if len(show) == 2 and word_count(show[0]) >= 3 and word_count(show[1]) >= 4:
                expanded += [show[0], f"That's {show[1]}" if not show[1].startswith("that") else f"It shows {show[1]}"]
            else:
                expanded.append(sp)
    for sent in expanded:
        s = sent.strip().rstrip(".")
        subj = _subject_np(s)
        if subj:
            det, np = subj
            subject = np if det == "pron" else f"the {np}" if det in {"a", "an", "one", "two", "three", "four", "five",
                                                                          "the"} else f"{det} {np}"
        parts = re.split(r",?\s+(?:and then|then|and)\s+(?=(?:\w+s|will|can|try|find|put|raid)\b)|,\s+(?=yet\b|but\b)|"
                         r",\s+and\s+(?=(?:[\w\-]+\s+){1,3}(?:he|she|they)\s+\w+)", s)
        parts = [p.strip(" ,") for p in parts if p and p.strip(" ,")]
        if len(parts) > 1 and all(word_count(p) >= 4 for p in parts):
            out = [parts[0]]
            for prev, p in zip(parts, parts[1:]):
                # "... discovers the goat is obsessed with X and will stop at nothing": the clause goes on
                # with the subject of the clause it follows (the goat), not the sentence's (the man)
                inner = re.search(r"\b\w+s\s+(?:that\s+)?(the|his|her|their)\s+([a-z][\w\-]*)\s+(?:is|are|was|were|has|"
                                  r"have|gets|becomes|can|will)\b", prev)
                who = f"{'the' if inner.group(1) == 'the' else inner.group(1)} {inner.group(2)}" if inner else subject
                if re.match(r"^(?:\w+\s+){0,3}(?:he|she|they|we|i)\s+\w+", p, re.I):
                    p = p[:1].upper() + p[1:]  # "..., and years later she teaches ..." has its own subject
                elif not re.match(r"^(yet|but)\b", p, re.I) and who and not _subject_np(p):
                    p = f"{who[:1].upper() + who[1:]} {p}"
                out.append(p)
            parts = out
        else:
            parts = [s]
        for p in parts:  # "X finds its way home with help from Y" → "X finds its way home." + "How? With help from Y."
            helped = re.match(r"^(.{12,}?)\s+((?:with (?:a little |some )?help from|with the help of|thanks to)\s+.{4,})$",
                              p, re.I)
            if helped and word_count(helped.group(1)) >= 4:
                beats.append(sentence(helped.group(1)))
                beats.append(sentence(f"How? {helped.group(2)[:1].upper() + helped.group(2)[1:]}"))
            else:
                beats.append(sentence(p))
    return beats


def _fact_head(fact: str) -> str | None:
    """The head of a fact for a recap line: its first words up to a preposition ("sticky grip on
    gravel" → "sticky grip"; "built to last 800 km" → "built to last 800 km" is kept when short)."""
    words = fact.strip().rstrip(".").split()
    if not words or word_count(fact) > 6 or fact[:1].isupper() or re.match(r"^[$€£]", fact):
        return None  # a sentence as written ("Every month we rehome 40 dogs") is not cut into a recap
    if word_count(fact) <= 3:
        return fact.strip().rstrip(".")
    out: list[str] = []
    for k, w in enumerate(words):
        if out and w.lower() in {"on", "in", "at", "for", "with", "from", "of", "every", "and", "daily", "to", "per"}:
            nxt = words[k + 1] if k + 1 < len(words) else ""
            if (w.lower() == "to" and len(out) == 1) or re.search(r"\d", nxt):  # "built to last", "baked at 4am"
                out.append(w)
                continue
            break
        out.append(w)
    head = " ".join(out[:6])
    return head if word_count(head) >= 1 and head.lower() not in {"no", "the", "a"} else None


def _question_hook(beat: str) -> str | None:
    """"A puppy gets lost far from the farm." → "What happens when a puppy gets lost far from the farm?".

    Only for an event: a subject with a determiner (or a bare capitalised noun) and an action verb
    in the present tense — not a statement with "is/can/will/always" or a number phrase.
    """
    b = beat.rstrip(".!?")
    subj = _subject_np(b)
    if not subj or subj[0] == "pron" or word_count(b) > 14 or re.search(r"\d", subj[1]):
        return None
    rest = b[len(b.split(subj[1], 1)[0]) + len(subj[1]):].strip()
    verb = rest.split()[0].lower() if rest.split() else ""
    if verb in {"is", "are", "was", "were", "will", "can", "has", "have", "always", "never"} or len(rest.split()) < 2:
        return None
    if subj[0] in {"a", "an", "one"} and not verb.endswith("s"):
        return None  # "a kick return ..." is a noun phrase, not "a kick returns"
    if re.search(r"\b(always|never|often|usually|sometimes|just|really)\b", subj[1], re.I):
        return None
    if re.match(r"^(this|that|these|those|the most|it)\b", b, re.I):
        return None
    return f"What happens when {b[0].lower() + b[1:]}?"


def _meet_hook(beat: str) -> tuple[str, str] | None:
    """"A modern-day Clydesdale horse looks back on ..." → ("Meet a modern-day Clydesdale horse.",
    "He looks back on ..."): the subject as a hook, the beat told with a pronoun (from the beat's own
    him/her/its, else "It"). None when the beat does not start with "a/an <noun phrase> <verb>"."""
    b = beat.rstrip(".!?")
    subj = _subject_np(b)
    if not subj or subj[0] not in {"a", "an"} or re.search(r"\d", subj[1]):
        return None
    rest = b[len(b.split(subj[1], 1)[0]) + len(subj[1]):].strip()
    if len(rest.split()) < 3 or not rest.split()[0].lower().endswith("s") or rest.split()[0].lower() in {"is", "has"}:
        return None  # "Bella is a horse ..." is said as it is, not "Meet a bella. It is a horse ..."
    np = subj[1]
    if b.startswith(np) and len(np.split()) == 1:
        np = np.lower()  # a bare capitalised subject ("Man uses ...") → "Meet a man."
    head = np.split()[-1].lower()
    pron = "He" if re.search(r"\b(him|his|himself)\b", rest) or head in _MALE else "She" if re.search(
        r"\b(her|herself)\b", rest) or head in _FEMALE else "They" if re.search(r"\b(them|their)\b", rest) else "It"
    if pron == "They":
        return None
    return sentence(f"Meet {subj[0]} {np}"), sentence(f"{pron} {rest}")


_MALE = {"man", "guy", "dad", "father", "boy", "son", "husband", "grandpa", "grandfather", "brother", "uncle", "king"}
_FEMALE = {"woman", "girl", "mom", "mum", "mother", "daughter", "wife", "grandma", "grandmother", "sister", "aunt", "queen"}


def _audience_phrase(audience: str | None) -> str | None:
    if not audience:
        return None
    a = re.split(r"[,;(]", audience)[0]
    if re.fullmatch(r"\s*gen[- ]?z(?:ers)?\s*", a, re.I):
        return "Gen Z"  # the audience itself, not a qualifier ("Gen-Z runners" → "runners")
    a = re.sub(r"\b(gen[- ]?z|aged|ages)\b|\d+\s*-\s*\d+|\d+\+|\bgeneral audience\b", " ", a, flags=re.I)
    a = re.sub(r"^\s*adults\s*$", "", a, flags=re.I)
    a = re.sub(r"\s+", " ", a).strip(" -")
    if not a or word_count(a) > 4 or not re.search(r"[a-z]", a):
        return None
    return a


def _topic_hook(topic: str) -> str | None:
    t = topic.strip().rstrip(".")
    if re.match(r"^(?:(?:never|not|always|just|finally)\s+)?[a-z]+ing\b", t):
        return f"This is what {t} looks like."
    if re.search(r"\b(day|launch|week|season|event|sale)$", t, re.I):
        return sentence(f"{t} is here")
    if re.search(r"\b(journey|story|history|quest|mission|rise|legacy|adventure|tale|origins?)\b", t, re.I) \
            and 3 <= word_count(t) <= 10:
        t = re.sub(r"^(?:a|an)\s+", "", t, flags=re.I)
        return sentence(t if re.match(r"^(the|his|her|their|our|its)\b|^\w+'s\b", t, re.I) else f"the {t}")
    return None


# ---------------------------------------------------------------------------------------------
# The copy
# ---------------------------------------------------------------------------------------------


@dataclass
class Copy:
    """The chosen lines, hook first and CTA last, plus the alternatives considered."""

    lines: list[Line]
    hooks: list[Line]
    call_to_action: str
    warnings: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        """Total spoken words."""
        return sum(ln.words for ln in self.lines)


#: What the brief sells, from its own words: picks the verb of a call to action that names the brand.
_CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    ("charity", re.compile(r"\b(charit\w*|non-?profit|shelter|donat\w+|volunteer\w*|foundation|fundrais\w+|rescue "
                           r"centre|appeal|cause)\b", re.I)),
    ("event", re.compile(r"\b(festival|concert|gig|conference|expo|tickets?|parade|screening|exhibition|"
                         r"tour dates?)\b", re.I)),
    ("app", re.compile(r"\b(app|apps|software|platform|saas|download)\b", re.I)),
    ("subscription", re.compile(r"\b(subscriptions?|subscribe|membership|every month|monthly box|box every)\b", re.I)),
    ("insurance", re.compile(r"\b(insurance|insurer|cover for|quote)\b", re.I)),
    ("course", re.compile(r"\b(bootcamp|course|courses|workshop|degree|diploma|certificate programme|academy)\b", re.I)),
    ("car", re.compile(r"\b(car|cars|suv|sedan|hatchback|hybrid|pickup truck|truck|vehicle|crossover|coupe|ev|driving|braking|"
                       r"test drive)\b", re.I)),
    ("service", re.compile(r"\b(plumb\w+|electrician\w*|cleaning|cleaners?|repairs?|salon|barber\w*|studio|clinic|"
                           r"dentist\w*|gym|classes|class|lessons?|tutor\w*|agency|insurance|(?<!power )bank|delivery service|"
                           r"removals?|movers?|garage|spa)\b", re.I)),
    ("drink", re.compile(r"\b(beer|lager|ale|brew|brewery|soda|cola|drink|drinks|beverage|coffee|tea|juice|water|"
                         r"wine|cider|bottles? of)\b", re.I)),
    ("food", re.compile(r"\b(snacks?|chips|crisps|bread|loaf|sourdough|bakery|pizza|burgers?|meal|meals|kits?|"
                        r"chocolate|cookies?|cereal|restaurant|cafe|menu)\b", re.I)),
]


_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"\b|\b" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?\b")


_ENDORSED = re.compile(r"\b[\w]+-(?:approved|recommended|tested|certified|endorsed|grade|quality|style|inspired|"
                       r"friendly|proof|loved|trusted)\b", re.I)


def category(an: BriefAnalysis) -> str:
    """What the brief sells (``charity``/``event``/``app``/``subscription``/``car``/``service``/``drink``/``food``/``other``),
    from the product phrase first, then the facts, story and topic (closed keyword lists, first match)."""
    for text in (an.product or "", " ".join([*an.facts, an.topic or "", an.call_to_action or ""])):
        # an endorsement names who approves, not what is sold ("dentist-approved" is no dental service)
        text = _ENDORSED.sub(" ", text)
        for name, rx in _CATEGORIES:
            if text and rx.search(text):
                return name
    # a story ad names what is sold only in passing or in its directions ("end on the brewery",
    # "the car driving away"): only the product kinds whose call to action cannot mislead
    scene = " ".join([*an.story, *an.production_notes, *an.visual_cues])
    for name, rx in _CATEGORIES:
        if name in {"drink", "food", "car"} and rx.search(scene):
            return name
    return "other"


def _with_article(phrase: str) -> str:
    """"recycled trail shoe" → "the recycled trail shoe"; names, plurals and mass nouns stay bare
    ("TrailFox Grip", "meal kits", "cold brew" → "the cold brew" only when countable is unknown: kept)."""
    p = phrase.strip()
    words = p.split()
    if not words or re.match(r"^(the|a|an|our|your|my|their|its|this|that)\b", p, re.I):
        return p
    head = words[-1]
    if head[:1].isupper() or head[:1].isdigit() or _plural(p) or head.lower() in _MASS_NOUNS:
        return p  # a name ("Volta V2"), a plural ("meal kits") or a mass noun ("Harbor Bakery sourdough")
    return f"the {p}"


#: Uncountable product heads that take no article ("Meet Harbor Bakery sourdough.").
_MASS_NOUNS = {"sourdough", "bread", "coffee", "brew", "tea", "water", "beer", "lager", "juice", "wine", "cider", "milk",
               "software", "furniture", "pasta", "chocolate", "skincare", "haircare", "granola", "honey", "soap",
               "insurance", "broadband", "wifi", "coverage", "advice", "support", "training", "care", "food", "gin",
               "kombucha", "yoghurt", "yogurt", "cheese", "butter", "icecream", "gelato", "rice", "oil", "sauce",
               "storage", "hosting", "cereal", "muesli", "protein", "laundry", "music", "equipment", "cold brew"}


def _cta_thing(an: BriefAnalysis) -> str | None:
    """The product with the brand and an article, as a CTA object ("the Ridgeline recycled trail shoe")."""
    brand = an.brand
    if not an.product:
        return None
    p = an.product
    if word_count(p) > 5:
        p = an.product_name or p
        if word_count(p) > 5:
            return None
    if brand and re.search(r"\w's\s+[A-Z]", brand):
        return brand  # "Nonna's Kitchen", not "the Nonna's Kitchen family Italian restaurant"
    if brand and brand.lower() not in p.lower():
        p = f"{brand} {p}"
    if re.match(r"^(the|a|an|our|your)\b", p, re.I):
        return p
    if an.product_is_new:
        return f"the new {p}"
    return _with_article(p)


def _cta(an: BriefAnalysis) -> tuple[Line, str]:
    """The closing line: an action that names the brand, and the short pill text shown under the brand.

    Order: the brief's closing line (verbatim, the brand said before it when missing); the brief's
    own ask ("donate or adopt" → "Paws Haven. Donate or adopt today."); the brand's hashtag; an
    action for what is sold (try the product, grab a drink, book a service, download the app, get
    tickets, support a charity, test-drive a car); else "Discover <brand>". The pill (``str``) is
    the action without the brand, so the end card does not print the brand twice.
    """
    brand = an.brand
    if an.closing_line:
        close = sentence(an.closing_line) if an.closing_line[-1:] not in "!?" else an.closing_line
        if brand and brand.lower() not in close.lower():
            return Line([f"{brand}. {close}"], "cta", 0), close
        return Line([close], "cta", 0), close
    if an.call_to_action:
        act = an.call_to_action.strip().rstrip(".!")
        act = act[:1].upper() + act[1:]
        timed = re.search(r"\b(today|now|tonight|online|soon|tomorrow|this (?:week|weekend|month|year|season|summer|"
                          r"winter|spring|autumn|fall)|on \d|before|by (?:monday|tuesday|wednesday|thursday|friday|"
                          r"saturday|sunday|midnight|the|\d))\b", act, re.I)
        action = sentence(act if timed else f"{act} today")
        if brand and brand.lower() not in action.lower():
            return Line([f"{brand}. {action}", f"{sentence(act)} {brand} needs you." if category(an) == "charity"
                         else f"{brand}. {action}"], "cta", 0), action
        return Line([action], "cta", 0), action
    if not brand:
        if an.product:
            verb = "Visit" if _PLACE.search(re.split(r"\s+(?:in|on|at|for|with|near|from)\s+", an.product)[0]) else "Try"
            return Line([sentence(f"{verb} {_with_article(an.product)} today")], "cta", 0), sentence(
                f"{verb} {_with_article(an.product)} today")
        return Line(["See it for yourself."], "cta", 0), "See it for yourself."
    line, pill = _brand_action(an, brand)
    if an.hashtags:  # the campaign's hashtag said first ("Best Buds. Grab a Budweiser.")
        spoken = sentence(re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])", " ", an.hashtags[-1]))
        if brand.lower().replace(" ", "") not in an.hashtags[-1].lower():
            return Line([f"{spoken} {f}" for f in line.forms]), spoken
    return line, pill


#: A place the viewer goes to (its CTA is "Visit", not "Try").
_PLACE = re.compile(r"\b(shop|store|restaurant|caf[eé]|bakery|bar|pub|market|boutique|gallery|museum|zoo|hotel|"
                    r"bistro|diner|brewery|bookshop|florist)$", re.I)


def _brand_action(an: BriefAnalysis, brand: str) -> tuple[Line, str]:
    """An action naming ``brand`` for what the brief sells (see :func:`_cta`), and its pill text."""
    cat = category(an)
    thing = _cta_thing(an)
    text = " ".join([an.product or "", *an.facts, *an.story])
    if cat == "car":
        obj = thing or f"a {brand}"
        return Line([sentence(f"Test-drive {obj} today")]), "Book a test drive"
    if cat == "app":
        obj = brand if not re.search(r"\bapp\b", text, re.I) else f"the {brand} app"
        verb = "Download" if re.search(r"\bapps?\b|download", text, re.I) else "Try"
        return Line([sentence(f"{verb} {obj} today")]), f"{verb} it today"
    if cat == "event":
        date = _DATE.search(" ".join([an.product or "", *an.facts, *an.story, an.topic or ""]))
        see = [sentence(f"See you on {date.group(0)}")] if date else []
        if re.search(r"\btickets?\b", text, re.I):
            first = sentence(f"Get your {brand} tickets today")
            return Line([first, *(f"{first} {x}" for x in see)]), "Get your tickets"
        return Line([sentence(f"See you at {brand}"), *(f"{brand}. {x}" for x in see)]), "Save the date"
    if cat == "charity":
        return Line([sentence(f"Support {brand} today")]), "Support us today"
    if re.search(r"\b(?:hotel|inn|resort|b&b|guesthouse|lodge|retreat)\b", " ".join([brand, an.product or "",
                                                                                     an.topic or ""]), re.I):
        return Line([sentence(f"Book your stay at {brand} today")]), "Book your stay"
    bookable = re.fullmatch(r"(?:a\s+)?((?:[\w\-]+\s+){0,2}free\s+(?:[\w\-]+\s+){0,2}(consultation|survey|trial|quote|check-up|"
                            r"assessment|session|class|lesson|demo|fitting|tasting))", (an.offer or "").strip().rstrip("."), re.I)
    if bookable and cat not in ("charity", "event"):
        # "Free design consultation" → "Book your free design consultation with Tallwood today."
        what = bookable.group(1)[:1].lower() + bookable.group(1)[1:]
        verb = "Start" if bookable.group(2).lower() in ("trial", "demo") else "Book"
        return Line([sentence(f"{verb} your {what} with {brand} today")]), f"{verb} your {bookable.group(2).lower()}"
    if cat == "insurance":
        return Line([sentence(f"Get your {brand} quote today")]), "Get a quote"
    if cat == "course":
        return Line([sentence(f"Sign up with {brand} today")]), "Sign up today"
    if cat == "subscription":
        return Line([sentence(f"Start your {brand} subscription today")]), "Subscribe today"
    if cat == "service" and thing and an.product and not any(
            n == "service" and rx.search(_ENDORSED.sub(" ", an.product)) for n, rx in _CATEGORIES):
        cat = "other"  # a named product whose facts mention a service word ("3 cleaning modes"): try the product
    if cat == "service":
        cls = re.search(r"\b(class|lesson|session|appointment|table|treatment|consultation)(?:es|s)?\b", text, re.I)
        if cls:
            return Line([sentence(f"Book your {cls.group(1).lower()} at {brand} today")]), f"Book your {cls.group(1).lower()}"
        return Line([sentence(f"Call {brand} today")]), "Call today"
    place = re.split(r"\s+(?:in|on|at|for|with|near|from)\s+", an.product or "", maxsplit=1)[0]
    if _PLACE.search(place) or _PLACE.search(brand):
        return Line([sentence(f"Visit {brand} today")]), "Visit us today"  # a place is visited, not tried
    if re.search(r"\border (?:by|before|online|now|today)\b|\bnext-day delivery\b", text, re.I) and not thing:
        return Line([sentence(f"Order from {brand} today")]), "Order today"  # a shop that delivers
    if thing:
        return Line([sentence(f"Try {thing} today")]), "Try it today"
    if cat == "drink":
        return Line([sentence(f"Grab a {brand}")]), "Grab one today"
    if cat == "food":
        return Line([sentence(f"Grab some {brand} today")]), "Grab some today"
    return Line([sentence(f"Discover {brand} today")]), "Discover more"


#: What people are tired of: a "no X" fact opens with "Tired of X?" only for these ("no logs" is a VPN's
#: privacy promise, not a pain).
_PAIN = (r"(?:fees?|charges?|contracts?|waiting|wait|queues?|ads|hassle|paperwork|forms|fuss|setup|stress|mess|noise|"
         r"crowds|traffic|fillers|additives|surprises|hidden costs?|call-out fees?|commitment|lock-ins?|jargon|"
         r"subscriptions?|tangles|leaks|spills|smudges|clutter|bills)")


def _hooks(an: BriefAnalysis, story: list[str]) -> list[Line]:
    hooks: list[Line] = []
    if an.hook_line:
        hooks.append(Line([an.hook_line], "hook", 0, hook_kind="brief"))
    if len(story) >= 2:  # a one-beat story asked as a question would then be told again verbatim
        q = _question_hook(story[0])
        if q:
            hooks.append(Line([q], "hook", 0, hook_kind="question"))
    elif story:  # one beat: introduce its subject, then tell the beat with a pronoun
        meet = _meet_hook(story[0])
        if meet:
            hooks.append(Line([meet[0]], "hook", 0, hook_kind="meet", items=[meet[1]]))
    negatives = [f for f in an.facts if re.match(r"^(?:no|zero|without)\s+(?:\w+\s+)?" + _PAIN + r"$", f.strip().rstrip("."),
                                                 re.I)]  # "no monthly fees" → "Tired of monthly fees?"; never "Tired of logs?"
    if negatives:
        thing = re.sub(r"^(no|zero|without)\s+", "", negatives[0], flags=re.I)
        hooks.append(Line([sentence(f"Tired of {thing}?")], "hook", 0, hook_kind="you"))
    aud = _audience_phrase(an.audience)
    if aud:
        hooks.append(Line([sentence(f"{aud[0].upper() + aud[1:]}, this one's for you")], "hook", 0, hook_kind="you"))
    opens = next((f for f in an.facts if an.product and re.match(r"^(?:a|an|the)\s+(?:new\s+)?" + re.escape(an.product)
                                                                   + r"\s+(?:opens?|launch(?:es)?|is|are)\b", f, re.I)), None)
    if an.product and opens:  # "A new neighbourhood bakery opens on Saturday." opens the video; no "Meet ..." before it
        hooks.append(Line([sentence(opens)], "hook", 0, fact=opens, hook_kind="claim"))
    elif an.product:
        p = an.product
        meet = f"Meet the new {p}" if an.product_is_new else f"Meet {_with_article(p)}"
        if an.brand and an.brand.lower() not in p.lower() and word_count(p) <= 3:
            meet = f"Meet the new {an.brand} {p}" if an.product_is_new else f"Meet {_with_article(an.brand + ' ' + p)}"
        elif an.brand and an.brand.lower() not in p.lower() and not p[:1].isupper():
            meet = f"Meet {an.brand}, the new {p}" if an.product_is_new else f"Meet {an.brand}, the {p}"
        elif not p[:1].isupper():
            meet = f"Meet the new {p}" if an.product_is_new else f"Meet the {p}"
        forms = [sentence(meet)]
        core = re.sub(r"^(?:new|latest)\s+", "", p, flags=re.I)
        if an.brand and core.lower().startswith(an.brand.lower() + " "):
            core = core[len(an.brand) + 1:]  # "Lumo desk lamp" → "desk lamp"
        if an.brand and core and not core[:1].isupper() and not core[:1].isdigit() \
                and not core.split()[-1][:1].isupper() and word_count(core) <= 5 \
                and an.brand.lower() not in core.lower():
            art = "" if _plural(core) or core.split()[-1].lower() in _MASS_NOUNS or core.endswith("ing") else \
                "an " if core[:1].lower() in "aeiou" else "a "
            forms.append(f"Looking for {art}{core}? Meet {an.brand}.")
        hooks.append(Line(forms, "hook", 0, hook_kind="claim"))
    if an.topic:
        t = _topic_hook(an.topic)
        if t:
            hooks.append(Line([t], "hook", 0, hook_kind="topic"))
    if story and (not hooks or 5 <= word_count(story[0]) <= 10):  # "Available from March." does not open
        hooks.append(Line([story[0]], "hook", 0, hook_kind="story"))
    if not hooks and an.directives:
        hooks.append(Line([sentence(an.directives[0])], "hook", 0, hook_kind="story"))
    return hooks


def _score_hook(h: Line, an: BriefAnalysis, seed: int) -> float:
    """Higher is better: fits in ~1.5-5 s, its kind suits the brief (its own opening line first), names the brand."""
    w = h.words
    score = -max(0, w - 14) * 0.4 - max(0, 3 - w) * 0.4
    kind_bonus = {"brief": 5.0, "question": 1.6, "meet": 1.6, "claim": 1.4, "topic": 1.3, "you": 0.9, "story": 0.2}
    if h.hook_kind == "story" and w <= 10:
        score += 1.0
    score += kind_bonus.get(h.hook_kind, 0)
    if an.brand and an.brand.lower() in h.text.lower():
        score += 0.3
    return score


def write_copy(an: BriefAnalysis, words_target: float, *, seed: int = 0, max_lines: int = 8,
               recap: bool = False) -> Copy:
    """Write the spoken lines for ``an`` aiming at ``words_target`` words (deterministic per seed).

    Must-say lines (hook, every key fact, the offer, story beats, the CTA with the brand and the
    closing line) are always kept whole; longer forms and optional lines (product intro, brand
    proof) are added while the copy is under ``words_target``; lines are merged pairwise when more
    than ``max_lines`` remain.

    ``recap``: a video of 25 s or more that is still far short (under 80 % of its words) may say its
    facts together once more before the call to action, the "tell them what you told them" of an
    explainer.

    Returns:
        :class:`Copy` with 3..``max_lines`` lines (hook first, CTA last).
    """
    story = story_beats(an.story)
    hooks = _hooks(an, story)
    # the best-scoring hooks within 1.0 of the top are equally good: the seed (brief id) picks one,
    # so campaign A/B variants open differently while one brief always gets the same hook
    hooks.sort(key=lambda h: -_score_hook(h, an, 0))
    if hooks:
        top = _score_hook(hooks[0], an, 0)
        close = [h for h in hooks if _score_hook(h, an, 0) >= top - 1.2]
        pick = close[seed % len(close)]
        hooks.remove(pick)
        hooks.insert(0, pick)
    cta, call_to_action = _cta(an)
    if an.offer and not an.closing_line:  # the offer said again as the last words, when there is room
        echo = offer_echo(offer_sentence(an.offer), seed)
        if echo and echo.endswith("on us.") and echo.lower() not in cta.text.lower():
            cta.forms = [*cta.forms[:1], f"{cta.forms[0]} {echo}", *cta.forms[1:]]
    if hooks:
        hook = hooks[0]
    else:  # no hook material: the first thing to say opens the video
        first = next((f for f in an.facts if f != an.offer), None)
        hook = Line([fact_sentences(first, an)[0] if first else offer_sentence(an.offer) if an.offer
                     else sentence(an.closing_line or an.brand or "Take a look")], "hook", 0, hook_kind="fact")
        if first:
            an = an.model_copy(update={"facts": [f for f in an.facts if f != first]})

    body: list[Line] = []
    # story beats (the hook may already be the first beat as a question: keep the beat, it answers it)
    for i, b in enumerate(story):
        if b == hook.text or (i == 0 and hook.hook_kind == "question" and len(story) >= 2):
            continue  # the opening question already tells this beat
        if i == 0 and hook.hook_kind == "meet" and hook.items:
            b = hook.items[0]  # "Meet a Clydesdale horse." → "He looks back on ..." 
        body.append(Line([b], "story", 1))
    # facts, the offer last
    adjectives = []
    named_left = 1  # the product is named instead of "it" once (when the copy has room), never in every line
    for f in an.facts:
        if an.offer and f == an.offer:
            continue
        contrast = re.split(r",\s+(?=(?:yet|but)\s)", f, maxsplit=1)
        if len(contrast) == 2 and word_count(contrast[0]) >= 4 and word_count(contrast[1]) >= 3 \
                and "," not in contrast[1].split(None, 2)[1]:  # "huge, yet manageable, caucus" is one noun phrase
            body.append(Line([sentence(contrast[0])], "benefit", 0, fact=contrast[0]))
            body.append(Line([sentence(contrast[1])], "benefit", 0, fact=contrast[1]))
            continue
        forms = fact_sentences(f, an)
        if named_left and (named := _named_forms(forms, an)) != forms:
            forms, named_left = named, named_left - 1
        one_word = len(f.split()) == 1 and not _IMPERATIVE.match(f) and (
            f.lower() in _ADJ_WORDS or _PARTICIPLE.match(f) or "-" in f
            or (_ADJ_END.match(f) and not _NOUN_END.search(f)))  # "sourdough" is a noun: said as one
        if one_word:
            adjectives.append(f)
            continue
        body.append(Line(forms, "benefit", 0, fact=f))
    asked: set[str] = set()
    for ln in body:  # each set-up question once ("How fast?" twice in a row reads as a template)
        q = next((f.split("?")[0] for f in ln.forms[1:] if re.match(r"^[A-Z][\w ]{2,20}\? ", f)), None)
        if q in asked:
            ln.forms = [f for f in ln.forms if not f.startswith(q + "?")]
        elif q:
            asked.add(q)
    if adjectives:
        pron, be = _pronoun(an)
        joined = ", ".join(adjectives[:-1]) + (" and " if len(adjectives) > 1 else "") + adjectives[-1]
        body.insert(0, Line([sentence(f"{be} {joined}")], "benefit", 0, fact=joined, items=adjectives))
    for d in an.directives:  # "tell her journey ..." → its line, after the facts it refers to
        if d not in an.facts and sentence(d) != hook.text:
            body.append(Line([sentence(d)], "story", 0, fact=d))
    if an.offer:
        body.append(Line([offer_sentence(an.offer)], "proof", 0, fact=an.offer))
    for req in an.required_lines:
        if req != an.closing_line and not any(req.lower() in ln.text.lower() for ln in body):
            body.append(Line([sentence(req)], "proof", 0, fact=req))

    # optional lines: the product intro (when the hook is not it) and the brand as proof
    # optional lines, each made only of the brief's own content, placed where a copywriter would
    # put them: (line, where) with where = "after_hook" | "before_cta" | "end_of_body"
    optional: list[tuple[Line, str]] = []
    if an.product and hook.hook_kind != "claim":
        claim = next((h for h in hooks if h.hook_kind == "claim"), None)
        if claim:
            optional.append((Line(claim.forms, "benefit", 2), "after_hook"))
    if an.topic and hook.hook_kind != "topic":
        t = _topic_hook(an.topic)
        if t:
            optional.append((Line([t], "story", 2), "after_hook"))
    aud_hook = next((h for h in hooks if h.hook_kind == "you" and "this one's for you" in h.text), None)
    if aud_hook and hook is not aud_hook:
        optional.append((Line(aud_hook.forms, "proof", 2), "after_hook"))
    heads = [_fact_head(f) for f in an.facts if f != an.offer]
    # a recap names things ("Farm-fresh veg. Zero food waste."): heads of 2+ words that are not a verb phrase
    heads = [h for h in heads if h and word_count(h) >= 2 and not re.match(r"^[a-z]+[^su]s\b|^[a-z]+ed\b", h)
             and not _IMPERATIVE.match(h) and not _PARTICIPLE.match(h)]
    full = {f.strip().rstrip(".").lower() for f in an.facts}
    name = (an.product_name if an.product_name and an.product_name[:1].isupper() else an.brand) or None
    if len(heads) >= 2 and name and sum(h.lower() not in full for h in heads) >= 2:
        recap = " ".join(sentence(h) for h in heads[:4]) + f" That's {name}."
        optional.append((Line([recap], "proof", 2, items=heads[:4]), "before_cta"))
    if an.offer:
        optional.append((Line([_reminder(an.offer)], "proof", 2), "before_cta"))
    # story beats get a storytelling opener as their longer form
    first_story = next((ln for ln in body if ln.beat == "story"), None)
    if first_story is not None and hook.hook_kind != "question" and re.match(
            r"^(a|an|one|two|three|four|five|some)\s", first_story.forms[0], re.I) \
            and _VERB.search(first_story.forms[0]) and not re.search(
                r"\b(?:free|off|deal|\w+ for (?:one|1|the price)|buy|price)\b", first_story.forms[0], re.I):
        # a scene to picture has an action; "Two for one this weekend only." is a deal, not a story
        t = first_story.forms[0]
        lowered = t if re.match(r"^(I\b|[A-Z][a-z]*[A-Z]|[A-Z]{2})", t) else t[0].lower() + t[1:]
        first_story.forms.append(f"Picture this: {lowered}")

    def total() -> int:
        return hook.words + cta.words + sum(ln.words for ln in body)

    # grow: longer forms first (in order), then optional lines
    for ln in [cta] + body + [hook]:
        if total() >= words_target:
            break
        if len(ln.forms) > 1 and total() + word_count(ln.forms[1]) - ln.words <= words_target * 1.1 + 1:
            ln.choice = 1
    for opt, where in optional:  # overshoot up to 10 %: the pacing step speeds up or re-plans shorter
        if total() + opt.words > words_target * 1.1 + 1:
            continue
        while opt.choice + 1 < len(opt.forms) and total() + word_count(opt.forms[opt.choice + 1]) <= words_target:
            opt.choice += 1  # the longer form of an optional line when it fits ("Looking for a cold brew? ...")
        if where == "after_hook":
            body.insert(0, opt)
        elif not (opt.text.startswith("Remember,") and body and any(
                ln.fact == an.offer or ln.text.startswith("Remember,") for ln in body[-2:])):
            body.append(opt)
    # shrink: drop optional lines (a reminder first, then the longest), then shorter forms
    while total() > words_target and any(ln.priority >= 2 for ln in body):
        body.remove(max((ln for ln in body if ln.priority >= 2),
                        key=lambda x: (x.text.startswith("Remember,"), x.words)))
    for ln in [hook, cta] + body:
        if total() <= words_target:
            break
        ln.choice = 0
    # far over budget (a rambling brief): drop story beats from the end (keep the first two),
    # then facts without numbers/offers from the end; what is kept is said whole
    while total() > words_target * 1.15:
        story_idx = [i for i, ln in enumerate(body) if ln.beat == "story"]
        if len(story_idx) <= 2 and hook.hook_kind in {"claim", "you", "topic", "meet"} and not hook.items and body \
                and body[0].beat == "benefit" and (not an.brand or an.brand.lower() in cta.text.lower()):
            # a key fact opens instead of the product intro: the CTA names the brand, so no fact is lost
            first = body.pop(0)
            hook = Line(first.forms, "hook", 0, fact=first.fact, items=first.items, choice=0, hook_kind="fact")
            continue
        plain = [i for i, ln in enumerate(body) if ln.fact and ln.fact != an.offer
                 and not _NUMBERISH.search(ln.fact) and ln.beat != "story"]
        # a brief with measured facts keeps one story beat before it loses a number; a story ad keeps two
        keep = 1 if any(ln.fact and _NUMBERISH.search(ln.fact) for ln in body if ln.beat != "story") else 2
        if len(story_idx) > keep:
            body.pop(story_idx[-1])
        elif plain and len(body) > 1:
            body.pop(plain[-1])
        elif story_idx and len(body) > 1:
            body.pop(story_idx[-1])
        elif len(body) > 1:  # every line is a key fact and they cannot all fit: keep the first ones
            body.pop(-1)
        else:
            break

    # short benefit fragments said back to back share one scene ("Warm light. Zero glare."): a cut and a
    # breath after every two-word line would leave more silence than speech
    k = 0
    while k < len(body) - 1:
        a, b = body[k], body[k + 1]
        if a.beat == b.beat == "benefit" and a.words <= 4 and b.words <= 4:
            b_text = re.sub(r"^And\s+(\w)", lambda m: m.group(1).upper(), b.text)
            items = (a.items or [x for x in (a.fact,) if x]) + [x for x in (b.fact,) if x]
            same = re.match(r"^(It's|They're|It is|They are)\s+", a.text)
            if same and b_text.startswith(same.group(0)) and "." not in a.text[:-1] and "." not in b_text[:-1]:
                # "They're smooth. They're never bitter." → "They're smooth and never bitter."
                b_text, a_text = b_text[len(same.group(0)):], a.text.rstrip(".!") + " and"
            else:
                a_text = a.text
            body[k:k + 2] = [Line([f"{a_text} {b_text}"], "benefit", min(a.priority, b.priority),
                                  fact=a.fact or b.fact, items=items)]
        else:
            k += 1
    # still short: the copywriter's devices, each built from the brief's own phrases (echo a
    # number, walk a journey, restate the offer, reprise the topic, picture the visual cue,
    # address the audience, name the product) — never stock filler, never a new claim
    if total() < words_target * 0.97:
        texts = [hook.text] + [ln.text for ln in body] + [cta.text]
        for dev in fill_devices(an, texts, seed=seed, audience=_audience_phrase(an.audience)):
            if total() >= words_target * 0.97:
                break
            if total() + word_count(dev.text) > words_target * (1.0 if dev.kind == "benefit" else 1.1) + 1:
                continue  # a benefit line is never worth speeding the voice up for
            if dev.where.startswith(("after:", "before:", "prefix:")):
                where, _, src = dev.where.partition(":")
                target = next((ln for ln in [hook] + body if ln.text.startswith(src) or src in ln.forms), None)
                if target is None:
                    continue
                if where == "before":  # "A packed flight. One man will ..." (the setting's clause dropped)
                    if "," not in target.text or target.hook_kind == "question":
                        continue
                    rest = re.sub(r"^[^,]+,\s+", "", target.text)
                    joined = f"{dev.text} {rest[:1].upper() + rest[1:]}"
                elif where == "prefix":
                    joined = f"{dev.text} {target.text}"
                elif dev.anchor and dev.anchor in target.text and not target.text.endswith(dev.anchor):
                    # a benefit right after the sentence of its fact ("It's dentist-approved. The experts ...")
                    k = target.text.index(dev.anchor) + len(dev.anchor)
                    joined = f"{target.text[:k]} {dev.text}{target.text[k:]}"
                else:
                    joined = f"{target.text} {dev.text}"
                target.forms = [*target.forms[:target.choice + 1], joined]
                target.choice = len(target.forms) - 1
            elif dev.where == "cta_prefix":
                b = an.brand or ""
                # "TrailFox Grip." before "TrailFox. Find your trail." names the brand twice in a row
                cta.forms = [f"{dev.text} {f[len(b) + 2:]}" if b and f.startswith(f"{b}. ") and b.lower() in dev.text.lower()
                             else f"{dev.text} {f}" for f in cta.forms]
            elif dev.where == "after_hook":
                body.insert(0, Line([dev.text], "story", 3))
            else:
                body.append(Line([dev.text], "proof", 3))

    # still far short (a 45 s explainer with three facts): the explainer's recap before the call to
    # action, the brief's own facts said together once more ("Tallyho: clock in with one tap, weekly
    # reports in your inbox and first month free.") — the "tell them what you told them" of an explainer
    short_facts = [f.strip().rstrip(".") for f in an.facts if word_count(f) <= 7 and "," not in f]
    # one grammatical shape per recap: "It maps ..., it empties ..." items (said with the name as their
    # subject) or verbless items ("65 km range, folds in 3 seconds"), never "…, it climbs over rugs and quiet at 55 dB"
    short_facts = [re.sub(r"^it\s+(?=\w+s\b)", "", f, flags=re.I) for f in short_facts]  # "It maps ..." → "maps ..."
    short_facts = [f for f in short_facts if not re.match(r"^[A-Z]", f)
                   or re.match(r"^(?:A|An|The|One|Two|Three|No|Zero)\b", f)]  # "Registration closes 1 March" is a sentence
    recap_name = _list_name(an)
    if recap and total() < words_target * 0.8 and len(short_facts) >= 3 and recap_name \
            and not any(ln.text.startswith(f"{recap_name}:") or "That's" in ln.text for ln in body):
        its = [x[:1].lower() + x[1:] if re.match(r"^[A-Z][a-z]+\b", x) and x.split()[0] not in (an.brand or "")
               else x for x in short_facts[:4]]  # "Tickets from $12" → "tickets from $12"; names stay
        if all(re.match(r"^[a-z]+[^su\W]s\b", x) and not _NUMBERISH.match(x) for x in its):
            # every item is what it does: the name is their subject ("Quill transcribes meetings, tags ... and exports ...")
            recap_line = f"{recap_name} {', '.join(its[:-1])} and {its[-1]}."
        else:
            recap_line = f"{recap_name}: {', '.join(its[:-1])} and {its[-1]}."
        if total() + word_count(recap_line) <= words_target * 1.05:
            body.append(Line([recap_line], "proof", 3, items=short_facts[:4]))

    # still short: the connectives a voice-over uses between the lines it already has ("Then the man
    # discovers ...", "Plus, it weighs 300 g.", "And the best part? Your first ride is free.") — they
    # order what is said and add no claim; at most one of each, never on a line that already leads in
    if total() < words_target * 0.9:
        for prefix, pick_line in _transitions(an, body, seed):
            if total() >= words_target * 0.9 or pick_line is None:
                continue
            if total() + word_count(prefix) > words_target:
                continue
            t = pick_line.text
            first = t.split()[0] if t.split() else ""
            keep_cap = bool(re.match(r"^(I|[A-Z][a-z]*[A-Z]\w*|[A-Z]{2,}\w*)$", first)) or (
                an.brand and t.startswith(an.brand)) or (an.product_name and t.startswith(an.product_name))
            joined = f"{prefix} {t if keep_cap or prefix.endswith('?') else t[:1].lower() + t[1:]}"
            pick_line.forms = [*pick_line.forms[:pick_line.choice + 1], joined]
            pick_line.choice = len(pick_line.forms) - 1

    # a brief that gives nothing but the product ("30-second video for our new trail shoe, upbeat"):
    # lines about using that kind of product (no spec, number or promise); the analysis warns about it
    if an.product_only and total() < words_target * 0.97:
        for text in product_lines(an.product, is_new=an.product_is_new, seed=seed):
            if total() >= words_target * 0.97:
                break
            if total() + word_count(text) <= words_target * 1.1 + 1:
                body.append(Line([text], "benefit", 3))

    for ln in body:  # three fragments or more: said once as one list with the name, when there is room
        name = _list_name(an)
        if name and len(ln.items) >= 3 and len(ln.forms) == 1 and all(word_count(i) <= 4 for i in ln.items) \
                and total() + 2 <= words_target:
            its = [i.strip().rstrip(".") for i in ln.items]
            joined = f"{name}: {', '.join(its[:-1])} and {its[-1]}."
            ln.forms, ln.choice = [ln.forms[0], joined], 1
    # at most max_lines - 2 body lines: merge the two shortest neighbours
    while len(body) > max_lines - 2:
        i = min(range(len(body) - 1), key=lambda k: body[k].words + body[k + 1].words)
        a, b = body[i], body[i + 1]
        merged = Line([f"{a.text} {b.text}"], a.beat if a.beat != "story" else b.beat, min(a.priority, b.priority),
                      fact=a.fact or b.fact, items=a.items or b.items)
        body[i:i + 2] = [merged]
    if not body:
        filler = next((h for h in hooks[1:] if h.hook_kind != "meet"), None)
        if filler:
            body.append(Line(filler.forms, "story", 2))
        else:  # split the hook at a clause boundary ("X, but Y" → "X." + "But Y.")
            parts = re.split(r",\s+(?=(?:but|yet|and|so|only|then|while)\b)|(?<=[.!?])\s+", hook.text, maxsplit=1)
            if len(parts) == 2 and word_count(parts[0]) >= 3 and word_count(parts[1]) >= 3:
                hook = Line([sentence(parts[0])], "hook", 0, hook_kind=hook.hook_kind)
                body.append(Line([sentence(parts[1])], "story", 1))

    def first_sentence(t: str) -> str:  # "The first charge is free" and "Your first charge is free" say one thing
        t = re.sub(r"^(?:And the best part\?|Here's the best part:|Plus,|Then|And)\s+", "", t)
        first = re.split(r"(?<=[.!?])\s+", t.strip())[0].lower()
        return re.sub(r"^(?:the|your|our)\s+", "", first)

    seen = {hook.text.lower(), cta.text.lower(), first_sentence(hook.text)}
    uniq = []
    for ln in body:  # a line whose first sentence was said already (the offer as the hook) is not said again
        if ln.text.lower() not in seen and first_sentence(ln.text) not in seen:
            seen.add(ln.text.lower())
            seen.add(first_sentence(ln.text))
            uniq.append(ln)
    body = uniq
    lines = [hook] + body + [cta]
    warnings: list[str] = []
    if an.brand and not any(an.brand.lower() in ln.text.lower() for ln in lines):
        cta.forms = [f"{an.brand}. {f}" for f in cta.forms]
    return Copy(lines=lines, hooks=hooks, call_to_action=call_to_action, warnings=warnings)


_LEAD_IN = re.compile(r"^(?:and|but|then|so|plus|yet|or|now|picture|imagine|remember|what|how|why|who|meet|"
                      r"looking|that's|this is|here's)\b", re.I)


def _transitions(an: BriefAnalysis, body: list[Line], seed: int) -> list[tuple[str, Line | None]]:
    """Connective lead-ins for lines already in the copy, best first: (prefix, line it goes before).

    - "Then" before a story beat that continues the one before it with the same subject restored
      ("The man discovers the goat ..." — :func:`story_beats` only splits a sentence's own sequence);
    - "Plus," before the second benefit line that states a fact ("Plus, it weighs 300 g.");
    - "And the best part?" before the offer.
    Never on a line that already opens with a connective, a question or a device.
    """
    out: list[tuple[str, Line | None]] = []
    story = [ln for ln in body if ln.beat == "story"]
    cont = next((ln for ln in story[1:] if re.match(r"^The\s+[a-z]", ln.text) and not _LEAD_IN.match(ln.text)), None)
    out.append(("Then", cont))
    facts = [ln for ln in body if ln.beat == "benefit" and ln.fact and ln.fact != an.offer]
    plus = next((ln for ln in facts[1:] if not _LEAD_IN.match(ln.text) and "?" not in ln.text
                 and re.match(r"^(?:It|They|It's|They're|[A-Z][a-z]+)\b", ln.text)
                 and not re.match(r"^(?:We|Our|You|Your|Ask|Please|Help|Donate|Give)\b", ln.text)), None)
    out.append(("Plus,", plus))
    offer = next((ln for ln in body if an.offer and ln.fact == an.offer and not _LEAD_IN.match(ln.text)), None)
    out.append((pick(["And the best part?", "Here's the best part:"], seed, "best:" + (an.offer or "")), offer))
    return out


def keywords_for(text: str) -> list[str]:
    """Concrete nouns of ``text`` a picture can show (for asset matching), up to 8."""
    out: list[str] = []
    low = text.lower()
    for pat, words in _CONCRETE:
        if pat.search(low):
            for w in words:
                if w not in out:
                    out.append(w)
    return out[:8]


_CONCRETE: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(p), w) for p, w in [
        (r"\bski\w*|alpine|slopes?\b", ["skier", "snow", "mountain"]),
        (r"\bmedals?\b|podium|paralympic|olympic", ["gold medal", "podium"]),
        (r"\bcoffee|espresso|latte|roast\w*|blend\b|brew\b", ["coffee", "cup"]),
        (r"\btrail\w*|hik\w+|gravel|rock\b", ["trail", "mountain", "runner"]),
        (r"\bshoes?\b|sneakers?", ["shoe"]),
        (r"\brunn\w+", ["runner"]),
        (r"\bcats?\b|kittens?", ["cat"]),
        (r"\bsquirrels?", ["squirrel"]),
        (r"\bdogs?\b|pupp(y|ies)", ["puppy", "dog"]),
        (r"\bhorses?\b|clydesdales?", ["horse"]),
        (r"\bfarm\w*", ["farm", "barn"]),
        (r"\bbears?\b", ["bear"]),
        (r"\bpolar", ["polar bear", "snow"]),
        (r"\bcabin\b", ["cabin", "forest"]),
        (r"\bfridge|refrigerator", ["fridge"]),
        (r"\bgoats?\b", ["goat"]),
        (r"\bbread|loaf|loaves|sourdough|bak\w+|flour", ["bread", "bakery"]),
        (r"\brockets?\b|launch\w*", ["rocket"]),
        (r"\bsky\b|stars?\b|space\b|night\b", ["night sky", "stars"]),
        (r"\bapps?\b|software|dashboards?|deploys?|invoic\w+", ["laptop", "phone", "dashboard"]),
        (r"\bteams?\b|developers?|founders?|startups?", ["team", "laptop"]),
        (r"\bcars?\b|driv\w+|hybrid|vehicle|braking|suv\b|genesis|niro", ["car", "road"]),
        (r"\bbikes?\b|bicycles?|e-bike|cycl\w+|ride\b", ["bicycle", "city street"]),
        (r"\bflights?\b|plane|airplane|seat\b|airport", ["airplane", "seat"]),
        (r"\bsnacks?\b|chips|doritos|treats?\b", ["snack"]),
        (r"\bdrinks?\b|soda|coke\b|coca-cola|pepsi|cola\b|beers?\b|bud\b|budweiser|brewery", ["drink", "bottle"]),
        (r"\bphones?\b|online|comments?|internet|social", ["phone"]),
        (r"\bfootball|kick|stadium|game\b|jerseys?|fans\b", ["football", "stadium", "fans"]),
        (r"\bkids?\b|child\w*|son\b|boy\b|girl\b|dad\b|father|mother|mom\b|parents?|famil\w+", ["family", "child"]),
        (r"\bphotos?\b|generations?|vintage|history|heritage|since 1\d\d\d", ["old photo"]),
        (r"\bplanet|whales?|trees?|forest|ice caps?|nature", ["planet", "tree", "whale"]),
        (r"\bcity\b|urban|street", ["city street"]),
        (r"\bpets?\b", ["pet"]),
        (r"\bmoney|\$\d|price|paid|pay\b|bank", ["money"]),
        (r"\bdoor\b|deliver\w*", ["door", "package"]),
        (r"\bmorning|sunrise|breakfast", ["morning", "sunrise"]),
        (r"\bmeals?\b|food|kitchen|cook", ["meal", "kitchen"]),
    ]
]
