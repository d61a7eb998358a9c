"""A 4-video campaign on the default thread runner vs a 2-worker local Dask cluster.

Starts a real Prefect server (Dask worker processes report to it), takes the first 4 briefs of
``assets/briefs/examples.jsonl`` shortened to ``--seconds`` (6 s default) and runs the
``campaign`` flow twice — thread pool (2 videos in flight), then ``DaskTaskRunner`` over a
``LocalCluster`` of 2 single-threaded worker processes (2 in flight). Each run gets its own
brief ids so Prefect's task cache cannot serve the second run; the song index and footage
embeddings on disk are warmed first so both runs start equal. Prints wall times and the ratio.

Run: ``.venv/bin/python bench/bench_dask_campaign.py [--seconds 6] [--videos 4]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _campaign(tag: str, seconds: float, videos: int, out: Path) -> dict:
    briefs = []
    for line in (REPO / "reelflow" / "assets" / "briefs" / "examples.jsonl").read_text().splitlines()[:videos]:
        b = json.loads(line)
        b["id"] = f"{b['id']}-{tag}"
        b["duration_s"] = seconds
        briefs.append(b)
    return {"name": f"bench-{tag}", "briefs": briefs, "max_concurrency": 2, "out_dir": str(out / tag)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--videos", type=int, default=4)
    args = parser.parse_args()

    from reelflow.deployments.local_server import start_server

    tmp = Path(tempfile.mkdtemp(prefix="reelflow-bench-dask-"))
    srv = start_server(tmp / "prefect", port=None, timeout_s=300)
    os.environ["PREFECT_API_URL"] = srv.api_url
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from reelflow.core.settings import RunnerSettings, load_settings
        from reelflow.flows._wiring import get_runtime
        from reelflow.flows.campaign import CampaignSpec, campaign_for

        settings = load_settings()
        t = time.perf_counter()
        rt = get_runtime(settings)
        rt.song_index()
        print(f"warm-up (song index, encoder) {time.perf_counter() - t:.1f} s; server {srv.api_url}")
        stamp = time.strftime("%H%M%S")
        results = {}
        with temporary_settings(updates={PREFECT_API_URL: srv.api_url}):
            for kind in ("thread", "dask"):
                runner = RunnerSettings(task_runner=kind, dask_workers=2, max_concurrency=2)
                s = settings.model_copy(update={"runner": runner})
                spec = CampaignSpec.model_validate(_campaign(f"{kind}-{stamp}", args.seconds, args.videos, tmp / "out"))
                t = time.perf_counter()
                state = campaign_for(spec, s)(spec=spec, return_state=True)
                wall = time.perf_counter() - t
                report = state.result(raise_on_failure=False)
                results[kind] = wall
                per = ", ".join(f"{r.brief}:{r.status}:{r.seconds:.0f}s" for r in report.rows)
                print(f"{kind:6s}: {wall:6.1f} s wall, {state.message}  [{per}]")
        print(f"videos: {args.videos} x {args.seconds:.0f} s, 2 in flight; machine cores: {os.cpu_count()}")
        print(f"ratio dask / thread wall: {results['dask'] / results['thread']:.2f}x "
              f"(< 1 means the Dask cluster was faster)")
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
