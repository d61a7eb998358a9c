"""Cost ledger (real SQLite, several threads), JSON-lines logging, runner factory, API-metrics artifact."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import threading
from pathlib import Path

import pytest

from reelflow.core.errors import ConfigurationError
from reelflow.core.ledger import CostLedger, entries_from_metadata
from reelflow.core.logging import JsonLinesFormatter, apply_log_settings, configure_json_logging, write_prefect_logging_config
from reelflow.core.models import CostEntry
from reelflow.core.settings import RunnerSettings, Settings


def test_ledger_records_sums_and_deduplicates(tmp_path: Path) -> None:
    ledger = CostLedger(tmp_path / "l" / "ledger.sqlite")
    hume = CostEntry(provider="hume", model="octave-2", units=420, unit="characters", cost_usd=0.1008, request_id="gen-1")
    assert ledger.record(hume, "run-a", campaign="c", campaign_run_id="camp-1", brief_id="b", variant="a", part="narration")
    assert not ledger.record(hume, "run-a")  # same request id in the same run: a retry, not new spend
    # a re-run that reuses the cached paid step reports the same request: billed once, not twice
    assert not ledger.record(hume, "run-b")
    assert ledger.record(hume.model_copy(update={"request_id": "gen-2"}), "run-b")  # run-b's own request
    clips = [CostEntry(provider="runware", model="klingai:5@3", units=5, unit="seconds", cost_usd=0.287,
                       request_id=f"task-{i}") for i in range(3)]
    assert ledger.record_many(clips, "run-a", campaign_run_id="camp-1") == 3
    ledger.record(CostEntry(provider="local-piper", units=300, unit="characters"), "run-a")

    s = ledger.summarise(flow_run_ids=["run-a"])
    assert s["entries"] == 5
    assert s["total_usd"] == pytest.approx(0.1008 + 3 * 0.287)
    assert s["per_provider"]["runware"] == {"usd": pytest.approx(0.861), "units": 15, "unit": "seconds", "entries": 3}
    assert s["per_provider"]["local-piper"]["usd"] == 0
    assert ledger.summarise(campaign_run_id="camp-1")["entries"] == 4
    assert ledger.summarise()["per_run"] == {"run-a": pytest.approx(0.9618), "run-b": pytest.approx(0.1008)}

    rows = [json.loads(line) for line in ledger.export_jsonl(tmp_path / "ledger.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and rows[0]["request_id"] == "gen-1" and rows[0]["part"] == "narration"


def test_ledger_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"

    def writer(n: int) -> None:
        own = CostLedger(path)  # separate connections, like separate processes
        for i in range(50):
            own.record(CostEntry(provider="runware", cost_usd=0.01, request_id=f"{n}-{i}"), f"run-{n}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert CostLedger(path).summarise()["entries"] == 200


def test_ledger_unwritable_path_is_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    from reelflow.core.errors import InputError

    with pytest.raises(InputError, match="cannot open the cost ledger"):
        CostLedger(blocker / "ledger.sqlite")


def test_entries_from_video_metadata() -> None:
    meta = {
        "costs": {"per_provider_usd": {"openai": 0.0021, "hume": 0.09, "local-footage": 0.0}, "total_usd": 0.0921},
        "provenance": {"providers": {"plan": {"provider": "openai", "model": "gpt-4o-mini"},
                                     "narration": ["hume"], "clips": ["local-footage"]}},
    }
    got = {(part, e.provider, e.model, e.cost_usd) for part, e in entries_from_metadata(meta)}
    assert got == {("plan", "openai", "gpt-4o-mini", 0.0021), ("narration", "hume", "", 0.09),
                   ("clips", "local-footage", "", 0.0)}
    assert entries_from_metadata({}) == []


def test_json_formatter_carries_prefect_run_ids(prefect_harness) -> None:
    from prefect import flow, get_run_logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())

    @flow(name="json-log-probe")
    def probe() -> str:
        from prefect.runtime import flow_run

        run_logger = get_run_logger()
        run_logger.logger.addHandler(handler)
        plain = logging.getLogger("reelflow.plain")
        plain.addHandler(handler)
        plain.setLevel(logging.INFO)
        try:
            run_logger.info("hello %s", "run", extra={"scene": 2})
            plain.info("from a plain logger")
        finally:
            run_logger.logger.removeHandler(handler)
            plain.removeHandler(handler)
        return flow_run.id

    run_id = probe()
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [x["message"] for x in lines] == ["hello run", "from a plain logger"]
    assert all(x["flow_run_id"] == run_id for x in lines)
    assert lines[0]["flow_name"] == "json-log-probe" and lines[0]["scene"] == 2 and lines[0]["level"] == "INFO"


def test_json_logging_config_for_prefect(tmp_path: Path) -> None:
    import yaml

    path = write_prefect_logging_config(tmp_path / "logging.yml")
    cfg = yaml.safe_load(path.read_text())
    assert cfg["handlers"]["console"]["formatter"] == "reelflow_json"
    assert cfg["formatters"]["reelflow_json"] == {"()": "reelflow.core.logging.JsonLinesFormatter"}
    logging.config.dictConfig({**cfg, "loggers": {}, "root": {"level": "INFO", "handlers": []}})  # it is a valid config
    env = {"REELFLOW_LOG_JSON": "true", "PREFECT_LOGGING_SETTINGS_PATH": str(path)}
    assert apply_log_settings(env) == path
    assert apply_log_settings({"REELFLOW_LOG_JSON": "no"}) is None

    stream = io.StringIO()
    h = configure_json_logging(stream=stream)
    try:
        logging.getLogger("x").warning("boom", exc_info=ValueError("bad"))
    finally:
        logging.getLogger().removeHandler(h)
    rec = json.loads(stream.getvalue().splitlines()[-1])
    assert rec["message"] == "boom" and "ValueError: bad" in rec["exc_info"]


def test_runner_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from reelflow.flows.runners import describe_runner, make_task_runner

    runner = make_task_runner(Settings(_env_file=None))
    assert isinstance(runner, ThreadPoolTaskRunner) and runner._max_workers == 2
    with pytest.raises(ConfigurationError, match="REELFLOW_RUNNER__TASK_RUNNER"):
        make_task_runner(RunnerSettings(task_runner="celery"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: None}):
        with pytest.raises(ConfigurationError, match="needs a running Prefect server"):
            make_task_runner(RunnerSettings(task_runner="dask"))
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        local = make_task_runner(RunnerSettings(task_runner="dask", dask_workers=3))
        remote = make_task_runner(RunnerSettings(task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 3
    import dask

    # the static ffmpeg segfaults under distributed's MALLOC_TRIM_THRESHOLD_ (see flows/runners.py)
    assert "MALLOC_TRIM_THRESHOLD_" not in dask.config.get("distributed.nanny.pre-spawn-environ")
    assert remote.address == "tcp://10.0.0.5:8786"
    assert describe_runner(RunnerSettings(task_runner="dask")) == "dask (local cluster, 2 worker processes)"


def test_api_metrics_artifact(prefect_harness) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from reelflow.clients._http import MetricsRecorder
    from reelflow.flows.artifacts_ops import api_metrics_rows, publish_api_metrics

    rec = MetricsRecorder()
    rec.record_call("hume", "tts", attempts=2, ok=True, latency_ms=850.0)
    rec.record_call("hume", "tts", attempts=1, ok=False, latency_ms=120.0, error="RateLimited")
    rec.record_call("runware", "video", attempts=1, ok=True, latency_ms=41000.0)
    rows = api_metrics_rows(rec.snapshot())
    assert rows[0]["service"] == "hume" and rows[0]["success_rate_pct"] == 50.0 and rows[0]["retries"] == 1
    assert rows[0]["errors"] == "RateLimited×1"
    assert api_metrics_rows([])[0]["service"] == "(none)"

    @flow(name="metrics-probe")
    async def probe() -> str:
        return await publish_api_metrics(rec.snapshot(), key="api-metrics-test")

    asyncio.run(probe())

    async def read():
        async with get_client() as c:
            return await c.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["api-metrics-test"])))

    arts = asyncio.run(read())
    assert arts and arts[0].type == "table" and "runware" in str(arts[0].data)
