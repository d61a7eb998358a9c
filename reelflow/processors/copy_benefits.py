"""What a fact means to the viewer: the "so what" line a copywriter says after a feature.

"Features tell, benefits sell": after "It charges a phone in 2 hours." a copywriter adds "Less
waiting, more doing."; after "Kids go free." comes "Bring the whole family.". Each rule here
matches one *kind* of fact (speed, battery life, weight, weather, price, a free offer, freshness,
an endorsement, automation, delivery, opening hours, a donation, volunteering, an event's
programme, safety, comfort, grip, size, a warranty, flexible terms, a deadline, beginners welcome,
quietness, the planet, a diet, taste, towing power, working with other tools, a schedule, gentle
care, pets, support, a long service life) and gives two or three phrasings of its benefit. A
benefit line only restates what its fact already says, in the viewer's terms: it adds no number,
no spec, no comparison and no competitor, and it is said once, right after the fact it explains
(in the same scene), so it never floats free as stock filler ("Quality you can feel.").

The rules are written for fact *shapes* that recur across products, services, charities and
events, not for any one brief; the first matching rule wins, and one rule is used once per video.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class BenefitRule:
    """One kind of fact: ``pattern`` (searched in the fact, case-insensitive) and its phrasings."""

    name: str
    pattern: re.Pattern[str]
    phrasings: tuple[str, ...]


def _r(name: str, pattern: str, *phrasings: str) -> BenefitRule:
    return BenefitRule(name, re.compile(pattern, re.I), phrasings)


_TIME = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)"
#: Order matters: the most specific kind first (a "free" donation is a donation, not an offer).
RULES: tuple[BenefitRule, ...] = (
    _r("donation", r"(?:[$€£]\s?\d[\d,.]*\s+(?:feeds?|provides?|buys?|funds?|gives?|covers?|pays?)|\bdonat\w+|\bevery gift\b)",
       "Every gift makes a real difference.", "A small gift goes a long way.", "Your gift changes a life."),
    _r("volunteer", r"\bvolunteer\w*\b", "A little of your time goes a long way.",
       "You could be the one who makes the difference."),
    _r("rehome", r"\b(?:rehome\w*|adopt\w*)\b", "Every one deserves a loving home.",
       "Each one deserves a second chance."),
    _r("kids_free", r"\bkids?\b[^.]{0,20}\bfree\b|\bchildren\b[^.]{0,20}\bfree\b|\bfamil(?:y|ies)\b",
       "Bring the whole family.", "Fun for the whole family."),
    _r("free", r"(?<![-\w])free\b(?!-)|\bon us\b|\bno charge\b|\bcomplimentary\b",
       "Nothing to lose.", "Zero risk. All reward.", "There's never been a better time to try."),
    _r("discount", r"\d+\s?%\s*off\b|\bhalf price\b|\bbuy (?:one|two|\d)\b|\b\d+ for [$€£]|\bsave\b",
       "Your wallet will thank you.", "Too good to miss."),
    _r("price", r"(?:from|only|just|under|for)\s+[$€£]\s?\d|[$€£]\s?\d[\d,.]*\s*(?:a|per|/)\s*\w+",
       "Easy on your wallet.", "Great value, every time."),
    _r("lasting", r"\bkeeps?\s+(?:\w+\s+){0,2}(?:cold|hot|warm|cool|fresh|dry|charged)\b",
       "Made for your longest days.", "Ready when you are."),
    _r("warranty", r"\bwarrant(?:y|ies)\b|\bguarantee\w*\b|\bmoney-?back\b",
       "We've got you covered.", "Peace of mind included."),
    _r("long_life", r"\blasts?\s+(?:up to\s+|for\s+)?(?:\d+|a|one|two|three|six|twelve)\s*(?:weeks?|months?|years?)\b",
       "Set it and forget it.", "Fewer replacements, less hassle."),
    _r("battery", r"\b(?:battery|range|lasts?|runtime|on (?:a|one) (?:single )?charge)\b",
       "Charge less. Go further.", "Forget the charger for a while.", "Built to keep up with you."),
    _r("slow", r"\b(?:steeped|aged|fermented|slow-?\w*|proofed)\b|\b\d+-hours?\b(?!\s+(?:battery|charge|runtime))",
       "Good things take time.", "Worth every minute of the wait."),
    _r("fold", r"\bfolds?\b|\bcompact\b|\bpacks? (?:down|into|flat)\b|\bpocket\w*\b",
       "Fold it, carry it, store it anywhere.", "Small enough to go wherever you go."),
    _r("top_speed", r"\btop speed\b|\bmph\b|\bkm/h\b", "Zip past the traffic.", "Get there sooner."),
    _r("speed", r"\b(?:in|within) (?:just |only |under |about )?\d[\d.,]*\s*" + _TIME + r"\b|\b(?:instant\w*|quick\w*|fast\w*)\b|"
       r"\b\d+-minute\b|\bin (?:seconds|minutes)\b",
       "Less waiting, more doing.", "No waiting around.", "Done before you know it."),
    _r("weight", r"\b(?:ultra)?lightweight\b|\blight as\b|\b\d{1,3}\s?(?:g|grams?|oz)\b(?!\s+(?:of\s+)?(?:protein|"
       r"sugars?|fat|fib(?:re|er)|carbs?|salt|caffeine|net))",
       "Light enough to take anywhere.", "You'll barely notice it in your bag."),
    _r("weather", r"\b(?:water|weather|rain|splash)(?:proof|-?resistant)\b|\bwaterproof\b|\brain\b",
       "Rain or shine, it keeps going.", "Whatever the weather."),
    _r("fresh", r"\bfresh\w*\b|\bbaked\b|\bdaily\b|\bevery (?:morning|day)\b|\bhand-?made\b|\bwood-fired\b|"
       r"\bslow-\w+\b|\bsmall[- ]batch\b",
       "Made fresh, the way it should be.", "You can taste the care in every bite."),
    _r("local", r"\blocal\w*\b|\bfarm-fresh\b|\borganic\b|\bseasonal\b",
       "Local, the way it should be.", "Proudly local."),
    _r("social_proof", r"\b(?:trusted|loved|used|chosen)\s+by\b|\b\d[\d,.]*\+?\s*(?:k\s+)?(?:happy\s+)?(?:customers|"
       r"homeowners|users|members|families|clients|fans|subscribers|riders|drivers|firms|companies|businesses|teams)\b",
       "You're in good hands.", "Join the club."),
    _r("approved", r"\b\w+-(?:approved|recommended|tested|certified)\b|\b(?:award|rated|stars?)\b",
       "Trusted by the people who know.", "The experts already love it."),
    _r("effortless", r"\b(?:one|a single|a)\s+(?:tap|click|swipe|scan)\b|\bone-(?:tap|click)\b|\bno (?:forms|paperwork|setup)\b",
       "No forms. No fuss.", "It really is that easy."),
    _r("flexible", r"\b(?:skip|pause|cancel)\b[^.]{0,30}\b(?:any ?time|any (?:week|month)|whenever)\b|"
       r"\bno (?:contracts?|commitment|lock-?in)\b",
       "You're always in control.", "No strings attached."),
    _r("deadline", r"\b(?:registration|entries|applications?|sign-?ups?|booking|sale|offer)\s+(?:closes?|ends?)\b|"
       r"\bdeadline\b|\blast chance\b|\bwhile stocks? last\b|\blimited (?:places|spots|seats|edition)\b",
       "Don't leave it too late.", "Get in before it's gone."),
    _r("welcome", r"\bbeginners?\b|\ball (?:levels|ages|abilities)\b|\bfirst-?timers?\b|\bnewcomers?\b",
       "Everyone's welcome.", "No experience needed."),
    _r("quiet", r"\bquiet\w*\b|\bsilent\w*\b|\b\d+\s?dB\b|\bwhisper\w*\b",
       "You'll hardly hear it.", "All the work, none of the noise."),
    _r("automatic", r"\bautomatic\w*\b|\bauto-\w+\b|\breminders?\b|\balerts?\b|\bsorts?\b|\breports?\b|"
       r"\bin your inbox\b|\bsummar(?:y|ies)\b|\bitself\b|\badjusts\b|\btranscribes\b|\bmaps your\b|"
       r"\bdetects\b|\blearns your\b",
       "One less thing to think about.", "It does the boring part for you."),
    _r("delivery", r"\bdeliver\w*\b|\bto your door\b|\bpick-?up\b|\bcollect\w*\b",
       "Right to your door.", "No trips, no hassle."),
    _r("hours", r"\b24/7\b|\bday or night\b|\bopen (?:until|till|late)\b|\buntil late\b|\bany ?time\b",
       "Whenever you need it.", "Day or night, we're here."),
    _r("event", r"\blive music\b|\bfood stalls?\b|\blanterns?\b|\bfireworks\b|\bperformers?\b|\bline-?up\b",
       "Bring your friends.", "A night you'll remember."),
    _r("safety", r"\bbrak\w+\b|\bsafe\w*\b|\bsecur\w*\b|\bprotect\w*\b|\bencrypt\w*\b",
       "Peace of mind, every time.", "Safety you don't have to think about."),
    _r("planet", r"\brecycled\b|\bupcycled\b|\beco-?\w*\b|\bsustainab\w+\b|\bcarbon[- ]neutral\b|\belectric-only\b|"
       r"\bzero[- ]emissions?\b|\bplastic-free\b|\bcompostable\b|\brefill\w*\b",
       "Better for the planet.", "Good for you, good for the planet."),
    _r("dietary", r"\b(?:dairy|gluten|nut|sugar|lactose|meat)-free\b|\bvegan\b|\bplant-based\b",
       "Something everyone can enjoy.", "Made for more of the table."),
    _r("taste", r"\bnotes of\b|\bflavou?r(?:ed|ful)?\b|\btasting\b|\bcreamy\b|\bcrispy\b|\bcrunchy\b|\bjuicy\b",
       "Taste it for yourself.", "One sip and you'll see."),
    _r("power", r"\btows?\b|\btowing\b|\bhauls?\b|\bpayload\b|\bhorsepower\b|\btorque\b|\b\d+\s?hp\b",
       "Ready for the heavy lifting.", "Built for the big jobs."),
    _r("integration", r"\bsyncs? with\b|\bintegrates? with\b|\bworks with\b|\bconnects? (?:to|with)\b|\bexports? to\b|"
       r"\bimports? from\b",
       "It fits right into how you work.", "No more switching between apps."),
    _r("schedule", r"\b(?:evening|weekend|saturday|sunday|late|early)(?:\s+and\s+\w+)?\s+(?:appointments|opening|classes|"
       r"sessions|hours)\b|\bopen (?:daily|every day|seven days)\b",
       "On your schedule.", "Whenever suits you."),
    _r("gentle", r"\bgentle\b|\bnervous\b|\banxious\b|\bpatient\b(?!s)|\bcaring\b",
       "Care that puts you at ease.", "No rush, no pressure."),
    _r("pets", r"\b(?:dogs?|pets?) (?:welcome|allowed|friendly)\b|\b(?:dog|pet)-friendly\b",
       "Bring the whole pack.", "The more paws, the merrier."),
    _r("support", r"\bcare tips\b|\bsupport team\b|\bexpert advice\b|\bhelp(?:line| desk)\b|\bcoach(?:ing|es)?\b|"
       r"\bguides? you\b",
       "Help whenever you need it.", "You're never on your own."),
    _r("comfort", r"\bcomfort\w*\b|\bsoft\w*\b|\bcushion\w*\b|\bbreathable\b|\bergonomic\b",
       "Feel the difference from the first moment.", "Comfort you'll notice right away."),
    _r("grip", r"\bgrip\w*\b|\btraction\b|\bnon-?slip\b",
       "Sure-footed, every step.", "Stay steady when it counts."),
    _r("modes", r"\b(?:modes|settings|flavou?rs|colou?rs|colorways|sizes|styles|scents|shades)\b",
       "There's one for everyone.", "Pick the one that suits you."),
)


def _pick(options: tuple[str, ...], seed: int, salt: str) -> str:
    h = int(hashlib.sha256(f"{seed}:{salt}".encode()).hexdigest()[:8], 16)
    return options[h % len(options)]


#: Kinds whose benefit also follows a story sentence of a cause ("Our volunteers read with a child
#: once a week."): the others explain product facts only (a story's "rescues" is no adoption).
CAUSE_KINDS = frozenset({"donation", "volunteer", "rehome"})


def benefit_line(fact_line: str, seed: int, *, used: set[str],
                 kinds: frozenset[str] | None = None) -> tuple[str, str] | None:
    """The benefit sentence for one key fact, and the rule's name; ``None`` when no rule fits.

    Args:
        fact_line: the key fact as the brief states it ("charges a phone in 2 hours"), not its
            spoken line (a set-up question such as "How fast?" is not part of the fact).
        seed: picks the phrasing deterministically (sha256, not Python's salted ``hash``).
        used: names of rules already used in this video (each kind of benefit is said once).
        kinds: only these rule names (``None``: all), e.g. :data:`CAUSE_KINDS` for a story sentence.

    Returns:
        ``(sentence, rule name)``; the sentence is never one already in ``fact_line``.
    """
    for rule in RULES:
        if rule.name in used or (kinds is not None and rule.name not in kinds) or not rule.pattern.search(fact_line):
            continue
        text = _pick(rule.phrasings, seed, rule.name + fact_line)
        if text.lower().rstrip(".") in fact_line.lower():
            continue
        return text, rule.name
    return None


#: What a copywriter says about a *kind* of product when the brief gives nothing but the product
#: ("30-second video for our new trail shoe, upbeat, Gen-Z audience"): lines about using it, with
#: no spec, number, comparison or promise. Keyed by the head noun of the product phrase.
_KINDS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("footwear", re.compile(r"\b(?:shoes?|sneakers?|boots?|trainers?|runners?|sandals?|footwear)\b", re.I),
     ("Lace up and head out.", "Made for the way you move.", "Every step, your way.", "Your next adventure starts here.")),
    ("apparel", re.compile(r"\b(?:jackets?|coats?|hoodies?|shirts?|tees?|t-shirts?|dress(?:es)?|jeans|leggings|"
                           r"wear|apparel|outfits?|collection)\b", re.I),
     ("Wear it your way.", "Made for every day, and every adventure.", "Look good. Feel good.",
      "Your new favourite layer.")),
    ("drink", re.compile(r"\b(?:coffee|brew|latte|espresso|tea|juice|soda|drinks?|smoothies?|lemonade|water)\b", re.I),
     ("Your new favourite sip.", "Pour it. Sip it. Love it.", "Made for your mornings.", "Take a sip and see.")),
    ("food", re.compile(r"\b(?:bread|sourdough|loaf|loaves|bakery|pastr(?:y|ies)|cakes?|pizzas?|burgers?|snacks?|"
                        r"granola|chocolates?|cookies?|meals?|menu|restaurant|cafe|café)\b", re.I),
     ("Made to be shared.", "One bite and you'll see.", "Good food, made with care.", "Come hungry.")),
    ("tech", re.compile(r"\b(?:earbuds|headphones|speakers?|phones?|laptops?|watch(?:es)?|chargers?|cameras?|"
                        r"gadgets?|tablets?|keyboards?)\b", re.I),
     ("Tech that keeps up with you.", "Small thing. Big difference.", "Made for life on the move.",
      "Press play on your day.")),
    ("ride", re.compile(r"\b(?:e-?bikes?|bikes?|bicycles?|scooters?|cars?|suvs?|vans?|motorbikes?)\b", re.I),
     ("The ride you've been waiting for.", "Every trip, a little better.", "Get out there.", "Your city, your way.")),
    ("app", re.compile(r"\b(?:apps?|software|platform|tool)\b", re.I),
     ("Everything you need, in one place.", "Simple from the first tap.", "Made to make life easier.")),
    ("beauty", re.compile(r"\b(?:serums?|creams?|skincare|shampoo|conditioner|lipsticks?|make-?up|moisturi[sz]ers?|"
                          r"fragrances?|perfumes?)\b", re.I),
     ("Your routine, upgraded.", "Feel good in your skin.", "A little care goes far.")),
    ("home", re.compile(r"\b(?:lamps?|chairs?|desks?|sofas?|beds?|mattress(?:es)?|pillows?|candles?|mugs?|"
                        r"furniture)\b", re.I),
     ("Make your space yours.", "Home, just better.", "The little upgrade your home deserves.")),
    ("fitness", re.compile(r"\b(?:gym|classes|class|studio|yoga|pilates|workouts?|fitness)\b", re.I),
     ("Show up for yourself.", "Your best hour of the day.", "Come as you are. Leave stronger.")),
)


def product_lines(product: str | None, *, is_new: bool, seed: int) -> list[str]:
    """Lines about using a kind of product, for a brief that gives nothing but the product.

    Args:
        product: the product phrase ("trail shoe", "oat milk"); ``None`` gives no lines.
        is_new: the brief calls it new (adds "Say hello to something new." first).
        seed: rotates the order deterministically.

    Returns:
        0-4 whole sentences, best first; ``[]`` for a product of no known kind (nothing generic is
        said about an unknown product).
    """
    if not product:
        return []
    for _name, rx, lines in _KINDS:
        if rx.search(product):
            k = int(hashlib.sha256(f"{seed}:{product}".encode()).hexdigest()[:8], 16) % len(lines)
            out = list(lines[k:] + lines[:k])
            return (["Say hello to something new."] if is_new else []) + out
    return []
