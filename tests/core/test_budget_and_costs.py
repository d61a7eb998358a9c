"""Money across processes: a campaign budget shared by concurrent runs, paid calls recorded
when paid (once), S3 keys unique per run, and the Hume rate limit held by the Prefect server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reelflow.core.errors import InputError
from reelflow.core.ledger import CostLedger, paid_scope, record_paid
from reelflow.core.models import CostEntry
from reelflow.core.storage import run_key_prefix

REPO = Path(__file__).resolve().parents[2]

_RESERVER = textwrap.dedent("""
    import sys
    from reelflow.core.ledger import CostLedger
    ledger = CostLedger(sys.argv[1])
    pool = ledger.join_budget("spring-launch", 3.0, sys.argv[2])
    granted = sum(ledger.reserve_budget(pool, f"{sys.argv[2]}:{i}", 0.3)[0] for i in range(20))
    print(granted)
""")


def test_two_concurrent_campaign_runs_share_one_budget(tmp_path):
    db = tmp_path / "ledger.sqlite"
    CostLedger(db)  # schema
    procs = [subprocess.Popen([sys.executable, "-c", _RESERVER, str(db), f"run-{n}"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=REPO) for n in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-1500:] for o in outs]
    granted = [int(o[0]) for o in outs]
    ledger = CostLedger(db)
    pool = ledger.join_budget("spring-launch", 3.0, "run-x")
    assert sum(granted) == 10, granted  # 10 x 0.30 = the whole 3.00 budget, not 10 each
    assert ledger.budget_committed(pool) == pytest.approx(3.0)
    # a finished video settles to what it really spent; the freed amount can be reserved again
    # (a run's first reservation is granted whenever any of its are: the budget only fills up)
    first = f"run-{next(n for n, g in enumerate(granted) if g)}:0"
    ledger.settle_budget(pool, first, 0.1)
    assert ledger.reserve_budget(pool, "run-x:0", 0.2)[0]
    assert not ledger.reserve_budget(pool, "run-x:1", 0.05)[0]
    # when every run has left, the next run starts a fresh pool
    for run in ("run-0", "run-1", "run-x"):
        ledger.leave_budget(pool, run)
    assert ledger.join_budget("spring-launch", 3.0, "next-week") != pool


def test_failed_write_leaves_nothing_behind_and_the_ledger_writable(tmp_path):
    db = tmp_path / "ledger.sqlite"
    ledger = CostLedger(db)
    with pytest.raises(InputError, match="budget pool 999 does not exist"):
        ledger.reserve_budget(999, "run-a:0", 0.5)
    # the failed transaction was rolled back and its connection closed: a connection that will not
    # wait (as another process's) takes the write lock at once, and nothing of the failed one is there
    con = sqlite3.connect(db, timeout=0, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    assert con.execute("SELECT COUNT(*) FROM budget_reservations").fetchone()[0] == 0
    con.execute("ROLLBACK")
    con.close()
    pool = ledger.join_budget("spring-launch", 1.0, "run-b")
    assert ledger.reserve_budget(pool, "run-b:0", 0.5) == (True, 1.0, 1.0)
    assert not ledger.reserve_budget(pool, "run-b:1", 0.6)[0]


def test_paid_call_recorded_once_when_paid_then_attributed(tmp_path):
    db = tmp_path / "ledger.sqlite"
    entry = CostEntry(provider="runware", model="klingai:5@3", units=5, unit="seconds", cost_usd=0.14,
                      request_id="0b1f0c6e-1111-4222-8333-944455566677")
    assert record_paid(entry, "clips") is False  # no scope: nothing recorded
    with paid_scope(db, "flow-run-1"):
        assert record_paid(entry, "clips") is True
        assert record_paid(entry, "clips") is False  # a retried task reports it again: once
    ledger = CostLedger(db)
    rows = ledger.entries(flow_run_id="flow-run-1")
    assert len(rows) == 1 and rows[0]["cost_usd"] == pytest.approx(0.14) and rows[0]["brief_id"] is None
    # the end-of-video record of the same request adds nothing, only the brief it belongs to
    assert ledger.record(entry, "flow-run-1", brief_id="trail-shoe", part="clips") is False
    rows = ledger.entries(flow_run_id="flow-run-1")
    assert len(rows) == 1 and rows[0]["brief_id"] == "trail-shoe"


def test_s3_keys_are_unique_per_run():
    a = run_key_prefix("/out/campaigns/spring/trail--bold", "1111-aaaa")
    b = run_key_prefix("/out/campaigns/spring/trail--bold", "2222-bbbb")
    assert a != b and a.startswith("trail--bold/") and "/" not in a.split("/", 1)[1]


async def test_hume_rate_limit_is_a_server_side_global_limit(prefect_harness, test_settings):
    from prefect.client.orchestration import get_client
    from prefect.concurrency.asyncio import rate_limit

    from reelflow.flows._limits import HUME_LIMIT, ensure_rate_limit, provider_rate_slot

    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:  # slots Hume narration of earlier tests in this session holds
        try:
            await client.update_global_concurrency_limit(HUME_LIMIT, GlobalConcurrencyLimitUpdate(active_slots=0))
        except ObjectNotFound:
            pass
    slow = test_settings.model_copy(update={"hume": test_settings.hume.model_copy(update={"requests_per_minute": 6})})
    await provider_rate_slot("local-piper", slow)  # other providers: no limit, no API call
    t0 = time.perf_counter()
    for _ in range(6):
        await provider_rate_slot("hume", slow)
    assert time.perf_counter() - t0 < 10
    async with get_client() as client:
        gcl = await client.read_global_concurrency_limit_by_name(HUME_LIMIT)
    assert gcl.limit == 6 and gcl.slot_decay_per_second == pytest.approx(0.1)
    with pytest.raises(TimeoutError):  # the 7th request this minute waits (here: gives up after 1 s)
        await rate_limit(HUME_LIMIT, occupy=1, timeout_seconds=1, strict=True)
    await ensure_rate_limit(HUME_LIMIT, 100)  # back to the real limit for other tests
    async with get_client() as client:
        assert (await client.read_global_concurrency_limit_by_name(HUME_LIMIT)).limit == 100
