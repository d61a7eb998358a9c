"""Brief shapes the rubric sets did not cover, written fresh (not from ``../shared/``): what the
analysis reads from each and what the offline copy then says.

Each brief stands for a *shape* that recurs in real briefs: a possessive business name, "launch of
the X", an event with a date, a product described by a relative clause, sentences whose subject is
the product ("It maps your home, empties itself ..."), a verbless list of what is on offer, the end
card's line in quotes, a story about a named character, "Brand's new X: a, b". The assertions are
on the analysis fields and on the spoken copy a brand manager would read.
"""

from __future__ import annotations

import re

import pytest

from reelflow.core.models import Brief
from reelflow.processors.brief_analysis import analyze_brief
from reelflow.processors.copywriter import _hooks, story_beats
from reelflow.processors.planner import TemplatePlanner, check_plan

PLANNER = TemplatePlanner()


def _spoken(brief: Brief) -> list[str]:
    plan = PLANNER.plan(brief)
    assert check_plan(plan, analyze_brief(brief), brief) == []
    return [s.narration for s in plan.scenes]


#: Broken English the earlier rules produced on these shapes ("Meet the of the ...", "a s new ...",
#: "The Nonna's Kitchen restaurant is handmade pasta", "The grandfather years later she ...").
_BROKEN = re.compile(r"\b(?:Meet|Try)\s+(?:the\s+)?of\b|\ba s\b|\bThe \w+'s\b|\bis handmade\b|\bThe \w+ years later\b")


def test_a_possessive_business_name_is_the_brand_and_a_place_is_visited() -> None:
    brief = Brief(text="15 sec ad for Nonna's Kitchen, a family Italian restaurant: handmade pasta every morning, "
                       "kids eat free on Tuesdays. Cosy, warm.")
    an = analyze_brief(brief)
    assert an.brand == "Nonna's Kitchen" and an.product == "family Italian restaurant"
    lines = _spoken(brief)
    assert lines[-1] == "Visit Nonna's Kitchen today."
    assert any(ln.startswith("Handmade pasta every morning.") for ln in lines), lines  # a noun phrase, said as one
    assert not _BROKEN.search(" ".join(lines)), lines


def test_launch_of_a_product_with_a_list_of_what_it_does() -> None:
    brief = Brief(brand="Tidy", duration_s=30, text="Launch of the Tidy R3 robot vacuum. It maps your home, empties "
                                                    "itself for 60 days, and climbs over rugs. Quiet at 55 dB. Modern, playful.")
    an = analyze_brief(brief)
    assert an.product == "R3 robot vacuum"
    assert an.facts[:3] == ["It maps your home", "It empties itself for 60 days", "It climbs over rugs"]
    spoken = " ".join(_spoken(brief))
    assert "Meet the Tidy R3 robot vacuum." in spoken
    for fact in ("maps your home", "empties itself for 60 days", "climbs over rugs", "Quiet at 55 dB"):
        assert fact in spoken, spoken
    # a recap keeps one grammatical shape: the name is the subject of every verb, never "..., it climbs ... and quiet at"
    assert "it climbs over rugs and quiet" not in spoken
    assert not _BROKEN.search(spoken), spoken


def test_an_event_with_its_date_and_a_verbless_programme() -> None:
    brief = Brief(brand="City Marathon", duration_s=30,
                  text="Promote the Dunmore City Marathon on 12 April. 10,000 runners, a flat course along the harbour, "
                       "and a 5K for beginners. Registration closes 1 March. Inspiring, upbeat.")
    an = analyze_brief(brief)
    assert "The Dunmore City Marathon is on 12 April" in an.facts
    assert {"10,000 runners", "a flat course along the harbour", "a 5K for beginners", "Registration closes 1 March"} \
        <= set(an.facts)  # a sentence with a verb and a date is content, not a credit line
    spoken = " ".join(_spoken(brief))
    for said in ("12 April", "10,000 runners", "flat course along the harbour", "5K for beginners", "closes 1 March"):
        assert said in spoken, spoken


def test_a_relative_clause_of_the_product_is_a_key_fact() -> None:
    brief = Brief(text="30-second vertical video for Lumen, a smart desk lamp that adjusts colour temperature through "
                       "the day. Sleek, calm tone. Audience: remote workers.")
    an = analyze_brief(brief)
    assert an.brand == "Lumen" and an.product == "smart desk lamp"
    assert an.facts == ["It adjusts colour temperature through the day"] and not an.product_only
    spoken = " ".join(_spoken(brief))
    assert "adjusts colour temperature through the day" in spoken
    assert "Pick the one that suits you" not in spoken  # "colour temperature" is no choice of colours


