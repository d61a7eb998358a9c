"""Brief understanding: a free-text brief → a typed :class:`BriefAnalysis` (no model, no Prefect).

What is found (each as written in the brief, never invented):

- ``brand``: the structured ``Brief.brand`` field wins; else a capitalised name before ``'s new``
  / ``for X's`` / ``Announce X's`` in the text, a possessive business name ("for Nonna's Kitchen,"),
  or the maker in "for the Drift puffer jacket by Northpeak"; else none (the copy then names no
  brand and the run report warns).
- ``product``: ``our new X`` / ``Brand's new X`` / ``ad for Brand X: ...`` / ``Launch of the X`` /
  ``X from Brand: ...`` / ``Brand X: ...`` (a lower-case phrase or an acronym: "dog food", "VPN");
  a relative clause of the product ("a desk lamp that adjusts colour temperature") is a fact.
- ``facts``: the list after the header colon ("crackly crust, baked at 4am daily, first loaf free
  for new members"), sentences with numbers, verbless lists of what is on offer ("10,000 runners,
  a flat course, and a 5K"), what the product does said with it as the subject ("It maps your home,
  empties itself ..." → one fact per verb phrase; "Brightroof installs solar panels in one day"),
  an event's date ("the Dunmore City Marathon on 12 April" → "... is on 12 April"), and the
  content of directives ("Mention the first ride is free", "highlight X") — each kept whole.
- ``offer``: the fact that is an offer (free, % off, discount, trial, save).
- ``closing_line`` / ``required_lines``: quoted text cued by end/close/finish/tagline/slogan/
  message/sign-off/logo/end card ("close with 'X'", "Tagline 'X'", "End on the logo: 'X'") —
  spoken verbatim, last.
- ``story``: narrative clauses ("A puppy gets lost far from the farm and finds its way home ...").
- ``production_notes``: everything that must never be spoken: durations, platforms, aspect,
  "vertical", "video", tone and audience statements, shot/edit directions ("fast cuts", "end card",
  "no dialogue needed", "close on the logo", "product visible in the first three seconds").

Why rules and not a parser: the official spaCy English pipelines are distributed from GitHub
releases, not PyPI; the ``en-core-web-sm-*`` packages on PyPI are third-party re-uploads (one a
``999.9.9`` placeholder), so their provenance cannot be checked and they are not used. Briefs are
short, imperative marketing text where a small set of cue words ("for", "new", "end with",
"mention") carries the structure, so the rules below key on those cues and on a closed list of
production vocabulary; they are written for brief *shapes*, not for any one brief.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from reelflow.core.models import Brief

# ---------------------------------------------------------------------------------------------
# Vocabulary (closed lists: production words are a small, stable set in briefs)
# ---------------------------------------------------------------------------------------------

#: Words that make a clause a production note (never spoken).
PRODUCTION_WORDS = {
    "video", "videos", "ad", "ads", "advert", "spot", "reel", "reels", "clip", "clips", "commercial",
    "commercials", "shot", "shots", "pacing", "music", "montage", "storytelling", "visible",
    "dialogue", "punchline", "twist", "escalation", "payoff", "logo", "card", "hashtag", "tagline",
    "slogan", "colours", "colors", "scene", "scenes", "camera", "voiceover", "voice-over", "b-roll",
    "footage", "vertical", "landscape", "square", "frame", "frames", "beats", "pov", "cameo", "narrator",
    "visuals", "visual", "celebrity-led", "slapstick", "comedy", "film", "trailer", "explainer", "brief",
    "tiktok", "instagram", "youtube", "shorts", "tone", "audience", "cinematic", "format", "aspect",
    "duration", "subtitles", "captions", "cta", "end-card", "animation",
}
#: "Build" as a direction ("emotional build", "a slow build to the reveal"), not "we build homes".
_BUILD_NOTE = re.compile(r"(?:emotional|slow|tension|steady|big|gradual|music(?:al)?)\s+build|build-?up|"
                         r"build(?:s|ing)?\s+to\s+(?:a|the)\s+(?:reveal|payoff|climax|punchline|crescendo)", re.I)
#: Production words that are also everyday content words: not a note in these phrases
#: ("live music", "gift card", "a flu shot", "build your budget", "a film festival").
_LENGTH_WORDS = {"in", "under", "within", "about", "around", "max", "maximum", "roughly", "approx", "exactly", "just",
                 "length", "duration", "runtime", "total", "a", "an", "the", "of", "at", "most", "up", "to", "keep", "it"}
#: A brief's own call to action ("Ask people to donate or adopt.", "Volunteer today.", "Book now").
_ASK_CTA = re.compile(r"^(?:please\s+)?(?:ask|encourage|invite|urge|tell|get|remind)\s+(?:people|viewers|them|everyone|"
                      r"listeners|readers|parents|customers|fans|the viewer|users|families|locals)\s+to\s+(.+)$", re.I)
_CTA_VERB = re.compile(r"^(?:donate|adopt|volunteer|book|order|shop|download|visit|call|join|sign up|register|grab|"
                       r"buy|reserve|subscribe|apply|support|come|swing by|pre-order|preorder|enrol|enroll|install|"
                       r"give|sponsor|foster|rsvp|get tickets|get your tickets)\b", re.I)
_CONTENT_SENSE = re.compile(
    r"\b(?:live|local|free|your|new) music\b|\b(?:gift|credit|debit|loyalty|member(?:ship)?|library|sim|bank|"
    r"reward|rewards|discount|id) cards?\b|\bno (?:credit )?card\b|\bcards? (?:needed|required|details)\b|\b(?:flu|booster|covid) shots?\b|\bbuild (?:your|a|an|the|it|them)\b|"
    r"\bfilm (?:festival|night|club|screening)s?\b|\bscene (?:of|in) (?:the|our|your)\b|\bframes? (?:for|of) (?:glasses|bikes?)\b",
    re.I,
)
#: Edit directions made of otherwise ordinary words ("fast cuts", "jump cut").
_CUT_NOTE = re.compile(r"\b(?:fast|quick|jump|hard|smash|snappy|rapid|match|cross)[- ]cuts?\b|\bcut to\b", re.I)
PLATFORM_WORDS = {"tiktok", "instagram", "reels", "shorts", "youtube", "facebook", "snapchat", "linkedin"}
TONE_WORDS = {
    "upbeat", "energetic", "warm", "relaxed", "bold", "exciting", "playful", "funny", "nostalgic",
    "heartfelt", "heartwarming", "inspirational", "inspiring", "comedic", "absurd", "whimsical",
    "slapstick", "light-hearted", "epic", "celebratory", "uplifting", "patriotic", "emotional",
    "fast", "quick", "calm", "fun", "cosy", "cozy", "dramatic", "serious", "moody", "friendly",
    "happy", "sad", "quirky", "witty", "premium", "minimal", "modern", "retro", "clear", "confident",
    "punchy", "bright", "gentle", "tender", "chill", "professional", "trustworthy", "cheerful", "lively",
    "motivating", "motivational", "luxurious", "elegant", "romantic", "curious", "family-friendly", "sleek", "cool",
    "edgy", "sophisticated", "reassuring", "hopeful", "joyful", "sunny", "rugged", "cheeky", "earnest", "honest",
    "authentic", "empowering", "aspirational", "gritty", "vibrant", "youthful", "soothing", "dreamy", "mysterious",
    "suspenseful", "urgent", "optimistic", "positive", "informative", "educational", "approachable", "casual",
    "conversational", "formal", "calming", "relaxing", "joyous", "festive", "classy", "glamorous",
    "adventurous", "sincere", "irreverent", "deadpan", "heartening", "touching", "poignant",
    "intimate", "warmhearted", "wholesome", "zesty", "high-energy", "low-key", "laid-back",
    # not here, though briefs use them as tone: words that are also product facts ("fresh", "clean",
    # "simple", "cool", "dry", "honest", "luxury": "Fresh, simple." may be what the product is)
}
_FILLER_NOTE_WORDS = {"and", "with", "very", "a", "an", "bit", "of", "feel", "vibe", "energy", "bright", "the",
                      "tone", "style", "mood", "voice", "music", "pace", "keep", "it", "in"}
_DIRECTION_START = re.compile(
    r"^(show|showing|feature|featuring|(?:open|opening|end|ending|close|closing|finish|finishing|start|starting|"
    r"begin|fade|cut)\s+(?:on|with|in|out|to|by)|keep it|keep the|keep things|keep (?:the )?pacing|"
    r"use (?!(?:code|promo|our|your|it|them|the app|less|more)\b)|include (?!(?:that|the line)\b)|add (?:a |an |some )?"
    r"(?:music|subtitles|captions|text|titles|sfx|sound|graphics|b-roll|logo|shot|scene)|"
    r"make it|make sure|product visible|shot|film|no dialogue|no voice|no music|cue|pan|zoom|"
    r"tell|cast|set in|shoot|animate)\b",
    re.I,
)
_DIRECTIVE = re.compile(
    r"^(?:please\s+)?(?:be sure to\s+|make sure to\s+|remember to\s+|don't forget to\s+)?"
    r"(mention|say|note|highlight|stress|emphasi[sz]e|point out|explain|include that|add that|remind (?:them|viewers|people) that)"
    r"\s+(?:that\s+)?(.+)$",
    re.I,
)
_QUOTE = re.compile(r"(?<![\w])['\"]((?:[^'\"\n]|(?<=\w)'(?=\w)){2,600}?)['\"](?!\w)")
_CLOSING_CUE = re.compile(
    r"(end|ends|ending|close|closes|closing|finish\w*|tagline|slogan|message|sign[- ]?off|sign[- ]off line|"
    r"cta|call to action|line|wrap up|wraps up|final words?|last words?|say|logo|end card|end-card|"
    r"(?:card|logo|screen|super|title|slate) reads)\W*"
    r"(?:with|on|:|of|line|is)?\W*$",
    re.I,
)
_REQUIRED_CUE = re.compile(r"\b(say|says|spoken|line|read|voice|narrat\w+|include the line)\b\W*(?:with|:)?\W*$", re.I)
_URL = re.compile(r"(https?://\S+|www\.\S+|\S+@\S+\.\w+|\S+\.(?:com|ly|net|org)/\S*)")
_HASHTAG = re.compile(r"(?<![\w&])#([A-Za-z][A-Za-z0-9_]{1,40})")
_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s*[- ]?(?:seconds?|secs?|s|sec|minutes?|min)\b(?:\s+long)?", re.I)
_ASPECT = re.compile(r"\b(?:9:16|16:9|1:1|4:5)\b")
_OFFER = re.compile(r"((?<![-\w])free\b|%\s*off\b|\bpercent off\b|\bdiscount|\btrial\b|\bsave (?:up to |\$|\d)|\bpromo\b|"
                    r"\bcoupon\b|\bhalf price\b|\bon sale\b|\b(?:two|2|three|3|four|4) for (?:one|1|two|2|three|3|the price of)\b|"
                    r"\bbuy (?:\w+ ){0,2}get\b|\bbogo\b)", re.I)
_NUMBER = re.compile(r"(?:[$€£]\s?\d[\d,.]*\w*|\b\d[\d,.]*(?:\s?(?:%|x|km|kg|am|pm|mph|k|m|h|hrs?|min))?\b|"
                     r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                     r"fifty|hundred|thousand|million|billion|half|double|triple)\b)", re.I)
#: Sentences of YouTube-style descriptions that are boilerplate, not ad content.
_META_SENTENCE = re.compile(
    r"(super ?bowl|commercial|youtube|subscribe|channel|follow (us|the)|http|www\.|\.com\b|"
    r"agency|advertiser|directed by|copywrit|brandcenter|uploaded|fair usage|fair use|"
    r"watch (the|this|our|it)|you can watch|tv spot|sb ?\d\d|\bad\b (agency|week)|"
    r"all rights reserved|©|\bcopyright|u\.s\.c|title 17|section 107|this post|research and|"
    r"educational purposes|no copyright|not own|rights belong|learn more|click here|check out|visit us|"
    r"link in bio|download (the|our)|available (now )?on|sign up|read more|like and|share this|"
    r"official|\bxl\w*\b|\bspot\b|\bteaser\b|\bextended\b|\bpremiere\b|\baired\b)",
    re.I,
)
_STORY_VERB = re.compile(
    r"\b(is|are|was|were|gets|get|got|finds|find|found|goes|go|went|looks|raid|raids|try|tries|tried|buys|"
    r"buy|bought|discovers|discover|keeps|keep|drives|drive|rescues|rescue|saves|save|starts|start|sets|set|"
    r"turns|turn|meets|meet|makes|make|takes|take|wins|win|won|helps|help|comes|come|becomes|become|"
    r"learns|learn|passes|pass|ends|end|puts|put|will|does|do|has|have|had|can|loves|love|wants|want|"
    r"runs|run|walks|walk|plays|play|dreams|dream|beat|beats|tells|unite|unites|cheer|cheering|"
    r"\w+s)\b",
    re.I,
)
#: Sentences about the upload or the ad (reviews, promos, legal notes, credits), never ad copy.
_ABOUT_THE_AD = re.compile(
    r"(\bsection 107\b|fair use|copyright|\bin the comments\b|\b(?:leave|drop) a comment\b|for more information|\bvisit (?:our|us|the)\b|"
    r"\blearn more\b|\bsee our\b|\bspecial thanks\b|\b(?:twitter|facebook|instagram|snapchat|tiktok|ning):|"
    r"\bthe copy reads\b|\bnarrative illustrat\w+\b|\bhalftime\b|\bvfx\b|\bsupervisor\b|\bwas born\b|\bgraduat\w+\b|"
    r"\bhilarious\b|\bpriceless\b|\bexaggerated\b|\bvery funny\b|\bi hope you\b|^enjoy\b|\bpromotion only\b|"
    r"\bwatch what happens\b|\bour review\b|\bcg\b|\bcorporate website\b|"
    r"\binvented\b.*\b1\d\d\d\b|\bthe (?:ad|spot|commercial|video)\b|\bthis (?:ad|spot|commercial|video)\b|"
    r"\bstarring\b|\bbegan creating\b|"
    # the uploader speaking about the upload, never ad copy ("I am not affiliated", "Read my article", "Hope you
    # enjoy it", "What do you think", "To view, visit")
    r"^i\s+(?:am|'m|do|don't|believe|think|hope|love|found|made|uploaded|own)\b|\bmy (?:article|channel|blog|video|"
    r"review|site|website|page|collection|playlist)\b|\bhope you (?:enjoy|like|liked)\b|^what do you think\b|"
    r"^to view\b|\blet me know\b|\bnot affiliated\b|\brights (?:are )?reserved\b|\bthis commer\w*\b|"
    r"\bread (?:my|our|the full|more)\b|\btitle 17\b|\bu\.s\.c\b|\bone of the best\b|\bbest (?:ads?|commercials?) of\b)",
    re.I,
)
#: Credits/ranking/boilerplate fragments of uploaded-ad descriptions ("Honors: 2/2/09", "#79 - Most Viewed").
_CREDIT = re.compile(r"(\bhonou?rs\b|most viewed|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\bmusic:|\bsong:|\bcredits?\b|"
                     r"\bread more\b|\bproduction\b|\bsocial media\b|\bplease visit\b|\(\d{3}\)\s?\d{3}-\d{4}|"
                     r"\bdealers?(hip)?\b|\bautomakers?\b|\bthe big game\b.*\bads?\b|\bdebuted\b|\brumou?red\b|"
    r"\b(produced|narrated|written|shot|edited) by\b|\bnarration:|\bvo\b|\bediting\b|\bviews\b|\bupload|"
    r"\b\d{3,4}p\b|\bsee more\b|\bcheck it out\b|\bfavou?rite\b|\bclassic\b|\breleased\b|\bmyspace\b|"
    r"\bgame pass\b|\bfantasy\b|\bthx\b|\bthanks for\b|\bhumou?r\b|\bpersuasive\b|\bentertaining\b|"
    r"\bcreatives?\b|\bawards?\b|\bparody\b|\bfinalist\b)", re.I)
_SUBJECT_START = re.compile(r"^(a|an|the|one|two|three|four|five|his|her|their|our|your|every|each|some|[A-Z]\w+)\b")


#: Hashtags about the upload, not the ad ("#SuperBowl", "#SBLIV", "#commercial", "#AdMeter2019").
_META_HASHTAG = re.compile(r"(super ?bowl|^sb\w*$|^sb\d|commercial|^ads?$|admeter|^\d+$|youtube|^tv|funny|video)", re.I)


class BriefAnalysis(BaseModel):
    """What a brief asks to be *said*, separated from how the video should be *made*.

    All phrases are as written in the brief (trimmed). Structured ``Brief`` fields win over what
    is parsed from the text (``brand``, ``tone``, ``audience``).
    """

    brand: str | None = None
    brand_source: str = "none"  # "field" | "text" | "none"
    product: str | None = None  # "TrailFox Grip trail running shoe"
    product_is_new: bool = False
    topic: str | None = None  # "beating the odds"
    audience: str | None = None
    tone_words: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)  # key facts/benefits as written, in order
    numbers: list[str] = Field(default_factory=list)  # numbers as written ("800 km", "eight", "4am")
    offer: str | None = None  # the fact that is an offer
    directives: list[str] = Field(default_factory=list)  # content of "mention X"/"highlight X"
    story: list[str] = Field(default_factory=list)  # narrative sentences
    call_to_action: str | None = None  # the brief's own ask ("donate or adopt", "Volunteer today"), imperative
    closing_line: str | None = None  # spoken verbatim, last
    required_lines: list[str] = Field(default_factory=list)  # every line that must be said verbatim
    hook_line: str | None = None  # an opening question/"Imagine ..." line the brief starts with
    hashtags: list[str] = Field(default_factory=list)
    production_notes: list[str] = Field(default_factory=list)
    visual_cues: list[str] = Field(default_factory=list)  # "show the outdoors" → "the outdoors"
    language: str = "en"
    warnings: list[str] = Field(default_factory=list)

    @property
    def has_content(self) -> bool:
        """True when there is something to say beyond the brand (facts, story, topic, product, lines)."""
        return bool(self.facts or self.story or self.topic or self.product or self.required_lines or self.directives
                    or self.call_to_action)

    @property
    def product_only(self) -> bool:
        """True when the brief names a product and gives nothing to say about it (no fact, offer,
        story, topic, directive, required line, opening question or picture)."""
        return bool(self.product) and not (self.facts or self.story or self.offer or self.directives
                                           or self.required_lines or self.topic or self.hook_line or self.visual_cues)

    @property
    def product_name(self) -> str | None:
        """The name part of the product phrase: leading capitalised words ("TrailFox Grip"), else the phrase."""
        if not self.product:
            return None
        words = self.product.split()
        caps: list[str] = []
        for w in words:
            if w[:1].isupper() or w[:1].isdigit() or w == "&":
                caps.append(w)
            else:
                break
        name = " ".join(caps) if caps else self.product
        if self.brand and name.lower() == self.brand.lower() and len(words) > len(caps):
            return self.product
        return name


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    text = (text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
            .replace("\u2026", "...").replace("\u2014", " - ").replace("\u2013", " - "))
    return re.sub(r"[ \t]+", " ", text)


def word_count_simple(s: str) -> int:
    """Words with a letter or digit in ``s``."""
    return sum(1 for w in s.split() if re.search(r"[A-Za-z0-9]", w))


def _strip(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip(" ,;:-\"'.!?\n\t")


def _tokens(s: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9\-+':]*", s.lower())


def is_production_note(clause: str) -> bool:
    """True when ``clause`` is about how to make the video (never to be spoken).

    A clause is a note when it starts with a direction verb ("show", "end on", "keep it"), contains
    a production word (video, cuts, logo, vertical, tone, audience, TikTok, ...), a duration
    ("30-second") or an aspect ("9:16"), or consists only of tone words ("Warm, friendly").
    """
    c = _strip(clause).lower()
    if not c:
        return True
    toks = _tokens(c)
    if not toks:
        return True
    if _DIRECTION_START.match(c) or _ASPECT.search(c) or _CUT_NOTE.search(c) or _BUILD_NOTE.search(c):
        return True
    dur = _DURATION.search(c)
    if dur and (re.search(r"\d\s*-\s*s", dur.group(0), re.I) or dur.group(0).lower().endswith("long")
                or set(_tokens(_DURATION.sub(" ", c))) <= _LENGTH_WORDS):
        return True  # the video's length ("15-second", "30 seconds long", "30 s"), not "folds in 3 seconds"
    content = _CONTENT_SENSE.sub(" ", c)
    if any(t.strip("'") in PRODUCTION_WORDS or t in PLATFORM_WORDS for t in _tokens(content)):
        return True
    if all(t in TONE_WORDS or t in _FILLER_NOTE_WORDS for t in toks):
        return True
    if re.search(r"\b(first|last|final)\s+(three|two|few|\d+)?\s*(seconds?|frames?|shots?)\b", c):
        return True
    return False


def _names_only(sentence: str) -> bool:
    """A verbless fragment of mostly capitalised words ("Wieden + Kennedy", "Fluker, and John Greco")."""
    words = re.findall(r"[A-Za-z][\w'&+\-]*", sentence)
    if not words or len(words) > 8 or len(words) < 2 or _HAS_VERB.search(sentence):
        return False
    if sum(1 for w in words if w[:1].islower() and len(w) >= 4) >= 2:
        return False  # "FlowFix Plumbing: emergency plumbers across Bristol" describes, it does not credit
    if re.search(r"[$€£]\s?\d|\d\s?%", sentence):
        return False  # "Bouquets from £25.": a price is content, never a credit
    if re.search(r"\d", sentence) and re.search(r"\b[a-z]{3,}(?:es|s|ed)\b", sentence):
        return False  # "Registration closes 1 March.": a verb and a figure make a sentence, not a credit
    if len(words) == 2 and words[1].lower() in {"today", "now", "here", "online", "tonight"}:
        return False  # "Volunteer today."
    if words[0].lower() in {"available", "coming", "out", "now", "opens", "opening", "launching", "starts", "from",
                            "only", "every", "open"}:
        return False  # "Available from March."
    caps = sum(w[:1].isupper() for w in words)
    return caps / len(words) >= 0.5 and not re.search(r"[!?]$", sentence.strip())


def _split_sentences(text: str) -> list[str]:
    text = re.sub(r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|St|vs|No|Inc|Co)\.\s", r"\1 ", text)
    parts = re.split(r"(?<=[.!?;])\s+(?=[\"'A-Z0-9#$])|;\s*|\n+|(?<=[a-z])\.(?=[A-Z])", text)
    return [p.strip() for p in parts if p and p.strip(" .;")]


_CONT = re.compile(r"^(yet|but|so|then|and then|while|which|who|whose|because|until|when|as|with|without|where|"
                   r"showing|making|leaving|including|or)\b", re.I)


def _split_list(body: str) -> list[str]:
    """Comma/dash-separated items; an item starting with a conjunction rejoins the one before."""
    items: list[str] = []
    for i in (x.strip() for x in re.split(r"(?<!\d),\s*|,\s+|\s+-\s+", body)):
        if not i:
            continue
        if items and _CONT.match(i):
            items[-1] = f"{items[-1]}, {i}"
        else:
            items.append(i)
    if len(items) >= 2 and re.match(r"^and\s+", items[-1], re.I):
        items[-1] = re.sub(r"^and\s+", "", items[-1], flags=re.I)
    return items


def _find_brand_in_text(text: str) -> str | None:
    m = re.search(r"\b(?:for|from|by|with|at)\s+([A-Z][\w&\-]*'s\s+(?!(?:New|Latest|First|Own)\b)[A-Z][\w&\-]*"
                  r"(?:\s+[A-Z][\w&\-]*)?)(?=\s*[,.:;!?]|\s+[a-z]|$)", text)
    if m:  # a possessive name ("ad for Nonna's Kitchen, a family restaurant"), not "X's new product"
        return m.group(1)
    m = re.search(r"\bfor\s+(?:the\s+|our\s+)?(?:new\s+)?[A-Z][\w&\-]*(?:\s+[\w\-]+){0,4}?\s+(?:by|from)\s+"
                  r"([A-Z][\w&\-]*(?:\s+[A-Z][\w&\-]*)?)\b", text)
    if m:  # "a TikTok for the Drift puffer jacket by Northpeak": the maker is the brand
        return m.group(1)
    pats = [
        r"\b([A-Z][\w&\-]*(?:\s+(?:&\s+)?[A-Z][\w&\-]*){0,2})'s?\s+(?:new|latest|launch|first|own)\b",
        r"\b(?:for|from|by|with|at)\s+([A-Z][\w&\-]*(?:\s+(?:&\s+)?[A-Z][\w&\-]*){0,2})(?:'s?\b|\s+(?=[a-z]))",
        r"^(?:announce|introduce|introducing|launch|promote)\s+([A-Z][\w&\-]*(?:\s+[A-Z][\w&\-]*){0,2})",
    ]
    stop = {"The", "A", "An", "Our", "This", "Gen", "Z", "New", "Make", "Show", "End", "Close", "TikTok", "Instagram",
            "YouTube", "Reels", "Shorts", "I", "We", "You", "It"}
    for p in pats:
        for m in re.finditer(p, text, flags=re.I if p.startswith("^") else 0):
            name = m.group(1).strip()
            words = [w for w in name.split() if w not in stop]
            if words and words[0][:1].isupper():
                return " ".join(words)
    return None


def _header_split(sentence: str) -> tuple[str, str] | None:
    """``"15-second vertical ad for X: a, b, c"`` → (header, body) when the header is a note/lead."""
    if ":" not in sentence:
        return None
    head, body = sentence.split(":", 1)
    if not body.strip() or len(head.split()) > 24:
        return None
    return head.strip(), body.strip()


_LEAD = re.compile(
    r"^(?:please\s+)?(?:(?:make|create|produce|write|generate|build|need|want)\s+(?:me\s+|us\s+)?)?(?:an?\s+)?"
    r"(?:[\w\-]+\s+){0,5}?(?:video|ad|advert|spot|reel|short|clip|commercial|teaser|explainer|tiktok|story|promo|post)"
    r"\s+(?P<prep>about|on|for|showing|that shows|featuring|of|announcing|introducing|promoting)\s+(.+)$",
    re.I,
)
_ANNOUNCE = re.compile(r"^(?:(?:the\s+)?launch\s+of|announce|introduce|introducing|promote|launch|present|presenting|"
                       r"celebrate)\s+(.+)$", re.I)


def _product_from(phrase: str, brand: str | None) -> tuple[str | None, bool]:
    """Product phrase from a lead like "our new TrailFox Grip trail running shoe" / "Harbor Bakery sourdough"."""
    p = _strip(phrase)
    p = re.sub(r"^(?:the|a|an)\s+", "", p, flags=re.I)
    new = bool(re.search(r"\b(new|latest|all-new)\b", p, re.I))
    m = re.match(r"^(?:our|my|their|its)\s+(?:new\s+|latest\s+|all-new\s+)?(.+)$", p, re.I)
    if m:
        return _strip(m.group(1)), new
    m = re.match(r"^([A-Z][\w&\-]*(?:\s+(?:&\s+)?[A-Z][\w&\-]*){0,3})'s?\s+(?:new\s+|latest\s+|all-new\s+)?(.+)$", p)
    m = m or re.match(r"^(.+?)'s?\s+(?:new|latest|all-new)\s+(.+)$", p)
    if m:
        return _strip(m.group(2)), new
    if brand and p.lower().startswith(brand.lower()):
        rest = re.sub(r"^\s*(?:'s?\s*)?(?:new\s+|latest\s+)?", "", p[len(brand):])
        rest = _strip(rest)
        return (rest or None), new
    p = re.sub(r"^(?:new|latest|all-new)\s+", "", p, flags=re.I)
    return (p or None), new


# ---------------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------------


#: Labels of a structured brief ("Product: X", "Key messages:" + bullets, "CTA: ...") → what they hold.
_SECTION_KIND = {
    "brand": "brand", "client": "brand", "company": "brand",
    "product": "product", "service": "product", "subject": "product",
    "key messages": "facts", "key message": "facts", "messages": "facts", "message": "facts", "key facts": "facts",
    "facts": "facts", "features": "facts", "key features": "facts", "benefits": "facts", "key benefits": "facts",
    "usp": "facts", "usps": "facts", "key points": "facts", "points": "facts", "selling points": "facts",
    "highlights": "facts", "details": "facts", "what to say": "facts", "include": "facts", "mention": "facts",
    "must mention": "facts", "proof points": "facts",
    "offer": "offer", "promo": "offer", "promotion": "offer", "deal": "offer",
    "cta": "cta", "call to action": "cta", "action": "cta",
    "tagline": "closing", "slogan": "closing", "closing line": "closing", "end line": "closing", "sign-off": "closing",
    "end card": "closing", "must say": "closing", "mandatory line": "closing",
    "tone": "tone", "mood": "tone", "style": "tone", "voice": "tone", "tone of voice": "tone",
    "audience": "audience", "target audience": "audience", "target": "audience", "for": "audience",
    "duration": "note", "length": "note", "platform": "note", "platforms": "note", "format": "note",
    "aspect": "note", "aspect ratio": "note", "music": "note", "visuals": "note", "visual": "note", "notes": "note",
    "objective": "note", "goal": "note", "title": "note", "campaign": "note", "deadline": "note", "budget": "note",
    "deliverables": "note", "hashtags": "note", "hashtag": "note", "language": "note", "channel": "note",
}
_SECTION_LINE = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z /\-]{1,24}?)\s*:\s*(?P<value>.*)$")
_BULLET = re.compile(r"^\s*(?:[-•*–]|\d{1,2}[.)])\s+(?P<item>\S.*)$")


def labelled_sections(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """Split a structured brief into its labelled sections and the free text left.

    A line "Label: value" whose label is a known brief field (:data:`_SECTION_KIND`: product,
    key messages, CTA, tagline, tone, audience, ...) starts a section; its value and the bullet
    lines ("- zero sugar", "• 4 flavours", "1. ...") under it are the section's items. Other lines
    stay in the free text, in order. A brief with no such label comes back unchanged.

    Returns:
        (free text, [(label lower-cased, items), ...]).
    """
    lines = text.splitlines()
    if not any((m := _SECTION_LINE.match(ln)) and m.group("label").strip().lower() in _SECTION_KIND for ln in lines):
        return text, []
    free: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for ln in lines:
        m = _SECTION_LINE.match(ln)
        label = m.group("label").strip().lower() if m else ""
        if m and label in _SECTION_KIND:
            current = [m.group("value").strip()] if m.group("value").strip() else []
            sections.append((label, current))
            continue
        b = _BULLET.match(ln)
        if b and current is not None:
            current.append(b.group("item").strip())
            continue
        current = None
        free.append(ln)
    return "\n".join(free), sections


def _apply_sections(sections: list[tuple[str, list[str]]], an: BriefAnalysis) -> None:
    """Route the labelled sections of :func:`labelled_sections` into ``an`` (free text is analysed
    as usual): facts and offers are key facts, the CTA is the brief's own ask, a tagline is the
    closing line, tone/audience fill their fields, every other label is a production note."""
    for label, items in sections:
        kind = _SECTION_KIND[label]
        joined = ", ".join(_strip(i) for i in items if _strip(i))
        if kind == "product" and joined:
            _lead_subject(_strip(items[0]), an, product_lead=True)
        elif kind in ("facts", "offer"):
            for it in items:
                for part in (_split_list(it) if "," in it and len(it.split()) <= 16 else [it]):
                    if _strip(part):
                        _analyze_clause(part, an, as_fact=True)
                        if kind == "offer" and an.offer is None:
                            an.offer = _strip(part)
        elif kind == "cta" and joined:
            an.call_to_action = an.call_to_action or _strip(items[0])
        elif kind == "closing" and joined:
            line = _strip(items[0].strip("'\""))
            an.closing_line = an.closing_line or line
            an.required_lines.append(line)
        elif kind == "tone":
            an.tone_words += [t for t in _tokens(joined) if t in TONE_WORDS and t not in an.tone_words]
            an.production_notes.append(f"{label}: {joined}")
        elif kind == "audience" and joined:
            an.audience = an.audience or joined
            an.production_notes.append(f"{label}: {joined}")
        elif kind in ("note", "brand"):
            an.production_notes.append(f"{label}: {joined}")


def analyze_brief(brief: Brief) -> BriefAnalysis:
    """Parse ``brief`` into a :class:`BriefAnalysis` (deterministic, no I/O, no model).

    Returns:
        The analysis; ``warnings`` lists what the run report should say (e.g. no brand).
    """
    raw = _norm(brief.text)
    an = BriefAnalysis(language=brief.language)
    an.hashtags = [h for h in dict.fromkeys(m.group(1) for m in _HASHTAG.finditer(raw))
                   if not _META_HASHTAG.search(h)]
    raw, sections = labelled_sections(raw)
    text = _URL.sub(" ", raw)
    text = _HASHTAG.sub(" ", text)  # hashtags are kept in ``hashtags`` (metadata, end card), never spoken
    text = re.sub(r"\.{2,}", ". ", text)

    # ---- brand: the structured field wins, then a "Brand:" line
    labelled_brand = next((v[0] for k, v in sections if _SECTION_KIND.get(k) == "brand" and v), None)
    if brief.brand:
        an.brand, an.brand_source = brief.brand.strip(), "field"
    elif labelled_brand:
        an.brand, an.brand_source = _strip(labelled_brand), "text"
    else:
        found = _find_brand_in_text(text)
        if found:
            an.brand, an.brand_source = found, "text"
        else:
            an.warnings.append("the brief names no brand: the copy names none (add --brand or 'for <Brand>')")

    # ---- tone and audience (fields win; text statements are production notes either way)
    tone_src = brief.tone or ""
    for m in re.finditer(r"([\w ,\-]{2,60}?)\s+(?:tone|vibe|feel|energy|mood)\b", text, re.I):
        tone_src += " " + m.group(1)
    for chunk in re.split(r"[,.;:!?()\n]+", text):  # a list item of tone words only ("..., upbeat, Gen-Z audience")
        toks = _tokens(chunk)
        if toks and len(toks) <= 3 and all(t in TONE_WORDS or t in {"and", "but", "yet"} for t in toks):
            tone_src += " " + chunk
    an.tone_words = [t for t in dict.fromkeys(_tokens(tone_src)) if t in TONE_WORDS]
    if brief.audience:
        an.audience = brief.audience.strip()
    else:  # only an explicit label counts ("Audience: X", "for an audience of X", "Gen-Z audience")
        m = re.search(r"\baudience\s*(?::|of|is)\s*([^.;\n]{3,80})", text, re.I)
        named = re.search(r"(?:^|[,;:(]\s*|\bfor\s+(?:an?\s+|the\s+)?)((?:[\w\-+]+\s+){0,2}?[\w\-+]+)\s+audiences?\b",
                          text, re.I)
        if m:
            an.audience = _strip(m.group(1)) or None
        elif named and not re.match(r"^(?:target|the|an?|our|your|general|wide|big|broad)$", named.group(1), re.I):
            an.audience = _strip(re.sub(r"^(?:a|an|the|our|your)\s+", "", named.group(1), flags=re.I)) or None

    # ---- quoted lines: closing/required lines are taken out of the text
    def take_quote(m: re.Match[str]) -> str:
        phrase = _strip(m.group(1)) if m.group(1).strip()[-1:] not in "!?" else m.group(1).strip()
        before = text[max(0, m.start() - 50):m.start()]
        if _CLOSING_CUE.search(before):
            an.closing_line = an.closing_line or phrase
            an.required_lines.append(phrase)
            return " "
        if _REQUIRED_CUE.search(before):
            an.required_lines.append(phrase)
            return " "
        return phrase
    text = _QUOTE.sub(take_quote, text)
    _apply_sections(sections, an)

    # ---- sentences
    lines = []
    for ln in text.splitlines():
        ls = ln.strip(" •*_=\t-")
        if not ls or re.fullmatch(r"[\w#\s,]+", ls) and len(ls.split()) <= 3 and not ls.endswith((".", "!", "?")) and "\n" in text:
            continue
        if re.match(r"^[^:]{1,30}:\s*\S", ls) and len(ls.split()) <= 6 and "\n" in text:
            continue  # credits ("Agency: X")
        lines.append(ls if ls[-1] in ".!?:;" else ls + ".")
    sentences = _split_sentences(" ".join(lines))

    first = True
    for sent in sentences:
        s = sent.strip()
        if _ABOUT_THE_AD.search(s) and not _LEAD.match(s):
            an.production_notes.append(s)
            continue
        if _CREDIT.search(s) or (an.brand and _strip(s).lower() in {an.brand.lower(), (an.brand + "s").lower()}) \
                or (_names_only(s) and not _LEAD.match(s) and not _ANNOUNCE.match(s)):  # "Vertical ad for Harbor Bakery's sourdough." leads
            an.production_notes.append(s)
            continue
        if _META_SENTENCE.search(s) and not an.facts and not an.story and not _header_split(s) \
                and not (_LEAD.match(s) and not re.search(r"super ?bowl|youtube\.com|youtu\.be|youtube (?:channel|video|"
                                                          r"upload)|http|subscribe", s, re.I)) \
                and not (_META_LEAD.match(s) and not _META_SENTENCE.search(s[_META_LEAD.match(s).end():])):
            an.production_notes.append(s)
            first = False
            continue
        if _META_SENTENCE.search(s) and re.search(r"(super ?bowl|youtube|http|subscribe|channel|copyright|\bsb ?\d)", s, re.I):
            an.production_notes.append(s)
            continue
        if first and re.match(r"^(imagine|picture|what if|ever|have you|did you|who|why|how|what)\b", s, re.I) and (
                s.rstrip().endswith("?") or s.lower().startswith(("imagine", "picture"))) and ":" not in s:
            an.hook_line = _strip(s) + ("?" if s.rstrip().endswith("?") else ".")
            first = False
            continue
        first = False
        _analyze_sentence(s, an)

    # ---- numbers as written
    for f in an.facts + an.story:
        for m in _NUMBER.finditer(f):
            num = m.group(0).strip()
            if num.lower() not in {"one", "a"} and num not in an.numbers:
                an.numbers.append(num)
    if an.offer is None:
        an.offer = next((f for f in an.facts if _OFFER.search(f)), None)
    if an.offer and re.search(r"\bsave\b", an.offer, re.I) and not re.search(r"(?<![-\w])free\b|%\s*off", an.offer, re.I):
        # "save up to 70% on your bill" is a benefit; "Free home survey" is the offer the viewer can take
        an.offer = next((f for f in an.facts if re.search(r"(?<![-\w])free\b", f, re.I)), an.offer)
    an.facts = list(dict.fromkeys(an.facts))
    an.story = list(dict.fromkeys(an.story))
    if an.product_only:
        an.warnings.append("the brief gives no facts, offer or story, only the product: the copy speaks about it in "
                           "general terms; add key facts (what it does, a number, an offer) to fill the video")
    return an


_LABEL = re.compile(r"^(audience|target audience|target|for|tone|voice|mood|style|music|platform|format|length|"
                    r"duration|cta|call to action|hashtags?|language)$", re.I)
_FACT_NUMBER = re.compile(r"[$€£]\s?\d|\b\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
                          r"thirty|forty|fifty|hundred|thousand|million|billion|half|double|triple|twice)\b", re.I)
_HAS_VERB = re.compile(r"\b(is|are|was|were|will|can|has|have|had|does|do|did|gets?|got|goes|went|finds?|found|"
                       r"looks?|raids?|tries|try|buys?|bought|discovers?|keeps?|drives?|rescues?|saves?|starts?|sets?|"
                       r"turns?|meets?|makes?|takes?|wins?|won|helps?|comes?|becomes?|learns?|passes|ends?|puts?|"
                       r"loves?|wants?|runs?|walks?|plays?|dreams?|beats?|tells?|unites?|grows?|flows?|begs?)\b", re.I)


_META_LEAD = re.compile(r"^(?:in\s+)?(?:this|the|our|a|an)\s+(?:new\s+)?(?:film|ad|advert|spot|video|commercial|story|piece)"
                        r"(?:,\s*[^,]{1,40},)?\s+(?:follows|shows|features|tells(?: the story of)?|is about|celebrates|"
                        r"introduces|stars|depicts|imagines)\s+", re.I)


def _analyze_sentence(s: str, an: BriefAnalysis) -> None:
    """Route one sentence's parts into facts / story / directives / notes."""
    s = _strip(s)
    if not s:
        return
    lead_in = _META_LEAD.match(s)
    if lead_in:  # "This film follows the journey of X ..." → the content after the meta lead-in
        an.production_notes.append(s[:lead_in.end()].strip())
        s = s[lead_in.end():]
        s = s[0].upper() + s[1:]
    split = _header_split(s)
    if split:
        head, body = split
        if _LABEL.match(head):  # "Audience: X", "Tone: Y" — labels are production notes
            an.production_notes.append(s)
            if head.lower().endswith("audience") and not an.audience:
                an.audience = _strip(body)
            elif head.lower() == "tone":
                an.tone_words += [t for t in _tokens(body) if t in TONE_WORDS and t not in an.tone_words]
            return
        lead = _LEAD.match(head) or _ANNOUNCE.match(head)
        if lead or is_production_note(head):
            an.production_notes.append(head)
            if lead:
                _lead_subject(_strip(lead.group(lead.lastindex)), an, announce=bool(_ANNOUNCE.match(head)),
                              product_lead=(lead.groupdict().get("prep") or "").lower() in {"for", "introducing", "promoting", "announcing"})
            _analyze_body(body, an, list_context=True)
            return
        maker = re.match(r"^(.+?)\s+(?:from|by)\s+(.+)$", head)
        if an.brand and maker and not _HAS_VERB.search(head) and len(head.split()) <= 7 and (
                maker.group(2).lower() in an.brand.lower() or an.brand.lower() in maker.group(2).lower()):
            # "Car insurance from Harbour: get a quote in 2 minutes, ..." — the product, then its facts
            if not an.product and not is_production_note(maker.group(1)):
                an.product = _strip(maker.group(1)).lower() if maker.group(1)[:1].isupper() and \
                    not re.match(r"^[A-Z][a-z]+\s+[A-Z]", maker.group(1)) else _strip(maker.group(1))
            _analyze_body(body, an, list_context=True)
            return
        if an.brand and head.lower().startswith(an.brand.lower()) and len(head.split()) <= 6 \
                and not _HAS_VERB.search(head):  # "Wagly dog food: real chicken first, no fillers"
            rest = head[len(an.brand):].strip()
            new = bool(re.match(r"^(?:'s?\s+)?(?:new|latest|all-new)\b", rest, re.I))
            rest = _strip(re.sub(r"^(?:'s?\s+)?(?:new\s+|latest\s+|all-new\s+)?", "", rest, flags=re.I))
            if rest and (rest[:1].islower() or re.fullmatch(r"[A-Z]{2,5}s?", rest)) and not an.product \
                    and not is_production_note(rest):  # "dog food", "VPN"
                an.product, an.product_is_new = rest, new
            _analyze_body(body, an, list_context=True)
            return
        if not _HAS_VERB.search(head) and not re.search(r"\b[a-z]{3,}(?:s|ed)\s+(?:the|a|an|his|her|their|to|on|in)\b", head) \
                and re.match(r"^(?:the|our)\s+(?:new|latest|all-new)\b", head, re.I):
            _lead_subject(head, an, product_lead=True)  # "The new Ford Ranger hybrid: tows 3,500 kg, ..."
            _analyze_body(body, an, list_context=True)
            return
        if re.match(r"^[A-Z]", head) and len(head.split()) >= 4:  # story sentence before a benefit list
            _analyze_clause(head, an)
            _analyze_body(body, an, list_context=True)
            return
    lead = _LEAD.match(s)
    if lead:
        an.production_notes.append(s)
        _lead_subject(_strip(lead.group(lead.lastindex)), an,
                      product_lead=(lead.group("prep") or "").lower() in {"for", "introducing", "promoting", "announcing"})
        return
    ann = _ANNOUNCE.match(s)
    if ann:
        an.production_notes.append(s)
        _lead_subject(_strip(ann.group(1)), an, announce=True)
        return
    _analyze_body(s, an, list_context=False)


