"""The script rubric as pass/fail tests (``bench/bench_script_rubric.py`` prints the full table).

Text-level rules run on every brief in ``../shared/data/briefs/`` (12 examples with hand-written
expected facts + Super Bowl descriptions turned into briefs); the pacing targets run with real
Piper synthesis on a few short briefs (kept small: the bench covers the rest).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reelflow.core.errors import InputError
from reelflow.core.models import Brief, ScriptPlan, Utterance
from reelflow.processors.brief_analysis import analyze_brief
from reelflow.processors.local_tts import PiperSynthesizer
from reelflow.processors.pacing import END_MAX_S, GAP_MAX_S, build_timeline, fit_narration
from reelflow.processors.planner import TemplatePlanner
from reelflow.processors.script_qa import norm, score_script

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from briefs_set import example_briefs, superbowl_briefs  # noqa: E402

EXPECTED = json.loads((ROOT / "tests" / "fixtures" / "rubric_expected_facts.json").read_text())
PLANNER = TemplatePlanner()


def test_rubric_text_rules_hold_on_every_shared_brief(shared_data) -> None:
    root = shared_data / "briefs"
    briefs = example_briefs(root) + superbowl_briefs(root, n=10_000)
    planned = refused = 0
    for brief in briefs:
        try:
            plan = PLANNER.plan(brief)
        except InputError as exc:
            refused += 1
            assert exc.hint and "add" in exc.hint  # says what to add
            assert brief.id.startswith("superbowl")  # every hand-written example is planned
            continue
        planned += 1
        an = analyze_brief(brief)
        spoken = norm(" ".join(s.narration for s in plan.scenes))
        row = score_script(brief.id, plan, an, build_timeline([1.0] * len(plan.scenes), brief.duration_s), [],
                           facts=EXPECTED.get(brief.id, {}).get("facts"),
                           closing=EXPECTED.get(brief.id, {}).get("closing"))
        assert row.notes_spoken == 0, (brief.id, spoken)
        assert row.brand_said is not False, (brief.id, spoken)
        if brief.id in EXPECTED:  # hand-written facts: all said; Super Bowl rambles may not all fit (bench shows)
            assert row.facts_said == row.facts_total, (brief.id, spoken)
        assert row.closing_last is not False, (brief.id, spoken)
    # every example is planned; at least 40 Super Bowl descriptions yield a plan
    assert planned >= 12 + 40, (planned, refused)


async def test_examples_expected_facts_fixture_covers_all(shared_data) -> None:
    ids = {b.id for b in example_briefs(shared_data / "briefs")}
    assert ids == set(EXPECTED) - {"_doc"}


class _Piper:
    def __init__(self, out: Path) -> None:
        self.tts, self.out, self.n = PiperSynthesizer(), out, 0

    async def __call__(self, plan: ScriptPlan, pace: float) -> list[Utterance]:
        res = []
        for s in plan.scenes:
            self.n += 1
            res.append(await self.tts.synthesize(s, self.out / f"u{self.n:03d}.wav", pace=pace))
        return res


@pytest.mark.parametrize("brief", [
    Brief(id="bakery", text="15-second vertical ad for Harbor Bakery sourdough: crackly crust, baked at 4am daily, "
                            "first loaf free for new members. Warm, friendly tone.", duration_s=12),
    Brief(id="lamp", brand="Lumo", text="Ad for our new Lumo desk lamp: warm light, zero glare, charges in 2 hours, "
                                        "dims with one tap. End with 'See better'.", duration_s=14, audience="students"),
], ids=lambda b: b.id)
async def test_pacing_targets_with_real_piper(brief: Brief, tmp_path: Path) -> None:
    an = PLANNER.analyze(brief)

    async def replan(speech_s: float, wps: float) -> ScriptPlan:
        return PLANNER.plan(brief, speech_s=speech_s, words_per_second=wps)

    fitted = await fit_narration(PLANNER.plan(brief), brief.duration_s, _Piper(tmp_path), replan)
    row = score_script(brief.id, fitted.plan, an, fitted.timeline, fitted.utterances, rounds=fitted.rounds)
    t = fitted.timeline
    assert abs(sum(t.lengths) - brief.duration_s) <= 0.2 and row.total_error_s == 0.0
    assert row.first_word_s <= 0.3
    assert row.longest_silence_s <= 1.0 and t.end_hold_s <= END_MAX_S and max(t.gaps) <= GAP_MAX_S
    # a slightly long script is squeezed (shorter breaths), never cut by a line
    assert not any("dropped scene" in n for n in t.notes), t.notes
    assert 0.88 <= t.pace <= 1.12
    assert row.coverage >= 0.80, row  # measured 0.856 / 0.863 (copy devices fill the runtime from the brief)
    assert row.notes_spoken == 0 and row.brand_said
    # scenes come from the measured utterances: every line starts inside its scene, none is cut
    for start, length, ns, u in zip(t.starts, t.lengths, t.narration_starts, fitted.utterances, strict=True):
        assert start <= ns and ns + u.duration_s <= start + length + 1e-6
    if an.closing_line:
        assert row.closing_last


def test_slightly_long_speech_is_squeezed_in_proportion() -> None:
    from reelflow.processors.pacing import END_SQUEEZE_S, GAP_SQUEEZE_S, squeeze_limit

    limit = squeeze_limit(12.0, 5)  # 12 s, five lines: breaths >= 0.18 s, end card >= 0.35 s
    t = build_timeline([limit / 5] * 5, 12.0)
    assert sum(t.lengths) == pytest.approx(12.0, abs=1e-3)
    assert min(t.gaps) >= GAP_SQUEEZE_S - 1e-3 and t.end_hold_s >= END_SQUEEZE_S - 1e-3
    assert t.end_hold_s > t.gaps[0]  # the end card keeps its share; breaths do not vanish first


def test_timeline_fills_exactly_and_caps_silence() -> None:
    t = build_timeline([2.0, 3.0, 2.5, 1.5], 10.5)
    assert sum(t.lengths) == pytest.approx(10.5, abs=1e-6) and t.first_word_s == pytest.approx(0.12)
    assert all(0.25 <= g <= GAP_MAX_S for g in t.gaps) and 0.5 <= t.end_hold_s <= END_MAX_S
    assert t.coverage == pytest.approx(9.0 / 10.5, abs=1e-3)
    thin = build_timeline([1.0, 1.0, 1.0], 12.0)  # too little speech: reported, still exact
    assert sum(thin.lengths) == pytest.approx(12.0, abs=1e-6) and thin.notes
    # the rest is shared evenly: every gap and the end card get the same extra over their caps
    assert thin.gaps[0] - GAP_MAX_S == pytest.approx(thin.end_hold_s - END_MAX_S, abs=2e-3)  # both rounded to ms
    assert thin.end_hold_s > END_MAX_S
