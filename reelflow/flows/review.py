"""Review points of ``create_video`` in the Prefect UI: pause (or suspend), show, wait for input.

How a review point works (``review: plan | final | both`` on ``create_video``):

1. A markdown artifact (``plan-review-<brief>`` / ``final-review-<brief>``) shows what is being
   approved; the same text heads the UI's resume form.
2. The run waits for a :class:`PlanReview` / :class:`FinalReview` input
   (``prefect.flow_runs.suspend_flow_run`` when the run comes from a deployment, so no worker
   or serve slot is held and the run is rescheduled on resume; ``pause_flow_run`` when it runs
   in a process of its own — ``reelflow make``, a campaign's subflow — which keeps waiting).
3. The answer comes from the UI's **Resume** form, ``POST /api/flow_runs/{id}/resume`` with
   ``{"run_input": {...}}``, or ``reelflow review approve|reject``. Approved: the run goes on
   (with the edited plan); rejected: the run ends ``Cancelled`` with the note; no answer within
   ``review_timeout``: ``Cancelled`` with that reason. Plan edits are checked with
   :func:`core.review.plan_problems`; an invalid edit is asked again with the problems listed.

What was decided, by whom and when is recorded in ``metadata.json`` under ``review``.

Deadlines: an in-process pause times out itself. A suspended run has no process, so
:func:`expire_overdue_reviews` (run by ``deployments/serve.py`` every
``REELFLOW_REVIEW_SWEEP_S`` seconds, and by ``reelflow review expire``) cancels it; Prefect's
own pause expiry (:data:`GRACE_S` later) is the backstop and would mark it ``Failed``.

Source: Prefect 3 "Interactive workflows" (``pause_flow_run`` / ``suspend_flow_run`` with
``wait_for_input``, ``RunInput.with_initial_data``) and the REST ``/flow_runs/{id}/resume``
endpoint, https://docs.prefect.io/v3/advanced/interactive (prefect 3.8.8 source read).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.input import RunInput
from prefect.states import Cancelled, State
from pydantic import Field

from reelflow.core.models import Brief, CostEntry, ScriptPlan
from reelflow.core.review import (
    DEFAULT_REVIEW_TIMEOUT_S,
    ReviewMode,
    SceneEdit,
    apply_edits,
    edits_from_plan,
    format_duration,
    edit_problems,
    plan_problems,
    review_points,
)

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

#: Prefect's own pause timeout is set this much later than ours, so our deadline (and its
#: ``Cancelled`` with the reason) comes first; Prefect's ``Failed`` is only the backstop.
GRACE_S = 300
#: Flow-run input key prefix of the records that ``reelflow review list`` reads.
RECORD_PREFIX = "reelflow-review-"


class PlanReview(RunInput):
    """Answer to a plan review (the UI's resume form).

    ``approve`` (default ticked): go on with the plan as edited below; untick to reject (the run
    ends Cancelled, nothing more is paid). ``scenes``: the editable text of each scene.
    """

    approve: bool = Field(default=True, title="Approve",
                          description="Untick to reject: the run ends Cancelled and nothing more is paid.")
    reviewer: str = Field(default="", max_length=120, title="Reviewer", description="Your name (recorded in metadata.json).")
    note: str = Field(default="", max_length=2000, title="Note", description="Why (recorded; say why when you reject).")
    scenes: list[SceneEdit] = Field(default_factory=list, title="Scenes",
                                    description="Each scene's narration, on-screen text and headline.")


class FinalReview(RunInput):
    """Answer to a final review: publish (``approve``) or not."""

    approve: bool = Field(default=True, title="Approve",
                          description="Untick to reject: nothing is published and the run ends Cancelled.")
    reviewer: str = Field(default="", max_length=120, title="Reviewer", description="Your name (recorded in metadata.json).")
    note: str = Field(default="", max_length=2000, title="Note", description="Why (recorded; say why when you reject).")


@dataclass
class Answer:
    """What came back from one wait: the input (None on time-out) and when it was given."""

    value: PlanReview | FinalReview | None
    answered_at: datetime | None = None
    waited_s: float = 0.0


def _sweep_interval() -> float:
    return float(os.environ.get("REELFLOW_REVIEW_SWEEP_S", "30"))


def _poll_interval(timeout_s: float) -> int:
    return int(max(1, min(10, timeout_s / 4)))


def _ui_url(run_id: str) -> str:
    from prefect.settings import PREFECT_UI_URL

    base = PREFECT_UI_URL.value() or "http://127.0.0.1:4200"
    return f"{base.rstrip('/')}/runs/flow-run/{run_id}"


def _img_data_uri(path: str | Path, width: int) -> str | None:
    """A small JPEG of ``path`` as a ``data:`` URI (rendered inline by the UI's markdown)."""
    try:
        from PIL import Image

        im = Image.open(path).convert("RGB")
        im.thumbnail((width, width * 4))
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=70)
    except (OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "/")


# --------------------------------------------------------------------------- waiting
async def _answered(keyset: dict[str, str], run_id: Any) -> datetime | None:
    """When the response under ``keyset`` was stored (None when there is none yet)."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        found = await client.filter_flow_run_input(flow_run_id=run_id, key_prefix=keyset["response"], limit=1,
                                                   exclude_keys=set())
    return found[0].created if found else None


async def _write_record(run_id: Any, key: str, record: dict[str, Any]) -> None:
    """Store what ``reelflow review list`` shows (once per review key; a replay keeps the first)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectAlreadyExists

    import httpx

    async with get_client() as client:
        try:
            await client.create_flow_run_input(flow_run_id=run_id, key=RECORD_PREFIX + key,
                                               value=json.dumps(record, default=str))
        except ObjectAlreadyExists:
            pass
        except httpx.HTTPStatusError as exc:  # the client raises the server's 409 as it is
            if exc.response.status_code != 409:
                raise


async def wait_for_review(input_cls: type[RunInput], *, key: str, point: str, timeout_s: float,
                          publish: Any = None, record: dict[str, Any] | None = None) -> Answer:
    """Pause or suspend the current flow run until a reviewer answers, or ``timeout_s`` passes.

    Args:
        input_cls: the ``RunInput`` model (``with_initial_data`` applied: form defaults + text).
        key: the pause key (unique per question in this run; a suspended run that is resumed
            replays its code and gets the stored answer back for the same key).
        point: ``"plan"`` or ``"final"`` (for the record that ``reelflow review list`` reads).
        timeout_s: seconds the reviewer has.
        publish: awaitable factory run only the first time the question is asked (artifacts).
        record: extra fields for the list record.

    Returns:
        An :class:`Answer`; ``value`` None means the time ran out (in-process pause only: a
        suspended run that times out is cancelled by :func:`expire_overdue_reviews`).

    Raises:
        prefect.exceptions.Pause: (suspend) the process exits here; Prefect reschedules the run
            when it is resumed.
    """
    from prefect.flow_runs import pause_flow_run, suspend_flow_run
    from prefect.input.run_input import keyset_from_base_key

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        raise RuntimeError("a review point needs a Prefect flow run")
    run = ctx.flow_run
    suspend = run.deployment_id is not None and run.parent_task_run_id is None
    state_name = "suspended" if suspend else "paused"
    keyset = keyset_from_base_key(f"{state_name}-{key}")
    answered_at = await _answered(keyset, run.id)
    started = datetime.now(UTC)
    if answered_at is None:  # first time this question is asked (not a replay after resume)
        deadline = started + timedelta(seconds=timeout_s)
        await _write_record(run.id, key, {
            "point": point, "key": key, "asked_at": started.isoformat(), "deadline": deadline.isoformat(),
            "timeout_s": timeout_s, "suspended": suspend, "flow_run_id": str(run.id), **(record or {}),
        })
        if publish is not None:
            await publish()
    prefect_timeout = int(timeout_s + GRACE_S)
    if suspend:
        value = await suspend_flow_run(wait_for_input=input_cls, timeout=prefect_timeout, key=key)
    else:
        try:
            async with asyncio.timeout(timeout_s):
                value = await pause_flow_run(wait_for_input=input_cls, timeout=prefect_timeout,
                                             poll_interval=_poll_interval(timeout_s), key=key)
        except TimeoutError:
            return Answer(None, None, (datetime.now(UTC) - started).total_seconds())
    answered_at = await _answered(keyset, run.id) or datetime.now(UTC)
    asked = await _read_record(run.id, key)
    asked_at = datetime.fromisoformat(asked["asked_at"]) if asked and asked.get("asked_at") else started
    return Answer(value, answered_at, max(0.0, (answered_at - asked_at).total_seconds()))


async def _read_record(run_id: Any, key: str) -> dict[str, Any] | None:
    """The list record stored when question ``key`` was first asked (None if missing)."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await _find_record(client, run_id, key)


async def _find_record(client: Any, run_id: Any, key: str) -> dict[str, Any] | None:
    found = await client.filter_flow_run_input(flow_run_id=run_id, key_prefix=RECORD_PREFIX + key, limit=5,
                                               exclude_keys=set())
    for item in found:
        if item.key == RECORD_PREFIX + key:
            try:
                return json.loads(item.value)
            except (TypeError, ValueError):
                return None
    return None


# --------------------------------------------------------------------------- plan review
def estimate_remaining_cost(plan: ScriptPlan, brief: Brief, providers: dict[str, str],
                            settings: Settings) -> dict[str, tuple[str, float]]:
    """USD still to be paid after the plan, per part: ``{part: (provider, usd)}`` (local = 0).

    Which parts are paid is the composition root's rule (:func:`flows._wiring.remote_parts` of
    ``settings``), never a guess from the provider's name; ``providers`` (part → name) only labels
    the rows. Narration from the plan's characters at ``flows.campaign.HUME_USD_PER_1K_CHARS``;
    clips from :func:`flows.campaign.estimate_video_cost` (Runware's USD/second × the video's
    seconds). Both are [estimates]; the providers' real costs are what the ledger records.
    """
    from reelflow.flows._wiring import remote_parts
    from reelflow.flows.campaign import HUME_USD_PER_1K_CHARS, estimate_video_cost

    remote = remote_parts(settings)
    est = estimate_video_cost(brief, settings)
    chars = sum(len(s.narration) for s in plan.scenes)
    return {
        "narration": (providers.get("narration", "local"),
                      round(chars / 1000 * HUME_USD_PER_1K_CHARS, 4) if "narration" in remote else 0.0),
        "clips": (providers.get("clips", "local"), est.get("clips", 0.0) if "clips" in remote else 0.0),
    }


def render_plan_review(plan: ScriptPlan, brief: Brief, *, run_name: str, run_id: str, providers: dict[str, str],
                       plan_costs: list[CostEntry], timeout_s: float, deadline: datetime, settings: Settings,
                       problems: list[str] | None = None, attempt: int = 1) -> str:
    """Markdown shown in the plan-review artifact and at the top of the resume form (``settings``
    decide which parts the cost estimate counts as paid)."""
    from reelflow.core.models import SPEAKABLE_WORDS_PER_SECOND

    words = sum(len(s.narration.split()) for s in plan.scenes)
    lines = [
        f"# Plan review: {_md(plan.title)}",
        "",
        f"Run **{run_name}** waits for your review. Nothing beyond the script has been paid: narration "
        f"and clips are made only after approval. Answer by **{deadline:%Y-%m-%d %H:%M} UTC** "
        f"(review_timeout {format_duration(timeout_s)}); with no answer the run ends Cancelled.",
        "",
    ]
    if problems:
        lines += [f"## The last edit was not accepted (attempt {attempt - 1})", ""]
        lines += [f"- {_md(p)}" for p in problems]
        lines += ["", "Your edit is in the form below: fix it and submit again.", ""]
    lines += [
        f"**Brief:** {_md(brief.text)}  ",
        f"**Length:** {brief.duration_s:g} s, {brief.aspect.value}, {brief.platform.value}  ",
        f"**Hook:** {_md(plan.hook)}  ",
        f"**Call to action:** {_md(plan.call_to_action)}  ",
        f"**Hashtags:** {' '.join(plan.hashtags)}",
        "",
        "| # | beat | s | narration | on-screen text | visual (kind: headline) |",
        "|---|---|---|---|---|---|",
    ]
    for s in plan.scenes:
        visual = f"{s.visual.kind}: {_md(s.visual.headline)}" if s.visual.headline else s.visual.kind
        lines.append(f"| {s.index} | {s.beat} | {s.duration_s:.1f} | {_md(s.narration)} | "
                     f"{_md(s.on_screen_text) or '—'} | {visual} |")
    limit = int(SPEAKABLE_WORDS_PER_SECOND * brief.duration_s)
    lines += ["", f"Narration: {words} words (a {brief.duration_s:g} s video speaks at most {limit}).", ""]
    warnings = plan_problems(plan, brief)
    if warnings:
        lines += ["**Checks on this plan** (fix them in your edit if you can):", ""]
        lines += [f"- {_md(w)}" for w in warnings] + [""]
    est = estimate_remaining_cost(plan, brief, providers, settings)
    spent = sum(e.cost_usd for e in plan_costs)
    plan_provider = plan_costs[0].provider if plan_costs else providers.get("plan", "local")
    lines += ["## Cost", "", "| part | provider | USD |", "|---|---|---|",
              f"| plan (paid) | {plan_provider} | {spent:.4f} |"]
    lines += [f"| {part} (estimate) | {prov} | {usd:.4f} |" for part, (prov, usd) in est.items()]
    lines += [f"| **after approval** | | **{sum(u for _, u in est.values()):.4f}** |", ""]
    lines += _how_to_answer(run_id, "plan")
    return "\n".join(lines) + "\n"


def render_plan_form(plan: ScriptPlan, brief: Brief, *, run_name: str, providers: dict[str, str], timeout_s: float,
                     deadline: datetime, problems: list[str], attempt: int, artifact: str, settings: Settings) -> str:
    """Compact markdown for the top of the UI's resume form (the modal is narrow)."""
    est = estimate_remaining_cost(plan, brief, providers, settings)
    lines = [f"## Plan review: {_md(plan.title)}", "",
             f"**{run_name}**, {brief.duration_s:g} s {brief.aspect.value} {brief.platform.value}. Nothing beyond "
             f"the script is paid until you approve (estimate {sum(u for _, u in est.values()):.4f} USD). "
             f"Answer by {deadline:%Y-%m-%d %H:%M} UTC ({format_duration(timeout_s)}).", ""]
    if problems:
        lines += [f"**Edit not accepted (attempt {attempt - 1}):**", ""] + [f"- {_md(p)}" for p in problems] + [""]
    lines += ["| # | narration | visual |", "|---|---|---|"]
    lines += [f"| {s.index} | {_md(s.narration)} | {s.visual.kind} |" for s in plan.scenes]
    lines += ["", f"Edit the scenes below; untick *Approve* to reject. Full plan and costs: artifact `{artifact}`."]
    return "\n".join(lines) + "\n"


