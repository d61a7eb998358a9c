"""API-triggered run against a real Prefect server and a real ``serve`` process, plus the UI.

1. ``prefect server start`` on a free loopback port (own PREFECT_HOME);
2. ``python deployments/serve.py --only create_video`` as a subprocess;
3. over plain HTTP (httpx): ``GET /api/deployments/name/create_video/reelflow`` → id,
   ``POST /api/deployments/{id}/create_flow_run`` with a 6 s brief, poll until ``COMPLETED``,
   ``POST /api/artifacts/filter`` lists the run's artifacts;
4. (browser) headless Chromium renders the flow run page and the artifacts page; the DOM must
   name the run and the artifact key; the screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reelflow.deployments.local_server import stop_process

pytestmark = pytest.mark.slow  # real videos under a real Prefect server (~2-3 min)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO / "test-artifacts"
BRIEF = {
    "id": "api-trigger",
    "text": "Vertical ad for the TrailFox Grip trail shoe: sticky grip on wet rock, light for race day. "
    "End with 'Find your trail'.",
    "duration_s": 6,
    "platform": "tiktok",
}


@pytest.fixture(scope="module")
def served_run(prefect_server, test_settings, tmp_path_factory):
    """Serve create_video, trigger it over REST, wait for a final state."""
    api = prefect_server.api_url
    env = dict(prefect_server.env)
    env.update({
        "REELFLOW_PATHS__CACHE_DIR": str(test_settings.paths.cache_dir),
        "REELFLOW_PATHS__OUTPUTS_DIR": str(tmp_path_factory.mktemp("api-outputs")),
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PYTHONPATH": str(REPO),
    })
    log_path = prefect_server.home / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, str(REPO / "reelflow" / "deployments" / "serve.py"), "--only", "create_video"],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with httpx.Client(base_url=api, timeout=30) as http:
            dep = None
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:  # the serve process registers the deployment
                r = http.get("/deployments/name/create_video/reelflow")
                if r.status_code == 200:
                    dep = r.json()
                    break
                assert proc.poll() is None, log_path.read_text()[-3000:]
                time.sleep(1)
            assert dep is not None, f"deployment never registered:\n{log_path.read_text()[-3000:]}"
            for _ in range(10):  # SQLite-backed server answers 503 while the database is busy; Prefect's client retries too
                created = http.post(f"/deployments/{dep['id']}/create_flow_run", json={"parameters": {"brief": BRIEF}})
                if created.status_code != 503:
                    break
                time.sleep(1)
            assert created.status_code == 201, created.text
            run = created.json()
            state: dict = {}
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                run = http.get(f"/flow_runs/{run['id']}").json()  # create_video renames the run
                state = run["state"]
                if state["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                    break
                time.sleep(2)
            artifacts = http.post("/artifacts/filter",
                                  json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
        yield {"api": api, "ui": prefect_server.ui_url, "deployment": dep, "run": run, "state": state,
               "artifacts": artifacts, "serve_log": log_path}
    finally:
        stop_process(proc)


def test_rest_trigger_completes_with_artifacts(served_run) -> None:
    dep, run, state = served_run["deployment"], served_run["run"], served_run["state"]
    assert dep["name"] == "reelflow" and "video" in dep["tags"]
    assert dep["version"], "deployment version is set from reelflow.__version__"
    assert "brief" in dep["parameter_openapi_schema"]["properties"]
    assert state["type"] == "COMPLETED", f"{state}\n{served_run['serve_log'].read_text()[-4000:]}"
    assert run["deployment_id"] == dep["id"]
    kinds = {(a["type"], a["key"]) for a in served_run["artifacts"]}
    assert any(t == "markdown" for t, _ in kinds), kinds
    assert any(t == "table" for t, _ in kinds), kinds


def test_parameter_schema_rejects_bad_brief(served_run) -> None:
    dep = served_run["deployment"]
    r = httpx.post(f"{served_run['api']}/deployments/{dep['id']}/create_flow_run",
                   json={"parameters": {"brief": {"text": "short"}}}, timeout=30)
    assert r.status_code == 409, r.text  # Prefect: parameters do not match the schema
    assert "text" in r.text


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def _render(chromium: str, url: str, shot: Path) -> str:
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1400,1000",
            "--virtual-time-budget=15000", "--run-all-compositor-stages-before-draw"]
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    subprocess.run(base + [f"--screenshot={shot}", url], capture_output=True, timeout=120)
    return dom


@pytest.mark.browser
def test_ui_shows_flow_run_and_artifacts(served_run) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium found (apt-get install -y chromium)")
    assert served_run["state"]["type"] == "COMPLETED"
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    run = served_run["run"]
    keyed = [a for a in served_run["artifacts"] if a["key"]]
    assert keyed, served_run["artifacts"]
    run_shot = ARTIFACTS_DIR / "ui-flow-run.png"
    dom = _render(chromium, f"{served_run['ui']}/runs/flow-run/{run['id']}", run_shot)
    assert run["name"] == "video-api-trigger"
    assert run["name"] in dom, "flow run page does not show the run name"
    art_shot = ARTIFACTS_DIR / "ui-artifacts.png"
    dom_art = _render(chromium, f"{served_run['ui']}/artifacts", art_shot)
    assert any(a["key"] in dom_art for a in keyed), [a["key"] for a in keyed]
    key_shot = ARTIFACTS_DIR / "ui-artifact-report.png"
    md = next((a for a in keyed if a["type"] == "markdown"), keyed[0])
    dom_key = _render(chromium, f"{served_run['ui']}/artifacts/artifact/{md['id']}", key_shot)
    assert "Scenes" in dom_key and "LUFS" in dom_key, "the rendered run report is not on the artifact page"
    for shot in (run_shot, art_shot, key_shot):
        assert shot.is_file() and shot.stat().st_size > 20_000, shot


def test_cli_trigger_waits_and_lists_artifacts(served_run) -> None:
    import json

    env = dict(os.environ, PREFECT_API_URL=served_run["api"], PYTHONPATH=str(REPO))
    brief = dict(BRIEF, id="api-trigger-cli")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "reelflow"), "trigger", "create_video", "--param",
         f"brief={json.dumps(brief)}", "--wait", "--timeout", "600"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=700,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "final state: COMPLETED" in proc.stdout
    assert "artifact video-report-api-trigger-cli (markdown)" in proc.stdout, proc.stdout


def test_cli_trigger_without_server_says_how_to_start_one() -> None:
    from reelflow.deployments.local_server import free_port

    env = dict(os.environ, PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api", PYTHONPATH=str(REPO))
    proc = subprocess.run([str(Path(sys.executable).parent / "reelflow"), "trigger", "create_video"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())
    assert "Prefect server is unreachable" in err and "reelflow server" in err, proc.stderr
