"""Wire-level emulators of the remote services (Hume, Runware, OpenAI, Spotify).

Each ``*_app.create_app()`` returns an ASGI app speaking the service's contract
(``../shared/docs/api-contracts.md``) with fault injection (``_common``). ``combined_app()``
mounts all four under path prefixes on one server; :class:`EmulatorServer` runs it with uvicorn
on 127.0.0.1 in a background thread (tests); ``python -m tests.emulators --port 8790`` serves it
standalone. Base URLs for a server on ``http://127.0.0.1:PORT``:

==========================  ===============================================
``HUME_BASE_URL``           ``http://127.0.0.1:PORT/hume``
``RUNWARE_BASE_URL``        ``http://127.0.0.1:PORT/runware/v1``
``OPENAI_BASE_URL``         ``http://127.0.0.1:PORT/openai/v1``
``SPOTIFY_API_BASE_URL``    ``http://127.0.0.1:PORT/spotify/v1``
``SPOTIFY_TOKEN_URL``       ``http://127.0.0.1:PORT/spotify/api/token``
==========================  ===============================================

Keys the emulators accept (override with ``--*-key`` flags): ``HUME_API_KEY=hume-test-key``,
``RUNWARE_API_KEY=runware-test-key``, ``OPENAI_API_KEY=openai-test-key``,
``SPOTIFY_CLIENT_ID=spotify-test-id``, ``SPOTIFY_CLIENT_SECRET=spotify-test-secret``; plus
``REELFLOW_MEDIA_HOSTS=127.0.0.1 REELFLOW_ALLOW_PRIVATE_MEDIA=true`` for Runware downloads.
``POST /__emulator__/faults`` at the root applies a rule list or profile to all four.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

DEFAULT_KEYS = {
    "HUME_API_KEY": "hume-test-key",
    "RUNWARE_API_KEY": "runware-test-key",
    "OPENAI_API_KEY": "openai-test-key",
    "SPOTIFY_CLIENT_ID": "spotify-test-id",
    "SPOTIFY_CLIENT_SECRET": "spotify-test-secret",
}


def combined_app(keys: dict[str, str] | None = None) -> Any:
    """All four emulators mounted at ``/hume``, ``/runware``, ``/openai``, ``/spotify``.

    ``app.state.services`` maps the prefix to each emulator's ``FaultMiddleware``; the root
    ``POST /__emulator__/faults`` / ``DELETE`` / ``POST /__emulator__/reset`` fan out to all.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from tests.emulators import hume_app, openai_app, runware_app, spotify_app

    k = {**DEFAULT_KEYS, **(keys or {})}
    services = {
        "hume": hume_app.create_app(k["HUME_API_KEY"]),
        "runware": runware_app.create_app(k["RUNWARE_API_KEY"]),
        "openai": openai_app.create_app(k["OPENAI_API_KEY"]),
        "spotify": spotify_app.create_app(k["SPOTIFY_CLIENT_ID"], k["SPOTIFY_CLIENT_SECRET"]),
    }

    async def faults(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            for s in services.values():
                s.faults.clear()
        else:
            payload = await request.json()
            for i, s in enumerate(services.values()):
                body = json.loads(json.dumps(payload))
                if isinstance(body, dict) and "seed" in body:
                    body["seed"] = int(body["seed"]) * 7919 + i  # independent draws per service
                s.faults.configure(body)
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> JSONResponse:
        for s in services.values():
            s.faults.clear()
            s.emu.reset()
        return JSONResponse({"ok": True})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({name: {**s.emu.stats(), "faults_fired": dict(s.faults.fired)}
                             for name, s in services.items()})

    app = Starlette(routes=[
        Route("/__emulator__/faults", faults, methods=["POST", "DELETE"]),
        Route("/__emulator__/reset", reset, methods=["POST"]),
        Route("/__emulator__/stats", stats, methods=["GET"]),
        *[Mount(f"/{name}", app=svc) for name, svc in services.items()],
    ])
    app.state.services = services
    return app


def base_urls(root: str) -> dict[str, str]:
    """Environment variables pointing every client at a combined emulator at ``root``."""
    root = root.rstrip("/")
    return {
        "HUME_BASE_URL": f"{root}/hume",
        "RUNWARE_BASE_URL": f"{root}/runware/v1",
        "OPENAI_BASE_URL": f"{root}/openai/v1",
        "SPOTIFY_API_BASE_URL": f"{root}/spotify/v1",
        "SPOTIFY_TOKEN_URL": f"{root}/spotify/api/token",
    }


class EmulatorServer:
    """Run an ASGI app with uvicorn on 127.0.0.1 (port 0 = pick a free one) in a thread.

    Use as a context manager; ``url`` is ``http://127.0.0.1:PORT``.
    """

    def __init__(self, app: Any, port: int = 0, log_level: str = "critical") -> None:
        import uvicorn

        self.app = app
        self.config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, lifespan="off",
                                     access_log=False, timeout_keep_alive=5)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self._run, daemon=True, name="emulator-server")
        self.url = ""

    def _run(self) -> None:
        import logging

        from tests.emulators._common import EmulatedReset

        # scripted connection resets are expected: keep their tracebacks out of the logs
        logging.getLogger("uvicorn.error").addFilter(
            lambda r: not (r.exc_info and isinstance(r.exc_info[1], EmulatedReset)))
        asyncio.run(self.server.serve())

    def __enter__(self) -> EmulatorServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("emulator server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
