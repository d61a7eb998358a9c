"""``campaign``: many briefs × variants × platforms → many videos, within a budget (Prefect 3).

Campaign file (YAML or JSON; see ``assets/campaigns/example.yaml``)::

    name: spring-launch                 # slug: lowercase letters, digits, dashes
    description: Spring trail-shoe push
    briefs:                             # inline Brief objects (same fields as create_video's brief) ...
      - {id: grip, text: "...", duration_s: 8}
    briefs_file: briefs.jsonl           # ... and/or a JSONL of briefs, relative to this file
    variants:                           # A/B variants applied to every brief (default: one, "a")
      - {name: a}
      - {name: b, hook: "Ever run on wet rock?", voice: "...", music: "calm acoustic", tone: "..."}
    platforms: [tiktok, shorts]         # presets; each brief×variant is made once per platform
    budget_usd: 5.0                     # max spend across paid providers (0 = local providers only)
    max_concurrency: 2                  # videos in flight at once
    schedule: {cron: "0 9 * * MON", timezone: Europe/Berlin}   # used by `campaign schedule`
    out_dir: outputs/campaigns/spring   # default <outputs>/campaigns/<name>-<run>
    review: plan                        # none (default) | plan | final | both: every video waits for a reviewer
    review_timeout: 24h                 # per review point (seconds or 30m/72h/3d; default 72h)

Validation happens before any run: a structural error (unknown field, bad cron or timezone,
negative budget, missing ``briefs_file``, no briefs) raises :class:`core.errors.InputError`
naming ``file:line: field``. A *brief* that does not validate is not fatal: it becomes an
``invalid`` row of the report (naming its file and line) and the other briefs still run —
unless ``strict: true``.

Execution: each video is one ``render-video`` task that runs ``create_video`` as a subflow,
submitted through the configured task runner (:mod:`flows.runners`: threads, or Dask worker
processes) with at most ``max_concurrency`` in flight. Before each submission the video's cost
is estimated from the configured providers (:func:`estimate_video_cost`; the embedded local
providers cost 0); paid work that would take spent + reserved over ``budget_usd`` is not
submitted, and from then on no further paid work is. Spent + reserved is kept in the cost ledger
(:meth:`core.ledger.CostLedger.reserve_budget`) and shared by every run of the same campaign in
progress at once, so two concurrent runs hold the budget together. One video's failure never fails the
others. The flow ends with a ``campaign-<name>`` table artifact (brief, variant, platform,
status, duration, cost, provider per part, output URI, thumbnail, reason) and a markdown
summary, records every video's costs in the ledger (:mod:`core.ledger`), and finishes
``Completed("N of M completed")`` when at least one video was made, else ``Failed``.

With ``review`` on, each video pauses at its review points (:mod:`flows.review`); a waiting video
does not count against ``max_concurrency``; the ``campaign-<name>-review`` artifact lists the
runs waiting (republished as the list changes) and a rejected or unanswered video is a
``cancelled`` row.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed, wait
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from reelflow.core.campaigns import (  # noqa: F401 - re-exported: the campaign file API lives in core
    PLATFORM_PRESETS,
    CampaignItem,
    CampaignReport,
    CampaignSpec,
    LoadedCampaign,
    Schedule,
    Variant,
    VideoOutcome,
    _slug,
    apply_variant,
    load_campaign,
    validate_campaign,
)
from reelflow.core.errors import InputError
from reelflow.core.models import Brief
from reelflow.core.settings import Settings, load_settings
from reelflow.flows._wiring import remote_parts

# Cost estimates for budget decisions before a run (USD). [estimate]: list prices at the time of
# writing, deliberately on the high side; the real cost comes back from the providers (Runware
# ``includeCost``) and is what the ledger records.
OPENAI_PLAN_USD = 0.002  # [estimate] one structured plan, ~2k tokens on gpt-4o-mini
HUME_USD_PER_1K_CHARS = 0.24  # [estimate] Octave TTS, pay-as-you-go
CHARS_PER_SECOND = 15.0  # WORDS_PER_SECOND (2.5) × ~6 characters per word incl. space


#: Share of extra billed clip jobs (failed/stuck jobs are billed, then made again) in estimates.
CLIP_RETRY_ALLOWANCE = 1.25


# --------------------------------------------------------------------------- cost estimate
def estimate_video_cost(brief: Brief, settings: Settings) -> dict[str, float]:
    """Estimated USD per paid part of one video, from which providers the settings select.

    Which parts are remote is :func:`flows._wiring.remote_parts` (the composition root's rule);
    local parts cost 0 and are omitted. Runware uses the model's USD/second
    (``clients.runware.types.MODELS``) × (scenes × the model's clip length covering a scene) ×
    :data:`CLIP_RETRY_ALLOWANCE`; Hume uses characters at
    :data:`HUME_USD_PER_1K_CHARS`; OpenAI a flat :data:`OPENAI_PLAN_USD` per plan.

    Returns:
        ``{"plan": usd, "narration": usd, "clips": usd}`` for the paid parts only.
    """
    remote = remote_parts(settings)
    est: dict[str, float] = {}
    if "plan" in remote:
        est["plan"] = OPENAI_PLAN_USD
    if "narration" in remote:
        est["narration"] = round(brief.duration_s * CHARS_PER_SECOND / 1000 * HUME_USD_PER_1K_CHARS, 4)
    if "clips" in remote:
        from reelflow.clients.runware.types import MODELS

        spec = MODELS.get(settings.runware.model)
        per_s = spec.usd_per_second if spec and spec.usd_per_second else 0.10
        # Every scene is one clip billed at the model's shortest duration that covers it (a 6 s
        # video of 4 scenes bills 4 x 5 s, not 6 s); plans have at least hook, benefit, proof and
        # call to action. A failed or stuck job is billed too and the clip is made again:
        # CLIP_RETRY_ALLOWANCE covers that (measured ~10 % of jobs under the chaos fault mix).
        scenes = max(4, math.ceil(brief.duration_s / 4.0))
        per_scene = spec.duration_for(brief.duration_s / scenes) if spec else 5.0
        est["clips"] = round(scenes * per_scene * per_s * CLIP_RETRY_ALLOWANCE, 4)
    return est


#: Seconds between looks at which videos of a campaign with review on wait for a reviewer.
REVIEW_POLL_S = 3.0
#: Videos of one campaign that may wait for a reviewer at once (each holds a thread, no CPU).
REVIEW_WAITING_MAX = 16


# --------------------------------------------------------------------------- the work
def _waiting_children(campaign_run_id: str | None) -> list[dict[str, Any]]:
    """Child runs of this campaign run waiting for a review (see :func:`flows.review.waiting_reviews`)."""
    from prefect.client.orchestration import get_client
    from prefect.utilities.asyncutils import run_coro_as_sync

    from reelflow.flows.review import waiting_reviews

    if not campaign_run_id:
        return []

    async def look() -> list[dict[str, Any]]:
        async with get_client() as client:
            return await waiting_reviews(client, parent_flow_run_id=campaign_run_id)

    try:
        return run_coro_as_sync(look()) or []
    except Exception as exc:  # noqa: BLE001 - the list is informational; the videos go on
        get_run_logger().warning("could not list the runs waiting for review: %s", exc)
        return []


def publish_review_list(name: str, waiting: list[dict[str, Any]], rows: list[VideoOutcome] | None = None) -> None:
    """(Re)publish the ``campaign-<name>-review`` markdown artifact: every run waiting, with links.

    ``rows`` (at the end of the campaign) adds what the reviewers decided.
    """
    from prefect.artifacts import create_markdown_artifact

    from reelflow.flows.artifacts_ops import _key

    lines = [f"# Campaign {name}: review", ""]
    if waiting:
        lines += [f"**{len(waiting)} run(s) waiting for a review.** Approve or reject each from its page "
                  "(*Resume*), with `reelflow review approve|reject RUN_ID`, or over REST "
                  "(`POST /api/flow_runs/RUN_ID/resume`).", "",
                  "| video run | review | waiting since (UTC) | deadline (UTC) | approve from the CLI |",
                  "|---|---|---|---|---|"]
        for w in waiting:
            point = w["point"] + (f" (attempt {w['attempt']})" if w.get("attempt", 1) > 1 else "")
            lines.append(f"| [{w['name']}]({w['url']}) | {point} | {w['asked_at'][:16].replace('T', ' ')} | "
                         f"{w['deadline'][:16].replace('T', ' ')} | `reelflow review approve {w['flow_run_id']}` |")
    else:
        lines += ["No run is waiting for a review."]
    if rows:
        lines += ["", "| video | status | reason |", "|---|---|---|"]
        lines += [f"| {r.brief} / {r.variant} | {r.status} | {r.reason.replace('|', '/')[:200]} |" for r in rows]
    create_markdown_artifact(key=_key("campaign", name, "review"), markdown="\n".join(lines) + "\n",
                             description=f"Campaign {name}: runs waiting for a review.")


def _providers_text(meta: dict[str, Any]) -> str:
    prov = (meta.get("provenance") or {}).get("providers") or {}
    parts = []
    for part in ("plan", "narration", "clips", "music_bed", "catalogue"):
        v = prov.get(part)
        if v is None:
            continue
        if isinstance(v, dict):
            v = v.get("provider", "")
        elif isinstance(v, list):
            v = "+".join(map(str, v))
        parts.append(f"{part}={v}")
    return ", ".join(parts)


@task(
    name="render-video",
    task_run_name="render-{item.brief_id}-{item.variant}",
    cache_policy=NO_CACHE,
    retries=0,
)
async def render_video(item: CampaignItem, out_dir: str, campaign_name: str, review: str = "none",
                       review_timeout: float | str = "72h") -> VideoOutcome:
    """Run ``create_video`` for one item as a subflow; never raises for a failed video.

    ``review``/``review_timeout`` are passed on (the subflow pauses in this process at its
    review points; see :mod:`flows.review`).

    Returns:
        A :class:`VideoOutcome` (``completed`` with outputs, ``cancelled`` when a reviewer
        rejected it or nobody answered in time, or ``failed`` with the reason).
    """
    from reelflow.core.ledger import entries_from_metadata
    from reelflow.core.storage_factory import make_storage
    from reelflow.flows.create_video import create_video
    from reelflow.flows.review import review_flow_options

    assert item.brief is not None
    t0 = time.perf_counter()
    run_name = f"{campaign_name}-{item.brief_id}-{item.variant}"
    flow_obj = review_flow_options(create_video.with_options(flow_run_name=run_name[:100]), review, review_timeout)
    state = await flow_obj(brief=item.brief, out_dir=out_dir, review=review, review_timeout=review_timeout,
                           return_state=True)
    seconds = round(time.perf_counter() - t0, 2)
    child_id = str(state.state_details.flow_run_id) if state.state_details.flow_run_id else None
    base = VideoOutcome(index=item.index, brief=item.brief_id, variant=item.variant, platform=item.platform,
                        status="failed", flow_run_id=child_id, seconds=seconds)
    if state.is_cancelled():
        return base.model_copy(update={"status": "cancelled", "reason": (state.message or "cancelled")[:500]})
    if not state.is_completed():
        return base.model_copy(update={"reason": (state.message or state.name or "failed")[:500]})
    try:
        result = await state.result()
    except Exception as exc:  # noqa: BLE001 - a failed result read is one failed video
        return base.model_copy(update={"reason": f"result unreadable: {exc}"[:500]})
    meta: dict[str, Any] = {}
    try:
        meta = json.loads(Path(result.metadata).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    settings = load_settings()
    output, thumb = result.video, result.thumbnail
    if settings.storage.uri:
        store = make_storage(settings)
        from reelflow.core.storage import run_key_prefix

        prefix = run_key_prefix(result.out_dir, result.flow_run_id or child_id)
        output = store.uri(f"{prefix}/video.mp4")
        thumb = store.uri(f"{prefix}/thumbnail.jpg")
    return base.model_copy(update={
        "status": "completed",
        "duration_s": result.duration_s,
        "cost_usd": result.cost_usd,
        "providers": _providers_text(meta),
        "output": output,
        "thumbnail": thumb,
        "flow_run_id": result.flow_run_id or child_id,
        "costs": [{"part": part, **entry.model_dump()} for part, entry in entries_from_metadata(meta)],
    })


def _report_rows(rows: list[VideoOutcome]) -> list[dict[str, Any]]:
    return [
        {
            "brief": r.brief, "variant": r.variant, "platform": r.platform, "status": r.status,
            "duration_s": r.duration_s, "cost_usd": round(r.cost_usd, 4), "providers": r.providers,
            "output": r.output, "thumbnail": r.thumbnail, "seconds": r.seconds, "reason": r.reason,
        }
        for r in sorted(rows, key=lambda r: r.index)
    ]


def _summary_md(report: CampaignReport, spec: CampaignSpec, runner: str, ledger_total: float | None) -> str:
    from reelflow.flows.artifacts import md_code, md_escape

    lines = [
        f"# Campaign {md_escape(report.name)}",
        "",
        f"**{md_escape(report.message)}**",
        "",
        "| | |",
        "|---|---|",
        f"| videos | {report.total} (completed {report.completed}, failed {report.failed}, "
        f"invalid {report.invalid}, skipped {report.skipped}, cancelled {report.cancelled}) |",
        f"| cost | {report.cost_usd:.4f} USD" + (f" (ledger {ledger_total:.4f})" if ledger_total is not None else "") + " |",
        f"| budget | {'unlimited' if spec.budget_usd is None else f'{spec.budget_usd:.2f} USD'} |",
        f"| task runner | {runner} |",
        f"| outputs | {md_code(report.out_dir)} |",
    ]
    problems = [r for r in report.rows if r.status != "completed"]
    if problems:
        lines += ["", "## Not made", "", "| brief | variant | status | reason |", "|---|---|---|---|"]
        lines += [f"| {md_escape(r.brief)} | {md_escape(r.variant)} | {r.status} | {md_escape(r.reason)} |"
                  for r in problems]
    done = [r for r in report.rows if r.status == "completed"]
    if done:
        lines += ["", "## Videos", ""]
        lines += [f"- **{md_escape(r.brief)} / {md_escape(r.variant)}** ({r.duration_s:.1f} s): {md_code(r.output)} "
                  f"— thumbnail {md_code(r.thumbnail)}" for r in done]
    return "\n".join(lines) + "\n"


def _default_out(settings: Settings, name: str, run_id: str | None) -> Path:
    short = (run_id or "local").replace("-", "")[:8]
    return settings.paths.outputs_dir / "campaigns" / f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}-{short}"


def _campaign_run_name() -> str:
    params = flow_run.parameters or {}
    spec = params.get("spec")
    name = getattr(spec, "name", None) or (spec.get("name") if isinstance(spec, dict) else None)
    if not name and params.get("campaign_file"):
        name = Path(str(params["campaign_file"])).stem
    return f"campaign-{_slug(str(name or 'campaign'), 80)}"


@flow(
    name="campaign",
    flow_run_name=_campaign_run_name,
    description="Fan out create_video over a campaign's briefs × variants × platforms within a budget; "
    "ends with a campaign report artifact.",
    log_prints=True,
    validate_parameters=True,
    task_runner=ThreadPoolTaskRunner(max_workers=16),  # the submission window (max_concurrency) bounds it
)
def campaign(
    spec: CampaignSpec | None = None,
    campaign_file: str | None = None,
    base_dir: str | None = None,
) -> CampaignReport:
    """Make every video of a campaign; one failure never fails the others.

    Give exactly one of ``spec`` and ``campaign_file``.

    Args:
        spec: the campaign as an object (a deployment run takes it as JSON).
        campaign_file: path of a YAML/JSON campaign file on the machine running the flow
            (errors then name the file's lines; ``reelflow campaign run FILE`` validates it
            before starting the run).
        base_dir: folder that ``spec.briefs_file`` is relative to (default: working directory).

    Returns:
        The :class:`CampaignReport` (also as the ``campaign-<name>`` artifacts). The run's final
        state is ``Completed("N of M completed")`` when at least one video was made, else
        ``Failed`` with the same counts.

    Raises:
        InputError: the spec does not validate, or a path (``campaign_file``, ``base_dir``,
            ``spec.briefs_file``, ``spec.out_dir``) lies outside the worker's allowed roots
            (:mod:`core.paths`), before any video starts.
    """
    from reelflow.core.ledger import CostLedger
    from reelflow.core.models import CostEntry
    from reelflow.core.paths import confine
    from reelflow.flows.artifacts_ops import publish_campaign_report
    from reelflow.flows.runners import describe_runner

    logger = get_run_logger()
    settings = load_settings()
    if (spec is None) == (campaign_file is None):
        raise InputError("give exactly one of `spec` (a campaign object) and `campaign_file` (a path)")
    def check(path: Path, param: str) -> Path:
        return confine(path, param, settings, "read")  # type: ignore[return-value]

    if campaign_file is not None:
        loaded = load_campaign(check(Path(campaign_file), "campaign_file"), check_path=check)
    else:
        assert spec is not None
        base = confine(base_dir, "base_dir", settings, "read")
        loaded = validate_campaign(spec, source=f"campaign {spec.name}", base_dir=base, check_path=check)
    spec = loaded.spec
    run_id = flow_run.id
    out_root = confine(spec.out_dir, "spec.out_dir", settings, "write") or _default_out(settings, spec.name, run_id)
    out_root.mkdir(parents=True, exist_ok=True)
    ledger = CostLedger.from_settings(settings)

    rows: list[VideoOutcome] = []
    for item in loaded.invalid:
        rows.append(VideoOutcome(index=item.index, brief=item.brief_id, variant=item.variant, platform=item.platform,
                                 status="invalid", reason=item.error or "invalid brief"))
    todo = [i for i in loaded.items if not i.error]
    logger.info("campaign %s: %d videos to make, %d invalid briefs; budget %s; runner %s", spec.name, len(todo),
                len(rows), spec.budget_usd, describe_runner(settings))

    budget = spec.budget_usd
    spent = 0.0
    reserved: dict[int, float] = {}
    paid_stopped: str | None = None
    inflight: dict[Any, CampaignItem] = {}
    queue = list(todo)

    def admit(item: CampaignItem) -> str | None:
        """Return a refusal reason, or None when the item may be submitted."""
        nonlocal paid_stopped
        assert item.brief is not None
        est = estimate_video_cost(item.brief, settings)
        total = round(sum(est.values()), 4)
        if total <= 0:
            reserved[item.index] = 0.0
            return None
        paid = ", ".join(f"{k} ≈ {v:.4f} USD" for k, v in est.items())
        if budget is None:
            reserved[item.index] = total
            return None
        if budget == 0:
            return (f"budget_usd is 0, so only local providers may run; this video would use paid providers "
                    f"({paid}). Unset the provider keys or raise budget_usd.")
        if paid_stopped:
            return f"not submitted: paid work stopped after the budget was reached ({paid_stopped})"
        # The budget is shared with every concurrent run of this campaign (a reservation in the
        # cost ledger, atomic across processes), so two runs started at once never spend it twice.
        granted, remaining, pool_budget = ledger.reserve_budget(pool, f"{run_id}:{item.index}", total)
        if not granted:
            paid_stopped = (f"estimate {total:.4f} USD > remaining {max(remaining, 0):.4f} of {pool_budget:.2f} USD "
                            f"(shared by the runs of campaign {spec.name} in progress)")
            return f"budget: {paid_stopped} ({paid})"
        reserved[item.index] = total
        return None

    review_on = spec.review != "none"
    waiting: list[dict[str, Any]] = []  # child runs waiting for a reviewer (they do not take a slot)

    def submit_next() -> None:
        while queue and len(inflight) - min(len(waiting), REVIEW_WAITING_MAX) < spec.max_concurrency:
            item = queue.pop(0)
            reason = admit(item)
            if reason:
                rows.append(VideoOutcome(index=item.index, brief=item.brief_id, variant=item.variant,
                                         platform=item.platform, status="skipped", reason=reason))
                logger.warning("%s/%s skipped: %s", item.brief_id, item.variant, reason)
                continue
            assert item.brief is not None and item.brief.id
            folder = out_root / item.brief.id  # <brief>--<variant>[--<platform>]
            fut = render_video.submit(item, str(folder), spec.name, spec.review, spec.review_timeout)
            inflight[fut] = item

    pool = ledger.join_budget(spec.name, budget, str(run_id)) if budget else 0
    submit_next()
    while inflight:
        if review_on:
            # poll: publish the runs waiting for a review, and let waiting runs free their slot
            done = wait(list(inflight), timeout=REVIEW_POLL_S).done
            now_waiting = _waiting_children(run_id)
            if [w["flow_run_id"] for w in now_waiting] != [w["flow_run_id"] for w in waiting] or (
                    [w["key"] for w in now_waiting] != [w["key"] for w in waiting]):
                waiting = now_waiting
                publish_review_list(spec.name, waiting)
                submit_next()
            if not done:
                continue
            fut = next(iter(done))
        else:
            fut = next(as_completed(list(inflight)))
        item = inflight.pop(fut)
        est = reserved.pop(item.index, 0.0)
        try:
            outcome = fut.result()
        except Exception as exc:  # noqa: BLE001 - the task itself crashed: one failed video
            outcome = VideoOutcome(index=item.index, brief=item.brief_id, variant=item.variant,
                                   platform=item.platform, status="failed", reason=f"{type(exc).__name__}: {exc}"[:500])
        outcome = outcome.model_copy(update={"estimated_usd": est})
        # A video that failed may have paid for some parts first, and its costs are only known
        # when a video completes: the budget guard charges a failed one its estimate.
        charged = outcome.cost_usd if outcome.status == "completed" else max(outcome.cost_usd, est)
        spent += charged
        if pool and est > 0:
            ledger.settle_budget(pool, f"{run_id}:{item.index}", charged)
        if outcome.status == "completed" and outcome.flow_run_id:
            if not ledger.entries(flow_run_id=outcome.flow_run_id):
                for c in outcome.costs:
                    part = c.pop("part", "")
                    ledger.record(CostEntry(**c), outcome.flow_run_id, campaign=spec.name, campaign_run_id=run_id,
                                  brief_id=item.brief_id, variant=item.variant, part=part,
                                  key=f"{outcome.flow_run_id}:{part}:{c.get('provider')}")
        logger.info("%s/%s %s in %.1f s (%s)", item.brief_id, item.variant, outcome.status, outcome.seconds,
                    outcome.reason or outcome.output)
        rows.append(outcome)
        submit_next()

    if pool:
        ledger.leave_budget(pool, str(run_id))
    rows.sort(key=lambda r: r.index)
    counts = {s: sum(1 for r in rows if r.status == s)
              for s in ("completed", "failed", "invalid", "skipped", "cancelled")}
    total = len(rows)
    message = f"{counts['completed']} of {total} completed"
    extra = [f"{counts[s]} {s}" for s in ("failed", "invalid", "skipped", "cancelled") if counts[s]]
    if extra:
        message += " (" + ", ".join(extra) + ")"
    child_ids = [r.flow_run_id for r in rows if r.flow_run_id]
    ledger_total = ledger.summarise(flow_run_ids=child_ids)["total_usd"] if child_ids else None
    report = CampaignReport(
        name=spec.name, flow_run_id=run_id, total=total, cost_usd=round(sum(r.cost_usd for r in rows), 4),
        budget_usd=budget, out_dir=str(out_root), rows=rows, message=message, **counts,
    )
    from reelflow.core.storage import atomic_write_json

    # the JSON report first: an API error while publishing the artifact must not lose it
    atomic_write_json(out_root / "campaign-report.json", report.model_dump(mode="json"))
    publish_campaign_report(spec.name, _report_rows(rows), _summary_md(report, spec, describe_runner(settings), ledger_total))
    if review_on:
        publish_review_list(spec.name, [], rows)
    logger.info("campaign %s: %s", spec.name, message)
    if counts["completed"] == 0:
        return Failed(message=message, data=report)
    return Completed(message=message, data=report)


def campaign_for(spec: CampaignSpec, settings: Settings) -> Any:
    """The ``campaign`` flow with the configured task runner (threads sized to the campaign, or Dask).

    Raises:
        ConfigurationError: see :func:`flows.runners.make_task_runner`.
    """
    from reelflow.flows.runners import make_task_runner

    if settings.runner.task_runner.strip().lower() == "dask":
        return campaign.with_options(task_runner=make_task_runner(settings))
    # With review on, a video waiting for its reviewer holds its thread but not a slot of the
    # submission window: room for REVIEW_WAITING_MAX waiting videos besides the working ones.
    workers = spec.max_concurrency + (REVIEW_WAITING_MAX if spec.review != "none" else 0)
    return campaign.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))


def run_campaign_file(path: Path | str, settings: Settings | None = None) -> Any:
    """Validate ``path`` (before anything runs) and run the campaign in this process.

    Returns:
        The flow run's final Prefect state (``state.result()`` is the :class:`CampaignReport`).

    Raises:
        InputError: the campaign file is invalid (``file:line: field: problem``).
    """
    settings = settings or load_settings()
    loaded = load_campaign(path)
    flow_obj = campaign_for(loaded.spec, settings)
    return flow_obj(campaign_file=str(Path(path).resolve()), return_state=True)
