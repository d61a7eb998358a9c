"""Fixtures for the service-client tests: emulator apps (ASGI, in-process) and one real
uvicorn server on 127.0.0.1 for the faults that must be real (connection resets, leaks)."""

from __future__ import annotations

import httpx
import pytest

from reelflow.clients._http import FakeClock, MetricsRecorder, RetryPolicy
from tests.emulators import EmulatorServer, base_urls, combined_app


@pytest.fixture(scope="session")
def live():
    """All four emulators on one real uvicorn server (session-wide); yields (url, app)."""
    app = combined_app()
    with EmulatorServer(app) as server:
        yield server.url, app


@pytest.fixture
def live_env(live):
    """Base URLs of the live emulators, state and faults reset before the test."""
    url, app = live
    httpx.post(f"{url}/__emulator__/reset").raise_for_status()
    return {"url": url, "app": app, **base_urls(url)}


@pytest.fixture
def clock() -> FakeClock:
    """Virtual time: sleeps advance it instantly and are recorded."""
    return FakeClock()


@pytest.fixture
def metrics() -> MetricsRecorder:
    return MetricsRecorder()


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=5, deadline_s=60, backoff_initial_s=0.5, backoff_max_s=4, retry_after_cap_s=30,
                       attempt_timeout_s=10)


def add_fault(app, **rule) -> None:
    """Install one fault rule on an emulator app (its FaultMiddleware)."""
    app.faults.configure(rule)


def open_connections(client: httpx.AsyncClient) -> int:
    """Requests still holding a pooled connection (httpcore), as openai-python's tests check."""
    pool = client._transport._pool  # type: ignore[attr-defined]
    return len(pool._requests)
