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
