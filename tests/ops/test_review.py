"""Review points against a real Prefect server, the served ``create_video`` deployment and the
service emulators (issue 13, "Must show").

One module fixture runs the scenario; the tests assert on what it recorded:

1. ``reelflow review notify --webhook`` stores the automation (Paused/Suspended → webhook) and a
   loopback HTTP endpoint records what the Prefect server POSTs;
2. two REST-triggered runs with ``review: plan`` suspend after the plan; one is rejected with
   ``reelflow review reject`` and one is left to time out (``review_timeout: 8``; the serve
   process's sweeper cancels it) — the emulators' ledgers show 0 Hume/Runware jobs for them;
3. a run with ``review: both``: headless Chromium opens the UI's Resume form (screenshot); an
   over-long edit over REST is refused and asked again with the problem listed; an edit of one
   line over REST is approved; the final review is approved with ``reelflow review approve``;
   the video's narration (sent to Hume), captions and plan carry the edited line, metadata
   records who approved what and when;
4. a run with ``review: final`` rejected over REST publishes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from reelflow.deployments.local_server import stop_process
from tests.emulators import DEFAULT_KEYS, EmulatorServer, base_urls, combined_app

# real videos under a real Prefect server (2-12 min on 2 cores); the module fixture runs the whole
# scenario in its setup, so its time limit is the scenario's, not one test's
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO / "test-artifacts"
CLI = str(Path(sys.executable).parent / "reelflow")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _brief(bid: str, text: str) -> dict:
    return {"id": bid, "text": text, "duration_s": 6, "platform": "tiktok"}


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            self.received.append(json.loads(body))
        except ValueError:
            self.received.append({"raw": body.decode(errors="replace")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _state(http: httpx.Client, run_id: str) -> dict:
    for attempt in range(10):  # a loaded SQLite-backed server drops or 503s the odd request
        try:
            r = http.get(f"/flow_runs/{run_id}")
            if r.status_code < 500:
                return r.json()
        except httpx.TransportError:
            if attempt == 9:
                raise
        time.sleep(2)
    r.raise_for_status()
    return r.json()


#: The serve process's log of the running scenario (quoted when a wait fails).
SERVE_LOG: list[Path] = []


def _serve_tail(chars: int = 6000) -> str:
    return SERVE_LOG[-1].read_text(errors="replace")[-chars:] if SERVE_LOG and SERVE_LOG[-1].exists() else ""


def _wait(http: httpx.Client, run_id: str, types: set[str], timeout: float, pause_key: str | None = None) -> dict:
    """Wait for ``run_id`` to reach one of ``types`` (at ``pause_key``) or a final state.

    Fails at once, quoting the run's state and the serve log, when the run pauses at another
    review point than the one it was at and the one expected, or when ``timeout`` passes.
    """
    deadline = time.monotonic() + timeout
    run = _state(http, run_id)
    start_key = ((run["state"] or {}).get("state_details") or {}).get("pause_key")
    while time.monotonic() < deadline:
        run = _state(http, run_id)
        st = run["state"] or {}
        key = (st.get("state_details") or {}).get("pause_key")
        if st.get("type") in types and (pause_key is None or key == pause_key):
            return run
        if st.get("type") in FINAL:
            return run
        if pause_key and st.get("type") == "PAUSED" and key not in (start_key, pause_key):
            raise AssertionError(f"run {run_id} paused at {key!r}, expected {pause_key!r}: {st}\n{_serve_tail()}")
        time.sleep(2)
    raise AssertionError(f"run {run_id} still {run['state']} after {timeout:g} s (waiting for {types} "
                         f"{pause_key or ''})\n{_serve_tail()}")


def _resume(http: httpx.Client, run_id: str, run_input: dict) -> dict:
    """Resume over REST, asking a busy server again (the README's recipe, plus retries)."""
    for _ in range(6):
        try:
            r = http.post(f"/flow_runs/{run_id}/resume", json={"run_input": run_input})
            if r.status_code < 500:
                return r.json()
        except httpx.TransportError:
            pass
        time.sleep(2)
    raise AssertionError(f"resume of {run_id} never went through")


def _create(http: httpx.Client, dep_id: str, params: dict) -> str:
    for _ in range(10):  # SQLite-backed server answers 503 while busy
        r = http.post(f"/deployments/{dep_id}/create_flow_run", json={"parameters": params})
        if r.status_code != 503:
            break
        time.sleep(1)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _cli(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def _emu(url: str) -> dict:
    return httpx.get(f"{url}/__emulator__/stats", timeout=10).json()


def _screenshot_form(ui: str, run_id: str, shot: Path, title: str = "Plan review:") -> str | None:
    """Open the run page, click Resume, wait for ``title``, screenshot the form; the modal text (None: no browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    if chromium is None:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            # tall enough for the whole form: the UI's modal squeezes its markdown away otherwise
            page = browser.new_page(viewport={"width": 1400, "height": 3200})
            page.goto(f"{ui}/runs/flow-run/{run_id}", wait_until="networkidle", timeout=90_000)
            page.get_by_role("button", name="Resume").first.click()
            page.get_by_text(title).first.wait_for(timeout=30_000)
            page.wait_for_timeout(800)
            modal = page.locator(".p-modal__card").first
            box = modal.bounding_box()
            page.screenshot(path=str(shot), clip=box if box else None)
            return modal.inner_text()
        finally:
            browser.close()


@pytest.fixture(scope="module")
def scenario(prefect_server, test_settings, tmp_path_factory):
    api, ui = prefect_server.api_url, prefect_server.ui_url
    outputs = tmp_path_factory.mktemp("review-outputs")
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{hook.server_address[1]}/review"
    rec: dict = {"api": api, "ui": ui, "outputs": outputs, "webhook": _Hook.received,
                 "cache_dir": test_settings.paths.cache_dir}
    with EmulatorServer(combined_app()) as emu:
        env = dict(prefect_server.env)
        env.update({**DEFAULT_KEYS, **base_urls(emu.url), "REELFLOW_MEDIA_HOSTS": "127.0.0.1",
                    "REELFLOW_ALLOW_PRIVATE_MEDIA": "true", "HUME_VOICE": "Ava Song",
                    "REELFLOW_PATHS__CACHE_DIR": str(test_settings.paths.cache_dir),
                    "REELFLOW_PATHS__OUTPUTS_DIR": str(outputs), "PREFECT_RUNNER_POLL_FREQUENCY": "2",
                    "REELFLOW_REVIEW_SWEEP_S": "2", "PYTHONPATH": str(REPO)})
        cli_env = dict(os.environ, PREFECT_API_URL=api, PYTHONPATH=str(REPO))
        notify = _cli(cli_env, "review", "notify", "--webhook", hook_url)
        rec["notify"] = notify
        log_path = prefect_server.home / "serve-review.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, str(REPO / "reelflow" / "deployments" / "serve.py"),
                                     "--only", "create_video"], cwd=REPO, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        rec["serve_log"] = log_path
        try:
            with httpx.Client(base_url=api, timeout=30) as http:
                dep = None
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline and dep is None:
                    r = http.get("/deployments/name/create_video/reelflow")
                    dep = r.json() if r.status_code == 200 else None
                    assert proc.poll() is None, log_path.read_text()[-3000:]
                    time.sleep(1)
                assert dep is not None, log_path.read_text()[-3000:]
                rec["deployment"] = dep

                # --- 2. rejected and timed-out plan reviews: nothing paid beyond the plan
                before = _emu(emu.url)
                rej = _create(http, dep["id"], {"brief": _brief("review-reject", "Vertical ad for the Lumen desk lamp: "
                              "warm light for late study nights, dimmable, USB-C powered."), "review": "plan"})
                tmo = _create(http, dep["id"], {"brief": _brief("review-timeout", "Vertical ad for Fjord oat milk: "
                              "creamy in coffee, no added sugar, new one-litre carton."), "review": "plan",
                              "review_timeout": 8})
                rec["reject_paused"] = _wait(http, rej, {"PAUSED"}, 300)
                rec["list"] = _cli(cli_env, "review", "list", "--json")
                rec["reject_cli"] = _cli(cli_env, "review", "reject", rej, "--note", "Wrong product name in scene 1",
                                         "--reviewer", "sam", "--wait", "--timeout", "300")
                rec["reject_run"] = _wait(http, rej, FINAL, 300)
                rec["timeout_run"] = _wait(http, tmo, FINAL, 300)
                rec["emu_b"] = (before, _emu(emu.url))
                rec["ledger_rows"] = {rid: _ledger_rows(test_settings, rid) for rid in (rej, tmo)}

                # --- 3 + 4. review both (edit over REST, final approved from the CLI) and final rejected
                both = _create(http, dep["id"], {"brief": _brief("review-both", "Vertical ad for the Harbor Bakery "
                               "sourdough loaf: crackly crust, baked at 4am daily, first loaf free for new members."),
                               "review": "both"})
                fin = _create(http, dep["id"], {"brief": {**_brief("review-final", "Vertical ad for TrailFox Grip "
                              "trail shoes: sticky grip on wet rock, light for race day."), "duration_s": 10},
                              "review": "final"})
                paused = _wait(http, both, {"PAUSED"}, 300)
                rec["both_paused"] = paused
                ARTIFACTS_DIR.mkdir(exist_ok=True)
                rec["form_shot"] = ARTIFACTS_DIR / "ui-review-plan-form.png"
                rec["form_text"] = _screenshot_form(ui, both, rec["form_shot"])
                record = _review_record(http, both, "plan-review-1")
                rec["plan_before"] = record["plan"]
                scenes = record["plan"]["scenes"]
                too_long = "Seven words will not fit on screen"  # headline: at most 6 words
                rec["edit_too_long"] = _resume(http, both, {
                    "approve": True, "reviewer": "dana", "scenes": [{"index": 1, "headline": too_long}]})
                rec["asked_again"] = _wait(http, both, {"PAUSED"}, 300, pause_key="plan-review-2")
                rec["record_2"] = _review_record(http, both, "plan-review-2")
                edited_line = "Crackly crust, baked daily."  # no more words than the line it replaces
                rec["edited_line"], rec["edited_scene"] = edited_line, 1
                rec["edit_ok"] = _resume(http, both, {
                    "approve": True, "reviewer": "dana", "note": "tighter line",
                    "scenes": [{"index": 1, "narration": edited_line}]})
                rec["final_paused"] = _wait(http, both, {"PAUSED"}, 600, pause_key="final-review-1")
                rec["final_shot"] = ARTIFACTS_DIR / "ui-review-final-form.png"
                rec["final_text"] = _screenshot_form(ui, both, rec["final_shot"], "Final review:")
                rec["final_artifacts"] = http.post("/artifacts/filter", json={
                    "artifacts": {"flow_run_id": {"any_": [both]}}}).json()
                rec["approve_cli"] = _cli(cli_env, "review", "approve", both, "--reviewer", "lee", "--note", "ship it",
                                          "--wait", "--timeout", "900", timeout=1000)
                rec["both_run"] = _wait(http, both, FINAL, 600)
                rec["fin_paused"] = _wait(http, fin, {"PAUSED"}, 600)
                rec["fin_reject"] = _resume(http, fin, {
                    "approve": False, "reviewer": "sam", "note": "logo too small"})
                rec["fin_run"] = _wait(http, fin, FINAL, 300)
                rec["emu_end"] = _emu(emu.url)
                rec["webhook_events"] = list(_Hook.received)
            yield rec
        finally:
            stop_process(proc)
            hook.shutdown()


def _review_record(http: httpx.Client, run_id: str, key: str) -> dict:
    found = http.post(f"/flow_runs/{run_id}/input/filter", json={"prefix": f"reelflow-review-{key}", "limit": 5}).json()
    return json.loads(next(i["value"] for i in found if i["key"] == f"reelflow-review-{key}"))


def _ledger_rows(settings, run_id: str) -> list:
    from reelflow.core.ledger import CostLedger

    return CostLedger.from_settings(settings).entries(flow_run_id=run_id)


def test_plan_review_suspends_and_lists(scenario) -> None:
    run = scenario["reject_paused"]
    assert run["state"]["type"] == "PAUSED", f"{run['state']}\n{scenario['serve_log'].read_text()[-4000:]}"
    assert run["state"]["name"] == "Suspended", "a deployment run suspends (no serve slot held)"
    assert scenario["list"].returncode == 0, scenario["list"].stderr
    listed = json.loads(scenario["list"].stdout)
    row = next(r for r in listed if r["flow_run_id"] == run["id"])
    assert row["point"] == "plan" and row["url"].endswith(f"/runs/flow-run/{run['id']}") and not row["overdue"]


def test_rejected_plan_is_cancelled_with_nothing_paid(scenario) -> None:
    assert scenario["reject_cli"].returncode == 0, scenario["reject_cli"].stdout + scenario["reject_cli"].stderr
    st = scenario["reject_run"]["state"]
    assert st["type"] == "CANCELLED", st
    assert "rejected by sam: Wrong product name in scene 1" in st["message"]
    before, after = scenario["emu_b"]
    assert after["hume"]["tts_requests"] == before["hume"]["tts_requests"], "narration was paid for a rejected plan"
    assert after["runware"]["billed_jobs"] == before["runware"]["billed_jobs"], "a clip was billed for a rejected plan"
    # two runs (rejected, timed out); each plan costs one completion, two when re-asked once
    assert 2 <= after["openai"]["completions"] - before["openai"]["completions"] <= 4, "only the plans were paid"
    # the plan's completions are in the ledger from the moment they were paid; nothing else is
    assert all(r["part"] == "plan" for rows in scenario["ledger_rows"].values() for r in rows), scenario["ledger_rows"]
    print(f"\nrejected + timed-out runs: hume tts_requests +{after['hume']['tts_requests'] - before['hume']['tts_requests']}, "
          f"runware billed_jobs +{after['runware']['billed_jobs'] - before['runware']['billed_jobs']}, "
          f"openai completions +{after['openai']['completions'] - before['openai']['completions']}; "
          f"ledger rows {[len(r) for r in scenario['ledger_rows'].values()]}; state: {st['message']}")


def test_unanswered_review_times_out_cancelled(scenario) -> None:
    st = scenario["timeout_run"]["state"]
    assert st["type"] == "CANCELLED", st
    assert "no answer within review_timeout (8 s)" in st["message"] and "nothing was paid" in st["message"], st
    print(f"\ntimed-out run: {st['type']} {st['message']}")


def test_invalid_edit_is_asked_again_with_the_problem(scenario) -> None:
    assert scenario["edit_too_long"]["status"] == "ACCEPT", scenario["edit_too_long"]
    again = scenario["asked_again"]["state"]
    assert again["type"] == "PAUSED" and again["state_details"]["pause_key"] == "plan-review-2", again
    problems = scenario["record_2"]["problems"]
    assert "scene 1 headline: 7 words; at most 6 fit on screen" in problems, problems


def test_approved_edit_is_spoken_captioned_and_recorded(scenario) -> None:
    assert scenario["edit_ok"]["status"] == "ACCEPT", scenario["edit_ok"]
    assert scenario["final_paused"]["state"]["state_details"]["pause_key"] == "final-review-1", scenario["final_paused"]
    assert scenario["approve_cli"].returncode == 0, scenario["approve_cli"].stdout + scenario["approve_cli"].stderr
    run = scenario["both_run"]
    assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{scenario['serve_log'].read_text()[-4000:]}"
    line, i = scenario["edited_line"], scenario["edited_scene"]
    out = next(p for p in scenario["outputs"].iterdir() if "review-both" in p.name)
    plan = json.loads((out / "plan.json").read_text())
    meta = json.loads((out / "metadata.json").read_text())
    srt = (out / "captions.srt").read_text()
    assert plan["scenes"][i]["narration"] == line
    assert "baked daily" in " ".join(srt.split()), srt
    spoken = [r.get("text") or json.dumps(r) for r in scenario["emu_end"]["hume"]["requests"]]
    if not any(line in s for s in spoken):
        # a rerun in the same test cache: the take was paid by an earlier run and comes from its
        # pay-once receipt (clients/hume/adapter.py), never asked for twice
        cache = Path(scenario["cache_dir"])
        receipts = [json.loads(p.read_text()) for p in [*cache.glob("hume-receipts/*.json"),
                                                         *cache.rglob(".hume-receipts/*.json")]
                    if not p.name.startswith(".")]
        assert any(line in r.get("text", "") for r in receipts), "the edited line was not sent to the TTS"
    review = meta["review"]
    assert review["mode"] == "both"
    assert review["plan"]["status"] == "approved" and review["plan"]["reviewer"] == "dana"
    assert review["plan"]["attempts"] == 2 and review["plan"]["answered_at"]
    assert review["plan"]["changes"] == [{"scene": i, "field": "narration",
                                          "before": scenario["plan_before"]["scenes"][i]["narration"], "after": line}]
    assert review["final"]["status"] == "approved" and review["final"]["reviewer"] == "lee"
    print(f"\napproved run: scene {i} narration {line!r}; srt: {' '.join(srt.split())[:200]}; review: {json.dumps(review)}")
    keys = {a["key"] for a in scenario["final_artifacts"]}
    assert "plan-review-review-both" in keys and "final-review-review-both" in keys, keys


def test_rejected_final_review_publishes_nothing(scenario) -> None:
    assert scenario["fin_reject"]["status"] == "ACCEPT", (scenario["fin_reject"], scenario["fin_paused"]["state"])
    st = scenario["fin_run"]["state"]
    assert st["type"] == "CANCELLED" and "final review: rejected by sam: logo too small" in st["message"], st
    assert not any((p / "video.mp4").exists() for p in scenario["outputs"].iterdir() if "review-final" in p.name)


def test_automation_called_the_webhook_on_suspend(scenario) -> None:
    assert scenario["notify"].returncode == 0, scenario["notify"].stdout + scenario["notify"].stderr
    events = scenario["webhook_events"]
    ids = {e.get("flow_run_id") for e in events}
    for key in ("reject_paused", "both_paused"):
        assert scenario[key]["id"] in ids, events
    assert all(e.get("state") in ("Suspended", "Paused") for e in events if e.get("flow_run_id")), events
    assert all(e["path"] == f"/runs/flow-run/{e['flow_run_id']}" for e in events if e.get("flow_run_id")), events
    print(f"\nwebhook received {len(events)} call(s): {events[:2]}")


@pytest.mark.browser
def test_ui_shows_the_plan_review_form(scenario) -> None:
    if scenario["form_text"] is None:
        pytest.skip("no Chromium/playwright (apt-get install -y chromium; pip install playwright)")
    text = scenario["form_text"]
    assert "Plan review:" in text and "Approve" in text and "Narration" in text, text[:2000]
    assert scenario["plan_before"]["scenes"][0]["narration"].split()[0] in text
    assert scenario["form_shot"].stat().st_size > 20_000


@pytest.mark.browser
def test_ui_shows_the_final_review_form(scenario) -> None:
    if scenario["final_text"] is None:
        pytest.skip("no Chromium/playwright (apt-get install -y chromium; pip install playwright)")
    text = scenario["final_text"]
    # what is approved: numbers, the files not yet published, captions (the edited line among them)
    assert "Final review:" in text and "LUFS" in text and "video.mp4" in text, text[:2000]
    assert scenario["edited_line"].split(",")[0] in text, text[:3000]
    assert scenario["final_shot"].stat().st_size > 20_000
