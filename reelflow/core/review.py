"""Human review of a video run (domain side, no Prefect): review points, edits, their rules.

A run with ``review`` set stops at one or two review points (see :mod:`flows.review` for the
Prefect mechanics):

- ``plan``: after the script plan, before anything beyond the plan is paid (narration, clips);
  the reviewer may edit each scene's narration, on-screen text and headline;
- ``final``: after assembly and QA, before anything is published;
- ``both``: the two; ``none`` (the default): no stop.

An edit goes through the same rules as a generated plan (:func:`plan_problems`): the
:class:`core.models.ScriptPlan` / :class:`core.models.Scene` / :class:`core.models.VisualSpec`
schema, plus the speaking-rate limit the planners keep (the narration must fit the requested
length at :data:`core.models.SPEAKABLE_WORDS_PER_SECOND`) and the on-screen word limits.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reelflow.core.errors import InputError
from reelflow.core.models import SPEAKABLE_WORDS_PER_SECOND, Brief, ScriptPlan

ReviewMode = Literal["none", "plan", "final", "both"]
REVIEW_MODES: tuple[str, ...] = ("none", "plan", "final", "both")

#: Default time a reviewer has to answer before the run ends Cancelled (72 h, in seconds).
DEFAULT_REVIEW_TIMEOUT_S = 72 * 3600
#: Headline limit of :class:`core.models.VisualSpec` (its field caps the characters at 40).
HEADLINE_MAX_WORDS = 6

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)?\s*$",
                       re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def review_points(mode: str) -> tuple[str, ...]:
    """The review points of a mode: ``"both"`` → ``("plan", "final")``, ``"none"`` → ``()``.

    Raises:
        InputError: ``mode`` is not one of none, plan, final, both.
    """
    m = (mode or "none").strip().lower()
    if m not in REVIEW_MODES:
        raise InputError(f"review must be one of {', '.join(REVIEW_MODES)} (got {mode!r})",
                         hint="use review: plan to approve the script before anything is paid")
    return {"none": (), "plan": ("plan",), "final": ("final",), "both": ("plan", "final")}[m]


def parse_duration_s(value: float | int | str) -> float:
    """Seconds from a number of seconds or text such as ``"90s"``, ``"30m"``, ``"72h"``, ``"3d"``.

    Raises:
        InputError: not a positive duration.
    """
    if isinstance(value, bool):
        raise InputError(f"review_timeout {value!r} is not a duration", hint='give seconds or e.g. "72h", "30m"')
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise InputError(f"review_timeout {value!r} is not a duration", hint='give seconds or e.g. "72h", "30m", "3d"')
        seconds = float(m.group(1)) * _UNIT_S[(m.group(2) or "s")[0].lower()]
    if not seconds > 0:
        raise InputError(f"review_timeout must be positive (got {value!r})", hint='e.g. "72h"')
    return seconds


def format_duration(seconds: float) -> str:
    """``259200`` → ``"72 h"``, ``90`` → ``"90 s"``, ``1800`` → ``"30 min"``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


class SceneEdit(BaseModel):
    """The editable text of one scene (what the plan-review form shows per scene).

    ``index`` names the scene (0-based, as in the plan); the other fields replace the scene's
    ``narration``, ``on_screen_text`` and ``visual.headline``. A field left out (REST, CLI)
    keeps the scene's text; a field given empty clears it (an empty narration is refused).
    """

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, title="Scene", description="0-based; keep as is.")
    narration: str = Field(default="", title="Narration", description="Words spoken over the scene.")
    on_screen_text: str = Field(default="", title="On-screen text", description="At most 80 characters.")
    headline: str = Field(default="", title="Headline", description="At most 6 words, 40 characters.")


class PlanChange(BaseModel):
    """One edited field: scene, field name, text before and after."""

    scene: int
    field: str
    before: str
    after: str