def test_independent_clauses_with_the_brand_as_subject_are_separate_facts() -> None:
    brief = Brief(text="20-second Instagram reel for Fern & Co, a plant shop in Bristol. We deliver potted plants the "
                       "same day, every plant comes with care tips, and the first delivery is free. Friendly, green vibe.")
    an = analyze_brief(brief)
    assert an.brand == "Fern & Co"
    assert an.facts == ["We deliver potted plants the same day", "Every plant comes with care tips",
                        "The first delivery is free"]
    assert an.offer == "The first delivery is free"
    lines = _spoken(brief)
    assert lines[-1].startswith("Visit Fern & Co today.")
    assert sum("every plant comes with care tips" in ln.lower() for ln in lines) == 1


def test_the_end_card_line_in_quotes_is_the_closing_line_and_a_story_keeps_its_subjects() -> None:
    brief = Brief(brand="Oakridge Bank", duration_s=30,
                  text="A grandfather teaches his granddaughter to ride a bike in the park, and years later she teaches "
                       "her own son. Warm, emotional storytelling. End on the Oakridge Bank logo: 'Here for every generation.'")
    an = analyze_brief(brief)
    assert an.closing_line == "Here for every generation"
    lines = _spoken(brief)
    assert lines[-1].endswith("Here for every generation.")
    assert "Years later she teaches her own son." in lines, lines
    assert not _BROKEN.search(" ".join(lines)), lines


def test_a_story_about_a_named_character_is_not_the_brand() -> None:
    brief = Brief(brand="Second Chance Horses", duration_s=30,
                  text="Tell the story of Bella, a horse rescued from neglect who now carries children in therapy "
                       "sessions. $30 feeds a rescued horse for a week. Ask viewers to donate. Heartfelt.")
    an = analyze_brief(brief)
    assert an.product is None
    assert an.story == ["Bella is a horse rescued from neglect who now carries children in therapy sessions"]
    lines = _spoken(brief)
    assert lines[0].startswith("Bella is a horse rescued from neglect")
    assert "Meet Second Chance Horses" not in " ".join(lines)


@pytest.mark.parametrize("text, product, new", [
    ("Polar Scoop's new mango sorbet: dairy-free, made with real Alphonso mangoes. Only this summer. Fun, sunny.",
     "mango sorbet", True),
    ("Wagly dog food: real chicken first ingredient, no fillers, vet-formulated. Dogs love it. Playful tone.",
     "dog food", False),
])
def test_brand_and_product_before_a_colon(text: str, product: str, new: bool) -> None:
    brand = text.split("'")[0].split(" dog")[0]
    brief = Brief(brand=brand, duration_s=15, text=text)
    an = analyze_brief(brief)
    assert (an.product, an.product_is_new) == (product, new)
    assert an.offer is None  # "dairy-free" is no offer
    assert not _BROKEN.search(" ".join(_spoken(brief)))


def test_a_header_with_the_maker_and_a_long_list_of_what_it_gives() -> None:
    brief = Brief(brand="Harbour Insurance", duration_s=30,
                  text="Car insurance from Harbour: get a quote in 2 minutes, claims handled by real people 24/7, and "
                       "save up to 15% when you bundle home and car. Friendly, trustworthy. Audience: drivers aged 25-50.")
    an = analyze_brief(brief)
    assert an.product == "car insurance"
    assert an.facts == ["get a quote in 2 minutes", "claims handled by real people 24/7",
                        "save up to 15% when you bundle home and car"]
    lines = _spoken(brief)
    assert lines[-1] == "Get your Harbour Insurance quote today."  # insurance is quoted, never test-driven


@pytest.mark.parametrize("tone", ["Motivating.", "Romantic, elegant.", "Curious, family-friendly.", "Clean, simple tone."])
def test_tone_words_are_never_spoken(tone: str) -> None:
    brief = Brief(brand="CodeCamp", duration_s=20, text=f"CodeCamp's 12-week web development bootcamp: taught by senior "
                                                         f"engineers, part-time evening option. {tone}")
    spoken = " ".join(_spoken(brief)).lower()
    for word in re.findall(r"[a-z\-]+", tone.lower()):
        if word != "tone":
            assert not re.search(r"\b" + re.escape(word) + r"\b", spoken), (word, spoken)


