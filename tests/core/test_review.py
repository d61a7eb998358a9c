"""Review edits and their rules (``core/review.py``), the campaign file's review fields and the
CLI's edited-plan loader — real plans from the template planner, no Prefect."""

from __future__ import annotations

import json

import pytest

from reelflow.core.errors import InputError
from reelflow.core.models import Brief, ScriptPlan
from reelflow.core.review import (
    apply_edits,
    edit_problems,
    edits_from_plan,
    format_duration,
    parse_duration_s,
    plan_problems,
    review_points,
)

BRIEF = Brief(text="Vertical ad for the Lumen desk lamp: warm light for late study nights, dimmable, USB-C powered.",
              duration_s=8)


@pytest.fixture(scope="module")
def plan() -> ScriptPlan:
    from reelflow.processors.planner import TemplatePlanner

    return TemplatePlanner().plan(BRIEF)


def test_generated_plan_passes_and_form_starts_from_it(plan) -> None:
    assert plan_problems(plan, BRIEF) == []
    edits = edits_from_plan(plan)
    assert [e.narration for e in edits] == [s.narration for s in plan.scenes]
    edited, changes, problems = apply_edits(plan, edits)
    assert edited == plan and changes == [] and problems == []


def test_one_line_edit_changes_only_that_field(plan) -> None:
    edited, changes, problems = apply_edits(plan, [{"index": 1, "narration": "  Warm light,\n  all night. "}])
    assert problems == [] and edited is not None
    assert edited.scenes[1].narration == "Warm light, all night."
    assert [c.model_dump() for c in changes] == [
        {"scene": 1, "field": "narration", "before": plan.scenes[1].narration, "after": "Warm light, all night."}]
    # fields left out keep their text; the other scenes are untouched
    assert edited.scenes[1].on_screen_text == plan.scenes[1].on_screen_text
    assert [s.narration for i, s in enumerate(edited.scenes) if i != 1] == [
        s.narration for i, s in enumerate(plan.scenes) if i != 1]
    assert edit_problems(plan, edited, changes, BRIEF) == []


@pytest.mark.parametrize("edit, expected", [
    ({"index": 9, "narration": "Hi."}, "the plan has"),
    ({"index": 0, "narration": "x" * 601}, "scene 0 narration: String should have at most 600 characters"),
    ({"index": 0, "on_screen_text": "y" * 81}, "scene 0 on_screen_text: String should have at most 80 characters"),
    ({"index": 0, "headline": "one two three four five six seven"}, "scene 0 headline: 7 words; at most 6"),
    ({"index": 0, "narration": " ... "}, "scene 0 narration: has no words to speak"),
])
def test_invalid_edits_are_named(plan, edit, expected) -> None:
    edited, changes, problems = apply_edits(plan, [edit])
    if edited is not None:
        problems = edit_problems(plan, edited, changes, BRIEF)
    assert any(expected in p for p in problems), problems


def test_too_many_words_for_the_length(plan) -> None:
    long_line = " ".join(["word"] * 30)  # 8 s speak at most int(3.3 * 8) = 26 words
    edited, changes, problems = apply_edits(plan, [{"index": 0, "narration": long_line}])
    assert problems == [] and edited is not None
    found = edit_problems(plan, edited, changes, BRIEF)
    assert any(p.startswith("narration:") and "do not fit a 8 s video (at most 26" in p for p in found), found


def test_generated_plans_own_problems_are_not_blamed_on_the_edit(plan) -> None:
    # a generated plan over the length (as an LLM may write) stays editable if the edit adds no words
    scenes = [s.model_copy(update={"narration": " ".join(["long"] * 8)}) for s in plan.scenes]
    over = plan.model_copy(update={"scenes": scenes})
    assert any(p.startswith("narration:") for p in plan_problems(over, BRIEF))
    edited, changes, _ = apply_edits(over, [{"index": 0, "narration": "Short now."}])
    assert edit_problems(over, edited, changes, BRIEF) == []
    edited, changes, _ = apply_edits(over, [{"index": 0, "narration": " ".join(["more"] * 12)}])
    assert any(p.startswith("narration:") for p in edit_problems(over, edited, changes, BRIEF))


def test_durations_and_modes() -> None:
    assert parse_duration_s("72h") == 259200 and parse_duration_s("30m") == 1800 and parse_duration_s(8) == 8
    assert parse_duration_s("3d") == 3 * 86400 and parse_duration_s("90 s") == 90
    for bad in ("soon", "-5", 0, True):
        with pytest.raises(InputError):
            parse_duration_s(bad)
    assert format_duration(259200) == "72 h" and format_duration(8) == "8 s"
    assert review_points("both") == ("plan", "final") and review_points("none") == ()
    with pytest.raises(InputError, match="review must be one of"):
        review_points("later")


def test_campaign_file_review_fields(tmp_path) -> None:
    from reelflow.core.campaigns import load_campaign

    good = tmp_path / "c.yaml"
    good.write_text("name: spring\nreview: plan\nreview_timeout: 2h\nbriefs:\n  - {text: 'A lamp for late nights.'}\n")
    assert load_campaign(good).spec.review == "plan"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: spring\nreview: later\nreview_timeout: soon\nbriefs:\n  - {text: 'A lamp for late nights.'}\n")
    with pytest.raises(InputError) as err:
        load_campaign(bad)
    assert f"{bad}:2: review" in str(err.value) and f"{bad}:3: review_timeout" in str(err.value), str(err.value)


def test_cli_plan_file_is_checked_before_sending(plan, tmp_path) -> None:
    from reelflow.cli_review import load_plan_edits

    rec = {"plan": plan.model_dump(mode="json"), "brief": BRIEF.model_dump(mode="json")}
    edited = plan.model_dump(mode="json")
    edited["scenes"][2]["narration"] = "Dim it down for bedtime."
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(edited))
    edits = load_plan_edits(f, rec)
    assert edits[2]["narration"] == "Dim it down for bedtime." and edits[0]["narration"] == plan.scenes[0].narration
    g = tmp_path / "edits.yaml"
    g.write_text("- {index: 1, headline: one two three four five six seven}\n")
    with pytest.raises(InputError, match="scene 1 headline: 7 words"):
        load_plan_edits(g, rec)
    h = tmp_path / "bad.json"
    h.write_text('{"title": "no scenes"}')
    with pytest.raises(InputError, match="expected a plan with `scenes"):
        load_plan_edits(h, rec)
