"""Start, probe and stop a local Prefect API server (``prefect server start``) as a subprocess.

Used by ``reelflow server`` and by the operations tests/benchmarks. The server keeps its
SQLite database under ``PREFECT_HOME`` (default ``~/.reelflow/prefect``), binds to loopback and
serves the bundled UI at ``http://host:port/`` (no CDN needed). A cold start answers
``/api/health`` after ~14 s on 2 cores (env-notes).

Source: Prefect 3 self-hosting guide, https://docs.prefect.io/v3/manage/self-host ;
``prefect server start --help``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4200
DEFAULT_HOME = Path("~/.reelflow/prefect").expanduser()


class ServerUnavailable(RuntimeError):
    """The Prefect server did not start or does not answer ``/api/health``."""


def start_hint(api_url: str | None = None) -> str:
    """How to start a server that ``api_url`` would reach (for error messages)."""
    where = f" (expected at {api_url})" if api_url else ""
    return (
        f"start one with `reelflow server`{where}, or `prefect server start --host 127.0.0.1 --port 4200`, "
        "and point PREFECT_API_URL at it (e.g. http://127.0.0.1:4200/api)"
    )


def is_healthy(api_url: str, timeout: float = 1.0) -> bool:
    """True when ``GET {api_url}/health`` answers 200."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def free_port(host: str = DEFAULT_HOST) -> int:
    """A currently free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def server_env(home: Path, api_url: str | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a server (``api_url`` None) or for clients of it (``api_url`` given)."""
    env = dict(os.environ if base is None else base)
    env["PREFECT_HOME"] = str(home)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    return env


@dataclass
class LocalPrefectServer:
    """A running ``prefect server start`` subprocess.

    Attributes:
        api_url: ``http://host:port/api`` (what ``PREFECT_API_URL`` should be).
        ui_url: ``http://host:port`` (the dashboard).
        home: its ``PREFECT_HOME`` (database, logs).
        proc: the subprocess (own process group).
        log_path: where its stdout/stderr go.
    """

    api_url: str
    ui_url: str
    home: Path
    proc: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 15) -> None:
        """SIGINT, then SIGTERM, then SIGKILL the server's process group."""
        stop_process(self.proc, timeout)

    def __enter__(self) -> LocalPrefectServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a subprocess started with ``start_new_session=True`` (whole process group)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def start_server(
    home: Path | str | None = None,
    host: str = DEFAULT_HOST,
    port: int | None = DEFAULT_PORT,
    *,
    timeout_s: float = 120,
    log_path: Path | None = None,
) -> LocalPrefectServer:
    """Start ``prefect server start --host HOST --port PORT`` and wait for ``/api/health``.

    Args:
        home: ``PREFECT_HOME`` for the server (database lives there); default ``~/.reelflow/prefect``.
        host: bind address (loopback by default).
        port: TCP port; None picks a free one.
        timeout_s: how long to wait for health (cold start ≈ 14 s).
        log_path: server output file (default ``home/server.log``).

    Returns:
        The running server.

    Raises:
        ServerUnavailable: the port is taken, the process exited, or it was not healthy in time
            (the message quotes the end of its log).
    """
    home = Path(home).expanduser() if home else DEFAULT_HOME
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    base = f"http://{host}:{port}"
    if is_healthy(f"{base}/api"):
        raise ServerUnavailable(f"something already answers on {base}; stop it or choose another --port")
    log_path = log_path or home / "server.log"
    prefect = Path(sys.executable).parent / "prefect"
    cmd = [str(prefect) if prefect.exists() else "prefect", "server", "start",
           "--host", host, "--port", str(port), "--analytics-off"]
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child process
    env = server_env(home)
    env["PREFECT_UI_API_URL"] = f"{base}/api"  # the bundled UI calls this (default assumes port 4200)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerUnavailable(f"prefect server exited with {proc.returncode}:\n{_tail(log_path)}")
        if is_healthy(f"{base}/api"):
            api = f"{base}/api"
            return LocalPrefectServer(api, base, home, proc, log_path, server_env(home, api))
        time.sleep(0.5)
    stop_process(proc)
    raise ServerUnavailable(f"prefect server was not healthy after {timeout_s:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


# --------------------------------------------------------------------------- early ephemeral API
#: uvicorn's exit status when it cannot bind/start (Prefect's SubprocessASGIServer retries on it too).
_UVICORN_STARTUP_FAILURE = 3


@dataclass
class EphemeralApi:
    """Prefect's temporary ("ephemeral") API server for one CLI process, started before it is needed.

    Without ``PREFECT_API_URL`` Prefect starts this very server (``prefect.server.api.server:create_app``
    under uvicorn, UI off, ``PREFECT__SERVER_EPHEMERAL=1``) inside the first flow run: it first
    imports the whole server application in the CLI process (2.6 s here) and then waits for the
    subprocess to answer (3.5-14 s), while nothing else runs. Started by :func:`start_ephemeral_api`
    as the command begins, it boots in its own process while the CLI loads models and imports the
    flow. Same database (``PREFECT_HOME``), same settings, same lifetime (stopped when the CLI
    process exits).

    Attributes:
        api_url: ``http://127.0.0.1:PORT/api``.
        proc: the uvicorn subprocess.
        env: its environment.
        log_path: its stdout/stderr (quoted when it fails to start).
    """

    api_url: str
    proc: subprocess.Popen
    env: dict[str, str]
    log_path: Path

    def wait_ready(self, timeout_s: float) -> None:
        """Block until ``/api/health`` answers 200 (restarting on a new port if the one picked was
        taken in the meantime, as Prefect does).

        Raises:
            ServerUnavailable: the server exited or did not answer within ``timeout_s`` (the
                message quotes the end of its output).
        """
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                code = self.proc.poll()
                if code == _UVICORN_STARTUP_FAILURE:
                    self._respawn()
                    continue
                if code is not None:
                    raise ServerUnavailable(f"the temporary Prefect server exited with {code}:\n{_tail(self.log_path)}")
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise ServerUnavailable(f"the temporary Prefect server was not healthy after {timeout_s:.0f} s "
                                f"(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS):\n{_tail(self.log_path)}")

    def _respawn(self) -> None:
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}/api"
        self.proc = _spawn_uvicorn(port, self.env, self.log_path)
        os.environ["PREFECT_API_URL"] = self.api_url
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s), like Prefect's own ephemeral server."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _spawn_uvicorn(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    import importlib.util

    spec = importlib.util.find_spec("prefect")
    app_dir = Path(spec.origin).parent.parent if spec and spec.origin else Path(sys.prefix)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
             "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "error", "--lifespan", "on"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )


