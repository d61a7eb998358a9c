"""``reelflow server``: one command starts the Prefect server and serves the deployments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from reelflow.deployments.local_server import free_port, is_healthy, stop_process

REPO = Path(__file__).resolve().parents[2]


def test_reelflow_server_starts_serves_and_stops(tmp_path: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "server-cli.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "reelflow"), "server", "--port", str(port), "--home", str(tmp_path / "ph"),
             "--only", "create_video", "--only", "campaign"],
            cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        names: set[str] = set()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and names != {"create_video/reelflow", "campaign/reelflow"}:
            assert proc.poll() is None, log.read_text()[-3000:]
            if is_healthy(api):
                r = httpx.post(f"{api}/deployments/filter", json={}, timeout=10)
                if r.status_code == 200:
                    flows = {f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}, timeout=10).json()}
                    names = {f"{flows.get(d['flow_id'])}/{d['name']}" for d in r.json()}
            time.sleep(1)
        assert names == {"create_video/reelflow", "campaign/reelflow"}, log.read_text()[-3000:]
        text = log.read_text()
        assert f"Prefect UI: http://127.0.0.1:{port}" in text
        campaign = httpx.get(f"{api}/deployments/name/campaign/reelflow", timeout=10).json()
        assert set(campaign["parameter_openapi_schema"]["properties"]) == {"spec", "campaign_file", "base_dir"}
        assert campaign["tags"] == ["reelflow", "campaign"] and campaign["version"]
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C stops both the serve loop and the server
        proc.wait(60)
        assert not is_healthy(api)
    finally:
        stop_process(proc)
