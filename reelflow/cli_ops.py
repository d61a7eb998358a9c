"""CLI commands: operations — ``server``, ``trigger``, ``campaign run``, ``campaign schedule``.

Exit codes: 0 success; 1 a run failed (or a campaign with any video not made); 2 bad input or
configuration — including a Prefect server that cannot be reached (the message says how to
start one).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import typer

from reelflow._cli_common import api_url as _api_url
from reelflow._cli_common import console, ensure_prefect_api, handle_errors, out, require_server

campaign_app = typer.Typer(no_args_is_help=True, help="Campaigns: many briefs × variants within a budget.")


def register(app: typer.Typer) -> None:
    """Add ``server``, ``trigger`` and the ``campaign`` group to the main app."""
    app.command("server", help="Start the Prefect server + UI and serve ReelFlow's deployments (Ctrl-C stops both).")(
        server_cmd
    )
    app.command("trigger", help="Start a deployment run through the Prefect API (optionally wait for it).")(
        trigger_cmd
    )
    app.add_typer(campaign_app, name="campaign")


def _api_headers() -> dict[str, str]:
    """``Authorization: Basic ...`` when ``PREFECT_API_AUTH_STRING`` is set (a server started
    with ``PREFECT_SERVER_API_AUTH_STRING``); the Prefect client adds it itself, plain httpx
    calls need it here. The value is never printed."""
    import base64

    from prefect.settings import PREFECT_API_AUTH_STRING

    secret = PREFECT_API_AUTH_STRING.value()
    value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()} if value else {}


# --------------------------------------------------------------------------- server
@handle_errors
def server_cmd(
    host: str = typer.Option("127.0.0.1", help="Bind address of the Prefect server."),
    port: int = typer.Option(4200, help="Port of the Prefect server."),
    home: Path = typer.Option(
        None, help="PREFECT_HOME for the server (database, logs); default $PREFECT_HOME or ~/.reelflow/prefect."
    ),
    only: list[str] = typer.Option(None, "--only", help="Serve only these deployments (repeatable)."),
    campaign: list[Path] = typer.Option(None, "--campaign", help="Also serve this scheduled campaign (repeatable)."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the deployments in this process."),
) -> None:
    """Start ``prefect server start`` as a subprocess, wait for health, serve the deployments."""
    from reelflow.core.logging import apply_log_settings
    from reelflow.deployments.local_server import DEFAULT_HOME, start_server

    apply_log_settings()
    home = home or Path(os.environ.get("REELFLOW_PREFECT_HOME") or DEFAULT_HOME)
    console.print(f"starting the Prefect server on http://{host}:{port} (PREFECT_HOME={home}) ...")
    t0 = time.monotonic()
    srv = start_server(home, host, port)
    try:
        os.environ["PREFECT_API_URL"] = srv.api_url
        out.print(f"[bold green]Prefect UI:[/] {srv.ui_url}   (API {srv.api_url}, up in {time.monotonic() - t0:.0f} s)")
        out.print(f"  other shells: export PREFECT_API_URL={srv.api_url}")
        if not serve:
            out.print("serving nothing (--no-serve); Ctrl-C stops the server")
            while srv.proc.poll() is None:
                time.sleep(1)
            return
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from reelflow.deployments.serve import build_deployments, serve_deployments

        with temporary_settings(updates={PREFECT_API_URL: srv.api_url}):
            deps = build_deployments(only or None, campaign or ())
            for d in deps:
                out.print(f"  deployment [cyan]{d.flow_name}/{d.name}[/]")
            out.print(
                "  trigger over REST: GET  {api}/deployments/name/create_video/reelflow → id, then\n"
                "                     POST {api}/deployments/<id>/create_flow_run "
                "{{\"parameters\": {{\"brief\": {{\"text\": \"...\"}}}}}}".format(api=srv.api_url)
            )
            serve_deployments(deps)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping the Prefect server ...")
        srv.stop()


# --------------------------------------------------------------------------- trigger
def parse_params(pairs: list[str] | None, params_json: str | None) -> dict[str, Any]:
    """``k=v`` pairs (``v`` parsed as JSON when it parses, else a string) merged over ``params_json``.

    Raises:
        InputError: a pair without ``=`` or a ``--params-json`` that is not a JSON object.
    """
    from reelflow.core.errors import InputError

    params: dict[str, Any] = {}
    if params_json:
        try:
            params = json.loads(params_json)
        except json.JSONDecodeError as exc:
            raise InputError(f"--params-json is not valid JSON: {exc.msg}") from None
        if not isinstance(params, dict):
            raise InputError("--params-json must be a JSON object")
    for pair in pairs or []:
        if "=" not in pair:
            raise InputError(f"--param {pair!r} must look like name=value", hint='e.g. --param brief=\'{"text": "..."}\'')
        key, value = pair.split("=", 1)
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


@handle_errors
def trigger_cmd(
    flow: str = typer.Argument(..., help="Flow name (create_video, campaign, index-songs, ...) or flow/deployment."),
    param: list[str] = typer.Option(None, "--param", "-p", help="name=value (value as JSON when it parses)."),
    params_json: str = typer.Option(None, "--params-json", help="All parameters as one JSON object."),
    deployment: str = typer.Option("reelflow", help="Deployment name (when FLOW has no /deployment)."),
    wait: bool = typer.Option(False, "--wait", help="Wait for a final state and list the run's artifacts."),
    timeout: float = typer.Option(3600, help="Seconds to wait with --wait."),
) -> None:
    """Create a flow run of a deployment via the Prefect client; print its id and UI URL."""
    from prefect.deployments import run_deployment

    from reelflow.core.errors import InputError

    api = require_server()
    name = flow if "/" in flow else f"{flow}/{deployment}"
    params = parse_params(param, params_json)
    try:
        run = run_deployment(name=name, parameters=params, timeout=0, as_subflow=False)
    except Exception as exc:  # prefect raises ObjectNotFound / httpx errors with details
        msg = str(exc)
        if "404" in msg or "not found" in msg.lower():
            raise InputError(f"deployment {name!r} not found on {api}",
                             hint="start `reelflow server` (it serves create_video/reelflow, campaign/reelflow ...)") from None
        if "422" in msg or "validation" in msg.lower():
            raise InputError(f"parameters rejected by {name}: {msg}") from None
        raise
    ui = api.removesuffix("/api")
    out.print(f"flow run [cyan]{run.name}[/] ({run.id}) created: {ui}/runs/flow-run/{run.id}")
    if not wait:
        return
    final = _wait_for_run(str(run.id), timeout)
    out.print(f"final state: [bold]{final['type']}[/] {final.get('message') or ''}")
    for art in _run_artifacts(api, str(run.id)):
        out.print(f"  artifact {art.get('key') or '(unkeyed)'} ({art.get('type')})")
    if final["type"] != "COMPLETED":
        raise typer.Exit(1)


def _wait_for_run(run_id: str, timeout: float) -> dict[str, Any]:
    import httpx

    api = _api_url()
    deadline = time.monotonic() + timeout
    while True:
        state = httpx.get(f"{api}/flow_runs/{run_id}", headers=_api_headers(), timeout=10).json().get("state") or {}
        if state.get("type") in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return state
        if time.monotonic() > deadline:
            return {"type": "TIMEOUT", "message": f"still {state.get('type')} after {timeout:.0f} s"}
        time.sleep(2)


def _run_artifacts(api: str, run_id: str) -> list[dict[str, Any]]:
    import httpx

    body = {"artifacts": {"flow_run_id": {"any_": [run_id]}}}
    return httpx.post(f"{api}/artifacts/filter", json=body, headers=_api_headers(), timeout=10).json()


# --------------------------------------------------------------------------- campaigns
@campaign_app.command("run")
@handle_errors
def campaign_run_cmd(
    file: Path = typer.Argument(..., help="Campaign file (YAML or JSON)."),
    check: bool = typer.Option(False, "--check", help="Only validate the file and list the videos."),
) -> None:
    """Validate a campaign file, then run it here (videos in parallel; report artifact at the end)."""
    from rich.table import Table

    from reelflow.core.settings import load_settings
    from reelflow.core.campaigns import trust_campaign_file
    from reelflow.flows.campaign import estimate_video_cost, load_campaign, run_campaign_file

    settings = load_settings()
    loaded = load_campaign(file)
    spec = loaded.spec
    est = sum(sum(estimate_video_cost(i.brief, settings).values()) for i in loaded.items if i.brief)
    console.print(f"campaign [bold]{spec.name}[/]: {len(loaded.items) - len(loaded.invalid)} videos, "
                  f"{len(loaded.invalid)} invalid briefs, estimated {est:.4f} USD, budget "
                  f"{'unlimited' if spec.budget_usd is None else f'{spec.budget_usd:.2f} USD'}")
    for item in loaded.invalid:
        console.print(f"[yellow]invalid brief:[/] {item.error}")
    if check:
        return
    if spec.review != "none":
        require_server()  # a reviewer answers through the server (UI, REST or `reelflow review`)
        console.print(f"review: {spec.review} — videos wait for a reviewer; `reelflow review list` shows them "
                      f"(artifact campaign-{spec.name}-review)")
    ensure_prefect_api()
    trust_campaign_file(file, spec)  # the user's own files; deployment runs stay confined
    state = run_campaign_file(file, settings)
    report = state.result(raise_on_failure=False)
    table = Table(title=f"campaign {spec.name}: {state.message}")
    for col in ("brief", "variant", "status", "duration", "cost", "output / reason"):
        table.add_column(col)
    for r in report.rows:
        table.add_row(r.brief, r.variant, r.status, f"{r.duration_s:.1f} s" if r.duration_s else "",
                      f"{r.cost_usd:.4f}", r.output or r.reason)
    out.print(table)
    out.print(f"report: {Path(report.out_dir) / 'campaign-report.json'}")
    if report.completed != report.total:
        raise typer.Exit(1)


@campaign_app.command("schedule")
@handle_errors
def campaign_schedule_cmd(
    file: Path = typer.Argument(..., help="Campaign file with a `schedule:` section."),
    pool: str = typer.Option(None, "--pool", help="Register on this work pool for a worker instead of serving here."),
) -> None:
    """Create/update the ``campaign/<name>`` deployment with the file's cron schedule.

    Default: serve it from this process (keep it running; Ctrl-C stops). With ``--pool``, deploy it
    to a process work pool (created if missing) and return; run ``prefect worker start --pool NAME``.
    """
    from reelflow.core.errors import InputError
    from reelflow.core.settings import load_settings
    from reelflow.deployments.serve import REPO, scheduled_campaign_deployment, serve_deployments
    from reelflow.flows.campaign import load_campaign

    require_server()
    loaded = load_campaign(file)
    sched = loaded.spec.schedule
    if sched is None:
        raise InputError(f"{file}: no `schedule:` section", hint='add schedule: {cron: "0 9 * * MON", timezone: UTC}')
    if pool:
        from prefect import flow as _flow  # noqa: F401 - ensures prefect is configured
        from prefect.client.schemas.schedules import CronSchedule

        _ensure_pool(pool)
        from reelflow.flows.campaign import campaign

        src = campaign.from_source(source=str(REPO), entrypoint="reelflow/flows/campaign.py:campaign")
        dep_id = src.deploy(
            name=loaded.spec.name, work_pool_name=pool, build=False, push=False, print_next_steps=False,
            schedules=[CronSchedule(cron=sched.cron, timezone=sched.timezone)],
            parameters={"campaign_file": str(Path(file).resolve())}, tags=["reelflow", "campaign", "scheduled"],
        )
        out.print(f"deployment campaign/{loaded.spec.name} ({dep_id}) on pool {pool}: cron '{sched.cron}' "
                  f"{sched.timezone}. Start a worker: prefect worker start --pool {pool}")
        return
    dep = scheduled_campaign_deployment(file, load_settings())
    out.print(f"serving campaign/{loaded.spec.name}: cron '{sched.cron}' ({sched.timezone}); Ctrl-C stops")
    try:
        serve_deployments([dep])
    except KeyboardInterrupt:
        pass


def _ensure_pool(name: str) -> None:
    import httpx

    api = _api_url()
    if httpx.get(f"{api}/work_pools/{name}", headers=_api_headers(), timeout=10).status_code == 404:
        httpx.post(f"{api}/work_pools/", json={"name": name, "type": "process"}, headers=_api_headers(),
                   timeout=10).raise_for_status()