def _how_to_answer(run_id: str, point: str) -> list[str]:
    edit = ", \"scenes\": [...]" if point == "plan" else ""
    lines = [
        "## How to answer",
        "",
        "- **UI:** *Resume* on this run" + (", edit the scene texts" if point == "plan" else "")
        + ", untick *approve* to reject (with a note), *Submit*.",
        f"- **CLI:** `reelflow review approve {run_id}`"
        + (" [--plan edited.json]" if point == "plan" else "")
        + f" or `reelflow review reject {run_id} --note \"...\"`",
        f"- **REST:** `POST /api/flow_runs/{run_id}/resume` with "
        f"`{{\"run_input\": {{\"approve\": true, \"reviewer\": \"you\"{edit}}}}}`",
    ]
    return lines


def review_problems(original: ScriptPlan, edited: ScriptPlan, changes: list, brief: Brief) -> list[str]:
    """The rule breaks a reviewer's edit brings in: the plan limits (:func:`core.review.edit_problems`)
    plus the hard script rules every planner is held to (:func:`processors.planner.check_plan`:
    brand said, no production notes spoken, required closing line last, no repeated line), counting
    only problems the generated plan did not already have.
    """
    from reelflow.processors.brief_analysis import analyze_brief
    from reelflow.processors.planner import check_plan

    problems = edit_problems(original, edited, changes, brief)
    analysis = analyze_brief(brief)
    before = set(check_plan(original, analysis, brief))
    problems += [p for p in check_plan(edited, analysis, brief) if p not in before]
    return problems


