"""Prefect's overhead per task (ms) for a no-op graph of 200 tasks, against a real local server.

Starts ``prefect server start`` on a free loopback port (temporary PREFECT_HOME), then times:

- baseline: the 200 no-op task functions called directly (``task.fn``), no Prefect;
- empty flow run: the fixed cost of one flow run with no tasks;
- one flow run, 200 tasks submitted at once (``.map``) — what env-notes warns gets nonlinear;
- batched: 10 flow runs × 20 tasks each (fan-out kept to tens of tasks per flow run).

Per-task overhead = (wall − empty-flow cost per flow run − baseline) / 200.
Run: ``.venv/bin/python bench/bench_prefect_overhead.py [--tasks 200] [--batch 20]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--batch", type=int, default=20, help="tasks per flow run in the batched variant")
    args = parser.parse_args()

    from reelflow.deployments.local_server import start_server

    home = Path(tempfile.mkdtemp(prefix="reelflow-bench-prefect-"))
    t0 = time.perf_counter()
    srv = start_server(home, port=None, timeout_s=300)
    print(f"server healthy in {time.perf_counter() - t0:.1f} s at {srv.api_url}")
    os.environ["PREFECT_API_URL"] = srv.api_url
    try:
        from prefect import flow, task
        from prefect.cache_policies import NO_CACHE
        from prefect.settings import PREFECT_API_URL, temporary_settings
        from prefect.task_runners import ThreadPoolTaskRunner

        @task(cache_policy=NO_CACHE, persist_result=False)
        def noop(i: int) -> int:
            return i

        @flow(persist_result=False, task_runner=ThreadPoolTaskRunner(max_workers=8))
        def graph(start: int, n: int) -> int:
            futures = noop.map(list(range(start, start + n)))
            return sum(f.result() for f in futures)

        @flow(persist_result=False)
        def empty() -> int:
            return 0

        n = args.tasks
        with temporary_settings(updates={PREFECT_API_URL: srv.api_url}):
            t = time.perf_counter()
            assert sum(noop.fn(i) for i in range(n)) == n * (n - 1) // 2
            baseline = time.perf_counter() - t

            empty()  # warm-up (client, imports)
            reps = 3
            t = time.perf_counter()
            for _ in range(reps):
                empty()
            per_flow = (time.perf_counter() - t) / reps

            t = time.perf_counter()
            assert graph(0, n) == n * (n - 1) // 2
            one_run = time.perf_counter() - t

            runs = max(1, n // args.batch)
            t = time.perf_counter()
            total = sum(graph(i * args.batch, args.batch) for i in range(runs))
            batched = time.perf_counter() - t
            assert total == sum(range(runs * args.batch))

        def per_task(wall: float, flow_runs: int) -> float:
            return (wall - flow_runs * per_flow - baseline) / n * 1000

        print(f"baseline (plain calls, {n}): {baseline * 1000:.3f} ms total")
        print(f"empty flow run: {per_flow * 1000:.0f} ms each")
        print(f"1 flow run x {n} tasks: wall {one_run:.2f} s -> {per_task(one_run, 1):.1f} ms/task overhead")
        print(f"{runs} flow runs x {args.batch} tasks: wall {batched:.2f} s -> "
              f"{per_task(batched, runs):.1f} ms/task overhead (flow-run cost excluded), "
              f"{batched / n * 1000:.1f} ms/task all-in")
        print(f"ratio one-run / batched wall: {one_run / batched:.2f}x; "
              f"Prefect vs plain per task: {one_run / max(baseline, 1e-9):.0f}x")
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
