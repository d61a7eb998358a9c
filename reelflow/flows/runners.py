"""Task runner factory: Prefect's thread pool (default) or Dask (local cluster or a scheduler).

``settings.runner``:

- ``task_runner="thread"`` (default) → ``ThreadPoolTaskRunner(max_workers=max_concurrency)``:
  tasks run in threads of the flow-run process (right for I/O-bound API calls and for ffmpeg,
  which runs in its own subprocess anyway).
- ``task_runner="dask"`` → ``prefect_dask.DaskTaskRunner``:
  - ``dask_address`` set (``tcp://scheduler:8786``): tasks go to an existing Dask cluster, so
    rendering/analysis fan out across machines (every worker needs this project installed and
    the same settings/environment; outputs must be on shared storage or S3);
  - ``dask_address`` unset: a temporary ``distributed.LocalCluster`` with ``dask_workers``
    single-threaded worker *processes* is started for the flow run and closed after it.

Dask needs a real Prefect API server (``PREFECT_API_URL``, e.g. from ``reelflow server``): the
worker processes report their task and subflow runs to it.

Environment: ``REELFLOW_RUNNER__TASK_RUNNER=dask``, ``REELFLOW_RUNNER__DASK_ADDRESS=tcp://host:8786``,
``REELFLOW_RUNNER__DASK_WORKERS=2``. Apply to a flow with :func:`with_runner`.

Source: Prefect task runners, https://docs.prefect.io/v3/develop/task-runners ; prefect-dask,
https://docs.prefect.io/integrations/prefect-dask .
"""

from __future__ import annotations

from typing import Any

from reelflow.core.errors import ConfigurationError
from reelflow.core.settings import RunnerSettings, Settings


def make_task_runner(settings: Settings | RunnerSettings) -> Any:
    """Return a fresh Prefect task runner for ``settings.runner``.

    Args:
        settings: full settings or just the ``runner`` section.

    Returns:
        ``ThreadPoolTaskRunner`` or ``prefect_dask.DaskTaskRunner`` (not started; Prefect starts
        it with the flow run).

    Raises:
        ConfigurationError: unknown ``task_runner`` value (names ``REELFLOW_RUNNER__TASK_RUNNER``),
            or ``dask`` chosen but ``prefect-dask`` is not installed, or ``dask`` chosen without a
            Prefect API server (``PREFECT_API_URL``) for the worker processes to report to.
    """
    runner = settings.runner if isinstance(settings, Settings) else settings
    kind = runner.task_runner.strip().lower()
    if kind in ("thread", "threads", "threadpool", "default"):
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=runner.max_concurrency)
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise ConfigurationError(
                "REELFLOW_RUNNER__TASK_RUNNER=dask but prefect-dask is not installed",
                hint="pip install 'prefect-dask>=0.3,<0.4'",
            ) from exc
        _require_api_server()
        _scrub_nanny_environ()
        if runner.dask_address:
            return DaskTaskRunner(address=runner.dask_address)
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": runner.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
                "host": "127.0.0.1",
            },
        )
    raise ConfigurationError(
        f"REELFLOW_RUNNER__TASK_RUNNER={runner.task_runner!r} is not a known task runner",
        hint='use "thread" (default) or "dask"',
    )


def _scrub_nanny_environ() -> None:
    """Stop Dask's nanny from giving worker processes ``MALLOC_TRIM_THRESHOLD_``.

    distributed sets ``MALLOC_TRIM_THRESHOLD_=65536`` in every worker's environment
    (``distributed.nanny.pre-spawn-environ``); ffmpeg subprocesses inherit it and the bundled
    static ffmpeg then segfaults (exit -11) on some Ken Burns filter graphs — reproduced here
    with the same command outside Dask. Workers of an existing cluster (``dask_address``) must
    be started without that variable too.
    """
    import dask
    import distributed  # noqa: F401 - loads distributed's config defaults

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    if "MALLOC_TRIM_THRESHOLD_" in env:
        env.pop("MALLOC_TRIM_THRESHOLD_")
        dask.config.set({"distributed.nanny.pre-spawn-environ": env})


def _require_api_server() -> None:
    """Dask workers are separate processes: they must reach a real Prefect API server.

    Without ``PREFECT_API_URL`` each worker would try to start its own ephemeral server against
    the same database and time out (measured here).
    """
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise ConfigurationError(
            "the Dask task runner needs a running Prefect server, but PREFECT_API_URL is not set",
            hint="start one with `reelflow server` (or `prefect server start`) and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api",
        )


def with_runner(flow_obj: Any, settings: Settings) -> Any:
    """``flow_obj.with_options(task_runner=make_task_runner(settings))``."""
    return flow_obj.with_options(task_runner=make_task_runner(settings))


def describe_runner(settings: Settings | RunnerSettings) -> str:
    """One-line human description of the configured runner (for logs and reports)."""
    runner = settings.runner if isinstance(settings, Settings) else settings
    if runner.task_runner.strip().lower() == "dask":
        where = runner.dask_address or f"local cluster, {runner.dask_workers} worker processes"
        return f"dask ({where})"
    return f"thread pool ({runner.max_concurrency} workers)"
