"""Chaos campaign: two runs of the same campaign started at once, every provider remote (the
emulators on loopback) under the issue's fault mix.

Run from the repo root::

    .venv/bin/python bench/chaos_campaign.py [--videos 50] [--budget 100] [--concurrency 4]

Fault mix (every service): 20 % 5xx, 10 % 429 (Retry-After 1 s), 5 % connection resets;
Runware jobs: 5 % failed, 5 % stuck; 0-300 ms latency on every request (``latency_max_s``).
``--videos`` is the number of videos per run (briefs x 1 variant, ``--duration`` s each, every brief its own product (an edition word from the eleventh brief on), briefs
with facts to say); both runs are separate worker processes sharing one Prefect server, one cost
ledger and one emulator server.

Printed: completion rate over both runs, duplicate paid jobs by the emulator's Runware ledger
(billed jobs minus distinct taskUUIDs), corrupt outputs (a completed video that does not decode
or misses the output spec: H.264 + AAC, the brief's frame size, 3-20 s long), budget
overrun (both runs' ledger total minus the budget, must be ≤ 0), whether each video's costs are
its own (no Runware taskUUID in the metadata of two different briefs' videos; both runs make the
same briefs, so one brief's two videos share the jobs paid once for it), and the highest number of Hume TTS
requests in any 60 s window (limit 100; paced by the Prefect global concurrency limit), and Hume
takes asked for again (same text, description, voice, speed; both runs narrate the same briefs):
``hume_paid_twice`` (the first answer had reached ReelFlow: must be 0) and
``hume_answers_lost_on_the_wire`` (a reset after Hume answered: billed, the answer lost; Hume has
no idempotency key, so that take can only be asked again).

On this project's 2 shared cores one 6 s video with remote providers takes ~40-70 s, so the
full 2 x 50 takes hours; the measured run is stated with its ``--videos``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from crash_resume import hume_asked_again, received_takes  # noqa: E402 - the bench folder is not a package

PROFILE = {"p_5xx": 0.2, "p_429": 0.1, "p_reset": 0.05, "p_job_failed": 0.05, "p_job_stuck": 0.05,
           "retry_after_s": 1, "seed": 23, "latency_max_s": 0.3}

#: (product, facts): each brief says what the product is and gives facts to speak (the planner
#: refuses a brief with too little to say).
PRODUCTS = [
    ("Ridgeline trail shoe", "It grips wet rock and weighs 280 g. Free returns for 60 days."),
    ("Northbrew cold brew", "Steeped for 18 hours in small batches. 20 % off your first case."),
    ("Glowpack solar lantern", "It lights a tent for 40 hours on one charge. Waterproof to 1 m."),
    ("Reloop denim jacket", "Made from 12 recycled bottles. Repairs are free for life."),
    ("Canopy bamboo toothbrush", "The handle is compostable. A pack of four lasts a year."),
    ("Hushline earbuds", "They block 35 dB of noise. The battery lasts 30 hours."),
    ("Meadow oat latte", "Oat milk that foams like dairy. Now in 300 cafes."),
    ("Foldr city bike", "It folds in 10 seconds and weighs 11 kg. Free delivery this month."),
    ("Vela vegan wallet", "Cactus leather with room for 8 cards. Ships free this week."),
    ("Sipsmart bottle", "It keeps water cold for 24 hours. Two sizes, 500 ml and 1 l."),
]

#: Editions that make every brief of a long run its own product ("Ridgeline Coral trail shoe"): with
#: more videos than products, two briefs would otherwise say the same lines and show the same clips,
#: and a clip or take paid once for both would read as one video's costs in another's metadata.
EDITIONS = ["", "Coral", "Slate", "Amber", "Indigo", "Sage", "Ivory", "Onyx"]


def _product_name(i: int) -> str:
    """The product of brief ``i``: ``PRODUCTS[i % n]``, with an edition word after its brand from the
    second round of products on ("Ridgeline trail shoe", ..., "Ridgeline Coral trail shoe")."""
    name = PRODUCTS[i % len(PRODUCTS)][0]
    edition = EDITIONS[(i // len(PRODUCTS)) % len(EDITIONS)]
    brand, _, rest = name.partition(" ")
    return f"{brand} {edition} {rest}" if edition else name


WORKER = r'''
import json, sys
from reelflow.core.campaigns import CampaignSpec
from reelflow.flows.campaign import campaign
spec = CampaignSpec(**json.loads(sys.argv[1]))
state = campaign(spec=spec, return_state=True)
report = state.result(raise_on_failure=False)
print("REPORT", report.model_dump_json())
'''


def main(argv: list[str] | None = None) -> int:
    """CLI entry (see the module docstring)."""
    import httpx

    from reelflow.core.ledger import CostLedger
    from reelflow.deployments.local_server import start_server
    from reelflow.processors.media import probe
    from tests.conftest import TEST_CACHE
    from tests.emulators import DEFAULT_KEYS, EmulatorServer, base_urls, combined_app

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=50, help="videos per run")
    ap.add_argument("--budget", type=float, default=100.0)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--duration", type=float, default=8, help="seconds per video (6 s cannot hold a remote plan's required lines)")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="reelflow-chaos-"))
    server = start_server(work / "prefect", port=None, timeout_s=180)
    tag = uuid.uuid4().hex[:6]
    # ids make every brief (and its work folder) unique to this bench run; the text is what is said
    briefs = [{"id": f"b{i:02d}-{tag}", "text": f"Vertical ad for the {_product_name(i)}. "
                                               f"{PRODUCTS[i % len(PRODUCTS)][1]}",
               "duration_s": args.duration} for i in range(args.videos)]
    spec = {"name": f"chaos-{tag}", "briefs": briefs, "budget_usd": args.budget,
            "max_concurrency": args.concurrency}
    # A fresh cache (cost ledger, Runware job ledger, work folders) so this run's money is counted
    # alone; the read-only heavy parts (models, song index, beds, footage) are linked in.
    cache = work / "cache"
    cache.mkdir()
    for name in ("models", "song_index", "beds", "footage"):
        if (TEST_CACHE / name).exists():
            (cache / name).symlink_to(TEST_CACHE / name)
    ledger_path = cache / "ledger.sqlite"
    before: set[int] = set()
    t0 = time.time()
    try:
        with EmulatorServer(combined_app()) as emu:
            httpx.post(f"{emu.url}/__emulator__/faults", json=PROFILE).raise_for_status()
            env = {**server.env, **DEFAULT_KEYS, **base_urls(emu.url), "PYTHONPATH": str(REPO),
                   "REELFLOW_MEDIA_HOSTS": "127.0.0.1", "REELFLOW_ALLOW_PRIVATE_MEDIA": "true",
                   "REELFLOW_PATHS__CACHE_DIR": str(cache), "REELFLOW_PATHS__OUTPUTS_DIR": str(work / "outputs"),
                   "REELFLOW_SERVICE_BACKOFF_MAX_S": "1", "REELFLOW_SERVICE_DEADLINE_S": "90",
                   "REELFLOW_SERVICE_MAX_ATTEMPTS": "12", "REELFLOW_RUNWARE_POLL_INITIAL_S": "0.3",
                   "REELFLOW_RUNWARE_JOB_DEADLINE_S": "6", "REELFLOW_RUNWARE_MAX_JOBS_PER_CLIP": "4",
                   "HUME_VOICE": "Ava Song"}
            procs = [subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(spec)], env=env, cwd=REPO,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for _ in range(2)]
            outs = []
            for p in procs:  # past --timeout a run is stopped and counted with what it reported (nothing)
                try:
                    outs.append(p.communicate(timeout=max(1.0, args.timeout - (time.time() - t0)))[0])
                except subprocess.TimeoutExpired:
                    p.kill()
                    outs.append(p.communicate()[0])
            stats = httpx.get(f"{emu.url}/__emulator__/stats").json()
    finally:
        server.stop()
    wall = time.time() - t0
    reports = []
    for n, out in enumerate(outs):
        (work / f"run-{n}.log").write_text(out)
        line = next((x for x in out.splitlines() if x.startswith("REPORT ")), None)
        reports.append(json.loads(line.split(" ", 1)[1]) if line else None)
    rows = [r for rep in reports if rep for r in rep["rows"]]
    completed = [r for r in rows if r["status"] == "completed"]
    corrupt, uuids_per_video, durations = [], [], []
    for r in completed:
        video = Path(r["output"])
        try:
            info = probe(video)
            # the length follows the narration (a 6 s brief may run 8-9 s), so it is reported, not judged
            ok = (info.video_codec == "h264" and info.audio_codec == "aac" and (info.width, info.height) == (1080, 1920)
                  and info.has_audio and 3 <= info.duration_s <= 20)
            durations.append(round(info.duration_s, 2))
        except Exception:  # noqa: BLE001 - unreadable = corrupt
            ok = False
        if not ok:
            corrupt.append(str(video))
        meta = json.loads((video.parent / "metadata.json").read_text())
        uuids_per_video.append((r["brief"], {e.get("request_id") for e in meta["costs"]["entries"]
                                             if e.get("provider") == "runware" and e.get("request_id")}))
    # Each video's costs are its own: a paid job (taskUUID) appears in one brief's videos only. Both
    # runs make the same briefs, so the same brief's two videos share the jobs paid once for it.
    owner: dict[str, set[str]] = {}
    for brief_id, ids in uuids_per_video:
        for u in ids:
            owner.setdefault(u, set()).add(brief_id)
    rw = stats["runware"]
    new_rows = [r for r in CostLedger(ledger_path).entries() if r["id"] not in before]
    spent = round(sum(r["cost_usd"] for r in new_rows), 4)
    billed_runware = round(sum(float(j.get("cost") or 0) for j in rw.get("jobs", {}).values()
                               if j.get("state") != "rejected"), 4)
    hume_requests = [x for x in stats["hume"].get("requests", []) if isinstance(x, dict)]
    paid_twice, lost = hume_asked_again(hume_requests, received_takes([*(cache / "work").glob("*"), cache]))
    times = sorted(x["t"] for x in hume_requests if "t" in x)
    peak = max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)
    summary = {
        "videos_per_run": args.videos, "runs": 2, "rows": len(rows), "completed": len(completed),
        "completion_rate": round(len(completed) / max(1, 2 * args.videos), 3),
        "statuses": {s: sum(1 for r in rows if r["status"] == s) for s in {r["status"] for r in rows}},
        "duplicate_paid_jobs": rw["billed_jobs"] - len(rw.get("jobs", {})),
        "runware": {k: rw[k] for k in ("billed_jobs", "conflicts", "jobs_failed", "jobs_stuck", "jobs_succeeded")},
        "corrupt_outputs": len(corrupt), "durations_s": durations, "budget_usd": args.budget, "spent_usd": spent,
        "budget_overrun_usd": round(max(0.0, spent - args.budget), 4),
        "runware_billed_usd_by_emulator": billed_runware,
        "costs_own": all(len(briefs) == 1 for briefs in owner.values()),
        "runware_jobs_shared_by_both_runs": sum(1 for u in owner if sum(u in ids for _, ids in uuids_per_video) > 1),
        "hume_tts_requests": stats["hume"].get("tts_requests"), "hume_peak_per_60s": peak if times else None,
        "hume_paid_twice": paid_twice, "hume_answers_lost_on_the_wire": lost,
        "faults_fired": {k: v.get("faults_fired") for k, v in stats.items()},
        "wall_s": round(wall, 1),
    }
    print(json.dumps(summary, indent=2))
    print(f"logs: {work}")
    ok = (summary["completion_rate"] == 1.0 and summary["duplicate_paid_jobs"] == 0 and not corrupt
          and summary["budget_overrun_usd"] == 0 and summary["costs_own"]
          and summary["hume_paid_twice"] == 0
          and (summary["hume_peak_per_60s"] or 0) <= 100)
    print("RESULT:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
