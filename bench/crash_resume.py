"""Crash-resume: SIGKILL a ``create_video`` run (every provider remote: the emulators on
loopback) at a series of points, then run it again to the end.

Run from the repo root::

    .venv/bin/python bench/crash_resume.py [--duration 10] [--points all]

Setup: one local Prefect server (results and cache records shared by every attempt) and one
emulator server (its Runware ledger counts every billed job across all attempts; 150 ms
latency on every request widens each window). Each attempt is a fresh worker process running
``create_video`` on the same brief and output folder. A kill point is "the first time the
worker's log shows <step> starting, plus <delay>": planning, TTS, just after a Runware submit
(before its response), mid-poll, mid-download/normalise, captions, assembly, QA/keyframes,
publish. The worker's whole process group gets SIGKILL. After every kill:

- no file under a final name is half-written: every ``video.mp4``/``*.wav``/``scene-*.mp4``
  in the work and output folders decodes, every ``*.json`` parses (temp files may remain);
- the Runware job ledger (``<cache>/runware-jobs.json``) still parses.

The last attempt runs to completion. Printed: each kill point (the step that was running, the
seconds into the attempt), the final run's task states (``Cached`` = a finished step not
redone), and the emulator's Runware counters: billed jobs must equal the number of scenes
(nothing paid twice, every submitted job recovered by its stored taskUUID: ``conflicts`` counts
resubmits the emulator answered "already accepted"), and Hume takes asked for again (same text,
acting description, voice, speed): ``hume_paid_twice`` (the first answer had reached ReelFlow:
must be 0, a take is written to disk at payment and reused by the rerun) and
``hume_answers_lost_in_flight_at_a_kill`` (Hume answered a request of a worker killed before the
answer arrived; with no idempotency key at Hume, only that take is asked again).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

#: (name, regex on the worker's log that marks the step starting, delay after it in seconds)
POINTS = [
    ("planning", r"plan-script.*(Created|Begin|running)|Created task run 'plan-script", 0.05),
    ("tts", r"Created task run 'narrate-scene", 0.2),
    ("runware-submit", r"Created task run 'generate-clip", 0.1),
    ("runware-mid-poll", r"Created task run 'generate-clip", 1.0),
    ("runware-download-normalise", r"Created task run 'generate-clip", 2.5),
    ("qa-clip", r"Created task run 'qa-clip", 0.2),
    ("captions", r"Created task run 'write-captions", 0.05),
    ("assembly-start", r"Created task run 'assemble-video", 0.3),
    ("assembly-mid", r"Created task run 'assemble-video", 2.0),
    ("qa-keyframes", r"Created task run '(qa-video|keyframes|measure-loudness)", 0.1),
    ("publish", r"Created task run 'publish-outputs", 0.0),
    ("record-costs", r"Created task run 'record-costs", 0.0),
]

WORKER = r'''
import asyncio, json, sys
from reelflow.core.models import Brief
from reelflow.flows.create_video import create_video
brief = Brief(**json.loads(sys.argv[1]))
res = asyncio.run(create_video(brief, sys.argv[2]))
print("RESULT", res.model_dump_json())
'''


def _decodes(path: Path) -> bool:
    import av

    try:
        with av.open(str(path)) as c:
            stream = (c.streams.video or c.streams.audio)[0]
            return next(c.decode(stream), None) is not None
    except Exception:  # noqa: BLE001 - any failure = not a complete media file
        return False


def check_final_names(folders: list[Path]) -> list[str]:
    """Files under final names that are not complete (half-written)."""
    bad = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in folder.rglob("*"):
            if not p.is_file() or any(part.startswith(".") for part in p.relative_to(folder).parts):
                continue  # hidden names (and hidden scratch folders) are temp files of atomic writes
            if p.suffix in (".mp4", ".wav") and not _decodes(p):
                bad.append(str(p))
            elif p.suffix == ".json":
                try:
                    json.loads(p.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    bad.append(str(p))
    return bad


def hume_asked_again(requests: list[dict], received: set[str]) -> tuple[int, int]:
    """TTS requests that asked again for a take already asked for (same text, acting description,
    voice and speed; the context may differ on a rerun), split by what happened to the first
    answer: ``(paid_twice, lost_in_flight)``. Paid twice = the first answer had reached ReelFlow
    (its generation id is in a receipt on disk) and was asked for again anyway: must be 0. Lost in
    flight = Hume answered (and billed) a request whose worker was killed before the answer
    arrived: Hume has no idempotency key, so that take can only be asked again."""
    first: dict[str, list[str]] = {}
    paid_twice = lost = 0
    for r in requests:
        key = json.dumps([[u.get("text"), u.get("description"), u.get("voice"), u.get("speed")]
                          for u in r.get("utterances", [])], sort_keys=True)
        if key in first:
            if any(g in received for g in first[key]):
                paid_twice += 1
            else:
                lost += 1
        first.setdefault(key, [])
        first[key] += r.get("generation_ids", [])
    return paid_twice, lost


def received_takes(folders: list[Path]) -> set[str]:
    """Generation ids of the Hume takes ReelFlow received: the receipts written at payment, in the
    shared ``<cache>/hume-receipts`` folder (pass it) or beside a video's narration (work folders)."""
    from reelflow.clients.hume.adapter import RECEIPTS_DIR

    ids = set()
    for folder in folders:
        for p in [*folder.glob(f"narration/{RECEIPTS_DIR}/*.json"), *folder.glob("hume-receipts/*.json")]:
            try:
                ids.add(json.loads(p.read_text(encoding="utf-8"))["generation"]["generation_id"])
            except (OSError, ValueError, KeyError):
                continue
    return ids


