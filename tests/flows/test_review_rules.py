"""A reviewer's edit is held to the same hard script rules as a generated plan
(``flows.review.review_problems``): real plans from the offline planner, no server."""

from __future__ import annotations

from reelflow.core.models import Brief
from reelflow.core.review import apply_edits
from reelflow.flows.review import review_problems
from reelflow.processors.planner import TemplatePlanner

BRIEF = Brief(text="20-second vertical ad for Harbor Bakery sourdough: crackly crust, baked at 4am daily, "
                   "first loaf free for new members. Warm, friendly tone.", duration_s=20)


def test_edit_that_drops_the_brand_or_speaks_a_production_note_is_refused() -> None:
    plan = TemplatePlanner().plan(BRIEF)
    assert "harbor bakery" in " ".join(s.narration for s in plan.scenes).lower()
    brand_scenes = [s.index for s in plan.scenes if "harbor bakery" in s.narration.lower()]
    edits = [{"index": i, "narration": "Fresh bread, every morning."} for i in brand_scenes]
    edited, changes, problems = apply_edits(plan, edits)
    assert problems == [] and edited is not None
    found = review_problems(plan, edited, changes, BRIEF)
    assert any("brand" in p and "Harbor Bakery" in p for p in found), found

    edited, changes, _ = apply_edits(plan, [{"index": 1, "narration": "A 20-second vertical video in a warm tone."}])
    found = review_problems(plan, edited, changes, BRIEF)
    assert any("production notes" in p for p in found), found


def test_a_plain_wording_edit_passes() -> None:
    plan = TemplatePlanner().plan(BRIEF)
    edited, changes, _ = apply_edits(plan, [{"index": 1, "narration": "That crust crackles when you slice it."}])
    assert changes and review_problems(plan, edited, changes, BRIEF) == []


def test_cost_estimate_counts_as_paid_exactly_the_remote_parts(test_settings) -> None:
    """The plan review's estimate asks the composition root (``remote_parts`` of the settings)
    which parts are paid, not the provider's name: a keyed Hume is paid whatever it is called,
    no key means 0 USD even for a provider name without a "local" prefix."""
    from reelflow.core.settings import Settings
    from reelflow.flows.campaign import HUME_USD_PER_1K_CHARS
    from reelflow.flows.review import estimate_remaining_cost

    plan = TemplatePlanner().plan(BRIEF)
    chars = sum(len(s.narration) for s in plan.scenes)
    names = {"narration": "local-voice-proxy", "clips": "motion"}  # names that would mislead a prefix guess
    hume = Settings(paths=test_settings.paths, _env_file=None, HUME_API_KEY="hume-test-key")
    est = estimate_remaining_cost(plan, BRIEF, names, hume)
    assert est["narration"] == ("local-voice-proxy", round(chars / 1000 * HUME_USD_PER_1K_CHARS, 4))
    assert est["narration"][1] > 0
    assert est["clips"] == ("motion", 0.0)

    both = Settings(paths=test_settings.paths, _env_file=None, HUME_API_KEY="hume-test-key",
                    RUNWARE_API_KEY="runware-test-key")
    assert estimate_remaining_cost(plan, BRIEF, names, both)["clips"][1] > 0
    none = Settings(paths=test_settings.paths, _env_file=None)
    assert {part: usd for part, (_, usd) in estimate_remaining_cost(plan, BRIEF, names, none).items()} == {
        "narration": 0.0, "clips": 0.0}
