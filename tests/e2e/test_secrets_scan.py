"""Secrets never leave the process: a video, a campaign and a song-index build run with every
remote provider (the emulators on real loopback HTTP, some faults on) and known fake keys; then
every output file, log line (Python logging and the Prefect API's run logs), artifact, ledger
(cost ledger, Runware job ledger) and cache file is searched for each key: 0 hits.

Also checks that ``metadata.json`` carries no absolute worker path (the music bed is relative to
the assets folder)."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_CACHE
from tests.emulators import EmulatorServer, base_urls, combined_app
from tests.emulators.spotify_app import _b62

pytestmark = pytest.mark.slow  # two short videos with remote providers (~2-3 min)

RUN = uuid.uuid4().hex[:10]
KEYS = {
    "OPENAI_API_KEY": f"sk-scan-openai-{RUN}",
    "HUME_API_KEY": f"scan-hume-{RUN}",
    "RUNWARE_API_KEY": f"scan-runware-{RUN}",
    "SPOTIFY_CLIENT_ID": "scan-spotify-id",
    "SPOTIFY_CLIENT_SECRET": f"scan-spotify-secret-{RUN}",
}
SECRETS = [KEYS["OPENAI_API_KEY"], KEYS["HUME_API_KEY"], KEYS["RUNWARE_API_KEY"], KEYS["SPOTIFY_CLIENT_SECRET"]]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _scan_bytes(data: bytes) -> list[str]:
    return [s for s in SECRETS if s.encode() in data]


def _scan_tree(root: Path) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            try:
                found = _scan_bytes(p.read_bytes())
            except OSError:
                continue
            if found:
                hits[str(p)] = found
    return hits


@pytest.fixture
def scan_env(monkeypatch, tmp_path):
    app = combined_app(KEYS)
    with EmulatorServer(app) as server:
        env = {**KEYS, **base_urls(server.url),
               "REELFLOW_MEDIA_HOSTS": "127.0.0.1", "REELFLOW_ALLOW_PRIVATE_MEDIA": "true",
               "REELFLOW_PATHS__CACHE_DIR": str(TEST_CACHE),
               "REELFLOW_PATHS__OUTPUTS_DIR": str(tmp_path / "outputs"),
               "REELFLOW_SERVICE_BACKOFF_MAX_S": "1", "REELFLOW_SERVICE_DEADLINE_S": "60",
               "REELFLOW_SERVICE_MAX_ATTEMPTS": "12", "REELFLOW_RUNWARE_POLL_INITIAL_S": "0.2",
               "REELFLOW_RUNWARE_JOB_DEADLINE_S": "5", "HUME_VOICE": "Ava Song"}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        # some faults: error paths (429 bodies, 5xx, failed jobs) must not leak either
        httpx.post(f"{server.url}/__emulator__/faults",
                   json={"p_5xx": 0.1, "p_429": 0.1, "seed": 5, "retry_after_s": 1}).raise_for_status()
        yield server.url


async def test_no_secret_in_outputs_logs_artifacts_ledgers_or_caches(scan_env, prefect_harness, tmp_path):
    from prefect.client.orchestration import get_client

    from reelflow.core.campaigns import CampaignSpec
    from reelflow.core.models import Brief
    from reelflow.flows.campaign import campaign
    from reelflow.flows.create_video import create_video
    from reelflow.flows.index_songs import index_songs

    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        brief = Brief(text=f"Vertical teaser for Ridgeline, a recycled trail shoe: grip on wet rock, 30% lighter, run {RUN}",
                      duration_s=6, platform="tiktok")
        video = await create_video(brief, str(tmp_path / "outputs" / "video"))
        spec = CampaignSpec(name=f"scan-{RUN}", briefs=[{"text": f"Square ad for Harbor Café cold brew: steeped for 18 hours, never bitter, run {RUN}",
                                                         "duration_s": 10, "aspect": "1:1"}],
                            out_dir=str(tmp_path / "outputs" / "campaign"))
        report_state = await _run_sync(lambda: campaign(spec=spec, return_state=True))
        csv = tmp_path / "outputs" / "cat.csv"
        src = (Path(__file__).resolve().parents[2] / "reelflow" / "assets" / "catalogue" / "spotify_songs.csv")
        csv.write_text("\n".join(src.read_text(encoding="utf-8").splitlines()[:40]) + "\n", encoding="utf-8")
        summary = await _run_sync(lambda: index_songs(catalogue=str(csv), spotify_playlists=[_b62("playlist:small")],
                                                      index_dir=str(tmp_path / "outputs" / "index"), cluster=False))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert Path(video.video).is_file()
    assert report_state.is_completed(), report_state.message
    assert summary["count"] > 0

    async with get_client() as client:
        artifacts = await client.read_artifacts()
        logs = await client.read_logs()
    artifact_text = json.dumps([a.model_dump(mode="json") for a in artifacts])
    prefect_log_text = "\n".join(entry.message for entry in logs)
    hits = {
        "python log lines": _scan_bytes("\n".join(handler.lines).encode()),
        "prefect run logs": _scan_bytes(prefect_log_text.encode()),
        "artifacts": _scan_bytes(artifact_text.encode()),
        **{f"file {k}": v for k, v in _scan_tree(tmp_path / "outputs").items()},
        **{f"cache {k}": v for k, v in _scan_tree(TEST_CACHE).items() if "models" not in k},
    }
    import os

    prefect_home = Path(os.environ.get("PREFECT_HOME", ""))
    if prefect_home.is_dir():
        hits.update({f"prefect {k}": v for k, v in _scan_tree(prefect_home).items()})
    hits = {k: v for k, v in hits.items() if v}
    scanned = len(handler.lines) + len(logs) + len(artifacts)
    print(f"\nsecret scan: {len(SECRETS)} keys, {scanned} log lines/artifacts, "
          f"{sum(1 for p in (tmp_path / 'outputs').rglob('*') if p.is_file())} output files, "
          f"cache {TEST_CACHE}: {len(hits)} hits")
    assert hits == {}
    assert len(handler.lines) > 20 and len(artifacts) >= 3 and len(logs) > 10  # the scan saw real material

    meta = json.loads(Path(video.metadata).read_text(encoding="utf-8"))
    assert not Path(meta["music"]["bed"]["path"]).is_absolute()
    assert str(TEST_CACHE) not in json.dumps(meta) and str(tmp_path) not in json.dumps(meta)


async def _run_sync(fn):
    import asyncio

    return await asyncio.to_thread(fn)
