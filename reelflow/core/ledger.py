"""Cost ledger: every billable unit of work (:class:`core.models.CostEntry`) with its flow run.

One SQLite file (default ``<settings.cache>/ledger.sqlite``, WAL mode so several processes —
Prefect's serve process, Dask workers — can append at once). Each row is one ``CostEntry`` plus
who spent it: ``flow_run_id``, optionally the ``campaign`` (and its run id), ``brief_id`` and
``variant``. Local providers are recorded too, at 0 USD, so the ledger also says which provider
made each part.

Idempotence: an entry with a ``request_id`` is recorded at most once per flow run (a retried
Prefect task that re-records the same remote job does not double-count). Entries without one
are recorded as given; pass ``key=`` to deduplicate them.

Export: :meth:`CostLedger.export_jsonl` writes the rows as JSON lines (e.g. to publish next to
the outputs in S3). Schema in :data:`SCHEMA`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reelflow.core.errors import InputError
from reelflow.core.models import CostEntry
from reelflow.core.storage import atomic_write_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS cost_entries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at   TEXT NOT NULL,             -- ISO 8601 UTC
    flow_run_id   TEXT NOT NULL,             -- Prefect flow run that spent it ('local' outside Prefect)
    campaign      TEXT,                      -- campaign name, when part of one
    campaign_run_id TEXT,                    -- the campaign's flow run id
    brief_id      TEXT,
    variant       TEXT,
    part          TEXT,                      -- plan | narration | clips | music | ...
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL DEFAULT '',
    units         REAL NOT NULL DEFAULT 0,   -- characters, seconds of video, tokens ...
    unit          TEXT NOT NULL DEFAULT '',
    cost_usd      REAL NOT NULL DEFAULT 0,
    request_id    TEXT,
    dedupe_key    TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS ix_cost_run ON cost_entries(flow_run_id);
CREATE INDEX IF NOT EXISTS ix_cost_campaign ON cost_entries(campaign_run_id);
"""


