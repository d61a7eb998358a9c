"""Benefit lines ("so what") and product-only briefs, on briefs written here (not in ``../shared/``)."""

from __future__ import annotations

import re

import pytest

from reelflow.core.models import Brief
from reelflow.processors.copy_benefits import RULES, benefit_line, product_lines
from reelflow.processors.planner import TemplatePlanner, check_plan

PLANNER = TemplatePlanner()
PHRASINGS = {p: r.name for r in RULES for p in r.phrasings}


def _benefits(text: str) -> list[str]:
    return [p for p in PHRASINGS if p in text]


@pytest.mark.parametrize(("fact", "kind"), [
    ("charges a phone in 2 hours", "speed"),
    ("65 km range", "battery"),
    ("18-hour battery", "battery"),           # a battery's hours are not a slow process
    ("steeped for 12 hours", "slow"),
    ("folds in 3 seconds", "fold"),           # folding, not waiting
    ("weighs 300 g", "weight"),
    ("12 g protein per serving", None),       # grams of protein are no weight to carry
    ("warm light for late study nights", None),  # light as in a lamp's light
    ("no added sugar", None),
    ("sugar-free", "dietary"),                # a "-free" compound is no free offer: it is a diet
    ("made from 12 recycled bottles", "planet"),
    ("notes of blueberry and jasmine", "taste"),
    ("tows 3,500 kg", "power"),
    ("each filter lasts 2 months", "long_life"),   # a filter's life, not a battery ("Charge less. Go further.")
    ("syncs with Gmail and Outlook", "integration"),
    ("evening and Saturday appointments", "schedule"),
    ("gentle care for nervous patients", "gentle"),
    ("dogs welcome", "pets"),
    ("every plant comes with care tips", "support"),
    ("first wash free for new customers", "free"),
    ("$25 feeds a shelter dog for two weeks", "donation"),
    ("tickets from $12, kids go free", "kids_free"),
    ("256-bit encryption", "safety"),
    ("clock in with one tap", "effortless"),
    ("weekly reports in your inbox", "automatic"),
    ("we arrive within 60 minutes", "speed"),
    ("Trusted by 5,000 homeowners", "social_proof"),
])
def test_benefit_rules_match_the_kind_of_fact(fact: str, kind: str | None) -> None:
    got = benefit_line(fact, 0, used=set())
    assert (got[1] if got else None) == kind, (fact, got)
    if got:  # a benefit restates, never adds a number
        assert not re.search(r"\d", got[0])


def test_each_kind_of_benefit_is_said_once() -> None:
    used: set[str] = set()
    first = benefit_line("links your bank in 2 minutes", 0, used=used)
    assert first is not None
    used.add(first[1])
    assert benefit_line("files synced in seconds", 0, used=used) is None


def test_a_benefit_follows_its_fact_in_the_same_scene() -> None:
    brief = Brief(text="20-second ad for SolarSip, a portable solar charger for campers. Charges a phone in 2 hours, "
                       "weighs 300 g, waterproof.")
    plan = PLANNER.plan(brief)
    assert brief.duration_s == 20  # the length the text asks for
    assert check_plan(plan, PLANNER.analyze(brief), brief) == []
    scenes = [s.narration for s in plan.scenes]
    said = [(i, p) for i, s in enumerate(scenes) for p in _benefits(s)]
    assert said, scenes
    for i, phrasing in said:
        kind = PHRASINGS[phrasing]
        rule = next(r for r in RULES if r.name == kind)
        before = scenes[i].split(phrasing)[0]
        assert rule.pattern.search(before), (phrasing, scenes[i])  # its fact comes first, in the same scene
    assert any("It charges a phone in 2 hours" in s for s in scenes), scenes  # a listed spec gets its subject


def test_stories_get_no_benefit_lines() -> None:
    brief = Brief(text="A dog chases a frisbee across the park and brings it back to a little girl. Warm tone.",
                  brand="Fetchly", duration_s=15)
    spoken = " ".join(s.narration for s in PLANNER.plan(brief).scenes)
    assert not _benefits(spoken), spoken


def test_a_product_only_brief_makes_a_video_with_a_warning() -> None:
    """The brief's own example ("30-second vertical video for our new trail shoe, upbeat, Gen-Z audience")
    gets copy about using the product (no spec, no number) and a warning that asks for facts."""
    brief = Brief(text="30-second vertical video for our new trail shoe, upbeat, Gen-Z audience")
    an = PLANNER.analyze(brief)
    assert (an.audience, an.tone_words) == ("Gen-Z", ["upbeat"])
    plan = PLANNER.plan(brief)
    spoken = " ".join(s.narration for s in plan.scenes)
    assert "trail shoe" in spoken and "Gen Z" in spoken and not re.search(r"\d", spoken), spoken
    assert any(x in spoken for x in product_lines("trail shoe", is_new=True, seed=0)), spoken
    assert not re.search(r"\b(vertical|video|upbeat|audience|30-second)\b", spoken, re.I), spoken
    assert any("add key facts" in w for w in an.warnings), an.warnings
    assert product_lines("quantum flux widget", is_new=False, seed=0) == []  # nothing generic about the unknown


@pytest.mark.parametrize(("offer", "said"), [
    ("First 100 orders ship free", "Your first 100 orders ship free."),   # the offer's own verb is kept
    ("first loaf free for new members", "New members: your first loaf is free."),
    ("first 10 invoices free", "Your first 10 invoices are free."),
])
def test_offers_are_addressed_to_the_viewer_in_good_english(offer: str, said: str) -> None:
    from reelflow.processors.copywriter import offer_sentence

    assert offer_sentence(offer) == said


def test_a_long_thin_explainer_recaps_its_facts_a_short_spot_does_not() -> None:
    text = ("45-second landscape explainer for Tallyho, the timesheet app for small teams: clock in with one tap, "
            "weekly reports in your inbox, first month free. Friendly tone.")
    long_plan = PLANNER.plan(Brief(text=text))
    assert long_plan.scenes and Brief(text=text).duration_s == 45
    spoken = [s.narration for s in long_plan.scenes]
    assert any(n.startswith("Tallyho: clock in with one tap, weekly reports in your inbox") for n in spoken), spoken
    assert spoken[-1].startswith("Download the Tallyho app"), spoken  # the recap comes before the call to action
    short = [s.narration for s in PLANNER.plan(Brief(text=text, duration_s=20)).scenes]
    assert not any(n.startswith("Tallyho:") for n in short), short