@dataclass
class ReviewGate:
    """The review points of one ``create_video`` run and what was decided at them.

    Use: ``gate = ReviewGate(review, review_timeout)``; ``plan, stop = await gate.plan(...)``
    right after the plan is made; ``stop = await gate.final(...)`` right before publishing; a
    non-None ``stop`` is the ``Cancelled`` state the flow returns. ``gate.record`` goes into
    ``metadata.json`` as ``review``.

    Raises:
        core.errors.InputError: ``review`` is not none, plan, final or both.
    """

    mode: str = "none"
    timeout_s: float | str = DEFAULT_REVIEW_TIMEOUT_S
    record: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from reelflow.core.review import parse_duration_s

        self.points = review_points(self.mode)
        self.timeout_s = parse_duration_s(self.timeout_s)
        self.record = {"mode": self.mode, "timeout_s": self.timeout_s}

    def _stop(self, point: str, answer: Answer, what: str) -> State:
        """Record the outcome and build the ``Cancelled`` state (rejected or timed out)."""
        logger = get_run_logger()
        if answer.value is None:
            reason = f"no answer within review_timeout ({format_duration(self.timeout_s)})"
            self.record[point] = {"status": "timed_out", "waited_s": round(answer.waited_s, 1), "reason": reason}
            message = f"{point} review timed out: {reason}; {what}"
        else:
            who = answer.value.reviewer or "a reviewer"
            note = answer.value.note.strip() or "(no note)"
            self.record[point] = {"status": "rejected", "reviewer": answer.value.reviewer, "note": answer.value.note,
                                  "answered_at": answer.answered_at.isoformat() if answer.answered_at else None}
            message = f"{point} review: rejected by {who}: {note}; {what}"
        logger.warning(message)
        return Cancelled(message=message[:2000])

    async def plan(self, plan: ScriptPlan, brief: Brief, *, providers: dict[str, str],
                   plan_costs: list[CostEntry] | None = None,
                   settings: Settings | None = None) -> tuple[ScriptPlan, State | None]:
        """Plan review point: returns ``(plan to make, None)`` or ``(plan, Cancelled state)``.

        ``settings`` (default: those of the process-wide runtime, :func:`flows._wiring.get_runtime`)
        decide which parts the shown cost estimate counts as paid.

        The returned plan carries the reviewer's edits. An edit that breaks a plan rule
        (:func:`core.review.plan_problems`) is asked again, with the problems listed and the
        edit kept in the form.
        """
        if "plan" not in self.points:
            return plan, None
        from prefect.artifacts import acreate_markdown_artifact
        from prefect.runtime import flow_run

        from reelflow.flows.artifacts import artifact_key

        from reelflow.flows._wiring import get_runtime

        settings = settings or get_runtime().settings
        logger = get_run_logger()
        run_id, run_name = str(flow_run.id), str(flow_run.name or "")
        problems: list[str] = []
        form_edits = edits_from_plan(plan)
        attempt = 1
        key_art = artifact_key("plan-review", brief.id or run_name or "video")
        while True:
            deadline = datetime.now(UTC) + timedelta(seconds=self.timeout_s)
            md = render_plan_review(plan, brief, run_name=run_name, run_id=run_id, providers=providers,
                                    plan_costs=plan_costs or [], timeout_s=self.timeout_s, deadline=deadline,
                                    settings=settings, problems=problems, attempt=attempt)

            async def publish(md: str = md) -> None:
                await acreate_markdown_artifact(markdown=md, key=key_art,
                                                description=f"Plan review of {run_name} (attempt {attempt})")

            form = PlanReview.with_initial_data(
                description=render_plan_form(plan, brief, run_name=run_name, providers=providers,
                                             timeout_s=self.timeout_s, deadline=deadline, problems=problems,
                                             attempt=attempt, artifact=key_art, settings=settings),
                scenes=form_edits)
            answer = await wait_for_review(form, key=f"plan-review-{attempt}", point="plan", timeout_s=self.timeout_s,
                                           publish=publish, record={"artifact": key_art, "run_name": run_name,
                                                                     "attempt": attempt, "problems": problems,
                                                                     "plan": plan.model_dump(mode="json"),
                                                                     "brief": brief.model_dump(mode="json")})
            if answer.value is None or not answer.value.approve:
                return plan, self._stop("plan", answer, "nothing was paid for narration or clips")
            got: PlanReview = answer.value  # type: ignore[assignment]
            edited, changes, problems = apply_edits(plan, got.scenes or edits_from_plan(plan))
            if edited is not None and changes:
                problems = review_problems(plan, edited, changes, brief)
            if not problems:
                break
            logger.warning("plan edit refused (attempt %d): %s", attempt, "; ".join(problems))
            form_edits = [SceneEdit.model_validate(e) for e in (got.scenes or [])] or form_edits
            attempt += 1
        assert edited is not None
        self.record["plan"] = {
            "status": "approved",
            "reviewer": got.reviewer,
            "note": got.note,
            "answered_at": answer.answered_at.isoformat() if answer.answered_at else None,
            "waited_s": round(answer.waited_s, 1),
            "attempts": attempt,
            "changes": [c.model_dump() for c in changes],
        }
        logger.info("plan approved by %s with %d change(s)", got.reviewer or "a reviewer", len(changes))
        return edited, None

    async def final(self, metadata: dict[str, Any], *, video: str, thumbnail: str, keyframes: list[str],
                    captions: str, work_dir: str) -> State | None:
        """Final review point, after QA and before publishing: None (publish) or ``Cancelled``."""
        if "final" not in self.points:
            return None
        from prefect.artifacts import acreate_markdown_artifact
        from prefect.runtime import flow_run

        from reelflow.flows.artifacts import artifact_key
        from reelflow.processors.keyframes import contact_sheet

        run_id, run_name = str(flow_run.id), str(flow_run.name or "")
        sheet = Path(work_dir) / "review-contact-sheet.jpg"
        labels = [f"scene {s['index']} {s['start_s']:.1f}-{s['end_s']:.1f}s" for s in metadata.get("scenes", [])]
        contact_sheet(keyframes, sheet, labels=labels if len(labels) == len(keyframes) else None, cols=4, thumb_width=240)
        deadline = datetime.now(UTC) + timedelta(seconds=self.timeout_s)
        md = render_final_review(metadata, run_name=run_name, run_id=run_id, video=video, thumbnail=thumbnail,
                                 contact=str(sheet), captions=captions, timeout_s=self.timeout_s, deadline=deadline)
        key_art = artifact_key("final-review", (metadata.get("provenance") or {}).get("brief", {}).get("id")
                               or run_name or "video")

        async def publish() -> None:
            await acreate_markdown_artifact(markdown=md, key=key_art, description=f"Final review of {run_name}")

        form = FinalReview.with_initial_data(description=md)
        answer = await wait_for_review(form, key="final-review-1", point="final", timeout_s=self.timeout_s,
                                       publish=publish, record={"artifact": key_art, "run_name": run_name})
        if answer.value is None or not answer.value.approve:
            return self._stop("final", answer, "nothing was published")
        self.record["final"] = {
            "status": "approved", "reviewer": answer.value.reviewer, "note": answer.value.note,
            "answered_at": answer.answered_at.isoformat() if answer.answered_at else None,
            "waited_s": round(answer.waited_s, 1),
        }
        get_run_logger().info("final review approved by %s", answer.value.reviewer or "a reviewer")
        return None


