"""Retry policy on real Prefect task runs: a deterministic failure is tried once, a transient
one is retried (STYLE.md: a retry is for transient faults), for async and sync tasks alike."""

from __future__ import annotations

import asyncio

from prefect import flow, task

from reelflow.core.errors import InputError, ProcessingError
from reelflow.flows._policies import LOCAL_STEP_RETRY, REMOTE_STEP_RETRIES

CALLS: dict[str, int] = {}


@task(**{**REMOTE_STEP_RETRIES, "retry_delay_seconds": 0})
async def _remote_step(kind: str) -> None:
    CALLS[f"async-{kind}"] = CALLS.get(f"async-{kind}", 0) + 1
    raise (InputError if kind == "input" else ProcessingError)(f"{kind} failure")


@task(**LOCAL_STEP_RETRY)
def _local_step(kind: str) -> None:
    CALLS[f"sync-{kind}"] = CALLS.get(f"sync-{kind}", 0) + 1
    raise (InputError if kind == "input" else ProcessingError)(f"{kind} failure")


@flow
async def _run_all() -> dict[str, int]:
    for kind in ("input", "processing"):
        for step in (_remote_step, _local_step):
            try:
                if step is _remote_step:
                    await step(kind)
                else:
                    step(kind)
            except (InputError, ProcessingError):
                pass
    return dict(CALLS)


def test_deterministic_failures_are_tried_once_transient_ones_retried(prefect_harness):
    CALLS.clear()
    calls = asyncio.run(_run_all())
    assert calls["async-input"] == 1 and calls["sync-input"] == 1, calls  # never re-sent unchanged
    assert calls["async-processing"] == 3 and calls["sync-processing"] == 2, calls  # 1 + retries
