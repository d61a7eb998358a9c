"""Smoke-sized run of ``bench/bench_load_flow_runs.py``: concurrent ``create_flow_run`` calls
against a real local Prefect server and a served deployment with a concurrency limit — every
run accepted, executed exactly once, none lost, never more than the limit at once.
(The 200-run figure comes from the bench script itself.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a server, a serve process and one subprocess per run (~1-2 min)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def test_concurrent_create_flow_run_none_lost_limit_held():
    from bench.bench_load_flow_runs import run

    out = run(runs=12, limit=3, work_s=0.3, timeout=400)
    assert out["accepted"] == 12 and out["create_errors"] == 0
    assert out["lost"] == 0 and out["failed"] == 0 and out["completed"] == 12
    assert out["distinct_runs_executed"] == 12 and out["probe_executions"] == 12  # each exactly once
    assert 1 <= out["max_concurrent"] <= 3
