"""Cost ledger: every billable unit of work (:class:`core.models.CostEntry`) with its flow run.

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

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

import contextlib
import contextvars
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
CREATE TABLE IF NOT EXISTS budget_pools (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign      TEXT NOT NULL,             -- campaign name: concurrent runs of it share one pool
    budget_usd    REAL NOT NULL,
    opened_at     REAL NOT NULL,             -- unix time
    closed_at     REAL,                      -- set when the last run in it leaves
    runs          TEXT NOT NULL DEFAULT ''   -- space-separated campaign run ids still in it
);
CREATE TABLE IF NOT EXISTS budget_reservations (
    pool_id       INTEGER NOT NULL,
    item_key      TEXT NOT NULL,             -- <campaign run id>:<item index>
    reserved_usd  REAL NOT NULL,
    spent_usd     REAL,                      -- NULL while the video runs
    PRIMARY KEY (pool_id, item_key)
);
"""

#: A budget pool whose newest run joined longer ago than this is treated as closed (a crashed
#: campaign run never leaves it).
POOL_TTL_S = 24 * 3600.0


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
    def from_settings(cls, settings: Settings) -> CostLedger:
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
            if cur.rowcount == 1:
                return True
            # Already recorded (e.g. when it was paid, by :func:`record_paid`): fill in the
            # attribution known only now, never the amount.
            con.execute(
                "UPDATE cost_entries SET campaign = COALESCE(campaign, ?), campaign_run_id = COALESCE(campaign_run_id, ?),"
                " brief_id = COALESCE(brief_id, ?), variant = COALESCE(variant, ?), part = COALESCE(part, ?)"
                " WHERE dedupe_key = ?", (campaign, campaign_run_id, brief_id, variant, part, key))
            return False

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

    # -- shared campaign budget ---------------------------------------------------------------

    @contextlib.contextmanager
    def _write_txn(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, serialised across threads (lock) and processes (``BEGIN
        IMMEDIATE`` takes SQLite's write lock at once): committed when the block ends, rolled back
        when it raises; the connection is closed either way."""
        with self._lock:
            con = self._connect()
            try:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            finally:
                con.close()

    def join_budget(self, campaign: str, budget_usd: float, run_id: str) -> int:
        """Join (or open) the budget pool of ``campaign``; concurrent runs share one pool.

        Two runs of the same campaign started at once (two schedules, a manual run beside the
        scheduled one, two workers) reserve against ONE budget, so together they never spend
        more than ``budget_usd``. A pool closes when its last run leaves (:meth:`leave_budget`)
        or :data:`POOL_TTL_S` after its last join; the next run opens a fresh one.

        Returns:
            The pool id.
        """
        now = time.time()
        with self._write_txn() as con:
            row = con.execute(
                "SELECT id, runs FROM budget_pools WHERE campaign = ? AND closed_at IS NULL AND opened_at > ?"
                " ORDER BY id DESC LIMIT 1", (campaign, now - POOL_TTL_S)).fetchone()
            if row is None:
                cur = con.execute("INSERT INTO budget_pools (campaign, budget_usd, opened_at, runs) VALUES (?,?,?,?)",
                                  (campaign, float(budget_usd), now, run_id))
                pool = int(cur.lastrowid)
            else:
                pool = int(row["id"])
                runs = set(row["runs"].split()) | {run_id}
                con.execute("UPDATE budget_pools SET runs = ?, opened_at = ?, budget_usd = MIN(budget_usd, ?)"
                            " WHERE id = ?", (" ".join(sorted(runs)), now, float(budget_usd), pool))
        return pool

    def reserve_budget(self, pool_id: int, item_key: str, amount_usd: float) -> tuple[bool, float, float]:
        """Reserve ``amount_usd`` of the pool for one video, atomically across processes.

        Committed = reservations of running videos + what finished ones spent. A reservation is
        granted only when ``committed + amount ≤ budget``.

        Returns:
            ``(granted, remaining_before_usd, budget_usd)``.

        Raises:
            InputError: no pool ``pool_id`` (nothing is reserved).
        """
        with self._write_txn() as con:
            row = con.execute("SELECT budget_usd FROM budget_pools WHERE id = ?", (pool_id,)).fetchone()
            if row is None:
                raise InputError(f"budget pool {pool_id} does not exist in the cost ledger {self.path}",
                                 hint="reserve against the pool id that join_budget returned")
            budget = float(row[0])
            committed = float(con.execute(
                "SELECT COALESCE(SUM(COALESCE(spent_usd, reserved_usd)), 0) FROM budget_reservations"
                " WHERE pool_id = ? AND item_key != ?", (pool_id, item_key)).fetchone()[0])
            remaining = budget - committed
            granted = amount_usd <= remaining + 1e-9
            if granted:
                con.execute("INSERT OR REPLACE INTO budget_reservations (pool_id, item_key, reserved_usd, spent_usd)"
                            " VALUES (?,?,?,NULL)", (pool_id, item_key, float(amount_usd)))
        return granted, remaining, budget

    def settle_budget(self, pool_id: int, item_key: str, spent_usd: float) -> None:
        """Replace a video's reservation by what it actually spent (what a failed one is charged)."""
        with self._lock, self._connect() as con:
            con.execute("UPDATE budget_reservations SET spent_usd = ? WHERE pool_id = ? AND item_key = ?",
                        (float(spent_usd), pool_id, item_key))

    def budget_committed(self, pool_id: int) -> float:
        """USD reserved or spent in the pool so far."""
        with self._connect() as con:
            return float(con.execute("SELECT COALESCE(SUM(COALESCE(spent_usd, reserved_usd)), 0) FROM"
                                     " budget_reservations WHERE pool_id = ?", (pool_id,)).fetchone()[0])

    def leave_budget(self, pool_id: int, run_id: str) -> None:
        """A campaign run is done with the pool; the last one out closes it."""
        with self._write_txn() as con:
            row = con.execute("SELECT runs FROM budget_pools WHERE id = ?", (pool_id,)).fetchone()
            runs = set((row["runs"] if row else "").split()) - {run_id}
            con.execute("UPDATE budget_pools SET runs = ?, closed_at = ? WHERE id = ?",
                        (" ".join(sorted(runs)), None if runs else time.time(), pool_id))

    def export_jsonl(self, dest: Path | str, **filters: Any) -> Path:
        """Write the (filtered) rows as JSON lines to ``dest`` atomically; return ``dest``."""
        rows = self.entries(**filters)
        return atomic_write_text(dest, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


_PAID_SCOPE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("reelflow_paid_scope",
                                                                                     default=None)


@contextlib.contextmanager
def paid_scope(ledger_path: Path | str, flow_run_id: str | None, **attribution: Any) -> Iterator[None]:
    """Within this scope, :func:`record_paid` writes to the ledger at ``ledger_path`` for
    ``flow_run_id`` (a context variable: it follows asyncio tasks and Prefect task threads)."""
    token = _PAID_SCOPE.set({"path": str(ledger_path), "flow_run_id": flow_run_id, **attribution})
    try:
        yield
    finally:
        _PAID_SCOPE.reset(token)


def record_paid(entry: CostEntry, part: str) -> bool:
    """Record one paid call the moment it is paid (a crash later in the video keeps its cost).

    Called by the adapters right after a billed response. Needs a provider ``request_id`` (the
    dedupe key ``provider:request_id`` is the same one the end-of-run record uses, so the call is
    counted once) and an active :func:`paid_scope`; otherwise does nothing.

    Returns:
        True when a row was added.
    """
    scope = _PAID_SCOPE.get()
    if scope is None or not entry.request_id:
        return False
    attribution = {k: v for k, v in scope.items() if k not in ("path", "flow_run_id")}
    return CostLedger(scope["path"]).record(entry, scope["flow_run_id"], part=part, **attribution)


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
