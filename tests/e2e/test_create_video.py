"""End to end: ``create_video`` on a short real brief, on the embedded defaults, under Prefect.

Runs the real stack: template planner, Piper TTS, motion-design scenes matched with the MiniLM encoder
and drawn straight into the final encode, FAISS song index over the bundled catalogue, ffmpeg assembly, QA.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import av
import pysubs2
import pytest

from reelflow.core.models import Brief
from reelflow.core.storage import sha256_file

BRIEF = Brief(
    id="e2e-trail-shoe",
    text="Launch video for the TrailFox Grip trail running shoe: sticky grip on wet rock and gravel, "
    "light enough for race day. End with 'Find your trail'.",
    duration_s=8,
    aspect="9:16",
    platform="tiktok",
    tone="upbeat",
    audience="Gen-Z trail runners",
    brand="TrailFox",
)


def _atom_order(path: Path) -> list[str]:
    names, data = [], path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        names.append(data[pos + 4 : pos + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        if size < 8:
            break
        pos += size
    return names


@pytest.fixture(scope="module")
def made(prefect_harness, test_settings, tmp_path_factory, monkeypatch_module):
    from reelflow.flows.create_video import create_video

    monkeypatch_module.setenv("REELFLOW_PATHS__CACHE_DIR", str(test_settings.paths.cache_dir))
    out = tmp_path_factory.mktemp("video")
    state = asyncio.run(create_video(brief=BRIEF, out_dir=str(out), return_state=True))
    assert state.is_completed(), state
    return out, state.result(), state


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_outputs_exist_atomically(made):
    out, result, _ = made
    names = sorted(p.name for p in out.iterdir())
    assert names == ["captions.srt", "metadata.json", "plan.json", "thumbnail.jpg", "video.mp4"]
    assert result.video == str(out / "video.mp4")


def test_video_spec(made):
    out, result, _ = made
    video = out / "video.mp4"
    with av.open(str(video)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0]
        assert (v.codec_context.width, v.codec_context.height) == (1080, 1920)
        assert v.codec_context.name == "h264" and v.codec_context.profile == "High"
        assert v.codec_context.pix_fmt == "yuv420p"
        assert abs(float(v.average_rate) - 30) < 0.01
        assert a.codec_context.name == "aac" and a.codec_context.sample_rate == 48000
        assert a.codec_context.channels == 2
        duration = float(c.duration) / 1e6
    meta = json.loads((out / "metadata.json").read_text())
    # the video lasts exactly its scenes: each its planned length, or longer when its narration needs it
    assert abs(duration - meta["scenes"][-1]["end_s"]) <= 0.1, (duration, meta["scenes"][-1])
    assert abs(duration - BRIEF.duration_s) <= 0.2, duration  # the requested length, not stretched
    atoms = _atom_order(video)
    assert atoms.index("moov") < atoms.index("mdat"), atoms  # +faststart


def test_loudness_measured_after_encoding(made):
    from reelflow.processors.loudness import measure

    out, result, _ = made
    report = measure(out / "video.mp4")
    assert abs(report.integrated_lufs - (-14.0)) <= 1.0
    assert report.true_peak_dbtp <= -1.0 + 0.05
    meta = json.loads((out / "metadata.json").read_text())
    assert abs(meta["loudness_lufs"] - report.integrated_lufs) < 0.2


def test_metadata_fields_and_sha(made):
    out, result, _ = made
    meta = json.loads((out / "metadata.json").read_text())
    for key in ("title", "description", "hashtags", "language", "duration_s", "width", "height", "fps",
                "video_codec", "audio_codec", "loudness_lufs", "true_peak_dbtp", "scenes", "music",
                "credits", "provenance", "costs", "sha256", "created_at"):
        assert key in meta, key
    assert meta["sha256"] == sha256_file(out / "video.mp4") == result.sha256
    assert meta["provenance"]["flow_run_id"] == result.flow_run_id
    assert meta["provenance"]["providers"]["plan"]["provider"] == "local-template"
    assert meta["costs"]["total_usd"] == 0
    parts = {e["part"] for e in meta["costs"]["entries"]}
    assert parts == {"plan", "narration", "clips"}
    assert len(meta["qa"]["clips"]) == len(meta["scenes"])
    assert meta["music"]["catalogue_recommendation"]["track_id"]
    assert meta["music"]["bed"]["licence"].startswith("CC0")
    for s in meta["scenes"]:
        assert s["clip_licence"] and s["voice_provider"] == "local-piper"
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["scenes"]) == len(meta["scenes"]) >= 3
    # motion design: every scene records what it shows; matched assets carry score, licence, source
    kinds = {"kinetic", "hero", "stat", "list", "photo", "end_card"}
    assert all(s["visual_kind"] in kinds for s in meta["scenes"]) and meta["scenes"][-1]["visual_kind"] == "end_card"
    shown = [a for s in meta["scenes"] for a in s["assets"]]
    assert shown and all(a["licence"] == "MIT" and "@" in a["source"] and a["score"] >= 0.4 for a in shown)
    assert all(s["assets"] or s["fallback"] for s in meta["scenes"])
    assert "TrailFox" in " ".join(s["narration"] for s in plan["scenes"])
    assert plan["scenes"][-1]["narration"].endswith("Find your trail.")
    pacing = meta["script"]["pacing"]
    assert pacing["first_word_s"] <= 0.3 and pacing["longest_gap_s"] <= 1.0 and pacing["end_hold_s"] <= 2.0
    for s in meta["scenes"]:  # the scene contract and the measured speech window, per scene
        assert s["visual"]["kind"] in {"kinetic", "hero", "stat", "list", "photo", "end_card"}
        assert s["start_s"] <= s["speech_start_s"] < s["speech_end_s"] <= s["end_s"] + 1e-3
    assert meta["scenes"][-1]["visual"]["kind"] == "end_card"
    assert len(meta["title"]) <= 60 and "TrailFox" in meta["title"]


def test_captions_follow_narration(made):
    out, _, _ = made
    meta = json.loads((out / "metadata.json").read_text())
    subs = pysubs2.load(str(out / "captions.srt"))
    assert len(subs) >= len(meta["scenes"])
    spoken = " ".join(s["narration"] for s in meta["scenes"]).lower()
    for ev in subs:
        lines = ev.plaintext.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines), ev.plaintext
        assert ev.end > ev.start
        assert ev.plaintext.replace("\n", " ").split()[0].lower().strip(".,!?'\"") in spoken
    ends = [s["end_s"] for s in meta["scenes"]]
    assert subs[-1].end / 1000 <= ends[-1] + 0.05
    # every caption sits inside the narration of one scene and shows that scene's words
    def words(text: str) -> list[str]:
        return [w.lower().strip(".,!?;:'\"—-") for w in text.split() if w.strip(".,!?;:'\"—-")]

    covered = {i: [] for i in range(len(meta["scenes"]))}
    for ev in subs:
        t0, t1 = ev.start / 1000, ev.end / 1000
        scene = next(s for s in meta["scenes"] if s["start_s"] - 0.01 <= t0 < s["end_s"])
        assert t0 >= scene["speech_start_s"] - 0.05, (ev.plaintext, t0, scene)
        assert t1 <= scene["end_s"] + 0.05, (ev.plaintext, t1, scene)
        assert set(words(ev.plaintext)) <= set(words(scene["narration"])), (ev.plaintext, scene["narration"])
        covered[scene["index"]] += words(ev.plaintext)
    for s in meta["scenes"]:  # nothing spoken is left uncaptioned, in order
        assert covered[s["index"]] == words(s["narration"]), s["index"]
    starts = [ev.start for ev in subs]
    assert starts == sorted(starts)
    for a, b in zip(subs, subs[1:]):
        assert a.end <= b.start + 1  # no overlaps (1 ms rounding)


def test_flow_run_completed_and_rerun_is_cached(made, test_settings):
    from prefect.client.orchestration import get_client

    from reelflow.flows.create_video import create_video

    out, result, _ = made

    async def check():
        async with get_client() as client:
            run = await client.read_flow_run(result.flow_run_id)
            assert run.state.is_completed()
            arts = await client.read_artifacts()
            keys = {a.key for a in arts}
            assert "video-report-e2e-trail-shoe" in keys and "video-scenes-e2e-trail-shoe" in keys

    asyncio.run(check())
    from reelflow.core.ledger import CostLedger
    from reelflow.core.settings import load_settings

    rows = CostLedger.from_settings(load_settings()).entries(flow_run_id=result.flow_run_id)
    assert {r["part"] for r in rows} == {"plan", "narration", "clips"}
    assert sum(r["cost_usd"] for r in rows) == 0
    out2 = out.parent / "second"
    state = asyncio.run(create_video(brief=BRIEF, out_dir=str(out2), return_state=True))
    assert state.is_completed()
    second = state.result()
    assert second.sha256 == result.sha256  # same brief, cached steps, same bytes

    async def cached_count():
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter

        async with get_client() as client:
            trs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[second.flow_run_id]))
            )
            return [t.state.name for t in trs]

    names = asyncio.run(cached_count())
    assert names.count("Cached") >= len(names) - 2, names  # all but publish (+ nothing else) reuse
