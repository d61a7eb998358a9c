"""``create_video``: brief → publish-ready short video + metadata (Prefect 3 flow).

Steps (each a task in :mod:`flows.tasks`): plan → per scene (narration → clip) concurrently,
with music matching alongside → captions → assembly (one ffmpeg graph) → loudness, QA and
keyframes → outputs published atomically (``video.mp4``, ``thumbnail.jpg``, ``captions.srt``,
``plan.json``, ``metadata.json`` last) → run report artifacts.

Scene timing: narration is synthesised first and the scene lengths come from the measured
utterances (:func:`reelflow.processors.pacing.fit_narration`): the copy is re-planned to a word
budget, the speech rate changed within ±12 % and the gaps/end-card hold sized, so the video meets
the brief's length ±0.2 s with speech over most of it and no scene stretched into silence.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from reelflow.core.metadata import run_cost_entries
from reelflow.core.models import Brief, ClipRequest, ScriptPlan, Utterance, VideoResult
from reelflow.core.paths import confine
from reelflow.core.settings import load_settings
from reelflow.core.storage import atomic_write_json, ensure_writable_dir, sha256_file
from reelflow.flows import tasks
from reelflow.flows._wiring import apply_prefect_secrets, get_runtime
from reelflow.flows.artifacts import publish_run_report
from reelflow.flows.review import DEFAULT_REVIEW_TIMEOUT_S, ReviewGate, ReviewMode
from reelflow.processors.pacing import fit_narration
from reelflow.processors.planner import TemplatePlanner

LEAD_IN_S = 0.15  # kept for :func:`scene_lengths` callers; the flow's timeline is processors/pacing.py
TAIL_S = 0.35


def slugify(text: str, max_len: int = 40) -> str:
    """Lowercase ASCII slug of ``text`` (for folder names)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "video"


def default_out_dir(outputs_dir: Path, brief: Brief, run_id: str | None) -> Path:
    """``outputs/<date>-<slug>-<short id>/``."""
    slug = slugify(brief.id or " ".join(brief.text.split()[:6]))
    short = (run_id or "local").replace("-", "")[:8]
    return outputs_dir / f"{datetime.now(UTC):%Y%m%d}-{slug}-{short}"


def scene_lengths(planned: list[float], narration: list[float]) -> list[float]:
    """Scene lengths in seconds from the planned and the real narration durations."""
    out = []
    for plan_s, narr_s in zip(planned, narration, strict=True):
        spoken = LEAD_IN_S + narr_s + TAIL_S
        out.append(round(max(spoken, plan_s), 3))
    return out


async def _submitted(task_obj: Any, *args: Any) -> Any:
    """Run a blocking (CPU/ffmpeg) task on the flow's task runner and await its result.

    ``task.submit`` hands the work to whatever runner the flow run has (the thread pool by default,
    Dask when ``REELFLOW_RUNNER__TASK_RUNNER=dask``); the event loop waits for the future in a
    thread, so the async steps (narration, clips) keep running meanwhile.

    Raises:
        Whatever the task raised (Prefect re-raises a failed task's exception from ``result()``).
    """
    future = task_obj.submit(*args)
    return await asyncio.to_thread(future.result)


def _run_name() -> str:
    params = flow_run.parameters or {}
    brief = params.get("brief")
    text = getattr(brief, "id", None) or getattr(brief, "text", None)
    if isinstance(brief, dict):
        text = brief.get("id") or brief.get("text") or brief.get("brief")
    return f"video-{slugify(str(text or 'brief'), 32)}"


