"""Fault kinds not covered per service: latency (attempt timeout over real HTTP), the
probabilistic profile, and the emulators' control endpoints."""

from __future__ import annotations

import httpx
import pytest

from reelflow.clients._http import MetricsRecorder, RetryPolicy
from reelflow.clients.hume.client import HumeClient
from reelflow.clients.hume.types import PostedUtterance
from tests.clients.conftest import add_fault
from tests.emulators import hume_app


async def test_latency_beyond_attempt_timeout_is_retried(live_env, clock):
    app = live_env["app"].state.services["hume"]
    add_fault(app, route="GET /v0/tts/voices", kind="latency", delay_s=1.5, times=1)
    metrics = MetricsRecorder()
    policy = RetryPolicy(max_attempts=3, deadline_s=30, attempt_timeout_s=0.5)
    async with HumeClient("hume-test-key", live_env["HUME_BASE_URL"], clock=clock, policy=policy,
                          metrics=metrics) as c:
        page = await c.voices_page()
    assert page.voices_page and metrics.calls[-1]["attempts"] == 2


async def test_profile_faults_are_survived_and_counted(clock):
    app = hume_app.create_app("k")
    app.faults.configure({"p_5xx": 0.2, "p_429": 0.1, "p_reset": 0.05, "seed": 3, "retry_after_s": 1})
    metrics = MetricsRecorder()
    async with HumeClient("k", "http://hume.test", transport=httpx.ASGITransport(app), clock=clock,
                          policy=RetryPolicy(max_attempts=10, deadline_s=600), metrics=metrics) as c:
        for i in range(20):
            await c.tts([PostedUtterance(text=f"Line {i}.")])
    fired = app.faults.fired
    assert sum(fired.values()) > 0 and fired.get("status", 0) > 0
    row = metrics.snapshot()[0]
    assert row["succeeded"] == 20 and row["retries"] == sum(fired.values())
    assert 1.0 in clock.sleeps  # a profile 429 carried Retry-After: 1


def test_control_endpoints_roundtrip(live_env):
    url = live_env["url"]
    r = httpx.post(f"{url}/hume/__emulator__/faults", json={"route": "GET /v0/tts/voices", "status": 503})
    assert r.json()["rules"] == 1
    bad = httpx.get(f"{url}/hume/v0/tts/voices", params={"provider": "HUME_AI"},
                    headers={"X-Hume-Api-Key": "hume-test-key"})
    assert bad.status_code == 503 and "message" in bad.json()
    stats = httpx.get(f"{url}/__emulator__/stats").json()
    assert stats["hume"]["faults_fired"] == {"status": 1} and "billed_jobs" in stats["runware"]
    assert httpx.delete(f"{url}/__emulator__/faults").json()["ok"]
    with pytest.raises(httpx.HTTPStatusError):
        httpx.get(f"{url}/hume/__emulator__/nope").raise_for_status()