def render_final_review(metadata: dict[str, Any], *, run_name: str, run_id: str, video: str, thumbnail: str,
                        contact: str, captions: str, timeout_s: float, deadline: datetime) -> str:
    """Markdown for the final review: thumbnail, contact sheet, captions, loudness, QA, costs, file."""
    qa = metadata.get("qa") or {}
    costs = metadata.get("costs") or {}
    clip_flags = "; ".join("scene {}: {}".format(c["scene"], ", ".join(c["flags"]))
                           for c in qa.get("clips", []) if c.get("flags"))
    per_provider = ", ".join(f"{k} {v:.4f}" for k, v in (costs.get("per_provider_usd") or {}).items())
    lines = [
        f"# Final review: {_md(metadata.get('title', run_name))}",
        "",
        f"Run **{run_name}** is made and waits for approval before anything is published. Answer by "
        f"**{deadline:%Y-%m-%d %H:%M} UTC** (review_timeout {format_duration(timeout_s)}); with no answer "
        "nothing is published and the run ends Cancelled.",
        "",
        "| | |",
        "|---|---|",
        f"| duration | {metadata.get('duration_s', 0):.2f} s, {metadata.get('width')}×{metadata.get('height')} |",
        f"| loudness | {metadata.get('loudness_lufs')} LUFS, {metadata.get('true_peak_dbtp')} dBTP true peak |",
        f"| QA | {'passed' if qa.get('passed', True) else 'FLAGGED: ' + _md('; '.join(qa.get('flags', [])))} |",
        f"| clip QA | {_md(clip_flags) or 'no flags'} |",
        f"| cost | {costs.get('total_usd', 0):.4f} USD |",
        "",
        f"Cost per provider: {per_provider or 'none'}.",
        "",
        "Files (not yet published):",
        "",
        f"- video: `{video}`",
        f"- thumbnail: `{thumbnail}`",
        f"- contact sheet: `{contact}`",
        "",
    ]
    thumb_uri, sheet_uri = _img_data_uri(thumbnail, 180), _img_data_uri(contact, 720)
    if thumb_uri:
        lines += ["**Thumbnail**", "", f"![thumbnail]({thumb_uri})", ""]
    if sheet_uri:
        lines += ["**Contact sheet** (one frame per scene)", "", f"![contact sheet]({sheet_uri})", ""]
    try:
        srt = Path(captions).read_text(encoding="utf-8")
    except OSError:
        srt = ""
    lines += ["## Captions", "", "```text", srt.strip()[:6000], "```", ""]
    lines += _how_to_answer(run_id, "final")
    return "\n".join(lines) + "\n"


