"""The rubric brief set: the 12 shared examples plus Super Bowl ad descriptions turned into briefs.

Used by ``bench/bench_script_rubric.py`` and ``tests/processors/test_script_rubric.py``.
A Super Bowl record becomes a brief: its YouTube description (the premise as the uploader wrote
it, boilerplate included: the analysis must drop it) as ``text``, its ``brand`` as the structured
field, a duration cycling 15/20/30 s, and a tone from the FiveThirtyEight flags (funny → funny,
patriotic → inspirational, animals → heartwarming, else none).
"""

from __future__ import annotations

import json
from pathlib import Path

from reelflow.core.models import Brief

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "briefs"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def example_briefs(root: Path = SHARED) -> list[Brief]:
    """The 12 hand-written example briefs (``examples.jsonl``)."""
    return [Brief.model_validate(r) for r in _jsonl(root / "examples.jsonl")]


def superbowl_briefs(root: Path = SHARED, n: int = 40) -> list[Brief]:
    """The first ``n`` Super Bowl records with a description of 40+ characters, as briefs."""
    out: list[Brief] = []
    for i, r in enumerate(_jsonl(root / "superbowl_ad_briefs.jsonl")):
        desc = (r.get("description") or "").strip()
        if len(desc) < 40:
            continue
        flags = set(r.get("creative_attributes") or [])
        tone = "funny" if "funny" in flags else "inspirational" if "patriotic" in flags else \
            "heartwarming" if "animals" in flags else None
        out.append(Brief(text=desc[:2000], brand=r["brand"], id=f"superbowl-{i + 1}",
                         duration_s=(15, 20, 30)[len(out) % 3], tone=tone))
        if len(out) >= n:
            break
    return out


def rubric_briefs(root: Path = SHARED, n_superbowl: int = 40) -> list[Brief]:
    """Examples first, then Super Bowl briefs."""
    return example_briefs(root) + superbowl_briefs(root, n_superbowl)


#: Briefs written for issue 15's copy rules, NOT taken from ``../shared/`` (products, services,
#: nonprofits, events, apps; 10-45 s). Used by the bench (``--own``) and the copy-rule tests, so the
#: rules are checked on text nobody tuned the shared examples on.
OWN_BRIEFS: list[dict] = [
    {"id": "own-ridgeline", "brand": "Ridgeline", "duration_s": 20,
     "text": "20-second vertical ad for the Ridgeline recycled trail shoe: grip on wet rock, made from 12 recycled "
             "bottles, weighs 240 g. Mention free returns for 60 days. Energetic tone."},
    {"id": "own-kiln", "duration_s": 15,
     "text": "Ad for Kiln Coffee's new cold brew: steeped for 18 hours, never bitter, 30% less acid. Calm, warm vibe. "
             "End with 'Slow coffee, fast mornings'."},
    {"id": "own-paws", "brand": "Paws Haven", "duration_s": 25,
     "text": "Paws Haven is an animal shelter in Leeds. Every month we rehome 40 dogs and cats. $25 feeds a shelter "
             "dog for two weeks. Ask people to donate or adopt. Heartfelt."},
    {"id": "own-riverlights", "brand": "Riverlights", "duration_s": 30,
     "text": "Promote Riverlights, a lantern festival on the river on 14 September: 3,000 lanterns, live music, food "
             "stalls. Tickets from $12, kids go free. Upbeat, for families."},
    {"id": "own-budgetly", "brand": "Budgetly", "duration_s": 30,
     "text": "Explainer for Budgetly, the budgeting app for students: links your bank in 2 minutes, sorts every "
             "purchase automatically, alerts you before you overspend. Free for students. Audience: university "
             "students."},
    {"id": "own-flowfix", "brand": "FlowFix", "duration_s": 20,
     "text": "FlowFix Plumbing: 24/7 emergency plumbers across Bristol. We arrive within 60 minutes, fixed prices, "
             "no call-out fee. Trusted by 5,000 homeowners. Professional, reassuring tone."},
    {"id": "own-stillpoint", "brand": "Stillpoint", "duration_s": 10,
     "text": "Stillpoint yoga studio opens a second studio in Camden. Classes for all levels, heated and unheated "
             "rooms. First class free."},
    {"id": "own-volta", "brand": "Volta", "duration_s": 45,
     "text": "Launch video for the Volta V2 electric scooter: 65 km range, folds in 3 seconds, top speed 25 km/h. "
             "Show a commuter weaving through the city at dawn. Available from March."},
    {"id": "own-openpages", "brand": "Open Pages", "duration_s": 20,
     "text": "Open Pages is a literacy charity. One in five children leave primary school unable to read well. Our "
             "volunteers read with a child once a week. Volunteer today."},
    {"id": "own-greenbox", "brand": "Greenbox", "duration_s": 15,
     "text": "TikTok for Greenbox meal kits: 20-minute recipes, farm-fresh veg, zero food waste. Use code GREEN50 for "
             "50% off your first box. Playful tone."},
    # spec list + offer (issue 15 follow-up: units on stat cards, deals never echoed, offer headlines whole)
    {"id": "own-copperline", "brand": "Copperline", "duration_s": 20,
     "text": "20-second vertical ad for Copperline cold brew coffee cans: smooth, never bitter, 12 hours steeped, "
             "80 mg caffeine. Friday promo: buy two, get one free."},
    {"id": "own-pulse", "brand": "Pulse", "duration_s": 15,
     "text": "15-second ad for the Pulse X earbuds: 30 hours battery, 5 g per earbud, IPX7 waterproof. Launch offer: "
             "20% off this week."},
    {"id": "own-granary", "brand": "Granary Lane", "duration_s": 20,
     "text": "20-second ad for Granary Lane granola: 12 g protein per serving, no added sugar, baked in small batches. "
             "Buy one, get one half price this month."},
    {"id": "own-swiftwash", "brand": "SwiftWash", "duration_s": 20,
     "text": "Ad for SwiftWash laundry service: pickup in 30 minutes, clothes back in 24 hours, from $15 per bag. "
             "First wash free for new customers."},
    {"id": "own-trekka", "brand": "Trekka", "duration_s": 20,
     "text": "Vertical ad for the Trekka 2 e-bike: 90 km range, top speed 25 mph, weighs 18 kg, 4 hours to charge. "
             "Spring sale: save $200."},
    {"id": "own-nimbus", "brand": "NimbusDrive", "duration_s": 20,
     "text": "Ad for NimbusDrive cloud storage: 2 TB for $5 a month, files synced in seconds, 256-bit encryption. "
             "Try it free for 30 days."},
    {"id": "own-ember", "brand": "Ember Pizza", "duration_s": 15,
     "text": "Ad for Ember Pizza: wood-fired in 90 seconds, 48-hour dough, 2 large pizzas for $20 every Tuesday."},
    {"id": "own-orchard", "brand": "Orchard Press", "duration_s": 20,
     "text": "Ad for Orchard Press apple juice: 100% pressed apples, 1 litre bottles, 5 apples in every glass. Summer "
             "promo: buy 3, pay for 2."},
    {"id": "own-aero", "brand": "Aero", "duration_s": 15,
     "text": "Ad for the Aero 5 laptop: 1.1 kg, 18-hour battery, 16 GB memory. Student discount: $100 off."},
    {"id": "own-brightside", "brand": "Brightside", "duration_s": 20,
     "text": "Ad for Brightside gym: open 24/7, 50+ classes a week, memberships from $29 a month. Join in January and "
             "get your first month free."},
]

