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


# --- "outputs deleted → cache miss", on real cached Prefect task runs -----------------------------
from pathlib import Path  # noqa: E402

from reelflow.flows._policies import CACHED  # noqa: E402


@task(cache_policy=CACHED, persist_result=True)
def _write_output(work_dir: str) -> str:
    out = Path(work_dir) / "narration" / "scene-00.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"RIFF" + bytes(40))
    CALLS["write"] = CALLS.get("write", 0) + 1
    return str(out)


@flow
def _make(work_dir: str) -> str:
    Path(work_dir).mkdir(parents=True, exist_ok=True)  # as create_video does before its tasks
    return _write_output(work_dir)


def test_a_work_folder_made_again_at_the_same_path_misses_the_old_cache(prefect_harness, tmp_path):
    """A fresh checkout at the path of a deleted one was served the deleted checkout's cached narration
    (the folder existed again, so "folder present" held) and assembly found no WAV."""
    import shutil

    CALLS.clear()
    work = tmp_path / "work" / "83c013ac42d26c6a"
    first = _make(str(work))
    assert _make(str(work)) == first and CALLS["write"] == 1  # same folder: cached (crash-resume)
    shutil.rmtree(work)  # the checkout is deleted; a new one makes the folder again
    again = _make(str(work))
    assert CALLS["write"] == 2, "the result cached for the deleted folder was served"
    assert Path(again).is_file()