def review_flow_options(flow_obj: Any, review: str, review_timeout: float | str) -> Any:
    """``flow_obj`` with a flow timeout that leaves room for its review waits (in-process pauses).

    ``create_video`` allows 1 h of work; a paused run also waits up to ``review_timeout`` at each
    review point, which the flow-level timeout would otherwise cut short.
    """
    from reelflow.core.review import parse_duration_s

    points = review_points(review)
    if not points:
        return flow_obj
    base = flow_obj.timeout_seconds or 3600
    return flow_obj.with_options(timeout_seconds=base + len(points) * (parse_duration_s(review_timeout) + GRACE_S))


# --------------------------------------------------------------------------- operations side
async def waiting_reviews(client: Any, limit: int = 200, parent_flow_run_id: str | None = None) -> list[dict[str, Any]]:
    """Flow runs waiting for a review (Paused/Suspended with a ReelFlow review record), oldest first.

    ``parent_flow_run_id`` keeps only the child runs of that (campaign) run.

    Each: ``flow_run_id``, ``name``, ``state`` (Paused/Suspended), ``point``, ``key``, ``asked_at``,
    ``deadline``, ``overdue``, ``artifact``, ``parent_flow_run_id`` (a campaign's run), ``url``.
    """
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    from prefect.client.schemas.filters import FlowRunFilterParentFlowRunId

    flt = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
    if parent_flow_run_id:
        flt.parent_flow_run_id = FlowRunFilterParentFlowRunId(any_=[parent_flow_run_id])
    runs = await client.read_flow_runs(flow_run_filter=flt, limit=limit)
    out = []
    now = datetime.now(UTC)
    for run in runs:
        rec = await _current_record(client, run)
        if rec is None:
            continue
        deadline = datetime.fromisoformat(rec["deadline"])
        parent = None
        if run.parent_task_run_id:
            try:
                parent = str((await client.read_task_run(run.parent_task_run_id)).flow_run_id)
            except Exception:  # noqa: BLE001 - the list still shows the run
                parent = None
        out.append({
            "flow_run_id": str(run.id), "name": run.name, "state": run.state.name if run.state else "",
            "point": rec["point"], "key": rec["key"], "asked_at": rec["asked_at"], "deadline": rec["deadline"],
            "overdue": deadline < now, "suspended": rec.get("suspended", False), "artifact": rec.get("artifact"),
            "attempt": rec.get("attempt", 1), "parent_flow_run_id": parent, "url": _ui_url(str(run.id)),
        })
    out.sort(key=lambda r: r["asked_at"])
    return out


