"""``reelflow`` command line (typer). Entry point: :func:`main`.

Commands: make, demo (main job); songs (song index); analyze (video/image libraries);
voices (Hume voices); campaign, server, trigger (operations); review (runs waiting for approval).
"""

from __future__ import annotations

import typer

from reelflow._cli_common import prepare_environment

app = typer.Typer(
    name="reelflow",
    no_args_is_help=True,
    add_completion=False,
    help="ReelFlow: brief in, publish-ready short video out.",
)


def _version(value: bool) -> None:
    if value:
        from reelflow import __version__

        typer.echo(f"reelflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """ReelFlow: brief in, publish-ready short video out."""


def _register() -> None:
    from reelflow import cli_analyze, cli_make, cli_ops, cli_review, cli_services, cli_songs

    cli_make.register(app)
    cli_services.register(app) if hasattr(cli_services, "register") else None
    cli_ops.register(app) if hasattr(cli_ops, "register") else None
    cli_review.register(app)
    app.add_typer(cli_songs.app, name="songs", help="Song catalogue index: build, search, like.")
    if hasattr(cli_analyze, "register"):
        cli_analyze.register(app)


def main() -> None:
    """Console-script entry point."""
    prepare_environment()
    _register()
    app()


if __name__ == "__main__":
    main()
