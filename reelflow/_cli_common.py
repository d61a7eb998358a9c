"""Shared CLI plumbing: error → exit-code mapping, console, environment defaults.

Exit codes: 0 success, 2 bad input/configuration (``InputError``, ``ConfigurationError``,
``AssetError``, pydantic ``ValidationError``), 1 a failed run.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from reelflow.core.errors import ReelFlowError

console = Console(stderr=True)
out = Console()

F = TypeVar("F", bound=Callable[..., Any])


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line per invalid field: ``source: field: message``."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{source}: {loc}: {err['msg']}")
    return "\n".join(lines)


def handle_errors(fn: F) -> F:
    """Decorator for CLI commands: typed errors become a red message and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ReelFlowError as exc:
            console.print(f"[bold red]error:[/] {exc.message}")
            if exc.hint:
                console.print(f"[yellow]hint:[/] {exc.hint}")
            raise typer.Exit(exc.exit_code) from None
        except ValidationError as exc:
            console.print(f"[bold red]invalid input:[/]\n{format_validation_error(exc, 'input')}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def prepare_environment() -> None:
    """Process-wide defaults set before Prefect or the encoder are imported.

    - ``HF_HUB_OFFLINE=1``: models load from installed packages, never from a hub.
    - Prefect: analytics off; if no ``PREFECT_API_URL`` is set and a local server answers on
      127.0.0.1:4200, runs are sent there so they show in its UI; otherwise Prefect runs an
      ephemeral in-process server (nothing to start).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # INFO logs still reach the Prefect API (the UI's run logs); the terminal shows warnings and
    # the progress bar instead of one line per task.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # The ephemeral server needs ~14 s cold and far longer on a loaded machine (measured > 60 s).
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from reelflow.core.logging import apply_log_settings

    apply_log_settings()  # REELFLOW_LOG_JSON=true → JSON-lines logs carrying the flow run id
    if "PREFECT_API_URL" not in os.environ and _local_server_up():
        os.environ["PREFECT_API_URL"] = "http://127.0.0.1:4200/api"


_EARLY_API: Any = None  # the EphemeralApi started by start_api_early(), if any


def start_api_early() -> None:
    """Start the temporary Prefect API server of a flow-running command now (no wait).

    Without a configured API, Prefect starts its ephemeral server inside the first flow run and
    waits for it (5-17 s measured here); started as the command begins, it boots in its own process
    while the command checks its input, loads models and imports the flow
    (:func:`reelflow.deployments.local_server.start_ephemeral_api`). :func:`wait_for_api` then
    waits for whatever is left. No-op when an API is configured.
    """
    global _EARLY_API
    if _EARLY_API is None:
        from reelflow.deployments.local_server import start_ephemeral_api

        _EARLY_API = start_ephemeral_api()


def wait_for_api() -> None:
    """Before the first flow run: wait until the server :func:`start_api_early` started answers.

    Raises:
        ProcessingError: it exited or stayed silent past
            ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` (quotes its output).
    """
    if _EARLY_API is None:
        return
    from reelflow.core.errors import ProcessingError
    from reelflow.deployments.local_server import ServerUnavailable

    try:
        _EARLY_API.wait_ready(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")))
    except ServerUnavailable as exc:
        raise ProcessingError(str(exc), hint="start a server with `reelflow server` and set "
                              "PREFECT_API_URL=http://127.0.0.1:4200/api") from exc


def ensure_prefect_api() -> None:
    """Before a command runs a flow: an explicitly set ``PREFECT_API_URL`` must answer.

    Without it Prefect would retry for minutes and then fail with a transport traceback.
    Unset, Prefect runs ephemerally in-process and there is nothing to check; the temporary
    server of :func:`start_api_early` is waited for by :func:`wait_for_api` instead.

    Raises:
        ConfigurationError: nobody answers ``{PREFECT_API_URL}/health`` (names the variable and
            how to start a server).
    """
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if url and not (_EARLY_API is not None and url == _EARLY_API.api_url):
        require_server(url)


def api_url() -> str:
    """The Prefect API URL commands talk to: ``PREFECT_API_URL``, else the local server's."""
    return os.environ.get("PREFECT_API_URL") or "http://127.0.0.1:4200/api"


def require_server(url: str | None = None) -> str:
    """Return the API URL if a Prefect server answers there.

    Raises:
        ConfigurationError: nobody answers ``/api/health`` (names PREFECT_API_URL and how to start one).
    """
    from reelflow.core.errors import ConfigurationError
    from reelflow.deployments.local_server import is_healthy, start_hint

    url = url or api_url()
    if not is_healthy(url, timeout=3):
        raise ConfigurationError(f"the Prefect server is unreachable at {url} (PREFECT_API_URL)", hint=start_hint(url))
    return url


def _local_server_up() -> bool:
    import httpx

    try:
        return httpx.get("http://127.0.0.1:4200/api/health", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def is_tty() -> bool:
    """True when stderr is an interactive terminal (progress bars render)."""
    return sys.stderr.isatty()