async def _current_record(client: Any, run: Any) -> dict[str, Any] | None:
    """The review record of the pause the run is in now (matched on the pause key)."""
    key = run.state.state_details.pause_key if run.state else None
    return await _find_record(client, run.id, key) if key else None


async def expire_overdue_reviews(client: Any) -> list[str]:
    """Cancel suspended runs whose review deadline has passed; returns their ids.

    A suspended run has no process to notice its deadline. In-process pauses time out
    themselves; they are only cancelled here :data:`GRACE_S` after their deadline (the process
    is gone).
    """
    from prefect.states import Cancelled as CancelledState

    done = []
    now = datetime.now(UTC)
    for row in await waiting_reviews(client):
        deadline = datetime.fromisoformat(row["deadline"])
        if deadline > now or (not row["suspended"] and deadline + timedelta(seconds=GRACE_S) > now):
            continue
        rec_timeout = (deadline - datetime.fromisoformat(row["asked_at"])).total_seconds()
        what = "nothing was paid for narration or clips" if row["point"] == "plan" else "nothing was published"
        message = (f"{row['point']} review timed out: no answer within review_timeout "
                   f"({format_duration(round(rec_timeout))}); {what}")
        await client.set_flow_run_state(row["flow_run_id"], CancelledState(message=message), force=True)
        done.append(row["flow_run_id"])
    return done


def start_review_sweeper(interval_s: float | None = None) -> Any:
    """Daemon thread calling :func:`expire_overdue_reviews` every ``interval_s`` (default
    ``REELFLOW_REVIEW_SWEEP_S``, 30 s); used by the serve process."""
    import logging
    import threading

    from prefect.client.orchestration import get_client

    log = logging.getLogger("reelflow.review")
    interval = interval_s or _sweep_interval()
    stop = threading.Event()

    async def once() -> list[str]:
        async with get_client() as client:
            return await expire_overdue_reviews(client)

    def loop() -> None:
        while not stop.wait(interval):
            try:
                for rid in asyncio.run(once()):
                    log.warning("review timed out: flow run %s cancelled", rid)
            except Exception as exc:  # noqa: BLE001 - a server hiccup must not stop the sweeper
                log.warning("review sweep failed: %s", exc)

    t = threading.Thread(target=loop, name="reelflow-review-sweeper", daemon=True)
    t.start()
    t.stop = stop  # type: ignore[attr-defined]
    return t
