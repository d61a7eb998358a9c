"""Task policies shared by the flows: when to retry, how results are cached, when a cache is stale.

- Retries (STYLE.md: a retry is for transient faults): :func:`retry_unless_permanent` retries a
  failed task run unless its exception says ``retryable = False`` (bad input, configuration,
  auth, credits; see :mod:`reelflow.core.errors` and :mod:`reelflow.clients.errors`). The
  decorator settings used by several tasks are :data:`REMOTE_STEP_RETRIES` (a step that calls a
  paid/remote service), :data:`LOCAL_STEP_RETRY` (one more try of a local step) and
  :data:`SERVICE_RETRIES` (catalogue ingest and index publishing); pass them as
  ``@task(..., **REMOTE_STEP_RETRIES)``.
- Caching: :data:`CACHED` is ``INPUTS + TASK_SOURCE`` plus the "outputs present" rule on the
  task's ``work_dir``; tasks that wrap a processor add :func:`reelflow.flows._cache.code_version`.
- "Outputs deleted → cache miss": :func:`outputs_present` (a cache-key part that is stable only
  while the ``work_dir`` folder exists) and :func:`refresh_if_missing` (a task that recomputes
  and re-caches when its marker file is gone).

Sources: Prefect 3 docs, "Configure task caching" (cache policies, ``CacheKeyFnPolicy``,
``refresh_cache``) and "Retries" (``retry_condition_fn``).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from prefect.cache_policies import INPUTS, TASK_SOURCE, CacheKeyFnPolicy
from prefect.context import TaskRunContext


def retry_unless_permanent(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry unless the failure is permanent.

    Returns:
        False when the failed state's exception has ``retryable`` False (a ReelFlow or client
        error that re-sending unchanged cannot fix); True otherwise (including exceptions that
        carry no ``retryable`` attribute, i.e. unexpected local faults).
    """
    try:
        # _sync: State.result is async-dispatched; called from an async task's engine without it,
        # it returns an un-awaited coroutine (nothing raised), and every failure looked transient
        outcome = state.result(raise_on_failure=False, _sync=True)
    except Exception as exc:  # noqa: BLE001 - we classify, not swallow
        outcome = exc
    if isinstance(outcome, BaseException):
        return bool(getattr(outcome, "retryable", True))
    return True


#: A step that calls a remote (possibly paid) service: two more tries, 2 s apart, transient only.
#: Remote clients retry transport errors/429/5xx themselves; this re-runs the whole step on top.
REMOTE_STEP_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": 2,
    "retry_condition_fn": retry_unless_permanent,
}
#: A local step: one more try, at once, transient only.
LOCAL_STEP_RETRY: dict[str, Any] = {"retries": 1, "retry_condition_fn": retry_unless_permanent}
#: Catalogue ingest (Spotify) and index publishing (S3): two more tries, 5 s apart, transient only.
SERVICE_RETRIES: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": 5,
    "retry_condition_fn": retry_unless_permanent,
}


#: File holding a work folder's instance id (random, written once when the folder is first used).
WORK_ID_FILE = ".reelflow-work-id"


def work_dir_id(work_dir: Path | str) -> str:
    """The instance id of ``work_dir``: read from :data:`WORK_ID_FILE`, or created there once.

    A folder deleted and made again (a new checkout at the same path, a cleaned cache) gets a new
    id, so results cached for the old folder's files miss. Created atomically (a complete temp
    file hard-linked into place), so concurrent tasks agree on one id.

    Raises:
        OSError: the folder cannot be written.
    """
    marker = Path(work_dir) / WORK_ID_FILE
    try:
        return marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    tmp = marker.with_name(f".{WORK_ID_FILE}.{uuid.uuid4().hex}")
    tmp.write_text(uuid.uuid4().hex, encoding="utf-8")
    try:
        os.link(tmp, marker)  # fails if another task published first: theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return marker.read_text(encoding="utf-8").strip()


def outputs_present(token: str = "work-dir-present") -> CacheKeyFnPolicy:
    """Cache-key part that is stable only while the task's ``work_dir`` input is the same folder.

    Args:
        token: the key part's prefix (each flow keeps its own).

    Returns:
        A ``CacheKeyFnPolicy`` whose key is ``token`` plus the folder's instance id
        (:func:`work_dir_id`) while ``inputs["work_dir"]`` is a folder, else a fresh random
        string. Either way a cached result never points at deleted files: a missing folder, or
        one deleted and made again at the same path (the flow creates it before its tasks run;
        measured: a fresh clone at the path of a deleted one was served the old clone's cached
        narration, and assembly found no WAV), is a miss.
    """

    def key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
        work_dir = inputs.get("work_dir")
        if work_dir and Path(work_dir).is_dir():
            try:
                return f"{token}:{work_dir_id(work_dir)}"
            except OSError:
                return uuid.uuid4().hex
        return uuid.uuid4().hex

    return CacheKeyFnPolicy(cache_key_fn=key)


#: Work-folder steps of ``create_video``: same inputs and task code, and the work folder still there.
CACHED = INPUTS + TASK_SOURCE + outputs_present()


def refresh_if_missing(task: Any, marker: Path) -> Any:
    """``task``, or a copy that recomputes and re-caches (``refresh_cache=True``) when ``marker`` is gone.

    Args:
        task: a Prefect task.
        marker: the file whose presence means the task's outputs are on disk.
    """
    return task if marker.exists() else task.with_options(refresh_cache=True)