_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|" \
         r"nov(?:ember)?|dec(?:ember)?)"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
#: When an event or a launch happens, as the brief writes it ("on 12 April", "this Saturday", "from March").
_EVENT_DATE = re.compile(
    r"\s+(?:on|from|this|next|until|till)\s+(?:(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+" + _MONTH + r"\b|" + _MONTH
    + r"\s+\d{1,2}(?:st|nd|rd|th)?\b|" + _WEEKDAY + r"\b|" + _MONTH + r"\b|weekend\b)(?:\s+\d{4})?$", re.I)


def _plural_head(noun_phrase: str) -> bool:
    last = noun_phrase.split()[-1].lower() if noun_phrase.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is")) and not last[:1].isupper()


def _relative_fact(phrase: str, an: BriefAnalysis) -> str:
    """"smart desk lamp that adjusts colour temperature" → "smart desk lamp", and "adjusts colour
    temperature" becomes a key fact (said "It adjusts colour temperature ..."); other phrases unchanged."""
    m = re.match(r"^(.+?)\s+(?:that|which|who)\s+((?:[a-z]+ly\s+)?[a-z]+(?:s|es)\b.+)$", phrase)
    if not m or word_count_simple(m.group(2)) < 2 or is_production_note(m.group(2)):
        return phrase
    pron = "They" if _plural_head(m.group(1)) else "It"
    for it in _split_list(m.group(2)):
        verb_phrase = _strip(it)
        if pron == "They":  # "meal kits that arrive ..." → "They arrive ..." (already the plain form)
            verb_phrase = re.sub(r"^(\w+?)(?:es|s)\b", lambda v: v.group(1), verb_phrase) \
                if re.match(r"^\w+(?:s)\b", verb_phrase) and not re.match(r"^\w+ss\b", verb_phrase) else verb_phrase
        an.facts.append(f"{pron} {verb_phrase}")
    return m.group(1)


