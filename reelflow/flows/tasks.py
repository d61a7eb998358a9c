"""Prefect tasks of ``create_video``: thin adapters around one port or processor call each.

Contracts (habit 2 of STYLE.md):
- Caching: :data:`reelflow.flows._policies.CACHED`, i.e. ``INPUTS + TASK_SOURCE`` plus the
  "outputs present" rule on ``work_dir`` (a re-run with the same brief
  and providers reuses finished steps; deleting the work folder invalidates them). Results are
  persisted so a crashed run resumes. Tasks that publish outputs use ``NO_CACHE``.
- Retries: local processing errors and retryable remote errors are retried by Prefect;
  permanent errors (bad input, configuration, auth, credits) are not
  (:func:`reelflow.flows._policies.retry_unless_permanent`).
  Remote clients retry transport errors/429/5xx themselves; a Prefect retry re-runs the whole
  step on top of that (product of the two is bounded: 2 step retries x the client's deadline).
- Only pydantic records and paths cross task boundaries.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from reelflow.core.models import (Brief, Clip, ClipRequest, CostEntry, MusicBed, PlannedScript, QAReport, Scene, SongMatch,
                                  Utterance)
from reelflow.flows._cache import code_version
from reelflow.flows._limits import provider_rate_slot
from reelflow.flows._policies import CACHED, LOCAL_STEP_RETRY, REMOTE_STEP_RETRIES
from reelflow.flows._wiring import get_runtime


#: The plan misses its cache when the offline copywriter changes (its modules are not the task's source).
CACHED_PLAN = CACHED + code_version("reelflow.processors.planner", "reelflow.processors.copywriter",
                                    "reelflow.processors.brief_analysis", "reelflow.processors.pacing",
                                    "reelflow.clients.openai.adapter")
#: Narration misses its cache when the local voice's synthesis changes.
CACHED_TTS = CACHED + code_version("reelflow.processors.local_tts")
#: QA/keyframe tasks also miss their cache when the detector or the QA rules change.
#: Scene design and captions also miss their cache when the motion renderer's rules change.
CACHED_MOTION = CACHED + code_version("reelflow.processors.motion.design", "reelflow.processors.motion.assets",
                                      "reelflow.processors.captions")
CACHED_QA = CACHED + code_version("reelflow.processors.shots", "reelflow.processors.qa", "reelflow.processors.keyframes")


def _paid_scope() -> Any:
    """:func:`core.ledger.paid_scope` for this flow run (adapters record paid calls at once)."""
    from prefect.runtime import flow_run

    from reelflow.core.ledger import paid_scope

    return paid_scope(Path(get_runtime().settings.cache) / "ledger.sqlite", flow_run.id)


def content_key(*parts: Any) -> str:
    """Short stable hash of JSON-able parts (used to name work folders)."""
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


@task(name="check-service-keys", cache_policy=NO_CACHE, retries=0, tags=["preflight"],
      task_run_name="check-service-keys")
async def check_service_keys(providers: dict[str, str]) -> list[str]:
    """Before anything is paid: one unbilled call per remote service to reject a bad key early.

    ``providers`` (part → provider name) is for the UI only. Returns the providers checked.

    Raises:
        clients.errors.AuthError: naming the rejected key's environment variable.
    """
    return await get_runtime().check_access()


@task(
    name="plan-script",
    cache_policy=CACHED_PLAN,
    persist_result=True,
    **REMOTE_STEP_RETRIES,
    tags=["plan"],
    task_run_name="plan-script[{provider}]",
)
async def plan_script(brief: Brief, provider: str, work_dir: str, speech_s: float | None = None,
                      words_per_second: float | None = None) -> PlannedScript:
    """Write the script plan through the configured ``ScriptWriter``.

    ``speech_s`` asks the offline planner for copy that speaks about that many seconds at the
    voice's measured ``words_per_second`` (the pacing step's re-plan); other writers ignore it.
    Returns the writer's :class:`core.models.PlannedScript`: the plan, its cost entries (one per
    paid completion) and who wrote it (for LLM plans also ``completions``, ``reasks``,
    ``repairs``, and ``fallback_reason`` when the offline planner wrote the plan instead).
    """
    if speech_s is not None:  # a re-plan to a speech budget is always the offline planner's (free)
        from reelflow.processors.planner import TemplatePlanner

        offline = TemplatePlanner()
        plan = offline.plan(brief, speech_s=speech_s, words_per_second=words_per_second)
        return PlannedScript(plan=plan, provider=offline.provider, model=offline.model)
    with _paid_scope():  # a paid completion is in the cost ledger as soon as it is paid
        return await get_runtime().writer.write_plan(brief)


@task(
    name="narrate-scene",
    cache_policy=CACHED_TTS,
    persist_result=True,
    **REMOTE_STEP_RETRIES,
    tags=["tts"],
    task_run_name="narrate-scene-{scene.index}[{provider}]",
)
async def narrate_scene(
    scene: Scene, voice: str | None, language: str, provider: str, context_key: str, work_dir: str,
    pace: float = 1.0,
) -> Utterance:
    """Speak one scene into ``work_dir/narration/scene-NN-<key>.wav``.

    ``pace`` is the duration multiplier the pacing step chose (0.88-1.12: Piper ``length_scale``,
    Hume ``speed`` = 1/pace). The file name carries the text, voice and pace, so a re-synthesis at
    another pace never overwrites a file a cached result points at. The utterance carries what it
    was billed (:attr:`core.models.Utterance.costs`); a paid take is in the cost ledger as soon as
    it is paid, and a rerun after a crash reuses the take written to disk at payment instead of
    paying for it again (:mod:`reelflow.clients.hume.adapter`, "Pay once").
    """
    key = content_key(scene.narration, scene.emotion, scene.voice_instruction, voice, language, round(pace, 3))[:10]
    out = Path(work_dir) / "narration" / f"scene-{scene.index:02d}-{key}.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    await provider_rate_slot(provider, get_runtime().settings)  # Hume: 100 requests/min across all workers
    with _paid_scope():  # a paid take is in the cost ledger as soon as it is paid
        return await get_runtime().tts.synthesize(scene, out, voice=voice, language=language,
                                                  context_key=context_key, pace=pace)


@task(
    name="generate-clip",
    cache_policy=CACHED,
    persist_result=True,
    **REMOTE_STEP_RETRIES,
    tags=["clips"],
    task_run_name="generate-clip-{request.scene_index}[{provider}]",
)
async def generate_clip(request: ClipRequest, provider: str, work_dir: str) -> Clip:
    """Render/generate one scene clip into ``work_dir/clips/scene-NN.mp4``; the clip carries what it
    was billed (:attr:`core.models.Clip.costs`), and a paid job is in the cost ledger as soon as it is paid."""
    out = Path(work_dir) / "clips" / f"scene-{request.scene_index:02d}-{content_key(request.model_dump())[:8]}.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    with _paid_scope():  # a paid clip is in the cost ledger as soon as it is paid
        return await get_runtime().clips.generate(request, out)


@task(name="qa-clip", cache_policy=CACHED_QA, persist_result=True, tags=["qa"], task_run_name="qa-clip-{scene_index}")
def qa_clip(clip_path: str, expected_duration_s: float, scene_index: int, work_dir: str,
            loop_seams_s: list[float] | None = None) -> QAReport:
    """Check one scene clip: one shot (loop seams excepted), expected length, no black/frozen stretch over 1 s."""
    from reelflow.processors.qa import qa_clip as run_qa_clip

    return run_qa_clip(Path(clip_path), expected_duration_s, loop_seams_s=loop_seams_s or ())


@task(
    name="match-music",
    cache_policy=CACHED,
    persist_result=True,
    **LOCAL_STEP_RETRY,
    tags=["music"],
    task_run_name="match-music",
)
def match_music(query: str, work_dir: str) -> tuple[list[SongMatch], MusicBed]:
    """Catalogue recommendations (top 5) and the CC0 bed to mix, for the plan's music mood."""
    rt = get_runtime()
    return rt.song_index().search(query, k=5), rt.bed_library().best(query)


