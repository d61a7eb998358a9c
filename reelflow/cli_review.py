"""CLI commands: ``reelflow review list | approve | reject | expire`` (runs waiting for a review).

A run started with ``review: plan|final|both`` stops at its review points (see
:mod:`flows.review`); these commands answer it through the Prefect API, exactly as the UI's
*Resume* form does (``POST /api/flow_runs/{id}/resume`` with ``run_input``).

Exit codes: 0 done; 1 the server refused the answer; 2 bad input (unknown run, a run that is
not waiting, an edited plan that breaks a plan rule — each problem named) or no server.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import time
from pathlib import Path
from typing import Any

import typer

from reelflow._cli_common import handle_errors, out

review_app = typer.Typer(no_args_is_help=True,
                         help="Runs waiting for a review: list them, approve (optionally with an edited plan), reject.")


def register(app: typer.Typer) -> None:
    """Add the ``review`` group to the main app."""
    app.add_typer(review_app, name="review")


def _server() -> str:
    from reelflow.cli_ops import require_server

    return require_server()


async def _waiting() -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client

    from reelflow.flows.review import waiting_reviews

    async with get_client() as client:
        return await waiting_reviews(client)


async def _record(run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(flow run as JSON, its current review record)``.

    Raises:
        InputError: no such run, or it is not waiting for a ReelFlow review.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from reelflow.core.errors import InputError
    from reelflow.flows.review import _current_record

    async with get_client() as client:
        try:
            run = await client.read_flow_run(run_id)
        except (ObjectNotFound, ValueError):
            raise InputError(f"no flow run {run_id}", hint="`reelflow review list` shows the runs waiting") from None
        state = run.state
        if state is None or state.type.value != "PAUSED":
            raise InputError(f"flow run {run_id} ({run.name}) is not waiting for a review: it is "
                             f"{state.name if state else 'without a state'}",
                             hint="`reelflow review list` shows the runs waiting")
        rec = await _current_record(client, run)
    if rec is None:
        raise InputError(f"flow run {run_id} ({run.name}) is paused, but not at a ReelFlow review point",
                         hint="resume it from the Prefect UI")
    return {"id": str(run.id), "name": run.name}, rec


def load_plan_edits(path: Path, rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Scene edits from ``path`` (JSON or YAML), checked with the same rules as the flow's.

    The file is a whole plan (``plan.json`` as published, with ``scenes[].narration``,
    ``on_screen_text``, ``visual.headline``), ``{"scenes": [...]}`` or a list of scene edits
    (``index``, ``narration``, optional ``on_screen_text``, ``headline``).

    Raises:
        InputError: unreadable file, wrong shape, or the edited plan breaks a plan rule (each
            problem on its own line).
    """
    import yaml

    from reelflow.core.errors import InputError
    from reelflow.core.models import Brief, ScriptPlan
    from reelflow.core.review import apply_edits
    from reelflow.flows.review import review_problems

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the edited plan: {exc}", hint="give a JSON or YAML file") from None
    scenes = data.get("scenes") if isinstance(data, dict) else data
    if not isinstance(scenes, list) or not all(isinstance(s, dict) for s in scenes):
        raise InputError(f"{path}: expected a plan with `scenes: [...]` or a list of scene edits",
                         hint='e.g. [{"index": 1, "narration": "New line."}]')
    edits = []
    for i, s in enumerate(scenes):
        visual = s.get("visual") if isinstance(s.get("visual"), dict) else {}
        edit = {"index": s.get("index", i), "narration": s.get("narration")}
        if "on_screen_text" in s:
            edit["on_screen_text"] = s["on_screen_text"]
        if "headline" in s or "headline" in visual:
            edit["headline"] = s.get("headline", visual.get("headline", ""))
        edits.append(edit)
    plan = ScriptPlan.model_validate(rec["plan"])
    # scenes the file leaves out keep their text; fields it leaves out keep theirs too
    current = {s.index: {"index": s.index, "narration": s.narration, "on_screen_text": s.on_screen_text,
                         "headline": s.visual.headline} for s in plan.scenes}
    merged = []
    for e in edits:
        base = dict(current.get(e["index"], {}))
        base.update({k: v for k, v in e.items() if v is not None})
        merged.append(base)
    edited, changes, problems = apply_edits(plan, merged)
    if edited is not None and changes:
        problems = review_problems(plan, edited, changes, Brief.model_validate(rec["brief"]))
    if problems:
        raise InputError(f"{path}: the edited plan breaks the plan rules:\n  - " + "\n  - ".join(problems),
                         hint="fix these and run the command again; nothing was sent")
    return merged


def _resume(run_id: str, run_input: dict[str, Any], attempts: int = 4) -> dict[str, Any]:
    """``POST /flow_runs/{id}/resume`` with ``run_input``; returns the orchestration result.

    A busy server (5xx, dropped connection) is asked again; when an earlier try went through
    but its answer was lost, the run is no longer paused and that counts as accepted.
    """
    import httpx

    api = _server()
    lost = False
    for attempt in range(attempts):
        try:
            r = httpx.post(f"{api}/flow_runs/{run_id}/resume", json={"run_input": run_input}, timeout=30)
        except httpx.TransportError:
            lost = True
        else:
            if r.status_code < 500:
                r.raise_for_status()
                result = r.json()
                if lost and result.get("status") == "ABORT":
                    state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json().get("state") or {}
                    if state.get("type") != "PAUSED":
                        return {"status": "ACCEPT", "state": state}
                return result
            lost = lost or r.status_code >= 500
        time.sleep(1.5 * (attempt + 1))
    raise httpx.HTTPError(f"the Prefect server did not take the answer for {run_id} after {attempts} tries")