def _lead_subject(subject: str, an: BriefAnalysis, *, announce: bool = False, product_lead: bool = False) -> None:
    """The object of "video for/about X": product ("our new X"), else topic ("beating the odds")."""
    subject = _DURATION.sub("", subject).strip()
    of = re.match(r"^((?:the\s+)?(?:story|journey|life|tale)\s+of)\s+(.+)$", subject, re.I)
    lead_phrase = of.group(1) if of else None
    if of:
        subject = of.group(2)
    appos = re.match(r"^([A-Z][\w&\-']*(?:\s+(?:&\s+)?[A-Z][\w&\-']*){0,2}),\s+(?:the|a|an|our)\s+(.+)$", subject)
    art = re.match(r"^[^,]+,\s+(the|a|an|our)\s", subject)
    if appos and an.brand and an.brand_source == "field" and appos.group(1).lower() not in an.brand.lower() \
            and an.brand.lower() not in appos.group(1).lower() and (not product_lead or lead_phrase):
        # "Tell the story of Bella, a horse rescued from neglect ...": Bella is who the story is about
        an.story.append(f"{appos.group(1)} is {art.group(1).lower()} {appos.group(2)}")
        return
    if appos:  # "Ledgerly, the invoicing app for freelancers"
        if an.brand is None:
            an.brand, an.brand_source = appos.group(1), "text"
            an.warnings = [w for w in an.warnings if "no brand" not in w]
        if not is_production_note(appos.group(2)):
            an.product = _strip(_relative_fact(appos.group(2), an))
        return
    subject = _relative_fact(subject, an)
    if an.brand:  # "the Drift puffer jacket by Northpeak": the maker is the brand, said in the CTA
        subject = re.sub(r"\s+(?:by|from)\s+" + re.escape(an.brand) + r"$", "", subject)
    date = _EVENT_DATE.search(subject)
    if date and word_count_simple(subject[:date.start()]) >= 1:  # "the Dunmore City Marathon on 12 April"
        head = _strip(subject[:date.start()])
        opening = re.match(r"^(.+?)\s+(?:opening|launch|launching|reopening)$", head, re.I)
        if opening:  # "a new neighbourhood bakery opening on Saturday" → "A new neighbourhood bakery opens on Saturday"
            head = opening.group(1)
            an.facts.append(f"{head[:1].upper() + head[1:]} {'open' if _plural_head(head) else 'opens'} "
                            f"{date.group(0).strip()}")
        else:
            an.facts.append(f"{head[:1].upper() + head[1:]} {'are' if _plural_head(head) else 'is'} {date.group(0).strip()}")
        subject = head
    subject = re.split(r"\s*,\s*|\s+(?:that|which|in|on (?:tiktok|instagram|youtube))\s+", subject, maxsplit=1)[0]
    if not subject:
        return
    if an.brand is None:
        # "ad for the Lumen desk lamp": a capitalised name after the article leads the product phrase
        b = _find_brand_in_text("for " + re.sub(r"^the\s+(?=[A-Z])", "", subject))
        if b:
            an.brand, an.brand_source = b, "text"
            an.warnings = [w for w in an.warnings if "no brand" not in w]
    looks_product = bool(re.search(r"\b(our|new|latest|[A-Z][\w&\-]*'s?)\b|'s?\s", subject)) or (
        an.brand is not None and an.brand.lower() in subject.lower()) or product_lead
    gerund = re.match(r"^[a-z]+ing\b", subject)
    if re.search(r"(?<!-)\b(journey|story|history|life|quest|mission|rise|legacy|adventure|tale|origins?)\b"
                 r"(?:\s+(?:to|of|from|in|with)\b.*)?$", subject, re.I):
        gerund = gerund or re.match(r".", subject)  # "the founder's ambitious journey to America" is a topic
    if announce and re.search(r"\b(day|launch|event|sale|opening|anniversary|season|week|festival|marathon|race|fair|"
                              r"concert|market|conference|expo|gala|tournament|exhibition|show|parade|open day)$",
                              subject, re.I):
        an.topic = an.topic or subject
        return
    if looks_product and not gerund:
        product, new = _product_from(subject, an.brand)
        if product and not is_production_note(product):
            an.product, an.product_is_new = product, new
            return
    if not is_production_note(subject):
        an.topic = an.topic or subject