def test_no_x_opens_with_tired_of_x_only_for_a_pain() -> None:
    vpn = Brief(brand="ShieldLink", duration_s=15, text="ShieldLink VPN: one tap to connect, no logs, servers in 60 "
                                                       "countries. 30-day money-back guarantee.")
    assert analyze_brief(vpn).product == "VPN"
    assert not any(ln.startswith("Tired of") for ln in _spoken(vpn))  # "no logs" is a promise, not a pain
    bank = Brief(brand="Bolt Bank", duration_s=20, text="Bolt Bank: open an account in 5 minutes, no monthly fees. Modern.")
    an = analyze_brief(bank)
    assert "Tired of monthly fees?" in [h.text for h in _hooks(an, story_beats(an.story))]


def test_a_price_and_a_list_of_new_things_are_content() -> None:
    flowers = Brief(brand="Petal Post", duration_s=20,
                    text="Petal Post delivers fresh flowers the next day anywhere in the UK. Bouquets from £25. Order by "
                         "10pm for next-day delivery. Romantic, elegant. For Valentine's Day.")
    assert "Bouquets from £25" in analyze_brief(flowers).facts
    assert _spoken(flowers)[-1] == "Order from Petal Post today."
    museum = Brief(brand="Northgate Museum", duration_s=30,
                   text="The Northgate Museum reopens on 3 May after a two-year renovation. New dinosaur hall, a hands-on "
                        "science lab for kids, and free entry every first Sunday. Curious, family-friendly.")
    an = analyze_brief(museum)
    assert {"New dinosaur hall", "a hands-on science lab for kids", "free entry every first Sunday"} <= set(an.facts)
    assert _spoken(museum)[-1] == "Visit Northgate Museum today."


def test_a_structured_brief_with_labels_and_bullets() -> None:
    brief = Brief(brand="Zest", duration_s=30, text="Product: Zest electrolyte tablets\nKey messages:\n- zero sugar\n"
                                                    "- dissolves in 60 seconds\n- 4 flavours\nCTA: Shop at zest.com\n"
                                                    "Tone: energetic")
    an = analyze_brief(brief)
    assert an.product == "electrolyte tablets"
    assert an.facts == ["zero sugar", "dissolves in 60 seconds", "4 flavours"]
    assert an.call_to_action == "Shop at zest.com" and an.tone_words == ["energetic"]
    spoken = " ".join(_spoken(brief))
    assert "energetic" not in spoken.lower() and "key messages" not in spoken.lower()
    assert spoken.endswith("Shop at zest.com today.")


def test_a_brief_in_another_language_is_refused_by_the_offline_copywriter() -> None:
    from reelflow.core.errors import InputError

    brief = Brief(brand="Sol", duration_s=15, language="es",
                  text="Anuncio de 15 segundos para Sol, la crema solar con SPF 50. Resistente al agua, sin perfume.")
    with pytest.raises(InputError, match="English only") as err:
        PLANNER.plan(brief)
    assert "OPENAI_API_KEY" in (err.value.hint or "")


def test_every_x_is_with_a_list_of_verbs_and_a_free_consultation_cta() -> None:
    brief = Brief(brand="Tallwood", duration_s=60,
                  text="60-second YouTube explainer for Tallwood, a timber-frame home builder. We design and build "
                       "energy-efficient homes in 16 weeks. Every home is built from sustainably sourced timber, uses "
                       "70% less energy than a standard build, and comes with a 10-year structural warranty. Free design "
                       "consultation. Professional, warm.")
    an = analyze_brief(brief)
    assert "We design and build energy-efficient homes in 16 weeks" in an.facts  # "build" here is no edit direction
    assert {"It uses 70% less energy than a standard build", "It comes with a 10-year structural warranty"} <= set(an.facts)
    assert an.offer == "Free design consultation"
    assert _spoken(brief)[-1] == "Book your free design consultation with Tallwood today."


def test_a_donation_stat_card_says_what_the_money_pays_for() -> None:
    brief = Brief(brand="Clear Water Trust", duration_s=30,
                  text="Clear Water Trust builds wells in rural villages. One well serves 500 people for 20 years. $50 "
                       "pays for a family's water for a year. Hopeful, warm. Ask viewers to donate.")
    plan = PLANNER.plan(brief)
    stats = {s.visual.stat_value: s.visual.stat_label for s in plan.scenes if s.visual.kind == "stat"}
    assert stats.get("$50") == "A family's water", stats  # was the verb alone: "Pays"
    assert plan.scenes[-1].narration == "Donate. Clear Water Trust needs you."
