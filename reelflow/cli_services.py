"""CLI commands for the remote services: ``reelflow voices`` (Hume voice library).

``reelflow voices`` lists the voices of the configured Hume account (``HUME_API_KEY``,
``HUME_BASE_URL``): the shared library (``HUME_AI``) and the account's own (``CUSTOM_VOICE``),
page by page. Use a name or id from it as ``--voice`` / ``HUME_VOICE``.
"""

from __future__ import annotations

import asyncio
import json

import typer
from rich.table import Table

from reelflow._cli_common import handle_errors, out


def register(app: typer.Typer) -> None:
    """Add the ``voices`` command to the main app."""

    @app.command("voices")
    @handle_errors
    def voices(
        provider: str = typer.Option("all", help="HUME_AI, CUSTOM_VOICE or all."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
    ) -> None:
        """List Hume TTS voices (needs HUME_API_KEY)."""
        from reelflow.clients._http import policy_from_settings
        from reelflow.clients.hume.client import HumeClient
        from reelflow.core.errors import ConfigurationError, InputError
        from reelflow.core.settings import load_settings

        settings = load_settings()
        if settings.hume.api_key is None:
            raise ConfigurationError("HUME_API_KEY is not set; `reelflow voices` lists the voices of a Hume account",
                                     hint="export HUME_API_KEY (and HUME_BASE_URL for an emulator/gateway)")
        prov = provider.upper()
        if prov not in ("ALL", "HUME_AI", "CUSTOM_VOICE"):
            raise InputError(f"--provider {provider!r} is not one of HUME_AI, CUSTOM_VOICE, all",
                             hint="pass --provider HUME_AI, CUSTOM_VOICE or all")
        providers = ("HUME_AI", "CUSTOM_VOICE") if prov == "ALL" else (prov,)

        async def fetch():
            async with HumeClient(settings.hume.api_key.get_secret_value(), settings.hume.base_url,
                                  policy=policy_from_settings(settings)) as client:
                return await client.list_voices(providers)  # type: ignore[arg-type]

        found = asyncio.run(fetch())
        if as_json:
            for v in found:
                out.print_json(json.dumps(v.model_dump()), indent=None)
            return
        table = Table(title=f"Hume voices ({len(found)})")
        for col in ("name", "id", "provider", "octave models"):
            table.add_column(col)
        for v in found:
            table.add_row(v.name, v.id, v.provider or "", ",".join(v.compatible_octave_models or []))
        out.print(table)