def _analyze_body(body: str, an: BriefAnalysis, *, list_context: bool) -> None:
    body = _strip(body)
    if not body:
        return
    m = _DIRECTIVE.match(body)
    if m:
        _directive(m.group(2), an)
        return
    items = _split_list(body)
    if list_context and len(items) >= 2 and all(len(i.split()) <= (12 if len(items) >= 3 else 9) for i in items):
        for it in items:  # a benefit list: each item is a fact, a tone word or a direction
            _analyze_clause(it, an, as_fact=True)
        return
    if len(items) >= 2 and any(is_production_note(i) for i in items):
        # a mixed sentence ("Upbeat, show the outdoors, end with ...", "Emotional build, happy reunion,
        # hashtag #X on the end card"): notes go, short verbless beat names go with them
        directing = False
        for k, it in enumerate(items):
            if is_production_note(it) or (not _HAS_VERB.search(it) and len(it.split()) <= 5):
                directing = directing or bool(_DIRECTION_START.match(it))
                if directing and not is_production_note(it):
                    an.visual_cues.append(_strip(it))
                elif k > 0 and _story_moment(it):
                    # "Emotional build, happy reunion, hashtag ...": a moment of the story named among
                    # the directions is content ("A happy reunion."); the directions around it are not
                    an.story.append(_story_moment(it))
                    continue
                _analyze_clause(it, an, note=True)
            else:
                _analyze_clause(it, an)
        return
    if list_context and len(items) >= 2 and not _HAS_VERB.search(items[0]):
        # "on a packed flight, one man will ..." — a scene-setting phrase then the story
        _analyze_clause(body, an)
        return
    if len(items) >= 2 and all(len(i.split()) <= 7 for i in items) and not _HAS_VERB.search(body) \
            and not re.match(r"^(?:it|they|we|he|she|i|you)\s", body, re.I) \
            and (re.match(r"^(?:[$€£]?\d|(?:a|an|the|no|zero|free|all|one|two|three|four|five|new|fresh|extra|"
                          r"unlimited|same-day|next-day|\w+-\w+)\b|[a-z])", items[0], re.I if re.match(
                              r"^(?:New|Fresh|Free|Extra|Unlimited)\b", items[0]) else 0)
                 or len(items[0].split()) <= 2) \
            and not any(re.match(r"^(?:such as|like|including|and more|many more)\b", i, re.I) for i in items) \
            and not re.search(r"\b[a-z]{3,}(?:s|ed)\s+(?:the|a|an|his|her|their|its|to|on|in|at|with|from|into)\b", body,
                              re.I) \
            and (_FACT_NUMBER.search(body) or len(items) >= 3):
        # a verbless list of what is on offer ("10,000 runners, a flat course along the harbour, and a 5K")
        for it in items:
            _analyze_clause(it, an, as_fact=True)
        return
    every = re.match(r"^(?:every|each)\s+[a-z\-]+\s+(?:is|has|comes|gets)\b", items[0], re.I) if items else None
    if every and len(items) >= 2 and all(re.match(r"^(?:[a-z]+ly\s+)?[a-z]+(?:s|es)\b", i) for i in items[1:]) \
            and all(len(i.split()) <= 12 for i in items):
        # "Every home is built from ..., uses 70% less energy ..., and comes with ...": one fact each
        an.facts.append(items[0])
        for it in items[1:]:
            an.facts.append(f"It {it}")
            if _OFFER.search(it) and an.offer is None:
                an.offer = f"It {it}"
        return
    if len(items) >= 2 and all(re.match(r"^(?:[a-z]+ly\s+)?[a-z]+(?:s|es)\b", i) for i in items[1:]) \
            and all(len(i.split()) <= 9 for i in items) \
            and not re.match(r"^(?:a|an|the|one|two|three|his|her|their|he|she|they|i|we|you|it|my|our|your|every|each)\b",
                             items[0], re.I) and not re.match(r"^[A-Z]\w*\s+[A-Z]", items[0]) \
            and (_capability_facts(body, an) is None or _IMPERATIVE_FACT.match(body)):
        # "Set up in an afternoon, syncs with Gmail and Outlook, and shows every deal on one board": one fact each
        for it in items:
            _analyze_clause(it, an, as_fact=True)
        return
    if len(items) >= 3 and all(len(i.split()) <= 6 for i in items) and _FACT_NUMBER.search(body) and not any(
            re.match(r"^(?:he|she|they|we|i|you|it|a|an|the|one|his|her|their)\b", i, re.I) for i in items):
        # a sentence that lists specs ("Charges a phone in 2 hours, weighs 300 g, waterproof."): one fact each,
        # the first one lower-cased unless it is a name ("charges a phone ..." is said "It charges a phone ...")
        head = items[0].split()[0]
        if re.fullmatch(r"[A-Z][a-z]+", head) and head.lower() not in (an.brand or "").lower().split():
            items[0] = head.lower() + items[0][len(head):]
        for it in items:
            _analyze_clause(it, an, as_fact=True)
        return
    _analyze_clause(body, an)


