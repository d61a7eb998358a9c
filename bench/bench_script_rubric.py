"""Script rubric over every brief in ``../shared/data/briefs/``: plan → Piper narration → pacing.

For the 12 example briefs (expected facts hand-written in
``tests/fixtures/rubric_expected_facts.json``) and Super Bowl ad descriptions turned into briefs
(``bench/briefs_set.py``), runs the offline planner, synthesises every line with the bundled
Piper voice for real, fits the pacing (re-plan / rate / gaps) and prints one row per brief:
production notes spoken (must be 0), brand said, key facts said, required closing line last,
speech coverage, longest silence, first-word time, total-duration error — then totals.

Baseline in the same run: the same briefs timed the old way (each line in a scene of
``0.15 s + speech + 0.35 s``, or the planner's estimate when longer) to show the coverage gain.

    .venv/bin/python bench/bench_script_rubric.py [--superbowl 40] [--own] [--fresh] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from briefs_set import OWN_FACTS, example_briefs, fresh_briefs, own_briefs, superbowl_briefs  # noqa: E402

from reelflow.core.errors import InputError  # noqa: E402
from reelflow.core.models import ScriptPlan, Utterance  # noqa: E402
from reelflow.processors.local_tts import PiperSynthesizer  # noqa: E402
from reelflow.processors.pacing import fit_narration  # noqa: E402
from reelflow.processors.planner import TemplatePlanner  # noqa: E402
from reelflow.processors.script_qa import ScriptScore, score_script  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = json.loads((ROOT / "tests" / "fixtures" / "rubric_expected_facts.json").read_text())


class CachedPiper:
    """Piper synthesis of whole plans, cached by (text, pace) so re-plans only speak new lines."""

    def __init__(self, out_dir: Path) -> None:
        self.tts = PiperSynthesizer()
        self.out = out_dir
        self.cache: dict[tuple[str, float, str], Utterance] = {}
        self.seconds = 0.0

    async def __call__(self, plan: ScriptPlan, pace: float) -> list[Utterance]:
        out = []
        for s in plan.scenes:
            key = (s.narration, round(pace, 3), s.emotion)
            if key not in self.cache:
                t0 = time.perf_counter()
                path = self.out / f"u{len(self.cache):05d}.wav"
                self.cache[key] = await self.tts.synthesize(s, path, pace=pace)
                self.seconds += time.perf_counter() - t0
            out.append(self.cache[key].model_copy(update={"scene_index": s.index}))
        return out


async def run_one(brief, planner: TemplatePlanner, synth: CachedPiper) -> tuple[ScriptScore, float, ScriptPlan]:
    analysis = planner.analyze(brief)
    plan = planner.plan(brief)

    async def replan(speech_s: float, words_per_second: float) -> ScriptPlan:
        return planner.plan(brief, speech_s=speech_s, words_per_second=words_per_second)

    fitted = await fit_narration(plan, brief.duration_s, synth, replan)
    exp = EXPECTED.get(brief.id or "") or ({"facts": OWN_FACTS[brief.id], "closing": None}
                                          if brief.id in OWN_FACTS else None)
    score = score_script(brief.id or "?", fitted.plan, analysis, fitted.timeline, fitted.utterances,
                         facts=exp["facts"] if exp else None,
                         closing=(exp["closing"] if exp else None) if exp else None, rounds=fitted.rounds)
    # baseline: the pre-pacing layout (scene = max(planned, 0.15 + speech + 0.35)) on the first synthesis
    first = await synth(plan, 1.0)
    old_total = sum(max(s.duration_s, 0.15 + u.duration_s + 0.35) for s, u in zip(plan.scenes, first, strict=True))
    old_cov = sum(u.duration_s for u in first) / old_total
    return score, old_cov, fitted.plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--superbowl", type=int, default=40, help="Super Bowl briefs to score (accepted ones)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    ap.add_argument("--scripts", action="store_true", help="print each spoken script")
    ap.add_argument("--own", action="store_true",
                    help="also score the 20 briefs written outside ../shared/ (bench/briefs_set.py OWN_BRIEFS)")
    ap.add_argument("--fresh", action="store_true",
                    help="also score bench/fresh_briefs.jsonl: 42 briefs written outside ../shared/ in five rounds, "
                         "each read line by line to find copy defects (labelled forms, events, places, stories, "
                         "one non-English brief that is refused); a regression set for brief shapes")
    args = ap.parse_args()

    planner = TemplatePlanner()
    rows: list[ScriptScore] = []
    refused: list[tuple[str, str]] = []
    base_cov: list[float] = []
    scripts: dict[str, list[str]] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        synth = CachedPiper(Path(tmp))
        sb = superbowl_briefs(n=10_000)
        briefs = example_briefs()
        accepted_sb = 0
        for brief in briefs + sb + (own_briefs() if args.own else []) + (fresh_briefs() if args.fresh else []):
            is_sb = (brief.id or "").startswith("superbowl-")
            if is_sb and accepted_sb >= args.superbowl:
                continue
            try:
                score, old_cov, plan = asyncio.run(run_one(brief, planner, synth))
            except InputError as exc:
                refused.append((brief.id or "?", str(exc).split("\n")[0][:90]))
                continue
            accepted_sb += is_sb
            rows.append(score)
            base_cov.append(old_cov)
            scripts[brief.id or "?"] = [s.narration for s in plan.scenes]
        tts_s = synth.seconds
    wall = time.perf_counter() - t0

    hdr = (f"{'brief':34} {'dur':>4} {'notes':>5} {'brand':>5} {'facts':>6} {'close':>5} {'cover':>6} "
           f"{'old':>5} {'silence':>7} {'end':>5} {'1st':>5} {'err':>6} {'sc':>3} {'pace':>5}")
    print(hdr)
    print("-" * len(hdr))
    yn = {True: "yes", False: "NO", None: "-"}
    for r, oc in zip(rows, base_cov, strict=True):
        print(f"{r.brief_id[:34]:34} {r.duration_s:4.0f} {r.notes_spoken:5d} {yn[r.brand_said]:>5} "
              f"{r.facts_said:>3}/{r.facts_total:<2} {yn[r.closing_last]:>5} {r.coverage * 100:5.1f}% {oc * 100:4.0f}% "
              f"{r.longest_silence_s:7.2f} {r.end_hold_s:5.2f} {r.first_word_s:5.2f} {r.total_error_s:+6.3f} "
              f"{r.scenes:3d} {r.pace:5.2f}")
        if args.scripts:
            for line in scripts[r.brief_id]:
                print(f"      | {line}")
    n = len(rows)
    print("-" * len(hdr))
    ex = [r for r in rows if not r.brief_id.startswith(("superbowl-", "own-", "fresh-"))]
    fresh = [r for r in rows if r.brief_id.startswith("fresh-")]
    sbr = [r for r in rows if r.brief_id.startswith("superbowl-")]
    own = [r for r in rows if r.brief_id.startswith("own-")]

    def totals(name: str, rs: list[ScriptScore]) -> None:
        if not rs:
            return
        branded = [r for r in rs if r.brand_said is not None]
        closing = [r for r in rs if r.closing_last is not None]
        print(f"{name}: {len(rs)} briefs | notes spoken {sum(r.notes_spoken for r in rs)} | "
              f"brand said {sum(bool(r.brand_said) for r in branded)}/{len(branded)} | "
              f"facts said {sum(r.facts_said for r in rs)}/{sum(r.facts_total for r in rs)} | "
              f"closing last {sum(bool(r.closing_last) for r in closing)}/{len(closing)} | "
              f"coverage mean {sum(r.coverage for r in rs) / len(rs) * 100:.1f}% "
              f"(min {min(r.coverage for r in rs) * 100:.1f}%, >=85%: {sum(r.coverage >= 0.85 for r in rs)}/{len(rs)}) | "
              f"longest silence max {max(r.longest_silence_s for r in rs):.2f} s "
              f"(<=1.0 s: {sum(r.longest_silence_s <= 1.0 for r in rs)}/{len(rs)}) | "
              f"end hold max {max(r.end_hold_s for r in rs):.2f} s | "
              f"first word max {max(r.first_word_s for r in rs):.2f} s | "
              f"|total error| max {max(abs(r.total_error_s) for r in rs):.3f} s")

    totals("examples", ex)
    totals("super bowl", sbr)
    totals("own (not in shared)", own)
    totals("fresh (bench/fresh_briefs.jsonl)", fresh)
    totals("all", rows)
    print(f"baseline (old layout, same utterances): coverage mean {sum(base_cov) / max(1, n) * 100:.1f}% "
          f"vs {sum(r.coverage for r in rows) / max(1, n) * 100:.1f}% now "
          f"(ratio {sum(r.coverage for r in rows) / max(1e-9, sum(base_cov)):.2f}x)")
    print(f"refused (exit 2 in the CLI): {len(refused)} Super Bowl descriptions with nothing speakable, e.g.")
    for bid, why in refused[:5]:
        print(f"   {bid}: {why}")
    print(f"wall {wall:.1f} s, of which Piper synthesis {tts_s:.1f} s")
    if args.json:
        args.json.write_text(json.dumps({"rows": [r.as_row() for r in rows], "refused": refused,
                                         "scripts": scripts}, indent=1))


if __name__ == "__main__":
    main()
