"""A campaign of 4 videos with ``review: plan``, approved from the CLI (issue 13, "Must show").

``reelflow campaign run FILE`` runs against a real Prefect server (embedded local providers);
each video's subflow pauses in the campaign's process after its plan (paused runs do not take a
``max_concurrency`` slot, so all four wait at once); ``reelflow review list --json`` shows them;
``reelflow review approve`` (one with ``--plan`` editing a line) lets each go on. The campaign
publishes ``campaign-<name>-review`` listing the runs waiting and ends with 4 of 4 completed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reelflow.deployments.local_server import stop_process

pytestmark = pytest.mark.slow  # four real 6 s videos (~5-10 min on 2 cores)

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "reelflow")
NAME = "review-demo"
BRIEFS = [
    {"id": "lamp", "text": "Vertical ad for the Lumen desk lamp: warm light for late study nights, dimmable."},
    {"id": "oat", "text": "Vertical ad for Fjord oat milk: creamy in coffee, no added sugar, new carton."},
    {"id": "bike", "text": "Vertical ad for CityLoop e-bikes: ride across town in ten minutes, first ride free."},
    {"id": "jacket", "text": "Vertical ad for the Nimbus rain jacket: fully waterproof, packs into its own pocket, ten-year warranty."},
]


def _plan_under_review(api: str, run_id: str) -> dict:
    """The plan a paused run shows its reviewer (its ``plan-review-1`` input record)."""
    key = "reelflow-review-plan-review-1"
    found = httpx.post(f"{api}/flow_runs/{run_id}/input/filter", json={"prefix": key, "limit": 5}, timeout=30).json()
    return json.loads(next(i["value"] for i in found if i["key"] == key))["plan"]


@pytest.fixture(scope="module")
def campaign_run(prefect_server, test_settings, tmp_path_factory):
    api = prefect_server.api_url
    tmp = tmp_path_factory.mktemp("review-campaign")
    cfile = tmp / "campaign.json"
    cfile.write_text(json.dumps({
        "name": NAME, "review": "plan", "review_timeout": "1h", "max_concurrency": 2, "budget_usd": 0,
        "out_dir": str(tmp / "out"), "briefs": [dict(b, duration_s=6) for b in BRIEFS],
    }))
    env = dict(os.environ, PREFECT_API_URL=api, PYTHONPATH=str(REPO),
               REELFLOW_PATHS__CACHE_DIR=str(test_settings.paths.cache_dir),
               REELFLOW_PATHS__OUTPUTS_DIR=str(tmp / "outputs"))
    log_path = tmp / "campaign.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([CLI, "campaign", "run", str(cfile)], cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    rec: dict = {"log": log_path, "tmp": tmp}
    try:
        waiting: list = []
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            listed = subprocess.run([CLI, "review", "list", "--json"], cwd=REPO, env=env, capture_output=True,
                                    text=True, timeout=120)
            if listed.returncode == 0:
                waiting = [r for r in json.loads(listed.stdout) if r["name"].startswith(f"{NAME}-")]
            if len(waiting) >= 4 or proc.poll() is not None:
                break
            time.sleep(3)
        rec["waiting"] = waiting
        time.sleep(2 * 3.0)  # the campaign republishes its review artifact every few seconds
        with httpx.Client(base_url=api, timeout=30) as http:
            rec["review_artifacts"] = http.post("/artifacts/filter", json={
                "artifacts": {"key": {"any_": [f"campaign-{NAME}-review"]}}}).json()
        edit = tmp / "lamp-edit.yaml"
        rec["approvals"] = []
        for row in waiting:
            args = [CLI, "review", "approve", row["flow_run_id"], "--reviewer", "campaign-lead"]
            if "-lamp-" in row["name"]:
                # the reviewer's edit of the first line: the planner's own line, ending on an
                # exclamation mark (whatever the copywriter wrote, the edit keeps every plan rule)
                before = _plan_under_review(api, row["flow_run_id"])["scenes"][0]["narration"]
                rec["lamp_edit"] = before.rstrip(".!? ") + "!"
                edit.write_text(f"- {{index: 0, narration: {json.dumps(rec['lamp_edit'])}}}\n")
                args += ["--plan", str(edit)]
            rec["approvals"].append(subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                                                   timeout=180))
        try:
            rec["rc"] = proc.wait(timeout=900)
        except subprocess.TimeoutExpired:
            stop_process(proc)
            raise AssertionError(f"campaign still running after the approvals:\n{log_path.read_text()[-4000:]}") from None
        with httpx.Client(base_url=api, timeout=30) as http:
            rec["review_artifacts_end"] = http.post("/artifacts/filter", json={
                "artifacts": {"key": {"any_": [f"campaign-{NAME}-review"]}}}).json()
        yield rec
    finally:
        if proc.poll() is None:
            stop_process(proc)


def test_four_videos_wait_for_review_at_once(campaign_run) -> None:
    waiting = campaign_run["waiting"]
    assert len(waiting) == 4, f"{waiting}\n{campaign_run['log'].read_text()[-3000:]}"
    assert {w["point"] for w in waiting} == {"plan"} and all(w["state"] == "Paused" for w in waiting)
    assert len({w["parent_flow_run_id"] for w in waiting}) == 1 and waiting[0]["parent_flow_run_id"]
    bodies = [a["data"] for a in campaign_run["review_artifacts"]]
    assert any(b.count("reelflow review approve ") == 4 for b in bodies), bodies


def test_cli_approvals_complete_the_campaign(campaign_run) -> None:
    for p in campaign_run["approvals"]:
        assert p.returncode == 0 and "approved (plan review)" in p.stdout, p.stdout + p.stderr
    assert campaign_run["rc"] == 0, campaign_run["log"].read_text()[-4000:]
    report = json.loads(next((campaign_run["tmp"] / "out").glob("campaign-report.json")).read_text())
    assert report["completed"] == 4 and report["cancelled"] == 0, report["message"]
    for row in report["rows"]:
        meta = json.loads((Path(row["output"]).parent / "metadata.json").read_text())
        assert meta["review"]["plan"]["status"] == "approved" and meta["review"]["plan"]["reviewer"] == "campaign-lead"
        if row["brief"] == "lamp":
            assert meta["scenes"][0]["narration"] == campaign_run["lamp_edit"]
            assert meta["review"]["plan"]["changes"][0]["after"] == campaign_run["lamp_edit"]
    assert any("No run is waiting" in a["data"] for a in campaign_run["review_artifacts_end"])
    print(f"\ncampaign: {report['message']}; waiting at once: {len(campaign_run['waiting'])}; "
          f"approvals: {[p.stdout.strip() for p in campaign_run['approvals']]}")