class CostLedger:
    """Append-only cost ledger in SQLite.

    Args:
        path: SQLite file (its folder is created).

    Raises:
        InputError: the ledger file cannot be created/opened (names the path).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(
                f"cannot open the cost ledger {self.path}: {exc}",
                hint="point REELFLOW_PATHS__CACHE_DIR at a writable folder",
            ) from exc

    @classmethod
    def from_settings(cls, settings: Any) -> CostLedger:
        """The ledger at ``<settings.cache>/ledger.sqlite``."""
        return cls(Path(settings.cache) / "ledger.sqlite")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA busy_timeout=30000")
        con.row_factory = sqlite3.Row
        return con

    def record(
        self,
        entry: CostEntry,
        flow_run_id: str | None,
        *,
        campaign: str | None = None,
        campaign_run_id: str | None = None,
        brief_id: str | None = None,
        variant: str | None = None,
        part: str | None = None,
        key: str | None = None,
    ) -> bool:
        """Record one cost entry for ``flow_run_id``.

        Args:
            entry: provider, model, units, unit, cost (USD), request id.
            flow_run_id: the Prefect flow run that spent it (None → ``"local"``).
            campaign, campaign_run_id, brief_id, variant, part: optional attribution.
            key: deduplication key (default: ``provider:request_id`` when the entry has a request
                id, so one paid request is recorded once across runs; else unique).

        Returns:
            True when a row was added, False when it was a duplicate.
        """
        run = flow_run_id or "local"
        if key is None:
            # A provider's request id is billed once, whichever run reports it (a re-run that
            # reuses a cached paid step reports the same request again).
            key = f"{entry.provider}:{entry.request_id}" if entry.request_id else uuid.uuid4().hex
        row = (
            datetime.now(UTC).isoformat(), run, campaign, campaign_run_id, brief_id, variant, part,
            entry.provider, entry.model, float(entry.units), entry.unit, float(entry.cost_usd),
            entry.request_id, key,
        )
        with self._lock, self._connect() as con:
            cur = con.execute(
                "INSERT OR IGNORE INTO cost_entries (recorded_at, flow_run_id, campaign, campaign_run_id, brief_id,"
                " variant, part, provider, model, units, unit, cost_usd, request_id, dedupe_key)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )
            return cur.rowcount == 1

    def record_many(self, entries: Iterable[CostEntry], flow_run_id: str | None, **attribution: Any) -> int:
        """Record several entries with the same attribution; returns how many rows were added."""
        return sum(self.record(e, flow_run_id, **attribution) for e in entries)

    def entries(
        self, *, flow_run_id: str | None = None, campaign_run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows as dicts (oldest first), optionally for one flow run or one campaign run."""
        sql, args = "SELECT * FROM cost_entries", []
        where = []
        if flow_run_id:
            where.append("flow_run_id = ?")
            args.append(flow_run_id)
        if campaign_run_id:
            where.append("campaign_run_id = ?")
            args.append(campaign_run_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._connect() as con:
            return [dict(r) for r in con.execute(sql + " ORDER BY id", args)]

    def summarise(
        self,
        *,
        flow_run_ids: Iterable[str] | None = None,
        campaign_run_id: str | None = None,
    ) -> dict[str, Any]:
        """Totals in USD: overall, per provider, per flow run.

        Args:
            flow_run_ids: restrict to these runs (e.g. a campaign's child runs).
            campaign_run_id: restrict to rows attributed to this campaign run.

        Returns:
            ``{"total_usd": float, "entries": int, "per_provider": {provider: {"usd", "units", "unit",
            "entries"}}, "per_run": {flow_run_id: usd}}``.
        """
        rows = self.entries(campaign_run_id=campaign_run_id)
        if flow_run_ids is not None:
            wanted = set(flow_run_ids)
            rows = [r for r in rows if r["flow_run_id"] in wanted]
        per_provider: dict[str, dict[str, Any]] = {}
        per_run: dict[str, float] = {}
        for r in rows:
            p = per_provider.setdefault(r["provider"], {"usd": 0.0, "units": 0.0, "unit": r["unit"], "entries": 0})
            p["usd"] += r["cost_usd"]
            p["units"] += r["units"]
            p["entries"] += 1
            per_run[r["flow_run_id"]] = per_run.get(r["flow_run_id"], 0.0) + r["cost_usd"]
        for p in per_provider.values():
            p["usd"] = round(p["usd"], 6)
        return {
            "total_usd": round(sum(r["cost_usd"] for r in rows), 6),
            "entries": len(rows),
            "per_provider": per_provider,
            "per_run": {k: round(v, 6) for k, v in per_run.items()},
        }

    def export_jsonl(self, dest: Path | str, **filters: Any) -> Path:
        """Write the (filtered) rows as JSON lines to ``dest`` atomically; return ``dest``."""
        rows = self.entries(**filters)
        return atomic_write_text(dest, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def entries_from_metadata(metadata: dict[str, Any]) -> list[tuple[str, CostEntry]]:
    """``(part, CostEntry)`` pairs from a video's ``metadata.json`` (``costs`` + ``provenance``).

    Used when a finished video is accounted for after the fact (e.g. by the campaign): one entry
    per provider and part, with the provider's USD total. Returns ``[]`` when the metadata has
    no ``costs`` section.
    """
    costs = (metadata or {}).get("costs") or {}
    per = costs.get("per_provider_usd") or {}
    prov = ((metadata or {}).get("provenance") or {}).get("providers") or {}
    part_of: dict[str, str] = {}
    for part, value in prov.items():
        names = [value["provider"]] if isinstance(value, dict) and "provider" in value else (
            value if isinstance(value, list) else [value]
        )
        for name in names:
            part_of.setdefault(str(name), part)
    out = []
    for provider, usd in per.items():
        model = ""
        if isinstance(prov.get("plan"), dict) and prov["plan"].get("provider") == provider:
            model = prov["plan"].get("model", "")
        out.append((part_of.get(provider, ""), CostEntry(provider=provider, model=model, cost_usd=float(usd))))
    return out
