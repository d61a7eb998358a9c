"""``build_metadata``: the ``metadata.json`` record built from one run's results (pure).

Real objects throughout: the offline planner's plan and analysis, the pacing step's timeline,
the motion palette, and result records as the adapters return them (a Hume-style utterance with
its cost entry, a paid clip, a paid clip that QA discarded, free local clips).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reelflow.core.ledger import entries_from_metadata
from reelflow.core.metadata import VideoMetadata, run_cost_entries
from reelflow.core.models import (Brief, Clip, CostEntry, MusicBed, PlannedScript, QAReport, SongMatch, Utterance,
                                  WordTiming)
from reelflow.core.settings import load_settings
from reelflow.processors.media import MediaInfo
from reelflow.processors.metadata import DRAWN_NOTE, build_metadata
from reelflow.processors.motion.design import AssetChoice, SceneDesign
from reelflow.processors.motion.palette import palette_for
from reelflow.processors.pacing import FittedNarration, build_timeline
from reelflow.processors.planner import TemplatePlanner

#: The top-level keys of ``metadata.json`` that tests, docs, the review UI and the ledger read.
KEYS = ["title", "description", "hashtags", "call_to_action", "script", "language", "platform", "aspect",
        "duration_s", "width", "height", "fps", "video_codec", "video_profile", "pix_fmt", "audio_codec",
        "audio_sample_rate", "audio_channels", "loudness_lufs", "true_peak_dbtp", "captions", "scenes", "music",
        "credits", "look", "qa", "provenance", "costs", "sha256", "video_file", "created_at"]

BRIEF = Brief(text="Open day at Crumb and Co bakery: sourdough at seven, free coffee for the first fifty guests. "
                   "End with 'See you at the counter'.", brand="Crumb and Co", duration_s=12, platform="reels",
              aspect="1:1", tone="warm")


@pytest.fixture(scope="module")
def run():
    """The results of one run: half the scenes on paid clips (one regenerated), the rest drawn."""
    planner = TemplatePlanner()
    analysis = planner.analyze(BRIEF)
    planned = PlannedScript(plan=planner.plan(BRIEF), provider="openai", model="gpt-4o-mini", completions=1,
                            reasks=0, repairs=[],
                            costs=[CostEntry(provider="openai", model="gpt-4o-mini-2024-07-18", units=1800,
                                             unit="tokens", cost_usd=0.00042, request_id="req_1")])
    plan = planned.plan
    durations = [0.4 * len(s.narration.split()) for s in plan.scenes]
    utterances = [Utterance(scene_index=i, text=s.narration, audio_path=f"/work/narration/{i}.wav", duration_s=d,
                            sample_rate=48000, words=[WordTiming(text="Fresh", start_s=0, end_s=0.3)],
                            provider="hume", voice="Ava Song",
                            costs=[CostEntry(provider="hume", model="octave-2", units=len(s.narration),
                                             unit="characters", cost_usd=0.0)])
                  for i, (s, d) in enumerate(zip(plan.scenes, durations, strict=True))]
    fitted = FittedNarration(plan=plan, utterances=utterances, timeline=build_timeline(durations, BRIEF.duration_s),
                             rounds=1)
    n = len(plan.scenes)

    def paid(i: int, task: str) -> Clip:
        return Clip(scene_index=i, path=f"/work/clips/{i}.mp4", duration_s=5.2, width=1080, height=1080, fps=30,
                    provider="runware", model="klingai:5@3", source=f"runware:{task}", licence="Runware generated",
                    credit="Generated with Runware klingai:5@3", prompt=plan.scenes[i].visual_prompt, seed=7 + i,
                    request_id=task, costs=[CostEntry(provider="runware", model="klingai:5@3", units=5,
                                                      unit="seconds", cost_usd=0.287, request_id=task)])

    clips = [paid(i, f"task-{i}") if i < 2 else
             Clip(scene_index=i, path="", duration_s=3.0, width=1080, height=1080, fps=30, provider="local-motion",
                  source="motion-design", licence="CC0") for i in range(n)]
    discarded = [paid(1, "task-1-flawed")]
    designs = [SceneDesign(index=i, kind="end_card" if i == n - 1 else "hero" if i else "kinetic",
                           visual=s.visual, headline=f"Line {i}",
                           assets=[AssetChoice(id="bread", label="bread", score=0.61, via="keyword", licence="MIT",
                                               source="lucide-static@0.400.0", file="/assets/bread.svg")] if i else [])
               for i, s in enumerate(plan.scenes)]
    return dict(analysis=analysis, planned=planned, fitted=fitted, clips=clips, discarded=discarded, designs=designs)


def _build(run, **over):
    settings = load_settings()
    bed = MusicBed(path=str(settings.assets / "music" / "warm-bed.ogg"), title="Warm", artist="A",
                   licence="CC0 1.0", credit="Warm by A (CC0)")
    songs = [SongMatch(track_id=f"t{i}", track_name=f"Song {i}", track_artist="B", score=0.8 - i / 10)
             for i in range(3)]
    clips, n = run["clips"], len(run["clips"])
    args = dict(
        brief=BRIEF, planned=run["planned"], analysis=run["analysis"], fitted=run["fitted"], clips=clips,
        designs=run["designs"], shows_clip=[bool(c.costs) for c in clips],
        palette=palette_for(None, BRIEF.tone).to_json(), captions_count=9,
        info=MediaInfo(path="video.mp4", duration_s=12.0104, width=1080, height=1080, fps=30.0, video_codec="h264",
                       profile="High", pix_fmt="yuv420p", audio_codec="aac", sample_rate=48000, channels=2),
        loudness_lufs=-14.0312, true_peak_dbtp=-1.5049,
        qa=QAReport(detected_cuts_s=[2.0], expected_cuts_s=[2.0], cuts_matched=1),
        clip_qa=[QAReport(flags=["a cut at 1.2 s"], passed=False) if i == 1 else QAReport() if i < 2 else None
                 for i in range(n)],
        bed=bed, songs=songs, music_query="warm acoustic", assets_root=settings.assets,
        plan_writer={"provider": "openai", "model": "gpt-4o-mini"},
        costs=run_cost_entries(run["planned"], run["fitted"].utterances, clips + run["discarded"]),
        reelflow_version="0.0.0-test", flow_run_id="run-1", sha256="ab" * 32,
        created_at=datetime(2026, 12, 7, 5, 30, tzinfo=UTC),
    )
    return build_metadata(**{**args, **over})


def test_metadata_keys_and_measured_fields(run):
    meta = _build(run)
    data = meta.model_dump(mode="json")
    assert list(data) == KEYS  # no "review" until the review gate has decided
    assert data["duration_s"] == 12.01 and data["loudness_lufs"] == -14.03 and data["true_peak_dbtp"] == -1.5
    assert data["created_at"] == "2026-12-07T05:30:00+00:00"
    assert data["music"]["bed"]["path"] == "music/warm-bed.ogg"  # no worker paths
    assert data["music"]["catalogue_recommendation"]["track_id"] == "t0"
    assert [s["track_id"] for s in data["music"]["catalogue_alternatives"]] == ["t1", "t2"]
    assert data["script"]["plan_writer"] == {"provider": "openai", "model": "gpt-4o-mini", "completions": 1,
                                             "reasks": 0, "repairs": []}
    assert data["script"]["brand"] == "Crumb and Co"
    assert data["provenance"]["brief"] == BRIEF.model_dump(mode="json")
    assert data["provenance"]["providers"]["clips"] == ["local-motion", "runware"]
    assert data["credits"] == sorted({"Generated with Runware klingai:5@3", "Warm by A (CC0)"})
    # the review gate's record is added after the review, and written with the rest
    reviewed = meta.model_copy(update={"review": {"mode": "final", "final": {"status": "approved"}}})
    assert list(reviewed.model_dump(mode="json"))[-1] == "review"
    # metadata.json reads back as the same record
    assert VideoMetadata.model_validate(json.loads(json.dumps(reviewed.model_dump(mode="json")))) == reviewed


def test_scene_records_follow_the_timeline_and_the_clips(run):
    data = _build(run).model_dump(mode="json")
    tl, scenes = run["fitted"].timeline, data["scenes"]
    assert [s["start_s"] for s in scenes] == tl.starts
    assert scenes[-1]["end_s"] == pytest.approx(tl.starts[-1] + tl.lengths[-1], abs=1e-3)
    assert all(s["speech_start_s"] < s["speech_end_s"] <= s["end_s"] + 1e-3 for s in scenes)
    # a paid clip plays under scenes 0-1; the end card stays an end card
    assert [s["visual_kind"] for s in scenes[:2]] == ["clip", "clip"] and scenes[-1]["visual_kind"] == "end_card"
    assert all("file" not in a for s in scenes for a in s["assets"])  # asset files are worker paths
    clips_qa = data["qa"]["clips"]
    assert clips_qa[1] == {"scene": 1, "passed": False, "flags": ["a cut at 1.2 s"], "provider": "runware"}
    assert all(c["note"] == DRAWN_NOTE for c in clips_qa[2:]) and all("note" not in c for c in clips_qa[:2])


def test_costs_sum_every_result_including_discarded_clips(run):
    data = _build(run).model_dump(mode="json")
    costs, n = data["costs"], len(data["scenes"])
    parts = [e["part"] for e in costs["entries"]]
    # one plan completion, one entry per utterance, the clips used + the paid clip QA discarded
    assert parts == ["plan"] + ["narration"] * n + ["clips"] * (n + 1)
    assert costs["per_provider_usd"] == {"openai": 0.0004, "hume": 0.0, "runware": round(3 * 0.287, 4),
                                         "local-motion": 0.0}
    assert costs["total_usd"] == round(0.00042 + 3 * 0.287, 4)
    assert {e["request_id"] for e in costs["entries"] if e["provider"] == "runware"} == {
        "task-0", "task-1", "task-1-flawed"}
    # the ledger's after-the-fact reading (campaigns) gets the same totals per provider and part
    got = {(part, e.provider, e.cost_usd) for part, e in entries_from_metadata(data)}
    assert ("clips", "runware", round(3 * 0.287, 4)) in got and ("plan", "openai", 0.0004) in got
    # and what the flow records in the ledger is the same entries
    assert _build(run).costs.ledger_entries() == run_cost_entries(
        run["planned"], run["fitted"].utterances, run["clips"] + run["discarded"])


def test_free_local_results_still_name_their_provider(run):
    local = PlannedScript(plan=run["planned"].plan, provider="local-template", model="copywriter-v3")
    free = [u.model_copy(update={"provider": "local-piper", "voice": "en_US-amy", "costs": []})
            for u in run["fitted"].utterances]
    entries = run_cost_entries(local, free, run["clips"][2:])
    assert entries[0] == ("plan", CostEntry(provider="local-template", model="copywriter-v3"))
    assert [(p, e.provider, e.unit, e.units, e.cost_usd) for p, e in entries[1:len(free) + 1]] == [
        ("narration", "local-piper", "characters", len(u.text), 0.0) for u in free]
    assert all(p == "clips" and e.provider == "local-motion" and e.cost_usd == 0 for p, e in entries[len(free) + 1:])
