"""Build a video's :class:`core.metadata.VideoMetadata` from the results of its run (pure).

No Prefect, no I/O: everything measured (the final file's probe, loudness, QA, digest) is passed
in, so the same results always give the same record and a test can build one from real objects.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reelflow.core.metadata import (CaptionsRecord, ClipQARecord, CostsRecord, LookRecord, MusicRecord, PacingRecord,
                                    PromptRecord, ProvenanceRecord, ScriptRecord, VideoMetadata, VideoQARecord)
from reelflow.core.models import Brief, Clip, CostEntry, MusicBed, PlannedScript, QAReport, SceneRecord, SongMatch
from reelflow.core.paths import relative_to_root

if TYPE_CHECKING:  # types only: building a record loads no encoder, renderer or planner
    from reelflow.processors.brief_analysis import BriefAnalysis
    from reelflow.processors.media import MediaInfo
    from reelflow.processors.motion.design import SceneDesign
    from reelflow.processors.pacing import FittedNarration

#: Shown for a clip drawn in the final encode (no separate clip file to check).
DRAWN_NOTE = "drawn in the final encode: checked by the video QA"


def scene_records(fitted: FittedNarration, clips: list[Clip], designs: list[SceneDesign],
                  shows_clip: list[bool]) -> list[SceneRecord]:
    """What ``metadata.json`` says about each scene: timing (s), line, clip, voice, what it shows.

    ``shows_clip[i]`` is True when scene *i* plays a generated clip under its overlays (a stat or
    end-card scene still counts as its own kind).
    """
    plan, utterances, tl = fitted.plan, fitted.utterances, fitted.timeline
    out = []
    for i, scene in enumerate(plan.scenes):
        design, clip, utt = designs[i], clips[i], utterances[i]
        out.append(SceneRecord(
            index=i,
            start_s=tl.starts[i],
            end_s=round(tl.starts[i] + tl.lengths[i], 3),
            narration=scene.narration,
            visual_prompt=scene.visual_prompt,
            clip_source=clip.source,
            clip_licence=clip.licence,
            clip_provider=clip.provider,
            voice=utt.voice,
            voice_provider=utt.provider,
            beat=scene.beat,
            visual=scene.visual,
            speech_start_s=round(tl.narration_starts[i], 3),
            speech_end_s=round(tl.narration_starts[i] + utt.duration_s, 3),
            visual_kind="clip" if shows_clip[i] and design.kind not in ("stat", "end_card") else design.kind,
            headline=design.headline,
            assets=[a.model_dump(exclude={"file"}) for a in design.assets],
            footage=design.footage and Path(design.footage).name,
            footage_score=design.footage_score,
            fallback=design.fallback,
        ))
    return out


def build_metadata(
    *,
    brief: Brief,
    planned: PlannedScript,
    analysis: BriefAnalysis,
    fitted: FittedNarration,
    clips: list[Clip],
    designs: list[SceneDesign],
    shows_clip: list[bool],
    palette: dict[str, str],
    captions_count: int,
    info: MediaInfo,
    loudness_lufs: float,
    true_peak_dbtp: float,
    qa: QAReport,
    clip_qa: list[QAReport | None],
    bed: MusicBed,
    songs: list[SongMatch],
    music_query: str,
    assets_root: Path | str,
    plan_writer: dict[str, str],
    costs: list[tuple[str, CostEntry]],
    reelflow_version: str,
    flow_run_id: str | None,
    sha256: str,
    created_at: datetime,
) -> VideoMetadata:
    """The record of one finished video (``metadata.json``), from its run's results.

    Args:
        brief: the brief as run (logo path already confined).
        planned: the writer's result (its ``writer_record()`` is ``script.plan_writer``).
        analysis: the offline brief analysis (brand, warnings including the flow's thin-brief one).
        fitted: the plan as spoken, its utterances and timeline (:func:`processors.pacing.fit_narration`).
        clips / designs / shows_clip: per scene, the clip used, what the scene shows, and whether a
            generated clip plays under it.
        palette: hex colour per role (``Palette.to_json()``); captions_count: burnt-in captions.
        info: :func:`processors.media.probe` of the final file; loudness_lufs / true_peak_dbtp:
            measured on it (BS.1770-4).
        qa / clip_qa: final-video QA, and per scene its clip's QA (None: drawn in the final encode).
        bed / songs / music_query: the mixed bed (its path is written relative to ``assets_root``),
            the catalogue's matches (best first) and the query they answer.
        plan_writer: ``{"provider", "model"}`` of the configured script writer.
        costs: :func:`core.metadata.run_cost_entries` of the run (discarded paid clips included).
        reelflow_version / flow_run_id / sha256 / created_at: provenance of the file.

    Returns:
        :class:`core.metadata.VideoMetadata` (``review`` unset: the flow adds the gate's record).
    """
    plan, utterances, tl = fitted.plan, fitted.utterances, fitted.timeline
    return VideoMetadata(
        title=plan.title,
        description=plan.description,
        hashtags=plan.hashtags,
        call_to_action=plan.call_to_action,
        script=ScriptRecord(
            brand=analysis.brand,
            warnings=analysis.warnings,
            plan_writer=planned.writer_record(),
            pacing=PacingRecord(
                speech_s=tl.speech_s,
                speech_coverage=round(tl.coverage, 3),
                first_word_s=tl.first_word_s,
                longest_gap_s=round(tl.longest_silence_s, 3),
                end_hold_s=tl.end_hold_s,
                pace=tl.pace,
                synthesis_rounds=fitted.rounds,
                notes=tl.notes,
            ),
        ),
        language=brief.language,
        platform=brief.platform.value,
        aspect=brief.aspect.value,
        duration_s=round(info.duration_s, 3),
        width=info.width,
        height=info.height,
        fps=info.fps,
        video_codec=info.video_codec,
        video_profile=info.profile,
        pix_fmt=info.pix_fmt,
        audio_codec=info.audio_codec,
        audio_sample_rate=info.sample_rate,
        audio_channels=info.channels,
        loudness_lufs=round(loudness_lufs, 2),
        true_peak_dbtp=round(true_peak_dbtp, 2),
        captions=CaptionsRecord(count=captions_count),
        scenes=scene_records(fitted, clips, designs, shows_clip),
        music=MusicRecord(
            bed=bed.model_copy(update={"path": relative_to_root(bed.path, assets_root)}),  # no worker paths
            catalogue_recommendation=songs[0] if songs else None,
            catalogue_alternatives=songs[1:],
            query=music_query,
        ),
        credits=sorted({c.credit for c in clips if c.credit} | ({bed.credit} if bed.credit else set())
                       | {d.footage_credit for d in designs if d.footage and d.footage_credit}),
        look=LookRecord(palette=palette, logo=bool(brief.logo)),
        qa=VideoQARecord(
            **qa.model_dump(),
            clips=[
                ClipQARecord(scene=i, passed=q.passed, flags=q.flags, provider=clips[i].provider) if q is not None
                else ClipQARecord(scene=i, passed=True, provider=clips[i].provider, note=DRAWN_NOTE)
                for i, q in enumerate(clip_qa)
            ],
        ),
        provenance=ProvenanceRecord(
            reelflow_version=reelflow_version,
            flow_run_id=flow_run_id,
            providers={
                "plan": dict(plan_writer),
                "narration": sorted({u.provider for u in utterances}),
                "clips": sorted({c.provider for c in clips}),
                "music_bed": "local-bed-library",
                "catalogue": "local-faiss",
            },
            prompts=[PromptRecord(scene=c.scene_index, prompt=c.prompt, model=c.model, seed=c.seed) for c in clips],
            brief=brief,
        ),
        costs=CostsRecord.from_entries(costs),
        sha256=sha256,
        created_at=created_at,
    )