#: The facts each own brief must have said whole (hand-written, as the brief words them).
OWN_FACTS: dict[str, list[str]] = {
    "own-ridgeline": ["grip on wet rock", "made from 12 recycled bottles", "240 g", "free returns for 60 days"],
    "own-kiln": ["steeped for 18 hours", "never bitter", "30% less acid"],
    "own-paws": ["40 dogs and cats", "$25 feeds a shelter dog for two weeks"],
    "own-riverlights": ["3,000 lanterns", "live music", "food stalls", "Tickets from $12", "kids go free"],
    "own-budgetly": ["links your bank in 2 minutes", "sorts every purchase automatically",
                     "alerts you before you overspend", "free for students"],
    "own-flowfix": ["within 60 minutes", "fixed prices", "no call-out fee", "5,000 homeowners"],
    "own-stillpoint": ["second studio in Camden", "first class is free"],
    "own-volta": ["65 km range", "folds in 3 seconds", "25 km/h", "Available from March"],
    "own-openpages": ["One in five children", "once a week"],
    "own-greenbox": ["20-minute recipes", "farm-fresh veg", "zero food waste", "GREEN50", "50% off your first box"],
    "own-copperline": ["smooth", "never bitter", "12 hours", "80 mg caffeine", "buy two, get one free"],
    "own-pulse": ["30 hours battery", "5 g per earbud", "IPX7 waterproof", "20% off this week"],
    "own-granary": ["12 g protein per serving", "no added sugar", "baked in small batches",
                    "buy one, get one half price this month"],
    "own-swiftwash": ["pickup in 30 minutes", "clothes back in 24 hours", "$15 per bag", "first wash is free"],
    "own-trekka": ["90 km range", "25 mph", "18 kg", "4 hours to charge", "save $200"],
    "own-nimbus": ["2 TB for $5 a month", "files synced in seconds", "256-bit encryption", "free for 30 days"],
    "own-ember": ["wood-fired in 90 seconds", "48-hour dough", "2 large pizzas for $20 every Tuesday"],
    "own-orchard": ["100% pressed apples", "1 litre bottles", "5 apples in every glass", "buy 3, pay for 2"],
    "own-aero": ["1.1 kg", "18-hour battery", "16 GB memory", "$100 off"],
    "own-brightside": ["open 24/7", "50+ classes a week", "$29 a month", "first month free"],
}


def own_briefs() -> list[Brief]:
    """:data:`OWN_BRIEFS` as :class:`Brief` objects."""
    return [Brief.model_validate(r) for r in OWN_BRIEFS]


def fresh_briefs(path: Path = Path(__file__).resolve().parent / "fresh_briefs.jsonl") -> list[Brief]:
    """The 42 briefs of ``bench/fresh_briefs.jsonl`` (products, services, places, events, charities,
    stories, a labelled form and a Spanish brief), written outside ``../shared/`` to find copy
    defects; scored for speech coverage and the rubric's rules (no hand-written facts)."""
    return [Brief.model_validate(r) for r in _jsonl(path)]