def attempt(env: dict[str, str], brief: dict, out_dir: Path, point: tuple[str, str, float] | None,
            log_dir: Path, n: int, timeout: float = 600) -> dict:
    """One worker process; SIGKILL at ``point`` (None = run to the end)."""
    log_path = log_dir / f"attempt-{n:02d}.log"
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(brief), str(out_dir)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    killed_at: float | None = None
    running = ""
    lines: list[str] = []

    def killer(delay: float) -> None:
        nonlocal killed_at
        time.sleep(delay)
        if proc.poll() is None:
            killed_at = time.monotonic() - t0
            os.killpg(proc.pid, signal.SIGKILL)

    armed = False
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        m = re.search(r"Created task run '([^']+)'", line)
        if m:
            running = m.group(1)
        if point and not armed and re.search(point[1], line):
            armed = True
            threading.Thread(target=killer, args=(point[2],), daemon=True).start()
        if time.monotonic() - t0 > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    log_path.write_text("".join(lines))
    result = next((json.loads(line.split("RESULT ", 1)[1]) for line in lines if line.startswith("RESULT ")), None)
    states = re.findall(r"Task run '([^']+)' - Finished in state (\w+)", "".join(lines))
    return {"point": point[0] if point else "final", "killed": killed_at is not None,
            "killed_at_s": round(killed_at, 2) if killed_at else None, "step_running": running,
            "returncode": proc.returncode, "result": result, "task_states": states,
            "seconds": round(time.monotonic() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    """CLI entry (see the module docstring)."""
    import httpx

    from reelflow.deployments.local_server import start_server
    from tests.conftest import TEST_CACHE
    from tests.emulators import DEFAULT_KEYS, EmulatorServer, base_urls, combined_app

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--points", default="all", help="comma-separated point names, or all")
    args = ap.parse_args(argv)
    points = POINTS if args.points == "all" else [p for p in POINTS if p[0] in args.points.split(",")]

    work = Path(tempfile.mkdtemp(prefix="reelflow-crash-"))
    server = start_server(work / "prefect", port=None, timeout_s=180)
    app = combined_app()
    out_dir = work / "outputs" / "video"
    # a fresh id per run: the work folder (and the takes on disk) are keyed by the brief
    brief = {"id": f"crash-{uuid.uuid4().hex[:8]}",
             "text": "Vertical ad for the Ridgeline trail shoe. It grips wet rock and weighs 280 g. "
                     "Free returns for 60 days.",
             "duration_s": args.duration, "platform": "tiktok"}
    report: dict = {"attempts": []}
    try:
        with EmulatorServer(app) as emu:
            httpx.post(f"{emu.url}/__emulator__/faults", json={"route": "*", "kind": "latency", "delay_s": 0.15,
                                                               "times": None}).raise_for_status()
            env = {**server.env, **DEFAULT_KEYS, **base_urls(emu.url), "PYTHONPATH": str(REPO),
                   "REELFLOW_MEDIA_HOSTS": "127.0.0.1", "REELFLOW_ALLOW_PRIVATE_MEDIA": "true",
                   "REELFLOW_PATHS__CACHE_DIR": str(TEST_CACHE), "REELFLOW_PATHS__OUTPUTS_DIR": str(work / "outputs"),
                   "REELFLOW_RUNWARE_POLL_INITIAL_S": "0.5", "HUME_VOICE": "Ava Song",
                   "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "DEBUG"}
            for n, point in enumerate(points):
                a = attempt(env, brief, out_dir, point, work, n)
                work_dirs = [p for p in (TEST_CACHE / "work").glob("*") if p.is_dir()
                             and p.stat().st_mtime > time.time() - 3600]
                a["half_written"] = check_final_names([out_dir, *work_dirs])
                ledger = TEST_CACHE / "runware-jobs.json"
                try:
                    json.loads(ledger.read_text()) if ledger.exists() else None
                    a["job_ledger_ok"] = True
                except ValueError:
                    a["job_ledger_ok"] = False
                a.pop("result")
                print(json.dumps({k: v for k, v in a.items() if k != "task_states"}), flush=True)
                report["attempts"].append(a)
            final = attempt(env, brief, out_dir, None, work, len(points))
            final["half_written"] = check_final_names([out_dir])
            report["final"] = final
            stats = httpx.get(f"{emu.url}/__emulator__/stats").json()
    finally:
        server.stop()
    rw = stats["runware"]
    work_dirs = [p for p in (TEST_CACHE / "work").glob("*") if p.is_dir() and p.stat().st_mtime > time.time() - 3600]
    hume_log = stats["hume"].get("requests", [])
    paid_twice, lost = hume_asked_again(hume_log, received_takes([*work_dirs, TEST_CACHE]))
    report["hume_requests"] = [{"t": r.get("t"), "texts": [u.get("text") for u in r.get("utterances", [])],
                                "speed": [u.get("speed") for u in r.get("utterances", [])],
                                "generation_ids": r.get("generation_ids")} for r in hume_log]
    meta = json.loads(Path(final["result"]["metadata"]).read_text()) if final["result"] else {}
    scenes = len(meta.get("scenes", []))
    cached = [name for name, state in final["task_states"] if state == "Cached"]
    summary = {
        "kill_points_tried": len(report["attempts"]),
        "killed": sum(a["killed"] for a in report["attempts"]),
        "steps_running_at_kill": [a["step_running"] for a in report["attempts"]],
        "half_written_files": sum(len(a["half_written"]) for a in report["attempts"]) + len(final["half_written"]),
        "job_ledger_always_parsed": all(a["job_ledger_ok"] for a in report["attempts"]),
        "final_completed": final["result"] is not None,
        "final_tasks": len(final["task_states"]), "final_tasks_cached": len(cached),
        "scenes": scenes, "runware_billed_jobs": rw.get("billed_jobs"), "runware_conflicts": rw.get("conflicts"),
        "runware_jobs_succeeded": rw.get("jobs_succeeded"),
        "openai_completions": {k: v for k, v in stats["openai"].items() if isinstance(v, int | float)},
        "hume_tts_requests": stats["hume"].get("tts_requests"),
        "hume_paid_twice": paid_twice, "hume_answers_lost_in_flight_at_a_kill": lost,
    }
    print(json.dumps(summary, indent=2))
    (work / "crash-resume.json").write_text(json.dumps({"summary": summary, **report}, indent=1, default=str))
    print(f"details: {work / 'crash-resume.json'}")
    ok = (summary["final_completed"] and summary["half_written_files"] == 0 and summary["job_ledger_always_parsed"]
          and summary["runware_billed_jobs"] == scenes and summary["hume_paid_twice"] == 0)
    print("RESULT:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
