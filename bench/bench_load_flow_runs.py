"""Load: N concurrent ``create_flow_run`` calls against a local Prefect server (loopback only).

Run from the repo root::

    .venv/bin/python bench/bench_load_flow_runs.py [--runs 200] [--limit 4] [--work-s 0.5] [--timeout 900]

What it does:

1. starts ``prefect server start`` on a free 127.0.0.1 port with its own PREFECT_HOME
   (:func:`reelflow.deployments.local_server.start_server`);
2. serves one deployment ``load-probe/reelflow`` from a subprocess with ``prefect.serve(...,
   limit=--limit)`` — the same mechanism as ``reelflow server`` (``deployments/serve.py --limit``).
   The probe flow stands in for ``create_video``: it sleeps ``--work-s`` and appends its
   start/end times to a JSON-lines file, so what is measured is the API and the runner, not
   ffmpeg (200 real videos would take hours on 2 cores);
3. fires ``--runs`` ``POST /deployments/{id}/create_flow_run`` requests at once (one asyncio
   gather; each retries a 503 or a dropped connection from the SQLite-backed server with
   jittered exponential backoff (capped at 5 s) for up to :data:`CREATE_DEADLINE_S`, counted,
   with an ``idempotency_key`` so a retry never makes a second run);
4. waits for every run to reach a final state (bounded by ``--timeout``).

Printed: accepted (HTTP 201) / lost / completed / failed runs, 503 retries, create latency p50 /
p95 / max, wall time, throughput (runs/s) against the ideal ``runs * work_s / limit`` (the
ratio), and the highest number of probe flows that were running at the same moment (must be
≤ ``--limit``). Exit code 1 when a run is lost, fails, or the limit is exceeded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

#: How long one create_flow_run call keeps retrying 503s / dropped connections (s).
CREATE_DEADLINE_S = 600.0

PROBE = '''
import json, os, sys, time
from prefect import flow, serve

@flow(name="load-probe", log_prints=False)
def load_probe(i: int, work_s: float = 0.5) -> int:
    t0 = time.time()
    time.sleep(work_s)
    with open(os.environ["LOAD_PROBE_LOG"], "a") as fh:
        fh.write(json.dumps({"i": i, "start": t0, "end": time.time(), "pid": os.getpid()}) + "\\n")
    return i

if __name__ == "__main__":
    serve(load_probe.to_deployment(name="reelflow"), limit=int(sys.argv[1]), print_starting_message=False)
'''


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Largest number of ``(start, end)`` intervals open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


async def fire(api: str, dep_id: str, runs: int, work_s: float) -> tuple[list[str], list[float], int, int]:
    """POST ``runs`` create_flow_run requests at once; returns (distinct run ids, latencies s,
    retries after a 503 or a dropped connection, requests that failed for good)."""
    import httpx

    retries = errors = transport_errors = 0
    key_prefix = f"load-{time.time_ns()}"
    ids: list[str] = []
    lat: list[float] = []
    limits = httpx.Limits(max_connections=runs, max_keepalive_connections=runs)
    async with httpx.AsyncClient(base_url=api, timeout=120, limits=limits) as http:
        async def one(i: int) -> None:
            nonlocal retries, errors, transport_errors
            t0 = time.perf_counter()
            give_up = time.monotonic() + CREATE_DEADLINE_S
            attempt = 0
            while time.monotonic() < give_up:
                attempt += 1
                try:
                    # the idempotency key makes a retry after a lost response return the same run
                    r = await http.post(f"/deployments/{dep_id}/create_flow_run",
                                        json={"parameters": {"i": i, "work_s": work_s},
                                              "idempotency_key": f"{key_prefix}-{i}"})
                except httpx.TransportError:
                    transport_errors += 1
                    await asyncio.sleep(min(5.0, 0.2 * 2 ** min(attempt, 5)) * random.uniform(0.5, 1.0))
                    continue
                if r.status_code == 503:
                    retries += 1
                    await asyncio.sleep(min(5.0, 0.2 * 2 ** min(attempt, 5)) * random.uniform(0.5, 1.0))
                    continue
                if r.status_code in (200, 201):  # 200: the idempotency key found the run made before
                    ids.append(r.json()["id"])
                    lat.append(time.perf_counter() - t0)
                else:
                    errors += 1
                return
            errors += 1

        await asyncio.gather(*(one(i) for i in range(runs)))
    return sorted(set(ids)), lat, retries + transport_errors, errors


def run(runs: int, limit: int, work_s: float, timeout: float) -> dict:
    """The whole measurement; returns the figures (see the module docstring)."""
    import httpx

    from reelflow.deployments.local_server import start_server, stop_process

    home = Path(tempfile.mkdtemp(prefix="reelflow-load-"))
    server = start_server(home / "prefect", port=None, timeout_s=180)
    probe_py = home / "probe.py"
    probe_py.write_text(PROBE)
    log_path = home / "probe.jsonl"
    env = {**server.env, "LOAD_PROBE_LOG": str(log_path), "PREFECT_RUNNER_POLL_FREQUENCY": "1",
           "PYTHONPATH": str(REPO)}
    serve_log = open(home / "serve.log", "wb")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([sys.executable, str(probe_py), str(limit)], env=env, cwd=REPO, stdout=serve_log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with httpx.Client(base_url=server.api_url, timeout=30) as http:
            deadline = time.monotonic() + 120
            dep = None
            while time.monotonic() < deadline and dep is None:
                r = http.get("/deployments/name/load-probe/reelflow")
                dep = r.json() if r.status_code == 200 else None
                time.sleep(0.5)
            if dep is None:
                raise RuntimeError("probe deployment never registered:\n" + (home / "serve.log").read_text()[-2000:])
            t0 = time.perf_counter()
            ids, lat, retries, errors = asyncio.run(fire(server.api_url, dep["id"], runs, work_s))
            t_created = time.perf_counter() - t0
            states: dict[str, str] = {}
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                states = {}
                offset = 0
                while True:
                    page = http.post("/flow_runs/filter", json={
                        "flow_runs": {"deployment_id": {"any_": [dep["id"]]}}, "limit": 200, "offset": offset}).json()
                    states.update({fr["id"]: fr["state"]["type"] for fr in page})
                    if len(page) < 200:
                        break
                    offset += 200
                if sum(1 for s in states.values() if s in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}) >= len(ids):
                    break
                time.sleep(1)
            wall = time.perf_counter() - t0
    finally:
        stop_process(proc)
        serve_log.close()
        server.stop()
    probes = [json.loads(line) for line in log_path.read_text().splitlines()] if log_path.exists() else []
    completed = sum(1 for i in ids if states.get(i) == "COMPLETED")
    failed = sum(1 for i in ids if states.get(i) in {"FAILED", "CRASHED", "CANCELLED"})
    ideal = runs * work_s / limit
    return {
        "runs": runs, "limit": limit, "work_s": work_s,
        "accepted": len(ids), "create_errors": errors, "retries_503_or_dropped": retries,
        "lost": runs - completed - failed, "completed": completed, "failed": failed,
        "probe_executions": len(probes), "distinct_runs_executed": len({p["i"] for p in probes}),
        "max_concurrent": max_overlap([(p["start"], p["end"]) for p in probes]) if probes else 0,
        "create_p50_s": round(statistics.median(lat), 3) if lat else None,
        "create_p95_s": round(sorted(lat)[int(0.95 * (len(lat) - 1))], 3) if lat else None,
        "create_max_s": round(max(lat), 3) if lat else None,
        "create_all_s": round(t_created, 2), "wall_s": round(wall, 1),
        "throughput_runs_per_s": round(completed / wall, 2) if wall else None,
        "ideal_wall_s": round(ideal, 1), "wall_over_ideal": round(wall / ideal, 2) if ideal else None,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--work-s", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    out = run(args.runs, args.limit, args.work_s, args.timeout)
    print(json.dumps(out, indent=2))
    ok = (out["accepted"] == args.runs and out["lost"] == 0 and out["failed"] == 0
          and out["distinct_runs_executed"] == args.runs and out["max_concurrent"] <= args.limit)
    print("RESULT:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