#: Imperatives that state what a customer can do (a feature or a term), not the brief's call to action.
_IMPERATIVE_FACT = re.compile(r"^(?:skip|cancel|pause|choose|pick|swap|switch|mix|earn|track|pay|enjoy|customi[sz]e|"
                              r"change|upgrade|return|bring|share|split|plan|control|charge|wash|store|fold|"
                              r"pair|connect|sync|set up|unlock)\b", re.I)


def _capability_facts(c: str, an: BriefAnalysis) -> list[str] | None:
    """What the product or service does, said by the brief with the product as subject ("Brightroof
    installs solar panels in one day", "It maps your home, empties itself ...", "Skip or cancel any
    week"): key facts, one per verb phrase (the subject repeated), never story beats. None otherwise."""
    if _IMPERATIVE_FACT.match(c):
        return [c]
    names = [re.escape(n) for n in (an.brand, an.product) if n]
    subj = r"(?:it|they|we|our\s+[\w\-]+(?:\s+[\w\-]+)?|the\s+(?:app|product|service|team)" + \
        "".join(f"|{n}|the\\s+{n}" for n in names) + ")"
    if any(word_count_simple(i) > 14 for i in _split_list(c)):
        return None  # a long sentence about the brand is narrative, not a feature
    m = re.match(r"^((?i:" + subj + r"))\s+((?:[a-z]+ly\s+)?[a-z]+(?:s|es)\b|(?:can|will|never|always)\s+[a-z]+)", c) \
        or re.match(r"^((?i:we|you))\s+((?:[a-z]+ly\s+)?(?!are\b|were\b|have\b|also\b|all\b)[a-z]{3,})\b(?!\s+(?:a|an)\s)", c)
    if not m or re.match(r"^(?:is|was|has|does|says|said|claims|thinks|believes|knows|seems|looks|feels|wants|tries|"
                         r"also|dates|began|led)\b", m.group(2)):  # a statement or a report, not what it does
        return None
    items = _split_list(c)
    clause = r"^(?:and\s+)?(?:the|every|each|your|our|its|their|all|no|we|it|they|you)\s+\S+"
    if len(items) >= 2 and all(re.match(r"^(?:[a-z]+ly\s+)?[a-z]+(?:s|es)\b", i) or re.match(clause, i, re.I)
                               for i in items[1:]):
        head = m.group(1)
        out = [items[0]]
        for i in items[1:]:  # "…, every plant comes with care tips, and the first delivery is free"
            j = re.sub(r"^and\s+", "", i, flags=re.I)
            out.append(j[:1].upper() + j[1:] if re.match(clause, j, re.I) else f"{head} {i}")
        return out
    return [c]


