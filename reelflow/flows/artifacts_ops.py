"""Operations artifacts: per-service API metrics, cost summaries and the campaign report.

All helpers must be called inside a flow or task run (Prefect attaches the artifact to it).
Keys are lowercase letters, digits and dashes (Prefect's rule), stable per subject so the UI's
Artifacts page shows each subject's history.
"""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import acreate_table_artifact, create_markdown_artifact, create_table_artifact


def _key(*parts: str) -> str:
    key = re.sub(r"[^a-z0-9-]+", "-", "-".join(p for p in parts if p).lower()).strip("-")
    return key[:100] or "reelflow"


def api_metrics_rows(snapshot: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows for :meth:`clients._http.MetricsRecorder.snapshot` output.

    Each row: service, calls, success rate (%), retries, HTTP requests/errors, latency p50/p95/max
    (ms), and errors as ``Class×n`` text. Empty snapshot → one row saying no remote calls were made.
    """
    if not snapshot:
        return [{"service": "(none)", "calls": 0, "success_rate_pct": None, "retries": 0, "http_requests": 0,
                 "http_errors": 0, "latency_ms_p50": None, "latency_ms_p95": None, "latency_ms_max": None,
                 "errors": "no remote API calls (embedded local providers)"}]
    rows = []
    for s in snapshot:
        rate = s.get("success_rate")
        rows.append({
            "service": s.get("service"),
            "calls": s.get("calls", 0),
            "success_rate_pct": None if rate is None else round(100 * rate, 1),
            "retries": s.get("retries", 0),
            "http_requests": s.get("http_requests", 0),
            "http_errors": s.get("http_errors", 0),
            "latency_ms_p50": s.get("latency_ms_p50"),
            "latency_ms_p95": s.get("latency_ms_p95"),
            "latency_ms_max": s.get("latency_ms_max"),
            "errors": ", ".join(f"{k}×{v}" for k, v in (s.get("errors") or {}).items()),
        })
    return rows


async def publish_api_metrics(snapshot: list[dict[str, Any]], key: str = "api-metrics") -> str:
    """Create the "API response times and success rates" table artifact for the current run.

    Args:
        snapshot: ``clients._http.METRICS.snapshot()`` (one dict per service).
        key: artifact key (lowercase, digits, dashes).

    Returns:
        The artifact id (str).
    """
    artifact_id = await acreate_table_artifact(
        key=_key(key),
        table=api_metrics_rows(snapshot),
        description="Per-service API latency (ms, per logical call incl. retries) and success rate for this run.",
    )
    return str(artifact_id)


def publish_api_metrics_sync(snapshot: list[dict[str, Any]], key: str = "api-metrics") -> str:
    """Synchronous twin of :func:`publish_api_metrics` for sync flows/tasks."""
    return str(create_table_artifact(key=_key(key), table=api_metrics_rows(snapshot),
                                     description="Per-service API latency and success rate for this run."))


async def publish_cost_summary(summary: dict[str, Any], key: str = "cost-summary") -> str:
    """Table artifact of a :meth:`core.ledger.CostLedger.summarise` result (per provider)."""
    rows = [
        {"provider": p, "entries": v["entries"], "units": round(v["units"], 3), "unit": v["unit"], "usd": v["usd"]}
        for p, v in sorted(summary.get("per_provider", {}).items())
    ] or [{"provider": "(none)", "entries": 0, "units": 0, "unit": "", "usd": 0.0}]
    rows.append({"provider": "TOTAL", "entries": summary.get("entries", 0), "units": None, "unit": "",
                 "usd": summary.get("total_usd", 0.0)})
    return str(await acreate_table_artifact(key=_key(key), table=rows, description="Cost ledger summary (USD)."))


def publish_campaign_report(
    name: str, rows: list[dict[str, Any]], summary_md: str
) -> tuple[str, str]:
    """Create the campaign report: a table artifact (one row per video) and a markdown summary.

    Synchronous (the ``campaign`` flow is a sync flow).

    Args:
        name: campaign name (keys become ``campaign-<name>`` and ``campaign-<name>-summary``).
        rows: one dict per video (brief, variant, status, duration, cost, providers, output, thumbnail).
        summary_md: markdown headline (counts, budget, why anything was not made).

    Returns:
        ``(table artifact id, markdown artifact id)``.
    """
    table_id = create_table_artifact(
        key=_key("campaign", name),
        table=rows,
        description=f"Campaign {name}: one row per video (brief × variant × platform).",
    )
    md_id = create_markdown_artifact(key=_key("campaign", name, "summary"), markdown=summary_md,
                                     description=f"Campaign {name} summary.")
    return str(table_id), str(md_id)
