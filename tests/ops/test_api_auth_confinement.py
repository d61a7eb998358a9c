"""The Prefect API behind basic auth, and deployment parameters confined to the worker's roots.

A real ``prefect server start`` with ``PREFECT_SERVER_API_AUTH_STRING`` and a real ``serve``
process (``analyze-library``, the cheapest deployment to run end to end):

- REST without credentials: 401; with them: the deployment is found and a run is created;
- the frozen ``out_dir`` parameter: any value but null is refused by the API (409);
- a ``paths`` value outside the worker's roots: the run is refused by the flow, naming ``paths``,
  and nothing is written; a path inside the roots completes;
- ``reelflow trigger ... --wait`` with ``PREFECT_API_AUTH_STRING`` set: exit 0; without: non-zero.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reelflow.deployments.local_server import start_server, stop_process

pytestmark = pytest.mark.slow  # a real server + serve process (~1 min)

REPO = Path(__file__).resolve().parents[2]
AUTH = "reelflow-ops:test-auth-7d1f"


def _wait_final(http: httpx.Client, run_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        r = http.get(f"/flow_runs/{run_id}")
        if r.status_code == 503:  # the server's database busy: ask again
            time.sleep(1)
            continue
        state = r.json()["state"]
        if state["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return state
        time.sleep(1)
    return state


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, test_settings):
    home = tmp_path_factory.mktemp("prefect-auth-home")
    old = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    os.environ["PREFECT_SERVER_API_AUTH_STRING"] = AUTH
    try:
        server = start_server(home, port=None, timeout_s=180)
    finally:
        if old is None:
            os.environ.pop("PREFECT_SERVER_API_AUTH_STRING", None)
        else:
            os.environ["PREFECT_SERVER_API_AUTH_STRING"] = old
    media = tmp_path_factory.mktemp("media-root")
    shutil.copy(REPO / "reelflow" / "assets" / "footage" / "images" / "coffee.png", media / "coffee.png")
    outside = tmp_path_factory.mktemp("outside-root")
    shutil.copy(REPO / "reelflow" / "assets" / "footage" / "images" / "brick.png", outside / "brick.png")
    outputs = tmp_path_factory.mktemp("auth-outputs")
    env = dict(server.env)
    env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
    env.update({
        "PREFECT_API_AUTH_STRING": AUTH,
        "REELFLOW_PATHS__CACHE_DIR": str(test_settings.paths.cache_dir),
        "REELFLOW_PATHS__OUTPUTS_DIR": str(outputs),
        "REELFLOW_PATHS__ALLOWED_ROOTS": str(media),  # the worker's explicit allow-list (not /tmp at large)
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PYTHONPATH": str(REPO),
    })
    log_path = home / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, str(REPO / "reelflow" / "deployments" / "serve.py"),
                                 "--only", "analyze_library"],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield {"api": server.api_url, "env": env, "media": media, "outside": outside, "outputs": outputs,
               "log": log_path, "proc": proc}
    finally:
        stop_process(proc)
        server.stop()


def _deployment(http: httpx.Client, ctx: dict) -> dict:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        r = http.get("/deployments/name/analyze-library/reelflow")
        if r.status_code == 200:
            return r.json()
        assert ctx["proc"].poll() is None, ctx["log"].read_text()[-3000:]
        time.sleep(1)
    raise AssertionError(f"deployment never registered:\n{ctx['log'].read_text()[-3000:]}")


def _create_run(http: httpx.Client, dep_id: str, parameters: dict) -> httpx.Response:
    """``POST /deployments/{id}/create_flow_run``, asked again while the server answers 503 (its SQLite
    database busy on a loaded machine: a transient answer, not the one under test)."""
    for _ in range(30):
        r = http.post(f"/deployments/{dep_id}/create_flow_run", json={"parameters": parameters})
        if r.status_code != 503:
            return r
        time.sleep(1)
    return r


def test_rest_trigger_with_auth_and_confined_parameters(auth_server):
    ctx = auth_server
    api = ctx["api"]
    assert httpx.get(f"{api}/deployments/name/analyze-library/reelflow", timeout=10).status_code == 401
    token = base64.b64encode(AUTH.encode()).decode()
    with httpx.Client(base_url=api, timeout=30, headers={"Authorization": f"Basic {token}"}) as http:
        dep = _deployment(http, ctx)
        assert dep["parameter_openapi_schema"]["properties"]["out_dir"]["enum"] == [None]
        # a caller may not choose where the worker writes
        bad = _create_run(http, dep["id"], {"paths": [str(ctx["media"])], "out_dir": "/tmp/elsewhere"})
        assert bad.status_code == 409, bad.text
        # nor read outside the worker's roots: the flow refuses, naming the parameter
        outside = _create_run(http, dep["id"], {"paths": [str(ctx["outside"])]})
        assert outside.status_code == 201, outside.text
        state = _wait_final(http, outside.json()["id"])
        assert state["type"] == "FAILED", state
        assert "paths[0]" in (state.get("message") or "") and "outside the folders" in state["message"]
        good = _create_run(http, dep["id"], {"paths": [str(ctx["media"])]})
        assert good.status_code == 201, good.text
        state = _wait_final(http, good.json()["id"])
        assert state["type"] == "COMPLETED", (state, ctx["log"].read_text()[-3000:])
    written = [p.relative_to(ctx["outputs"]).as_posix() for p in ctx["outputs"].rglob("*") if p.is_file()]
    assert any(w.startswith("library/images/coffee") for w in written), written
    assert not any("brick" in w for w in written), written


def test_cli_trigger_with_auth(auth_server):
    ctx = auth_server
    cmd = [str(REPO / ".venv" / "bin" / "reelflow"), "trigger", "analyze-library",
           "-p", f"paths={json.dumps([str(ctx['media'])])}", "--wait", "--timeout", "240"]
    env = {**ctx["env"], "PREFECT_API_URL": ctx["api"]}
    if not Path(cmd[0]).exists():
        cmd[0:1] = [sys.executable, "-m", "reelflow.cli"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    assert "COMPLETED" in ok.stdout and AUTH not in ok.stdout + ok.stderr
    no_auth = {k: v for k, v in env.items() if k != "PREFECT_API_AUTH_STRING"}
    refused = subprocess.run(cmd[:-3], env=no_auth, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert refused.returncode != 0