_MOMENT_NOUN = re.compile(r"(reunion|rescue|surprise|homecoming|goodbye|farewell|victory|comeback|celebration|"
                          r"proposal|wedding|first date|first kiss|first step|first ride|escape|chase|showdown|"
                          r"kickoff|touchdown|finale|sunrise|sunset|road trip|reveal)$", re.I)


def _story_moment(item: str) -> str | None:
    """A story moment named in a list of directions ("happy reunion" → "A happy reunion."), else None.

    Only a 1-3 word noun phrase ending in an event noun (closed list), with no production or
    tone-only words: the other verbless items of such lists are directions ("warm payoff").
    """
    t = _strip(item)
    if not t or len(t.split()) > 3 or is_production_note(t) or not _MOMENT_NOUN.search(t):
        return None
    if re.match(r"^(a|an|the|one|their|his|her)\b", t, re.I):
        return t[:1].upper() + t[1:]
    art = "An" if t[:1].lower() in "aeiou" else "A"
    return f"{art} {t[:1].lower() + t[1:]}"


def _directive(content: str, an: BriefAnalysis) -> None:
    content = _strip(content)
    if content and not is_production_note(content):
        an.directives.append(content)
        an.facts.append(content)
        if _OFFER.search(content) and an.offer is None:
            an.offer = content


