"""``reelflow make`` and ``reelflow demo``: run the ``create_video`` flow from the terminal.

Exit codes: 0 all videos made; 2 bad input (nothing runs for an invalid brief; with ``--all``
the good lines still run and the bad ones are listed with their line numbers); 1 a run failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from reelflow.core.briefs import BriefLine, brief_from_mapping, load_brief_file
from reelflow.core.errors import InputError, ReelFlowError
from reelflow.core.models import Brief
from reelflow.core.settings import ASSETS_DIR
from reelflow._cli_common import console, ensure_prefect_api, handle_errors, out, start_api_early, wait_for_api

DEMO_BRIEFS = ASSETS_DIR / "briefs" / "examples.jsonl"
DEMO_DEFAULT_ID = "good-odds"


class _TaskProgress(logging.Handler):
    """Advances a rich progress bar when Prefect reports a task run finished."""

    def __init__(self, progress: Progress, task_id: Any) -> None:
        super().__init__(level=logging.INFO)
        self.progress = progress
        self.task_id = task_id

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "Finished in state" in msg:
            name = getattr(record, "task_run_name", "") or record.name
            self.progress.update(self.task_id, advance=1, description=f"[cyan]{name}")
            task = self.progress.tasks[0]
            if task.total is not None and task.completed >= task.total:
                self.progress.update(self.task_id, total=task.completed + 1)


def _estimated_tasks(brief: Brief) -> int:
    scenes = max(3, min(8, round(brief.duration_s / 6)))
    return 2 * scenes + 8


def check_look_inputs(logo: Path | None, brand_color: str | None, footage: Path | None) -> None:
    """Validate ``--logo``, ``--brand-color``, ``--footage`` and the vendored asset manifest
    before any work.

    Raises:
        InputError: the logo is missing/unreadable, the colour unknown, or the footage folder invalid.
        AssetError: a vendored asset's file is missing or its licence not allowed.
    """
    from reelflow.core.errors import AssetError
    from reelflow.processors.motion.assets import load_manifest
    from reelflow.processors.motion.palette import parse_color

    if brand_color is not None:
        parse_color(brand_color, "--brand-color")
    if logo is not None:
        if not logo.is_file():
            raise InputError(f"--logo file not found: {logo}", hint="pass an existing PNG/JPEG/WebP image with --logo FILE")
        from reelflow.processors.motion.render import load_logo

        try:
            load_logo(logo, 64, 64)
        except InputError as exc:
            raise InputError(f"--logo {logo} is not a readable image ({exc.message})",
                             hint="pass a PNG/JPEG/WebP image with --logo FILE") from exc
    if footage is not None:
        from reelflow.processors.clip_renderer import load_footage

        try:
            load_footage(footage)
        except AssetError as exc:
            raise InputError(f"--footage {footage}: {exc.message}",
                             hint="point --footage at a folder whose footage.json lists CC0/PD/CC BY media") from exc
    load_manifest(ASSETS_DIR / "emoji3d")


def run_one(brief: Brief, out_dir: Path | None, footage_dir: Path | None = None) -> tuple[bool, str | None, Any]:
    """Run ``create_video`` for one brief with a progress bar; return (ok, flow_run_id, result|error)."""
    from reelflow.flows._wiring import start_warm_up

    start_warm_up()  # models and indexes load while Prefect's (ephemeral) server starts
    from reelflow.flows.create_video import create_video
    task_logger = logging.getLogger("prefect.task_runs")
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tid = progress.add_task(f"[cyan]{brief.id or 'video'}: planning", total=_estimated_tasks(brief))
        handler = _TaskProgress(progress, tid)
        task_logger.addHandler(handler)
        if out_dir:
            from reelflow.core.paths import trust_local

            trust_local(out_dir)  # the user's own folder (deployment runs stay confined to the roots)
        try:
            wait_for_api()  # the temporary server started with the command (start_api_early)
            state = asyncio.run(
                create_video(brief=brief, out_dir=str(out_dir) if out_dir else None,
                             footage_dir=str(footage_dir.resolve()) if footage_dir else None, return_state=True)
            )
        finally:
            task_logger.removeHandler(handler)
        run_id = str(state.state_details.flow_run_id) if state.state_details.flow_run_id else None
        if state.is_completed():
            progress.update(tid, completed=progress.tasks[0].total, description="[green]done")
            return True, run_id, state.result()
        try:
            state.result()
        except Exception as exc:  # noqa: BLE001 - reported to the user below
            return False, run_id, exc
        return False, run_id, RuntimeError(f"flow run ended in state {state.type.value}")


def _report(brief: Brief, ok: bool, run_id: str | None, result: Any) -> int:
    if ok:
        out.print(f"[bold green]video ready:[/] {result.out_dir}")
        out.print(f"  video.mp4 {result.duration_s:.1f} s, {result.loudness_lufs:.1f} LUFS, "
                  f"{result.true_peak_dbtp:.1f} dBTP true peak")
        out.print(f"  flow run id: {run_id} (Completed)")
        return 0
    console.print(f"[bold red]run failed[/] for brief {brief.id or brief.text[:40]!r}: {result}")
    if isinstance(result, ReelFlowError) and result.hint:
        console.print(f"[yellow]hint:[/] {result.hint}")
    console.print(f"  flow run id: {run_id}")
    return result.exit_code if isinstance(result, ReelFlowError) and result.exit_code == 2 else 1


def _select(lines: list[BriefLine], brief_id: str | None, run_all: bool, path: Path) -> tuple[list[Brief], list[BriefLine]]:
    bad = [ln for ln in lines if ln.error]
    good = [ln.brief for ln in lines if ln.brief is not None]
    if brief_id:
        picked = [b for b in good if b.id == brief_id]
        if not picked:
            ids = ", ".join(b.id or f"line {ln.line}" for ln, b in ((ln, ln.brief) for ln in lines if ln.brief))
            raise InputError(f"no valid brief with id {brief_id!r} in {path}", hint=f"available ids: {ids}")
        return picked[:1], []
    if run_all:
        return good, bad
    if len(lines) > 1:
        raise InputError(f"{path} holds {len(lines)} briefs", hint="pick one with --id ID, or run them all with --all")
    if bad:
        raise InputError(bad[0].error or "invalid brief")
    return good, []


def register(app: typer.Typer) -> None:
    """Add ``make`` and ``demo`` to the main app."""

    @app.command()
    @handle_errors
    def make(
        text: str = typer.Argument(None, help="The brief, e.g. \"30-second vertical video for our new trail shoe\"."),
        brief_file: Path = typer.Option(None, "--brief-file", "-f", help="JSON or JSONL file of briefs."),
        brief_id: str = typer.Option(None, "--id", help="Pick the brief with this id from --brief-file."),
        run_all: bool = typer.Option(False, "--all", help="Run every valid brief of a JSONL file in turn."),
        duration: float = typer.Option(None, "--duration", "-d", help="Target length in seconds (6-90)."),
        aspect: str = typer.Option(None, "--aspect", help="9:16 (default), 16:9 or 1:1."),
        platform: str = typer.Option(None, "--platform", help="tiktok (default), reels, shorts or youtube."),
        tone: str = typer.Option(None, "--tone"),
        audience: str = typer.Option(None, "--audience"),
        brand: str = typer.Option(None, "--brand"),
        voice: str = typer.Option(None, "--voice", help="Voice name or id (remote TTS) / ignored locally."),
        music: str = typer.Option(None, "--music", help="Music preference, e.g. 'chill lo-fi'."),
        language: str = typer.Option(None, "--language"),
        out_dir: Path = typer.Option(None, "--out", "-o", help="Output folder (default outputs/<date>-<slug>-<id>/)."),
        logo: Path = typer.Option(None, "--logo", help="Logo image (PNG/JPEG/WebP) for the end card."),
        brand_color: str = typer.Option(None, "--brand-color", help='Palette colour: "#1e90ff" or a CSS name ("teal").'),
        footage: Path = typer.Option(None, "--footage", help="Your footage folder (with footage.json) for photo scenes."),
    ) -> None:
        """Turn a brief into a publish-ready video (video.mp4, thumbnail.jpg, captions.srt, plan.json, metadata.json)."""
        check_look_inputs(logo, brand_color, footage)
        options = {
            "duration_s": duration, "aspect": aspect, "platform": platform, "tone": tone, "audience": audience,
            "brand": brand, "voice": voice, "music": music, "language": language,
            "brand_color": brand_color, "logo": str(logo.resolve()) if logo else None,
        }
        options = {k: v for k, v in options.items() if v is not None}
        if (text is None) == (brief_file is None):
            raise InputError("give either a brief TEXT or --brief-file FILE (not both, not neither)",
                             hint='reelflow make "30-second vertical video for our new trail shoe, upbeat"')
        if text is not None:
            briefs, bad = [brief_from_mapping({"text": text, **options}, source="brief")], []
        else:
            briefs, bad = _select(load_brief_file(brief_file, defaults=options), brief_id, run_all, brief_file)
        for ln in bad:
            console.print(f"[bold red]skipped line {ln.line}:[/] {ln.error}")
        if len(briefs) > 1 and out_dir is not None:
            raise InputError("--out names one folder but several briefs will run",
                             hint="omit --out (each video gets its own folder under outputs/)")
        briefs = _precheck(briefs)
        if out_dir is not None:
            _check_out_dir(out_dir)  # bad input fails before anything starts
        start_api_early()  # the temporary Prefect server boots while models load and the flow imports
        ensure_prefect_api()
        codes = []
        for brief in briefs:
            if out_dir is not None:
                _check_out_dir(out_dir)
            start = time.perf_counter()
            ok, run_id, result = run_one(brief, out_dir, footage)
            codes.append(_report(brief, ok, run_id, result))
            console.print(f"  wall time {time.perf_counter() - start:.1f} s")
        if bad:
            console.print(f"[yellow]{len(bad)} bad line(s) in {brief_file} were skipped (see above)[/]")
        if any(c == 1 for c in codes):
            raise typer.Exit(1)
        if bad or any(c == 2 for c in codes):
            raise typer.Exit(2)

    @app.command()
    @handle_errors
    def demo(
        brief_id: str = typer.Option(DEMO_DEFAULT_ID, "--id", help="Which bundled brief (assets/briefs/examples.jsonl)."),
        duration: float = typer.Option(None, "--duration", "-d", help="Override the brief's length (6-90 s)."),
        out_dir: Path = typer.Option(None, "--out", "-o", help="Output folder."),
        logo: Path = typer.Option(None, "--logo", help="Logo image (PNG/JPEG/WebP) for the end card."),
        brand_color: str = typer.Option(None, "--brand-color", help='Palette colour: "#1e90ff" or a CSS name.'),
    ) -> None:
        """Make a video from one bundled real brief on the embedded defaults (no keys needed)."""
        check_look_inputs(logo, brand_color, None)
        briefs, _ = _select(load_brief_file(DEMO_BRIEFS), brief_id, False, DEMO_BRIEFS)
        brief = briefs[0]
        extra = {k: v for k, v in {"duration_s": duration, "brand_color": brand_color,
                                   "logo": str(logo.resolve()) if logo else None}.items() if v is not None}
        if extra:
            brief = brief_from_mapping({**brief.model_dump(), **extra}, source="options")
        console.print(f"[bold]demo brief[/] ({brief.id}): {brief.text}")
        if out_dir is not None:
            _check_out_dir(out_dir)
        start_api_early()
        ensure_prefect_api()
        ok, run_id, result = run_one(brief, out_dir)
        code = _report(brief, ok, run_id, result)
        if code:
            raise typer.Exit(code)


def _precheck(briefs: list[Brief]) -> list[Brief]:
    """Refuse bad briefs before Prefect starts (only production notes; a required line too long
    for the duration; a non-English brief with no remote copywriter configured): one brief →
    :class:`InputError` (exit 2); several → the bad ones are reported and skipped. Brief warnings
    (e.g. no brand) are printed."""
    from reelflow.core.settings import load_settings
    from reelflow.processors.planner import TemplatePlanner

    remote_writer = load_settings().openai.api_key is not None
    good = []
    for brief in briefs:
        try:
            if not remote_writer:
                TemplatePlanner.check_language(brief)
            analysis = TemplatePlanner().analyze(brief)
        except InputError as exc:
            if len(briefs) == 1:
                raise
            console.print(f"[bold red]skipped brief {brief.id or brief.text[:40]!r}:[/] {exc}")
            continue
        for warning in analysis.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        good.append(brief)
    if not good:
        raise InputError("no brief in the file has anything to say", hint="see the messages above")
    return good


def _check_out_dir(path: Path) -> None:
    from reelflow.core.storage import ensure_writable_dir

    ensure_writable_dir(path)
