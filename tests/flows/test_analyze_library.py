"""``analyze_library`` under a real (temporary) Prefect server on real videos and images."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from reelflow.core.errors import InputError
from reelflow.processors.media import ffmpeg_exe


@pytest.fixture(scope="module")
def library(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lib = tmp_path_factory.mktemp("library")
    for name in ("testvideo.mp4", "goldeneye-vfr-drop3.mp4", "fades.mp4"):
        shutil.copy(shared_data / "videos" / name, lib / name)
    shutil.copy(shared_data / "footage" / "videos" / "squirrel.mp4", lib / "squirrel.mp4")
    (lib / "photos").mkdir()
    for name in ("coffee.png", "rocket.jpg", "chelsea.png", "brick.png", "grass.png", "gravel.png"):
        shutil.copy(shared_data / "footage" / "images" / name, lib / "photos" / name)
    (lib / "empty.mp4").write_bytes(b"")
    (lib / "notes.mp4").write_text("meeting notes, not a video\n" * 20)
    # odd inputs: rotated (display matrix 90°) and very tall; bad ones: truncated, audio only
    ff = ffmpeg_exe()
    src = shared_data / "videos" / "testvideo.mp4"
    run = [ff, "-v", "error", "-y"]
    subprocess.run(run + ["-i", str(src), "-t", "2", "-vf", "scale=202:720,setsar=1", "-an", "-c:v", "libx264",
                          "-preset", "ultrafast", str(lib / "tall.mp4")], check=True)
    subprocess.run(run + ["-display_rotation", "90", "-i", str(lib / "tall.mp4"), "-c", "copy",
                          str(lib / "rotated.mp4")], check=True)
    full = tmp_path_factory.mktemp("src") / "full.mp4"
    subprocess.run(run + ["-i", str(src), "-t", "4", "-an", "-c:v", "libx264", "-preset", "ultrafast",
                          "-movflags", "+faststart", str(full)], check=True)
    data = full.read_bytes()
    (lib / "truncated.mp4").write_bytes(data[: len(data) // 2])
    subprocess.run(run + ["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac",
                          str(lib / "voiceover.mp4")], check=True)
    return lib


async def _task_states(flow_run_id, settle_s: float = 30.0) -> dict[str, str]:
    """Task run name → final state name for one flow run (from the Prefect API).

    Task run states reach the API as events, a moment after the flow returns: read again until
    no run is still Pending/Running. Still unsettled after ``settle_s`` is a failure (a partial
    answer would let the caller assert on states that were never final).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + settle_s
    async with get_client() as client:
        while True:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            states = {r.name: r.state_name for r in runs}
            if not {"Pending", "Running"} & set(states.values()):
                return states
            if time.monotonic() > deadline:
                pytest.fail(f"task run states not final after {settle_s:.0f} s: {states}")
            await asyncio.sleep(0.5)


