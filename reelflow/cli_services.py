"""CLI commands: services (being built)."""

import typer

app = typer.Typer(no_args_is_help=True, help="services commands")
