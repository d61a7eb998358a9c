"""TemplatePlanner on real briefs: the bundled ones, the shared examples and Super Bowl ad texts."""

from __future__ import annotations

import json
import re

import pytest

from reelflow.core.errors import InputError
from reelflow.core.models import WORDS_PER_SECOND, Brief, ScriptPlan
from reelflow.core.ports import ScriptWriter
from reelflow.core.settings import ASSETS_DIR
from reelflow.processors.planner import TemplatePlanner

PLANNER = TemplatePlanner()


def _load_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _example_briefs(shared_data) -> list[Brief]:
    recs = _load_jsonl(ASSETS_DIR / "briefs" / "examples.jsonl")
    recs += _load_jsonl(shared_data / "briefs" / "examples.jsonl")
    return [Brief.model_validate(r) for r in recs]


def _superbowl_briefs(shared_data) -> list[Brief]:
    recs = _load_jsonl(shared_data / "briefs" / "superbowl_ad_briefs.jsonl")
    out = []
    for i, r in enumerate(recs):
        desc = (r.get("description") or "").strip()
        if len(desc) < 40 or i % 3:
            continue
        out.append(Brief(text=desc[:2000], brand=r["brand"], id=f"superbowl-{i}",
                         duration_s=(15, 20, 30, 45)[i % 4], tone=("upbeat", "funny", "nostalgic", None)[i % 4]))
    return out


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9& ]+", " ", text.lower().replace("'", "")).split()


def _reuses_brief_phrase(brief: Brief, plan: ScriptPlan) -> bool:
    """At least one 3-word phrase of the brief (beyond the brand) is spoken verbatim."""
    bw = _words(brief.text)
    sw = _words(" ".join(s.narration for s in plan.scenes))
    shared = {" ".join(bw[i:i + 3]) for i in range(len(bw) - 2)} & {" ".join(sw[i:i + 3]) for i in range(len(sw) - 2)}
    return any(t not in (brief.brand or "").lower() for t in shared)


def _check_plan(brief: Brief, plan: ScriptPlan, *, key_phrase: bool = True) -> None:
    ScriptPlan.model_validate(plan.model_dump())
    assert 3 <= len(plan.scenes) <= 8
    assert abs(sum(s.duration_s for s in plan.scenes) - brief.duration_s) <= 0.05
    narrations = [s.narration for s in plan.scenes]
    assert len({n.lower() for n in narrations}) == len(narrations), narrations
    for s in plan.scenes:
        words = len(s.narration.split())
        assert words <= s.duration_s * WORDS_PER_SECOND + 1e-6, (s.narration, s.duration_s)
        assert words >= 0.5 * s.duration_s * WORDS_PER_SECOND - 1e-6, (s.narration, s.duration_s)
        assert s.narration[0].isupper() or s.narration[0].isdigit(), s.narration
        assert s.narration[-1] in ".!?", s.narration
        assert len(s.on_screen_text.split()) <= 6
        assert s.visual_prompt and s.negative_prompt and s.voice_instruction
    assert plan.scenes[0].beat == "hook" and plan.scenes[-1].beat == "cta"
    spoken = " ".join(narrations)
    if brief.brand:
        assert brief.brand.lower() in spoken.lower()
    if key_phrase:
        assert _reuses_brief_phrase(brief, plan), (brief.text[:80], spoken)
    assert 1 <= len(plan.description.split(". ")) <= 12
    assert plan.hashtags and all(t.startswith("#") for t in plan.hashtags)


def test_planner_is_a_script_writer() -> None:
    assert isinstance(PLANNER, ScriptWriter)
    assert PLANNER.provider == "local-template" and PLANNER.model == "template-v1"


def test_every_example_brief_gives_a_valid_timed_plan(shared_data) -> None:
    briefs = _example_briefs(shared_data)
    assert len(briefs) >= 18
    for brief in briefs:
        _check_plan(brief, PLANNER.plan(brief))


def test_superbowl_descriptions_give_valid_plans(shared_data) -> None:
    briefs = _superbowl_briefs(shared_data)
    assert len(briefs) >= 50
    reused = 0
    for brief in briefs:
        plan = PLANNER.plan(brief)
        # YouTube descriptions are often pure credits/boilerplate, which the planner drops:
        # the timing/structure guarantees hold for all, phrase reuse for the large majority
        _check_plan(brief, plan, key_phrase=False)
        reused += _reuses_brief_phrase(brief, plan)
    # measured: ~60 % of these descriptions carry no ad content at all (credits, links, "funny ad")
    assert reused >= 0.55 * len(briefs), (reused, len(briefs))


def test_product_brief_reads_like_an_ad(shared_data) -> None:
    brief = next(b for b in _example_briefs(shared_data) if b.id == "trail-shoe-launch")
    plan = PLANNER.plan(brief)
    spoken = " ".join(s.narration for s in plan.scenes)
    assert "TrailFox Grip" in plan.scenes[0].narration  # hook introduces the product
    for benefit in ("Sticky grip on gravel and wet rock", "Light enough for race day", "Built to last 800 km"):
        assert benefit in spoken
    assert plan.scenes[-1].narration.endswith("Find your trail.")
    assert plan.call_to_action == "Find your trail."
    assert [s.beat for s in plan.scenes].count("benefit") >= 2
    assert "#TrailFox" in plan.hashtags
    assert plan.music_mood.startswith("upbeat")
    assert plan.scenes[0].emotion == "excited" and "energetic" in plan.scenes[0].voice_instruction
    assert "gravel" in " ".join(s.visual_prompt for s in plan.scenes)
    assert len(plan.scenes) in (5, 6, 7)


def test_scene_count_follows_duration() -> None:
    text = "New Lumo desk lamp: warm light, zero glare, charges by USB-C. End with 'See better'."
    counts = {d: len(PLANNER.plan(Brief(text=text, brand="Lumo", duration_s=d)).scenes) for d in (8, 15, 30, 60)}
    assert counts[8] == 3
    assert counts[15] == 4
    assert 5 <= counts[30] <= 7
    assert counts[60] >= 7


def test_music_preference_leads_the_mood_and_plan_is_deterministic() -> None:
    brief = Brief(text="Short ad for Lumo's new desk lamp: warm light, zero glare.", brand="Lumo",
                  tone="calm", music="lo-fi piano", duration_s=15)
    a, b = PLANNER.plan(brief), PLANNER.plan(brief)
    assert a == b
    assert a.music_mood.startswith("lo-fi piano")


async def test_write_plan_is_async_port() -> None:
    brief = Brief(text="Short ad for Lumo's new desk lamp: warm light, zero glare.", brand="Lumo", duration_s=12)
    plan = await PLANNER.write_plan(brief)
    assert abs(plan.duration_s - 12) <= 0.05


def test_brief_without_words_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no words"):
        PLANNER.plan(Brief(text="1234 5678 !!! ???", duration_s=15))