def test_analyze_library_end_to_end(prefect_harness, library: Path, tmp_path: Path) -> None:
    from reelflow.flows.analyze_library import analyze_library

    out = tmp_path / "out"
    report = analyze_library([str(library)], str(out))
    assert report.n_files == 16
    assert report.n_videos == 6 and report.n_images == 6
    assert report.n_errors == 4
    errors = {Path(r.path).name: r.error for r in report.files if r.status == "error"}
    assert set(errors) == {"empty.mp4", "notes.mp4", "truncated.mp4", "voiceover.mp4"}
    assert "empty" in errors["empty.mp4"] and "not a readable video" in errors["notes.mp4"]
    assert "truncated" in errors["truncated.mp4"] and "of the 120 frames" in errors["truncated.mp4"]
    assert "no video stream" in errors["voiceover.mp4"]
    rot = json.loads((out / "rotated" / "metadata.json").read_text())
    tall = json.loads((out / "tall" / "metadata.json").read_text())
    assert rot["rotation"] in (90, 270) and tall["rotation"] == 0
    assert (rot["width"], rot["height"]) == (tall["width"], tall["height"]) == (202, 720)
    assert rot["shots"] == tall["shots"]  # the display matrix changes nothing about the content

    shots = json.loads((out / "testvideo" / "shots.json").read_text())
    assert set(shots) >= {"video", "fps", "frame_count", "shots"}
    assert shots["frame_count"] == 720
    first = shots["shots"][0]
    assert set(first) >= {"index", "start_frame", "end_frame", "start_s", "end_s", "keyframe"}
    assert [s["start_frame"] for s in shots["shots"]][:4] == [0, 15, 30, 180]
    for s in shots["shots"]:
        assert (out / "testvideo" / s["keyframe"]).is_file()
    assert (out / "testvideo" / "contact_sheet.jpg").stat().st_size > 10_000

    vfr = json.loads((out / "goldeneye-vfr-drop3" / "shots.json").read_text())
    assert [s["start_frame"] for s in vfr["shots"]] == [0, 90, 210]
    meta = json.loads((out / "goldeneye-vfr-drop3" / "metadata.json").read_text())
    assert meta["vfr"] is True and meta["width"] == 1280 and meta["height"] == 544 and meta["codec"] == "h264"
    sq = json.loads((out / "squirrel" / "metadata.json").read_text())
    assert sq["audio"]["codec"] == "aac" and sq["shots"]["count"] == 1 and sq["qa"]["flags"] == []
    assert sq["duration_s"] == pytest.approx(10.0, abs=0.05) and sq["fps"] == 25.0

    clusters = json.loads((out / "clusters.json").read_text())
    assert clusters["n_items"] >= 10 and clusters["n_clusters"] == report.n_clusters >= 1
    ids = {it["id"] for it in clusters["items"]}
    assert {"coffee", "rocket", "brick"} <= ids
    assert all(it["cluster"] >= -1 for it in clusters["items"])
    assert (out / "cluster_report.md").read_text().startswith("# Library clusters")
    rep = json.loads((out / "report.json").read_text())
    assert rep["n_errors"] == 4

    # keyframes come from the detection pass (one decode), and the JPEGs are real pictures
    kf = out / "testvideo" / shots["shots"][1]["keyframe"]
    assert kf.read_bytes()[:2] == b"\xff\xd8"

    # unchanged library: every file is a cache hit (content hash) and nothing is recomputed —
    # asserted on the task run states and the files on disk, not on wall-clock time
    outputs = sorted(p for p in out.rglob("*") if p.is_file() and p.parent != out)
    mtimes = {p: p.stat().st_mtime_ns for p in outputs}
    state = analyze_library([str(library)], str(out), return_state=True)
    again = state.result()
    assert again.n_errors == 4 and again.n_videos == 6
    assert {p: p.stat().st_mtime_ns for p in outputs} == mtimes  # no per-file output rewritten
    states = asyncio.run(_task_states(state.state_details.flow_run_id))
    good = {r.name for r in report.files if r.status == "ok"}
    assert len(good) == 12 and {n: states[f"analyze-{n}"] for n in good} == {n: "Cached" for n in good}
    # files that gave an error entry are tried again (nothing of theirs is on disk to reuse)
    assert {states[f"analyze-{r.name}"] for r in report.files if r.status == "error"} == {"Completed"}


def test_decoder_threads_fill_the_cores_without_oversubscribing() -> None:
    from reelflow.flows.analyze_library import decoder_threads

    assert decoder_threads(n_files=10, workers=2, cores=2) == 1  # two files at once, one thread each
    assert decoder_threads(n_files=1, workers=2, cores=2) == 2  # a single file gets both cores
    assert decoder_threads(n_files=3, workers=4, cores=16) == 5
    assert decoder_threads(n_files=0, workers=2, cores=2) == 2


def test_missing_path_is_an_input_error_before_work(prefect_harness, tmp_path: Path) -> None:
    from reelflow.flows.analyze_library import analyze_library

    with pytest.raises(InputError, match="does not exist"):
        analyze_library([str(tmp_path / "nope"), str(tmp_path)], str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_cli_analyze_exit_codes(prefect_harness, shared_data: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reelflow import cli

    cli._register()
    runner = CliRunner()
    res = runner.invoke(cli.app, ["analyze", str(tmp_path / "missing.mp4")])
    assert res.exit_code == 2
    res = runner.invoke(cli.app, ["analyze", str(shared_data / "videos" / "counter.mp4"),
                                  str(shared_data / "footage" / "images" / "coffee.png"),
                                  "--out", str(tmp_path / "o"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout[res.stdout.index("{"):])
    assert doc["n_videos"] == 1 and doc["n_images"] == 1 and doc["n_errors"] == 0
