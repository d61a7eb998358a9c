"""Pacing: scene lengths from *measured* narration, fitted to the requested duration.

Narration is synthesised first; this module turns the measured utterance durations into the
video's timeline, so speech fills the runtime instead of scenes being stretched into silence:

``lead-in → line 1 → gap → line 2 → … → last line → end-card hold``

- the first word starts after :data:`LEAD_IN_S` (the utterances are silence-trimmed);
- gaps between lines are :data:`GAP_MIN_S`..:data:`GAP_MAX_S` (a breath, < 1 s of silence);
- the end card holds :data:`END_MIN_S`..:data:`END_MAX_S` after the last word;
- a brief too thin to fill its duration shares the rest evenly between the gaps and the end card
  (reported in ``notes`` and as a run-report warning with the duration that fits);
- the total equals the requested duration (to the millisecond).

When the speech does not fit those windows, :func:`fit_narration` changes what is said or how
fast: it re-plans the copy to a new word budget (offline planner), changes the speech rate within
±12 % (Piper ``length_scale`` 0.88-1.12, Hume ``speed`` likewise), drops optional middle lines of
a plan that cannot be re-planned, and only then lets gaps grow (reported as silence).

Pure functions plus one async driver that takes the synthesis and re-planning steps as callables
(the flow passes its Prefect tasks, the bench passes Piper directly), so both run the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from reelflow.core.errors import InputError
from reelflow.core.models import ScriptPlan, Utterance

LEAD_IN_S = 0.12
GAP_MIN_S = 0.25
GAP_MAX_S = 0.6
END_MIN_S = 0.5
END_MAX_S = 2.0
#: Shortest breath and end card a slightly long script is squeezed to before a line is dropped
#: (both shrink in proportion, to 72 % of their minimum: 0.18 s and 0.36 s).
SQUEEZE = 0.72
GAP_SQUEEZE_S, END_SQUEEZE_S = GAP_MIN_S * SQUEEZE, END_MIN_S * SQUEEZE
#: Speech-rate window (duration multiplier; Piper ``length_scale``): ±12 %.
PACE_MIN, PACE_MAX = 0.88, 1.12
#: Only when the fewest lines a plan can have still overrun the video (6-8 s teasers).
LAST_RESORT_PACE = 0.76
#: Measured for Piper ``joe`` (bench/bench_script_rubric.py): a length_scale change of x changes
#: the utterance duration by about 0.5·x (pauses between sentences do not scale).
PACE_EFFECT = 0.5
#: Planner estimate of the local voice's rate, pauses included (measured on the 12 example briefs: 2.9-3.1 words/s).
VOICE_WPS = 3.0


@dataclass
class Timeline:
    """Where each scene and its line sit in the video, in seconds from the start.

    ``starts``/``lengths`` are the scenes (cuts halfway through each gap); ``narration_starts``
    are where each utterance begins; ``silences_s`` lists every silence between speech (lead-in,
    gaps, end hold) and ``speech_s`` the total speech time.
    """

    starts: list[float]
    lengths: list[float]
    narration_starts: list[float]
    gaps: list[float]
    end_hold_s: float
    speech_s: float
    total_s: float
    pace: float = 1.0
    notes: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        """Speech time over the runtime (0..1)."""
        return self.speech_s / self.total_s if self.total_s else 0.0

    @property
    def first_word_s(self) -> float:
        """When the first utterance starts."""
        return self.narration_starts[0] if self.narration_starts else 0.0

    @property
    def longest_silence_s(self) -> float:
        """Longest silence between lines (the end hold excluded; see ``end_hold_s``)."""
        return max([self.first_word_s, *self.gaps], default=0.0)


def target_speech_s(total_s: float, n_lines: int) -> float:
    """Speech time the planner should aim for: total minus lead-in, middle gaps and end hold."""
    gap_mid = (GAP_MIN_S + 0.45) / 2 + 0.1
    return max(1.0, total_s - LEAD_IN_S - (n_lines - 1) * gap_mid - 1.0)


def _speech_room(total_s: float, n: int, gap_s: float, end_s: float) -> float:
    """Seconds left for ``n`` lines in ``total_s`` after the lead-in, ``n - 1`` gaps of ``gap_s``
    and an end card of ``end_s`` (never negative)."""
    return max(0.0, total_s - LEAD_IN_S - (n - 1) * gap_s - end_s)


def slack_window(total_s: float, n: int) -> tuple[float, float]:
    """(min, max) total speech seconds that fit ``total_s`` with ``n`` lines within the windows."""
    return _speech_room(total_s, n, GAP_MAX_S, END_MAX_S), _speech_room(total_s, n, GAP_MIN_S, END_MIN_S)


def squeeze_limit(total_s: float, n: int) -> float:
    """Most speech seconds ``n`` lines may take before a line is dropped: the window of
    :func:`slack_window` with breaths squeezed to :data:`GAP_SQUEEZE_S` and the end card to
    :data:`END_SQUEEZE_S` (:func:`build_timeline` lays such speech out without overrunning)."""
    return _speech_room(total_s, n, GAP_SQUEEZE_S, END_SQUEEZE_S)


def max_words(total_s: float, n: int) -> int:
    """The most words ``n`` lines can hold in ``total_s`` seconds: the speech window of
    :func:`slack_window` at the fastest allowed rate (:data:`PACE_MIN`) and :data:`VOICE_WPS`."""
    hi = slack_window(total_s, max(1, n))[1]
    return int(hi / (1.0 + (PACE_MIN - 1.0) * PACE_EFFECT) * VOICE_WPS)


def build_timeline(durations: list[float], total_s: float, *, pace: float = 1.0) -> Timeline:
    """Lay out utterances of ``durations`` seconds over exactly ``total_s`` seconds.

    The free time after the lead-in is shared: gaps grow from :data:`GAP_MIN_S` and the end hold
    from :data:`END_MIN_S` together (end hold up to :data:`END_MAX_S`, gaps up to
    :data:`GAP_MAX_S`). When the speech is longer than ``total_s`` allows, gaps and the end hold shrink
    to 0.1 s each before the total is exceeded (the caller should have refitted). With too little
    speech for both caps, the rest is shared evenly by the gaps and the end card (reported).

    Raises:
        ValueError: no utterances.
    """
    n = len(durations)
    if n == 0:
        raise ValueError("no utterances to lay out")
    speech = sum(durations)
    free = total_s - LEAD_IN_S - speech
    notes: list[str] = []
    n_gaps = n - 1
    base = n_gaps * GAP_MIN_S + END_MIN_S
    if free >= base:
        extra = free - base
        # share: the end hold takes up to its max, gaps up to theirs, in proportion 1 : n_gaps
        cap_end = END_MAX_S - END_MIN_S
        cap_gaps = n_gaps * (GAP_MAX_S - GAP_MIN_S)
        if extra <= cap_end + cap_gaps:
            share_end = min(cap_end, extra * (1.0 / (1 + n_gaps)) * 2) if n_gaps else min(cap_end, extra)
            rest = extra - share_end
            if n_gaps and rest > cap_gaps:
                share_end += rest - cap_gaps
                rest = cap_gaps
            if not n_gaps:
                share_end, rest = extra, 0.0
            end = END_MIN_S + share_end
            gap = GAP_MIN_S + (rest / n_gaps if n_gaps else 0.0)
        else:
            # a thin brief: the speech cannot fill the runtime. The rest is shared evenly by the
            # gaps and the end card (music beats between lines, a longer logo hold), so no single
            # silence dominates; reported, so the run report can say what to add.
            rest = extra - cap_end - cap_gaps
            share = rest / (n_gaps + 1)
            gap = GAP_MAX_S + share if n_gaps else 0.0
            end = END_MAX_S + share if n_gaps else END_MIN_S + extra
            notes.append(f"speech too short for {total_s:g} s: {gap:.2f} s between lines, "
                         f"{end:.2f} s end card (targets: < 1 s, <= {END_MAX_S:g} s)")
    else:
        # too long: squeeze gaps and end hold in proportion (down to 0.1 s each)
        f = max(0.0, free) / base
        gap = max(0.1, GAP_MIN_S * f) if n_gaps else 0.0
        end = max(0.1, total_s - LEAD_IN_S - speech - gap * n_gaps)
        if free < 0.1 + 0.1 * n_gaps:
            notes.append(f"speech {speech:.2f} s is too long for {total_s:g} s")
    gaps = [round(gap, 3)] * n_gaps
    narr = [LEAD_IN_S]
    for d, g in zip(durations[:-1], gaps, strict=True):
        narr.append(narr[-1] + d + g)
    starts = [0.0] + [round(s - g / 2, 3) for s, g in zip(narr[1:], gaps, strict=True)]
    ends = starts[1:] + [total_s]
    lengths = [round(e - s, 3) for s, e in zip(starts, ends, strict=True)]
    lengths[-1] = round(total_s - sum(lengths[:-1]), 3)
    end_hold = round(total_s - (narr[-1] + durations[-1]), 3)
    return Timeline(starts=[round(s, 3) for s in starts], lengths=lengths, narration_starts=[round(s, 3) for s in narr],
                    gaps=gaps, end_hold_s=end_hold, speech_s=round(speech, 3), total_s=total_s, pace=pace, notes=notes)


def pace_for(speech_s: float, want_s: float) -> float:
    """Piper ``length_scale``-style pace (duration multiplier) that moves ``speech_s`` toward ``want_s``, within ±12 %."""
    factor = want_s / speech_s if speech_s else 1.0
    pace = 1.0 + (factor - 1.0) / PACE_EFFECT
    return round(min(PACE_MAX, max(PACE_MIN, pace)), 3)


SynthesizeAll = Callable[[ScriptPlan, float], Awaitable[list[Utterance]]]
Replan = Callable[[float, float], Awaitable[ScriptPlan]]


@dataclass
class FittedNarration:
    """The plan as spoken, its utterances and the timeline (what the rest of the flow uses)."""

    plan: ScriptPlan
    utterances: list[Utterance]
    timeline: Timeline
    rounds: int
    log: list[str] = field(default_factory=list)


def _want(total_s: float, n: int) -> float:
    """Speech seconds to aim for: the runtime minus the lead-in, breath-length gaps and a short end hold."""
    return max(1.0, total_s - LEAD_IN_S - (n - 1) * (GAP_MIN_S + 0.07) - (END_MIN_S + 0.3))


async def fit_narration(plan: ScriptPlan, total_s: float, synthesize: SynthesizeAll,
                        replan: Replan | None = None, *, max_rounds: int = 4,
                        protected: frozenset[int] | set[int] = frozenset()) -> FittedNarration:
    """Synthesise ``plan`` and fit it to ``total_s``: re-plan words, change the pace, drop lines.

    Order of remedies (each round is one synthesis of the lines that changed):

    - too long by at most what a ±12 % rate can absorb → speak faster (Piper ``length_scale``);
    - too long beyond that → re-plan to fewer words (offline planner), else drop middle lines;
    - too short → re-plan to more words (offline planner, at most twice), then speak slower (≤ 12 %);
    - what is left is absorbed by the gaps (≤ :data:`GAP_MAX_S`) and the end-card hold
      (≤ :data:`END_MAX_S`); a brief too thin even for that gets longer gaps, reported in ``notes``.

    Args:
        plan: the script (its scene durations are only estimates).
        total_s: the requested duration in seconds.
        synthesize: ``(plan, pace) -> utterances`` (one per scene, in order).
        replan: ``(speech_seconds_wanted, measured_words_per_second) -> plan`` for planners that
            can write to a budget (the offline planner); None for plans that must not be
            re-requested (paid LLM plans).
        max_rounds: synthesis rounds at most.
        protected: scene indices that must never be dropped (lines a reviewer edited and approved).

    Returns:
        :class:`FittedNarration`; its timeline totals ``total_s`` exactly.

    Raises:
        InputError: the lines that must be said cannot fit ``total_s`` even at the fastest rate.
    """
    log: list[str] = []
    pace = 1.0
    utts = await synthesize(plan, pace)
    rounds = 1
    replanned = 0

    def speech() -> float:
        return sum(u.duration_s for u in utts)

    while rounds < max_rounds:
        n = len(utts)
        _, hi = slack_window(total_s, n)
        want = min(_want(total_s, n), hi)
        s_now = speech()
        if want * 0.96 <= s_now <= hi:
            break
        natural = s_now / _pace_effect(pace)  # what the lines take at pace 1.0
        reach_fast = natural * _pace_effect(PACE_MIN)
        if s_now > hi and reach_fast <= hi:
            # aim inside the window, not at its edge: the rate's effect is an estimate (PACE_EFFECT)
            new_pace = pace_for(natural, want if reach_fast <= want else (want + hi) / 2)
        elif replan is not None and replanned < 2:  # a second re-plan corrects one that over/undershot
            replanned += 1
            words = sum(len(x.narration.split()) for x in plan.scenes)
            new_plan = await replan(want * natural / s_now if s_now else want, words / natural if natural else VOICE_WPS)
            if [x.narration for x in new_plan.scenes] != [x.narration for x in plan.scenes]:
                log.append(f"re-planned for {want:.1f} s of speech (had {s_now:.1f} s)")
                plan = new_plan
                utts = await synthesize(plan, pace)
                rounds += 1
                continue
            new_pace = pace_for(natural, want)
        else:
            new_pace = pace_for(natural, want)
        if abs(new_pace - pace) < 0.01:
            break
        log.append(f"speech rate x{1 / new_pace:.2f} (length_scale {new_pace}) for {want:.1f} s (had {s_now:.1f} s)")
        pace = new_pace
        utts = await synthesize(plan, pace)
        rounds += 1
    # still too long (a plan that cannot be re-planned, or a brief whose every line is a must):
    # drop middle lines, optional ones first, rather than overrun the requested duration
    dropped = False
    while len(utts) > 3:
        if speech() <= squeeze_limit(total_s, len(utts)):
            break  # a small overrun is absorbed by shorter breaths, never by losing a line
        middle = [i for i in range(1, len(utts) - 1) if i not in protected]
        if not middle:
            break
        drop = min(middle, key=lambda i: (plan.scenes[i].beat in ("benefit", "proof"), -utts[i].duration_s))
        log.append(f"dropped scene {drop} ({plan.scenes[drop].narration[:40]!r}) to fit {total_s:g} s")
        scenes = [x for i, x in enumerate(plan.scenes) if i != drop]
        utts = [u for i, u in enumerate(utts) if i != drop]
        plan = plan.model_copy(update={"scenes": [x.model_copy(update={"index": i}) for i, x in enumerate(scenes)]})
        utts = [u.model_copy(update={"scene_index": i}) for i, u in enumerate(utts)]
        protected = {i - 1 if i > drop else i for i in protected}
        dropped = True
    if dropped and pace < 1.0:  # the faster rate was for the longer copy: back toward natural
        want = _want(total_s, len(utts))
        natural = speech() / _pace_effect(pace)
        new_pace = pace_for(natural, min(want, slack_window(total_s, len(utts))[1]))
        if abs(new_pace - pace) >= 0.01:
            pace = new_pace
            utts = await synthesize(plan, pace)
            rounds += 1
    # Last resort before refusing (very short videos, where three lines are the minimum): Piper's
    # length_scale down to LAST_RESORT_PACE, i.e. about 12 % faster speech overall, noted.
    hi = squeeze_limit(total_s, len(utts))
    if speech() > hi and pace > LAST_RESORT_PACE:
        natural = speech() / _pace_effect(pace)
        new_pace = round(max(LAST_RESORT_PACE, 1.0 + (hi / natural - 1.0) / PACE_EFFECT), 3)
        if new_pace < pace - 0.005:
            log.append(f"speech rate x{1 / _pace_effect(new_pace):.2f} overall (length_scale {new_pace}, "
                       f"below the usual {PACE_MIN}) to fit {total_s:g} s")
            pace = new_pace
            utts = await synthesize(plan, pace)
            rounds += 1
    total_speech = speech()
    if total_speech + LEAD_IN_S + 0.1 * len(utts) > total_s + 0.2:
        raise InputError(
            f"the lines the brief requires need {total_speech + LEAD_IN_S + 0.1 * len(utts):.1f} s to speak at "
            f"the fastest natural rate, more than the {total_s:g} s video",
            hint="ask for a longer video (--duration) or trim the brief's facts and required lines",
        )
    timeline = build_timeline([u.duration_s for u in utts], total_s, pace=pace)
    scenes = [x.model_copy(update={"duration_s": max(0.01, min(60.0, length))})
              for x, length in zip(plan.scenes, timeline.lengths, strict=True)]
    plan = plan.model_copy(update={"scenes": scenes})
    timeline.notes = log + timeline.notes
    return FittedNarration(plan=plan, utterances=utts, timeline=timeline, rounds=rounds, log=log)


def _pace_effect(pace: float) -> float:
    return 1.0 + (pace - 1.0) * PACE_EFFECT
