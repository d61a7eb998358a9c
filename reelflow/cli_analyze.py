"""``reelflow analyze PATH... [--out DIR] [--json]``: analyse a video/image library.

Runs the ``analyze_library`` Prefect flow (:mod:`flows.analyze_library`): shots, keyframes,
contact sheets, features, QA flags, HDBSCAN clusters. Exit codes: 0 all files analysed,
1 some files could not be analysed (listed), 2 bad input (a path that does not exist, an
unwritable ``--out``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reelflow._cli_common import console, ensure_prefect_api, handle_errors, out


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` command to the main ``reelflow`` app."""
    app.command("analyze", help="Analyse videos/images: shots, keyframes, features, QA flags, clusters.")(analyze)


@handle_errors
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Video/image files or folders (searched recursively).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default outputs/library).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
) -> None:
    """Analyse a library of videos and images."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from reelflow.processors.library import collect_inputs

    files = collect_inputs([str(p) for p in paths])  # InputError (exit 2) before any work
    from reelflow.core.paths import trust_local

    for p in [*paths, *([out_dir] if out_dir else [])]:  # the user's own paths (deployment runs stay confined)
        trust_local(p)
    ensure_prefect_api()
    from reelflow.flows.analyze_library import analyze_library

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=as_json) as progress:
        progress.add_task(f"analysing {len(files)} file(s)…", total=None)
        report = analyze_library([str(p) for p in paths], str(out_dir) if out_dir else None)
    if as_json:
        out.print_json(json.dumps(json.loads(report.model_dump_json())))
    else:
        out.print(f"[bold]analysed[/] {report.n_files} file(s): {report.n_videos} video(s), "
                  f"{report.n_images} image(s), {report.n_clusters} cluster(s), "
                  f"[{'red' if report.n_errors else 'green'}]{report.n_errors} error(s)[/]")
        for r in report.files:
            if r.status == "error":
                out.print(f"  [red]error[/] {r.path}: {r.error}")
            elif r.kind == "video":
                out.print(f"  {r.path}: {r.n_shots} shot(s), {r.duration_s:.2f} s → {r.out_dir}")
        out.print(f"output: {report.out_dir}\nclusters: {report.clusters}")
    if report.n_errors:
        raise typer.Exit(1)