def _answer(run_id: str, run_input: dict[str, Any], verb: str, wait: bool, timeout: float) -> None:
    from reelflow.core.errors import ReelFlowError

    result = _resume(run_id, run_input)
    if result.get("status") != "ACCEPT":
        reason = (result.get("details") or {}).get("reason") or result.get("status")
        raise ReelFlowError(f"the server refused the answer for {run_id}: {reason}")
    out.print(f"{verb} flow run {run_id}")
    if wait:
        state = _wait_settled(run_id, timeout)
        out.print(f"final state: {state.get('type')} {state.get('message') or ''}".rstrip())
        if state.get("type") not in ("COMPLETED", "CANCELLED", "PAUSED"):
            raise typer.Exit(1)


def _wait_settled(run_id: str, timeout: float) -> dict[str, Any]:
    """Poll until the run is final or waits for a review again."""
    import httpx

    api = _server()
    deadline = time.monotonic() + timeout
    time.sleep(1.0)
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json().get("state") or {}
        if state.get("type") in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED", "PAUSED"):
            return state
        time.sleep(2)
    return state


@review_app.command("list", help="Runs waiting for a review: point, since when, deadline, UI link.")
@handle_errors
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List runs waiting for a review."""
    _server()
    rows = asyncio.run(_waiting())
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if not rows:
        out.print("no runs are waiting for a review")
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} run(s) waiting for a review")
    table.add_column("flow run", no_wrap=True)
    for col in ("name", "review", "since (UTC)", "deadline (UTC)"):
        table.add_column(col, overflow="fold")
    for r in rows:
        deadline = r["deadline"][:16].replace("T", " ") + (" [red]overdue[/]" if r["overdue"] else "")
        point = r["point"] + (f" (attempt {r['attempt']})" if r.get("attempt", 1) > 1 else "")
        table.add_row(r["flow_run_id"], r["name"], point, r["asked_at"][:16].replace("T", " "), deadline)
    out.print(table)
    for r in rows:
        out.print(f"{r['name']}: {r['url']}", soft_wrap=True)


@review_app.command("approve", help="Approve a waiting run (plan review: optionally with an edited plan).")
@handle_errors
def approve_cmd(
    run_id: str = typer.Argument(..., help="Flow run id (see `reelflow review list`)."),
    plan: Path = typer.Option(None, "--plan", help="Edited plan: plan.json, {scenes: [...]} or a list of scene edits."),
    note: str = typer.Option("", "--note", help="Note recorded with the approval."),
    reviewer: str = typer.Option(None, "--reviewer", help="Who approves (default: your user name)."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the run finishes or waits again."),
    timeout: float = typer.Option(1800, help="Seconds to wait with --wait."),
) -> None:
    """Approve the review a run waits for."""
    from reelflow.core.errors import InputError

    _server()
    run, rec = asyncio.run(_record(run_id))
    run_input: dict[str, Any] = {"approve": True, "reviewer": reviewer or getpass.getuser(), "note": note}
    if plan is not None:
        if rec["point"] != "plan":
            raise InputError(f"--plan: flow run {run_id} waits at the {rec['point']} review, not the plan review",
                             hint="approve without --plan")
        run_input["scenes"] = load_plan_edits(plan, rec)
    _answer(run["id"], run_input, f"approved ({rec['point']} review)", wait, timeout)


@review_app.command("reject", help="Reject a waiting run: it ends Cancelled with your note.")
@handle_errors
def reject_cmd(
    run_id: str = typer.Argument(..., help="Flow run id (see `reelflow review list`)."),
    note: str = typer.Option(..., "--note", help="Why (recorded in the run's Cancelled state)."),
    reviewer: str = typer.Option(None, "--reviewer", help="Who rejects (default: your user name)."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the run has ended."),
    timeout: float = typer.Option(600, help="Seconds to wait with --wait."),
) -> None:
    """Reject the review a run waits for."""
    from reelflow.core.errors import InputError

    if not note.strip():
        raise InputError("--note is empty", hint='say why, e.g. --note "wrong product name"')
    _server()
    run, rec = asyncio.run(_record(run_id))
    _answer(run["id"], {"approve": False, "reviewer": reviewer or getpass.getuser(), "note": note},
            f"rejected ({rec['point']} review)", wait, timeout)


@review_app.command("expire", help="Cancel suspended runs whose review deadline has passed (the serve process does this too).")
@handle_errors
def expire_cmd() -> None:
    """One sweep of :func:`flows.review.expire_overdue_reviews`."""
    from prefect.client.orchestration import get_client

    from reelflow.flows.review import expire_overdue_reviews

    _server()

    async def run() -> list[str]:
        async with get_client() as client:
            return await expire_overdue_reviews(client)

    ids = asyncio.run(run())
    out.print(f"cancelled {len(ids)} overdue review(s)" + (": " + ", ".join(ids) if ids else ""))


@review_app.command("notify", help="Create the Prefect automation that calls a webhook when a run waits for a review.")
@handle_errors
def notify_cmd(webhook: str = typer.Option(..., "--webhook", help="URL the automation POSTs to (Slack, Teams, ...).")) -> None:
    """Store the webhook block and the ``reelflow-review-waiting`` automation (replacing older ones)."""
    from reelflow.deployments.automations import AUTOMATION_NAME, WAITING_EVENTS, ensure_review_notification

    _server()
    automation_id, block_id = asyncio.run(ensure_review_notification(webhook))
    out.print(f"automation {AUTOMATION_NAME} ({automation_id}): on {' / '.join(WAITING_EVENTS)} → webhook block "
              f"{block_id}")