def start_ephemeral_api() -> EphemeralApi | None:
    """Start Prefect's temporary API server now, if this process would otherwise start it later.

    That is when no API URL is configured (``PREFECT_API_URL``, Prefect profile or settings
    file) and ephemeral mode is enabled. The server is started without waiting for it;
    ``PREFECT_API_URL`` (environment, so subprocesses follow, and Prefect's global settings)
    then points at it. Call :meth:`EphemeralApi.wait_ready` before the first flow run. The server
    is stopped when the process exits, after Prefect's log and event workers have drained
    (``atexit`` runs handlers last-registered-first, and it is registered before them).

    Mirrors ``prefect.server.api.server.SubprocessASGIServer`` (Prefect 3.8): same command, same
    environment (current settings + ``PREFECT_UI_ENABLED=0``, ``PREFECT__SERVER_EPHEMERAL=1``,
    ``PREFECT__SERVER_FINAL=1``).

    Returns:
        The starting server, or ``None`` when an API is configured (nothing to do).
    """
    import atexit
    import tempfile

    if os.environ.get("PREFECT_API_URL"):
        return None
    from prefect.context import refresh_global_settings_context
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return None
    env = {**os.environ, **settings.to_environment_variables(exclude_unset=True),
           "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    env.pop("PREFECT_API_URL", None)
    fd, name = tempfile.mkstemp(prefix="reelflow-prefect-server-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    port = free_port()
    api = EphemeralApi(f"http://127.0.0.1:{port}/api", _spawn_uvicorn(port, env, log_path), env, log_path)
    atexit.register(lambda: (api.stop(), log_path.unlink(missing_ok=True)))
    os.environ["PREFECT_API_URL"] = api.api_url
    refresh_global_settings_context()
    return api