def _analyze_clause(clause: str, an: BriefAnalysis, *, as_fact: bool = False, note: bool = False) -> None:
    c = _strip(clause)
    if not c:
        return
    ask = _ASK_CTA.match(c)
    if ask or (_CTA_VERB.match(c) and word_count_simple(c) <= 8 and not _FACT_NUMBER.search(c) and not note):
        # the brief's own call to action: said once, as the close (with the brand), never as a story beat
        action = _strip(ask.group(1)) if ask else c
        if not is_production_note(action):
            an.call_to_action = an.call_to_action or action
            an.production_notes.append(c) if ask else None
            return
    m = _DIRECTIVE.match(c)
    if m:
        _directive(m.group(2), an)
        return
    journey = re.match(r"^tell\s+(her|his|their|our|the|its)\s+(journey|story|rise|path)\s+(from\s+.+?\s+to\s+.+?)"
                       r"(?:\s+in\s+.*)?$", c, re.I)
    if journey:  # "Tell her journey from childhood to the podium in a few quick beats" → content
        pron = journey.group(1).lower()
        span = re.sub(r"\s+and\s+(?:close|closing|end|ending|finish|cut|fade)\b.*$", "", journey.group(3), flags=re.I)
        line = f"{span[0].upper() + span[1:]}, this is {pron} {journey.group(2).lower()}"
        an.directives.append(line)  # said after the facts it refers to (see copywriter)
        an.production_notes.append(c)
        return
    show = re.match(r"^(?:show|showing|feature|featuring)\s+(.+)$", c, re.I)
    if show:
        cue = re.sub(r"\s+and\s+(?:close|end|finish)\s+(?:on|with)\s*$", "", _strip(show.group(1)))
        an.visual_cues.append(cue)
        an.production_notes.append(c)
        return
    aud = re.match(r"^(?:aimed at|targeting|for)\s+(?:the\s+)?([a-z][a-z\- ]{2,50})$", c, re.I)
    if aud and (note or as_fact or re.match(r"^for\s", c, re.I)) and word_count_simple(aud.group(1)) <= 5 and re.search(
            r"(s|people|folk|crowd|family)$", aud.group(1), re.I) and not _FACT_NUMBER.search(c):
        # "Upbeat, for families": who the video is for (addressed, never read as a fact)
        an.production_notes.append(c)
        an.audience = an.audience or _strip(aud.group(1))
        return
    if note or is_production_note(c):
        an.production_notes.append(c)
        return
    if as_fact:
        an.facts.append(c)
        if _OFFER.search(c) and an.offer is None:
            an.offer = c
        return
    said = _capability_facts(c, an)
    if said:  # "It maps your home, empties itself for 60 days, and climbs over rugs." → three facts
        for f in said:
            an.facts.append(f)
            if _OFFER.search(f) and an.offer is None:
                an.offer = f
        return
    # a full sentence: a fact when it carries a number or an offer, else story; a narrative
    # ("Two bears raid a cabin fridge", "A man buys a goat ...") stays story whatever its numbers
    narrative = re.match(r"^(?:a|an|one|two|three|four|five|some|his|her|their)\s+(?:[\w\-]+\s+){0,3}?"
                         r"(?!is\b|are\b|was\b|were\b|this\b|its\b|his\b|plus\b|thus\b|us\b)[a-z]+s\b", c, re.I)
    if (_FACT_NUMBER.search(c) or _OFFER.search(c)) and not narrative:
        an.facts.append(c)
        if _OFFER.search(c) and an.offer is None:
            an.offer = c
    else:
        an.story.append(c)