@task(name="design-scenes", cache_policy=CACHED_MOTION, persist_result=True, **LOCAL_STEP_RETRY,
      tags=["clips"], task_run_name="design-scenes")
def design_scenes(scenes: list[Scene], footage_dir: str | None, work_dir: str, brand: str | None = None) -> list[Any]:
    """What each scene shows: kind, words, matched assets (scores, licences) — :mod:`processors.motion.design`."""
    from reelflow.processors.motion.design import design_scenes as run_design

    rt = get_runtime()
    return run_design(scenes, rt.asset_library(), footage=rt.footage_library(footage_dir), brand=brand)


@task(name="write-captions", cache_policy=CACHED_MOTION, persist_result=True, tags=["captions"], task_run_name="write-captions")
def write_captions(
    utterances: list[Utterance], narration_starts_s: list[float], width: int, height: int, platform: str, work_dir: str,
    highlight: str | None = None, scene_ends_s: list[float] | None = None,
) -> tuple[str, str, int]:
    """Captions as SRT and as ASS (bold, two lines at most, in the layout's caption band, the
    spoken word in ``highlight`` — a ``#rrggbb`` colour, none held past its scene's end in
    ``scene_ends_s``); returns ``(srt_path, ass_path, count)``."""
    from reelflow.processors.captions import build_captions, write_ass, write_srt
    from reelflow.processors.motion.layout import layout_for
    from reelflow.processors.motion.palette import parse_color
    from reelflow.processors.motion.render import FONTS_DIR

    lay = layout_for(width, height, platform)
    left, right, _ = lay.margins
    # As many characters per line as fit at the layout's caption size (Inter Extra Bold averages
    # ~0.6 em per character); 42 is the hard limit everywhere.
    max_chars = max(12, min(42, int((width - left - right) / (0.6 * lay.caption_size))))
    captions = build_captions(utterances, narration_starts_s, max_chars_per_line=max_chars, scene_ends_s=scene_ends_s)
    srt = write_srt(captions, Path(work_dir) / "captions.srt")
    ass = write_ass(captions, Path(work_dir) / "captions.ass", width, height, platform, FONTS_DIR / "Inter-ExtraBold.otf",
                    "Inter", highlight=parse_color(highlight, "highlight") if highlight else None,
                    margins=lay.margins, size=lay.caption_size)
    return str(srt), str(ass), len(captions)


