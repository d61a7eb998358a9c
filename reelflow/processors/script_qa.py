"""Script rubric: would a content team publish this narration as is? (measured, per brief)

Scores a spoken plan and its measured timeline (:mod:`reelflow.processors.pacing`):
production notes spoken (must be 0), brand said, key facts said whole, required closing line
last, speech coverage, longest silence (between lines *and* inside an utterance, from the
engine's word timings), first-word time, total-duration error. Used by
``bench/bench_script_rubric.py`` and the rubric tests; the same numbers go into
``metadata.json`` (``script.pacing``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from reelflow.core.models import ScriptPlan, Utterance
from reelflow.processors.brief_analysis import BriefAnalysis
from reelflow.processors.pacing import Timeline
from reelflow.processors.planner import spoken_production_notes


def norm(text: str) -> str:
    """Lowercase words only (apostrophes dropped, punctuation → spaces), for phrase matching."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower().replace("'", "").replace("\u2019", "")).split())


@dataclass
class ScriptScore:
    """One brief's rubric row (times in seconds, coverage 0..1)."""

    brief_id: str
    duration_s: float
    notes_spoken: int
    brand_said: bool | None  # None: the brief names no brand
    facts_said: int
    facts_total: int
    closing_last: bool | None  # None: no closing line asked for
    coverage: float
    longest_silence_s: float
    end_hold_s: float
    first_word_s: float
    total_error_s: float
    scenes: int
    rounds: int
    pace: float

    def as_row(self) -> dict:
        """Plain dict for tables/JSON."""
        return asdict(self)


def longest_silence(timeline: Timeline, utterances: list[Utterance]) -> float:
    """Longest silence while the video talks: lead-in, gaps between lines, pauses inside a line.

    Pauses inside an utterance come from its word timings (gaps between consecutive words); the
    end-card hold after the last word is reported separately (``Timeline.end_hold_s``).
    """
    longest = timeline.longest_silence_s
    for u in utterances:
        for a, b in zip(u.words, u.words[1:], strict=False):
            longest = max(longest, b.start_s - a.end_s)
    return round(longest, 3)


def score_script(brief_id: str, plan: ScriptPlan, analysis: BriefAnalysis, timeline: Timeline,
                 utterances: list[Utterance], *, facts: list[str] | None = None,
                 closing: str | None = None, rounds: int = 1) -> ScriptScore:
    """Score one spoken plan.

    Args:
        facts: phrases that must be heard whole (default: the analysis's key facts as written).
        closing: the line that must end the narration (default: the analysis's closing line).
    """
    spoken = norm(" ".join(s.narration for s in plan.scenes))
    want = facts if facts is not None else analysis.facts
    # a fact the analysis wrote with a pronoun subject ("It adjusts colour temperature ...") may be said
    # with the product's name instead ("The Lumen lamp adjusts ..."): its predicate is the fact
    said = sum(1 for f in want if norm(f) and re.sub(r"^(?:it|they|we)\s+", "", norm(f)) in spoken)
    close = closing if closing is not None else analysis.closing_line
    first_word = timeline.first_word_s + (utterances[0].words[0].start_s if utterances and utterances[0].words else 0.0)
    return ScriptScore(
        brief_id=brief_id,
        duration_s=timeline.total_s,
        notes_spoken=len(spoken_production_notes(plan, analysis)),
        brand_said=(norm(analysis.brand) in spoken) if analysis.brand else None,
        facts_said=said,
        facts_total=len(want),
        closing_last=(norm(plan.scenes[-1].narration).endswith(norm(close))) if close else None,
        coverage=round(timeline.coverage, 3),
        longest_silence_s=longest_silence(timeline, utterances),
        end_hold_s=timeline.end_hold_s,
        first_word_s=round(first_word, 3),
        total_error_s=round(sum(timeline.lengths) - timeline.total_s, 3),
        scenes=len(plan.scenes),
        rounds=rounds,
        pace=timeline.pace,
    )