def edits_from_plan(plan: ScriptPlan) -> list[SceneEdit]:
    """The form's starting values: each scene's current narration, on-screen text and headline."""
    return [SceneEdit(index=s.index, narration=s.narration, on_screen_text=s.on_screen_text,
                      headline=s.visual.headline) for s in plan.scenes]


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def apply_edits(plan: ScriptPlan, edits: list[SceneEdit] | list[dict[str, Any]]) -> tuple[ScriptPlan | None, list[PlanChange], list[str]]:
    """Apply a reviewer's scene edits to ``plan``.

    Whitespace is normalised (a form's line breaks become spaces). Scenes not named keep their
    text; a scene named twice or one the plan does not have is a problem.

    Returns:
        ``(edited plan or None, changes, problems)``: the plan is None when the edit does not
        validate against :class:`~core.models.ScriptPlan` (the problems say why, per scene).
    """
    problems: list[str] = []
    parsed: list[SceneEdit] = []
    for i, e in enumerate(edits):
        try:
            parsed.append(e if isinstance(e, SceneEdit) else SceneEdit.model_validate(e))
        except ValidationError as exc:
            problems += [f"edit {i}: {'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors()]
    n = len(plan.scenes)
    seen: set[int] = set()
    for e in parsed:
        if e.index >= n:
            problems.append(f"scene {e.index}: the plan has {n} scenes (0-{n - 1}); scenes cannot be added")
        elif e.index in seen:
            problems.append(f"scene {e.index}: edited twice; give each scene once")
        seen.add(e.index)
    if problems:
        return None, [], problems
    data = plan.model_dump(mode="json")
    changes: list[PlanChange] = []
    for e in parsed:
        scene = data["scenes"][e.index]
        for field in ("narration", "on_screen_text", "headline"):
            if field not in e.model_fields_set:
                continue  # left out: keep the scene's text
            new = _clean(getattr(e, field))
            old = scene["visual"]["headline"] if field == "headline" else scene[field]
            if new == old:
                continue
            if field == "headline":
                scene["visual"]["headline"] = new
            else:
                scene[field] = new
            changes.append(PlanChange(scene=e.index, field=field, before=old, after=new))
    try:
        edited = ScriptPlan.model_validate(data)
    except ValidationError as exc:
        return None, changes, [_schema_problem(err) for err in exc.errors()]
    return edited, changes, []


def _schema_problem(err: dict[str, Any]) -> str:
    loc = list(err["loc"])
    if len(loc) >= 3 and loc[0] == "scenes":
        field = loc[2] if loc[2] != "visual" else f"visual.{'.'.join(map(str, loc[3:]))}"
        field = {"visual.headline": "headline"}.get(field, field)
        return f"scene {loc[1]} {field}: {err['msg']}"
    return f"{'.'.join(map(str, loc)) or 'plan'}: {err['msg']}"


def _words(text: str) -> int:
    return len(re.findall(r"[\w'’$%-]+", text))


def plan_problems(plan: ScriptPlan, brief: Brief) -> list[str]:
    """What keeps ``plan`` from being made for ``brief``; empty when it may go on.

    The rules every plan meets (the planners keep them; an edited plan is held to them too):
    the ``ScriptPlan`` schema (3-8 scenes, non-empty narration ≤ 600 characters, on-screen
    text ≤ 80, headline ≤ 40 characters), a headline of at most :data:`HEADLINE_MAX_WORDS`
    words, narration made of words (not only punctuation), and all narration speakable within
    the requested length at :data:`core.models.SPEAKABLE_WORDS_PER_SECOND` words per second.
    """
    problems: list[str] = []
    try:
        ScriptPlan.model_validate(plan.model_dump(mode="json"))
    except ValidationError as exc:
        problems += [_schema_problem(err) for err in exc.errors()]
    for s in plan.scenes:
        if not _words(s.narration):
            problems.append(f"scene {s.index} narration: has no words to speak")
        if "\x00" in s.narration or "\x00" in s.on_screen_text:
            problems.append(f"scene {s.index}: contains NUL bytes; use plain text")
        hw = len(s.visual.headline.split())
        if hw > HEADLINE_MAX_WORDS:
            problems.append(f"scene {s.index} headline: {hw} words; at most {HEADLINE_MAX_WORDS} fit on screen")
    total = sum(_words(s.narration) for s in plan.scenes)
    limit = int(SPEAKABLE_WORDS_PER_SECOND * brief.duration_s)
    if total > limit:
        problems.append(
            f"narration: {total} words do not fit a {brief.duration_s:g} s video "
            f"(at most {limit} at {SPEAKABLE_WORDS_PER_SECOND:g} words/s); remove {total - limit} words"
        )
    return problems


def edit_problems(original: ScriptPlan, edited: ScriptPlan, changes: list[PlanChange], brief: Brief) -> list[str]:
    """The rule breaks an edit brings in (what a reviewer must fix before the run goes on).

    :func:`plan_problems` of the edited plan, keeping those of the scenes the edit changed and
    the length rule only when the edit adds words to a plan over the limit: what the generated
    plan already had (an LLM's plan is only schema-checked today) is not blamed on the reviewer.
    """
    changed = {c.scene for c in changes}
    before_words = sum(_words(s.narration) for s in original.scenes)
    after_words = sum(_words(s.narration) for s in edited.scenes)
    out = []
    for p in plan_problems(edited, brief):
        m = re.match(r"scene (\d+)\b", p)
        if m and int(m.group(1)) not in changed:
            continue
        if p.startswith("narration:") and after_words <= before_words:
            continue
        out.append(p)
    return out