@task(
    name="assemble-video",
    cache_policy=CACHED + code_version("reelflow.processors.assembly", "reelflow.processors.motion.render"),
    persist_result=True,
    **LOCAL_STEP_RETRY,
    tags=["assembly"],
    task_run_name="assemble-video",
)
def assemble_video(spec: Any, work_dir: str) -> Any:
    """One ffmpeg filter graph: scenes + transitions + narration + ducked bed + captions + loudness."""
    from reelflow.processors.assembly import assemble

    return assemble(spec, Path(work_dir) / "video.mp4")


@task(name="qa-video", cache_policy=CACHED_QA, persist_result=True, tags=["qa"], task_run_name="qa-video")
def qa_video(video: str, video_sha256: str, expected_cuts_s: list[float], work_dir: str) -> QAReport:
    """Shot detection on the final video: cuts vs scene boundaries, black/frozen stretches.

    ``video_sha256`` (the file's digest) is part of the cache key only: a different file at the
    same path is checked again.
    """
    from reelflow.processors.qa import qa_video as run_qa

    return run_qa(Path(video), expected_cuts_s)


@task(name="keyframes", cache_policy=CACHED_QA, persist_result=True, tags=["qa"], task_run_name="keyframes")
def scene_keyframes(video: str, video_sha256: str, times_s: list[float], work_dir: str,
                    drawn: list[str] | None = None) -> tuple[list[str], int]:
    """One keyframe per scene (JPEG) and the index of the best one for the thumbnail.

    ``drawn``: the frames at ``times_s`` as the motion encode drew them (with captions,
    ``AssemblyResult.keyframes``); used as they are, so the video is not decoded again. Otherwise
    (or when one is missing) the frames are decoded from ``video``. ``video_sha256`` keys the
    cache on the file's content, not its path.
    """
    from reelflow.processors.keyframes import best_frame_index, extract_frames_at

    if drawn and len(drawn) == len(times_s) and all(Path(p).is_file() for p in drawn):
        paths = [Path(p) for p in drawn]
    else:
        paths = extract_frames_at(Path(video), times_s, Path(work_dir) / "keyframes")
    return [str(p) for p in paths], best_frame_index(paths)


@task(name="publish-outputs", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, tags=["publish"],
      task_run_name="publish-outputs")
def publish_outputs(files: dict[str, str], out_dir: str, storage_uri: str) -> dict[str, str]:
    """Copy finished files into ``out_dir`` atomically (and to S3 when configured); name → URI."""
    from reelflow.core.storage import LocalStorage

    local = LocalStorage(out_dir)
    uris = {name: local.publish(Path(src), name) for name, src in files.items()}
    if storage_uri:
        from reelflow.core.storage_factory import make_storage  # S3 backend (operations)

        from prefect.runtime import flow_run

        from reelflow.core.storage import run_key_prefix

        remote = make_storage(get_runtime().settings)
        prefix = run_key_prefix(out_dir, flow_run.id)  # unique per run: a rerun never overwrites
        uris = {name: remote.publish(Path(out_dir) / name, f"{prefix}/{name}") for name in files}
    return uris


@task(name="record-costs", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, tags=["ledger"],
      task_run_name="record-costs")
def record_costs(entries: list[tuple[str, CostEntry]], flow_run_id: str | None, brief_id: str | None) -> int:
    """Append this run's cost entries (part, entry) to the cost ledger; returns rows written."""
    from reelflow.core.ledger import CostLedger

    ledger = CostLedger.from_settings(get_runtime().settings)
    # Entries without a request id get a key from their place in this run, so a retry of this
    # task never records them twice (entries with one dedupe on provider + request id).
    return sum(
        ledger.record(entry, flow_run_id, brief_id=brief_id, part=part,
                      key=None if entry.request_id or not flow_run_id else f"{flow_run_id}:{part}:{i}")
        for i, (part, entry) in enumerate(entries)
    )