@flow(
    name="create_video",
    flow_run_name=_run_name,
    description="Turn a brief into a publish-ready short video (mp4 + thumbnail + captions + metadata).",
    log_prints=True,
    timeout_seconds=3600,
)
async def create_video(
    brief: Brief,
    out_dir: str | None = None,
    footage_dir: str | None = None,
    review: ReviewMode = "none",
    review_timeout: float | str = DEFAULT_REVIEW_TIMEOUT_S,
) -> VideoResult:
    """Make one video from ``brief``; returns where the outputs are and headline numbers.

    Args:
        brief: what to make (see :class:`core.models.Brief`); a deployment run passes it as a
            JSON object, e.g. ``{"text": "...", "duration_s": 15, "platform": "shorts"}``.
        out_dir: output folder; default ``outputs/<date>-<slug>-<short id>/``.
        footage_dir: a footage library (folder with ``footage.json``) for photo scenes; default
            the shipped one. Footage is shown only where it matches above its threshold.
        review: ``none`` (default), ``plan`` (approve/edit the script before anything beyond it
            is paid), ``final`` (approve before publishing) or ``both``; see :mod:`flows.review`.
            A rejected or unanswered review ends the run ``Cancelled``.
        review_timeout: time a reviewer has at each review point: seconds, or text such as
            "30m", "72h" (default 72 h).

    Raises:
        core.errors.InputError: the output folder is not writable (before any work).
        core.errors.ReelFlowError: a step failed after its retries.
    """
    logger = get_run_logger()
    settings = apply_prefect_secrets(load_settings())
    rt = get_runtime(settings)
    run_id = flow_run.id
    out = confine(out_dir, "out_dir", settings, "write") or default_out_dir(settings.paths.outputs_dir, brief, run_id)
    ensure_writable_dir(out)
    # Paths that may come from a deployment's parameters: confined to the worker's roots.
    footage_dir = str(confine(footage_dir, "footage_dir", settings, "read")) if footage_dir else None
    if brief.logo:
        brief = brief.model_copy(update={"logo": str(confine(brief.logo, "brief.logo", settings, "read"))})
    _check_brand_inputs(brief, footage_dir)  # bad logo/colour/footage: fail before any work
    width, height = brief.size
    fps = settings.render.fps
    providers = rt.providers()
    work = settings.cache / "work" / tasks.content_key(brief.model_dump(mode="json"), providers, width, height)
    work.mkdir(parents=True, exist_ok=True)
    work_dir = str(work)
    logger.info("brief %r -> %s (providers %s)", brief.id or brief.text[:40], out, providers)

    # Bad input fails here, before any key check or paid call: nothing to say (only production
    # notes), or a required line longer than the video can speak (exit 2 in the CLI).
    analysis = TemplatePlanner().analyze(brief)
    for warning in analysis.warnings:
        logger.warning("brief: %s", warning)

    if rt.remote:
        await tasks.check_service_keys(providers)  # a rejected key fails here, before anything is paid
    gate = ReviewGate(review, review_timeout)  # bad review settings fail here, before anything is paid
    planned = await tasks.plan_script(brief, providers["plan"], work_dir)
    plan, stop = await gate.plan(planned.plan, brief, providers=providers, plan_costs=planned.costs)  # before narration/clips
    if stop is not None:
        return stop

    # ---- narration first; scene lengths come from the measured utterances (processors/pacing.py)
    takes: list[Utterance] = []  # every synthesis round's takes: a paid take pacing replaced is billed too

    async def synthesize_all(p: ScriptPlan, pace: float) -> list[Utterance]:
        ctx = tasks.content_key(p.model_dump(mode="json"))
        spoken = list(await asyncio.gather(*(
            tasks.narrate_scene(s, brief.voice, brief.language, providers["narration"], ctx, work_dir, pace)
            for s in p.scenes)))
        takes.extend(spoken)
        return spoken

    async def replan(speech_s: float, words_per_second: float) -> ScriptPlan:
        replanned = await tasks.plan_script(brief, providers["plan"], work_dir, speech_s=round(speech_s, 2),
                                            words_per_second=round(words_per_second, 3))
        return replanned.plan

    # Paid LLM plans are never re-requested, and a plan a reviewer approved is spoken as approved
    # (pacing may still change the speech rate and holds, never the lines).
    can_replan = planned.provider == "local-template" and "plan" not in gate.points
    reviewed = {c["scene"] for c in (gate.record.get("plan") or {}).get("changes", []) if "scene" in c}
    fitted = await fit_narration(plan, brief.duration_s, synthesize_all, replan if can_replan else None,
                                 protected=reviewed)  # a line a reviewer edited is never dropped
    plan, utterances, timeline = fitted.plan, fitted.utterances, fitted.timeline
    for note in timeline.notes:
        logger.info("pacing: %s", note)
    enough = max(6, int(timeline.speech_s / 0.85 + 0.999))
    if timeline.coverage < 0.85 and enough < brief.duration_s:  # a thin brief: say so, with the fix
        warning = (f"the brief gives {timeline.speech_s:.1f} s of speech for a {brief.duration_s:g} s video "
                   f"({timeline.coverage:.0%} spoken): add facts or story to the brief, or ask for "
                   f"--duration {enough}")
        analysis.warnings.append(warning)
        logger.warning("brief: %s", warning)
    lengths = timeline.lengths
    starts = timeline.starts
    narration_starts = timeline.narration_starts
    prompts = [s.visual_prompt for s in plan.scenes]
    context_key = tasks.content_key(plan.model_dump(mode="json"))

    async def scene_chain(i: int):
        scene = plan.scenes[i]
        utt, length = utterances[i], lengths[i]
        request = ClipRequest(
            scene_index=i,
            prompt=scene.visual_prompt,
            negative_prompt=scene.negative_prompt,
            duration_s=round(length + settings.render.transition_s, 3),
            width=width,
            height=height,
            fps=fps,
            seed=int(context_key[:8], 16) + i,
            sibling_prompts=prompts,
        )
        clip = await tasks.generate_clip(request, providers["clips"], work_dir)
        if "clips" not in rt.remote:
            # Local renders are checked while the video assembles (nothing to regenerate).
            return utt, length, clip, None
        qa = await _submitted(tasks.qa_clip, clip.path, request.duration_s, i, work_dir, clip.loop_seams_s)
        if not qa.passed:
            # Regenerate once as a new request (new seed → new taskUUID): the flawed job is not
            # resubmitted, so nothing is paid twice for the same request.
            logger.warning("scene %d clip flagged (%s); regenerating once", i, "; ".join(qa.flags))
            retry = request.model_copy(update={"seed": request.seed + 104729})
            clip2 = await tasks.generate_clip(retry, providers["clips"], work_dir)
            qa2 = await _submitted(tasks.qa_clip, clip2.path, retry.duration_s, i, work_dir, clip2.loop_seams_s)
            if qa2.passed or len(qa2.flags) < len(qa.flags):
                clip, qa, discarded = clip2, qa2, clip
            else:
                discarded = clip2
            discarded_clips.append(discarded)  # billed all the same: its cost stays in the ledger
        return utt, length, clip, qa

    discarded_clips: list = []  # paid clips not used after QA (still billed)
    music_query = brief.music or plan.music_mood
    music_task = _submitted(tasks.match_music, music_query, work_dir)
    # the brand the copy speaks (the brief's field, else the one read from its text) is also the
    # end card's wordmark and is kept out of asset matching
    brand = brief.brand or analysis.brand or ""
    design_task = _submitted(tasks.design_scenes, plan.scenes, footage_dir, work_dir, brand or None)
    results, (songs, bed), designs = await asyncio.gather(
        asyncio.gather(*(scene_chain(i) for i in range(len(plan.scenes)))), music_task, design_task
    )
    clips = [r[2] for r in results]
    clip_qa_done = {i: r[3] for i, r in enumerate(results) if r[3] is not None}

    from reelflow.processors.motion.palette import palette_for

    palette = palette_for(brief.brand_color, brief.tone)
    srt, ass, n_captions = tasks.write_captions(
        utterances, narration_starts, width, height, brief.platform.value, work_dir, palette.to_json()["accent"],
        [round(s + n, 3) for s, n in zip(starts, lengths, strict=True)],
    )

    from reelflow.processors.assembly import AssemblySpec, ClipInput, NarrationInput
    from reelflow.processors.captions import scene_words
    from reelflow.processors.motion.render import MotionScene, MotionSpec

    # Every scene is drawn in the one final encode; a generated (paid) clip plays under the same
    # overlays, and the end card is always drawn.
    motion = MotionSpec(
        scenes=[
            MotionScene(
                design=designs[i],
                duration_s=lengths[i],
                words=scene_words(utterances[i], narration_starts[i] - starts[i]),
                clip_path=clips[i].path if "clips" in rt.remote and clips[i].path else None,
            )
            for i in range(len(clips))
        ],
        width=width, height=height, fps=fps, platform=brief.platform.value, palette=palette.to_json(),
        brand=brand, call_to_action=plan.call_to_action, logo_path=brief.logo,
    )

    # each scene's middle frame is a thumbnail candidate: encoded as a key frame, it decodes alone
    mid_times = [s + length / 2 for s, length in zip(starts, lengths, strict=True)]
    spec = AssemblySpec.from_settings(
        settings.render,
        clips=[ClipInput(path=c.path, duration_s=length) for c, length in zip(clips, lengths, strict=True)],
        motion=motion,
        narration=[
            NarrationInput(path=u.audio_path, start_s=s, duration_s=u.duration_s)
            for u, s in zip(utterances, narration_starts, strict=True)
        ],
        music_path=bed.path,
        captions_path=ass,
        fonts_dir=str(settings.assets / "fonts"),
        width=width,
        height=height,
        keyframe_times_s=mid_times,
        keyframes_dir=str(work / "keyframes"),  # thumbnail candidates taken from the drawn frames
    )
    pending_qa = [i for i in range(len(clips)) if i not in clip_qa_done and clips[i].path]
    assembled, *late_qa = await asyncio.gather(
        _submitted(tasks.assemble_video, spec, work_dir),
        *(_submitted(tasks.qa_clip, clips[i].path, clips[i].duration_s, i, work_dir, clips[i].loop_seams_s)
          for i in pending_qa),
    )
    clip_qa = [clip_qa_done.get(i) for i in range(len(clips))]
    for i, q in zip(pending_qa, late_qa, strict=True):
        clip_qa[i] = q
    for i, q in enumerate(clip_qa):
        if q is not None and not q.passed:
            logger.warning("scene %d clip QA flags: %s", i, "; ".join(q.flags))
    video = assembled.path
    duration = assembled.duration_s

    # The video's own digest keys the checks below: a re-render into the same path (e.g. other
    # render settings) must never reuse loudness, QA or keyframes of the previous file.
    digest = sha256_file(video)
    # Loudness and true peak were measured on the final file by the assembly itself (BS.1770-4,
    # decoded after encoding and muxing): no second decode here.
    lufs, peak = assembled.loudness_lufs, assembled.true_peak_dbtp
    qa, (frames, best) = await asyncio.gather(
        _submitted(tasks.qa_video, video, digest, starts[1:], work_dir),
        _submitted(tasks.scene_keyframes, video, digest, mid_times, work_dir, assembled.keyframes),
    )
    if not qa.passed:
        logger.warning("QA flags on the final video: %s", "; ".join(qa.flags))

    from reelflow import __version__
    from reelflow.processors.media import probe
    from reelflow.processors.metadata import build_metadata

    # discarded clips and the paid takes of earlier pacing rounds: billed all the same
    replaced_takes = [t for t in takes if t.costs and t not in utterances]
    cost_entries = run_cost_entries(planned, utterances + replaced_takes, clips + discarded_clips)
    info = probe(Path(video))
    metadata = build_metadata(
        brief=brief, planned=planned, analysis=analysis, fitted=fitted, clips=clips, designs=designs,
        shows_clip=[bool(s.clip_path) for s in motion.scenes], palette=palette.to_json(), captions_count=n_captions,
        info=info, loudness_lufs=lufs, true_peak_dbtp=peak, qa=qa, clip_qa=clip_qa, bed=bed, songs=songs,
        music_query=music_query, assets_root=settings.assets,
        plan_writer={"provider": rt.writer.provider, "model": rt.writer.model}, costs=cost_entries,
        reelflow_version=__version__, flow_run_id=run_id, sha256=digest, created_at=datetime.now(UTC),
    )
    stop = await gate.final(metadata.model_dump(mode="json"), video=video, thumbnail=frames[best], keyframes=frames,
                            captions=srt, work_dir=work_dir)  # review: before anything is published
    if stop is not None:
        return stop
    metadata = metadata.model_copy(update={"review": gate.record})
    plan_path = atomic_write_json(work / "plan.json", plan.model_dump(mode="json"))
    meta_path = atomic_write_json(work / "metadata.json", metadata.model_dump(mode="json"))
    thumb = frames[best]
    uris = tasks.publish_outputs(
        {
            "video.mp4": video,
            "thumbnail.jpg": thumb,
            "captions.srt": srt,
            "plan.json": str(plan_path),
            "metadata.json": str(meta_path),
        },
        str(out),
        settings.storage.uri,
    )
    result = VideoResult(
        out_dir=str(out),
        video=str(out / "video.mp4"),
        thumbnail=str(out / "thumbnail.jpg"),
        captions=str(out / "captions.srt"),
        plan=str(out / "plan.json"),
        metadata=str(out / "metadata.json"),
        duration_s=round(info.duration_s, 3),
        loudness_lufs=round(lufs, 2),
        true_peak_dbtp=round(peak, 2),
        sha256=digest,
        flow_run_id=run_id,
        cost_usd=metadata.costs.total_usd,
        created_at=metadata.created_at,
    )
    await publish_run_report(plan, metadata.model_dump(mode="json"), result, uris)
    if rt.remote:
        from reelflow.clients._http import METRICS
        from reelflow.flows.artifacts_ops import publish_api_metrics

        await publish_api_metrics(METRICS.snapshot())
    tasks.record_costs(cost_entries, run_id, brief.id)
    return result


def _check_brand_inputs(brief: Brief, footage_dir: str | None) -> None:
    """Raise :class:`core.errors.InputError` for an unreadable logo, an unknown brand colour or a
    footage folder without a valid ``footage.json`` (before any work is done)."""
    from reelflow.core.errors import AssetError, InputError
    from reelflow.processors.motion.palette import parse_color
    from reelflow.processors.motion.render import load_logo

    if brief.brand_color:
        parse_color(brief.brand_color, "brand_color")
    if brief.logo:
        if not Path(brief.logo).is_file():
            raise InputError(f"logo file not found: {brief.logo}", hint="pass an existing PNG/JPEG/WebP with --logo FILE")
        load_logo(brief.logo, 64, 64)
    if footage_dir:
        from reelflow.processors.clip_renderer import load_footage

        try:
            load_footage(footage_dir)
        except AssetError as exc:
            raise InputError(f"--footage {footage_dir}: {exc.message}",
                             hint="point --footage at a folder with a footage.json listing CC0/PD/CC BY media") from exc
