"""Shared client machinery: redaction, metrics, rate limiter, Retry-After parsing, SSRF guard,
and the retry layer's semantics (attempts, Retry-After, cap, deadline) against the Hume emulator."""

from __future__ import annotations

import logging

import httpx
import pytest

from reelflow.clients._http import (
    FakeClock,
    MetricsRecorder,
    RateLimiter,
    RetryPolicy,
    check_media_url,
    parse_hosts,
    parse_retry_after,
    redact,
    redact_url,
    register_secret,
)
from reelflow.clients.errors import AuthError, DeadlineExceeded, MediaRejected, RateLimited, ServerError
from reelflow.clients.hume.client import HumeClient
from tests.clients.conftest import add_fault
from tests.emulators import hume_app

KEY = "hume-test-key"


def test_redact_hides_registered_secrets_and_credentials():
    register_secret("sk-very-secret-123")
    text = "key sk-very-secret-123 Authorization: Bearer abcdef123456 url?api_key=zzz&x=1"
    out = redact(text)
    assert "sk-very-secret-123" not in out and "abcdef123456" not in out and "zzz" not in out
    assert "x=1" in out
    assert redact_url("https://user:pw@h.example/p?access_token=t0k3n&a=b") == "https://h.example/p?access_token=***&a=b"


def test_parse_retry_after_forms():
    assert parse_retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    assert parse_retry_after(httpx.Headers({})) is None
    assert parse_retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0


async def test_rate_limiter_spaces_requests_beyond_burst():
    clock = FakeClock()
    limiter = RateLimiter(100, 60.0, clock=clock)  # Hume: 100 requests/min
    for _ in range(130):
        await limiter.acquire()
    # 100 immediate, the next 30 need 30 × 0.6 s of refill
    assert sum(clock.sleeps) == pytest.approx(30 * 0.6, rel=0.01)
    assert clock.t - 1000.0 == pytest.approx(18.0, rel=0.01)


def test_metrics_snapshot_aggregates():
    m = MetricsRecorder()
    m.record_call("hume", "tts", 3, True, 120.0)
    m.record_call("hume", "tts", 1, False, 10.0, "AuthError")
    m.record_request("hume", "POST", "u", 503, 5.0)
    row = m.snapshot()[0]
    assert row["service"] == "hume" and row["calls"] == 2 and row["succeeded"] == 1
    assert row["success_rate"] == 0.5 and row["attempts"] == 4 and row["retries"] == 2
    assert row["http_errors"] == 1 and row["errors"] == {"AuthError": 1}


# -- SSRF guard ------------------------------------------------------------------------------


async def _public(host: str) -> list[str]:
    return ["93.184.216.34"]


async def _private(host: str) -> list[str]:
    return ["10.0.0.7"]


@pytest.mark.parametrize("url,allow_private,resolver,fragment", [
    ("http://cdn.runware.ai/v.mp4", False, _public, "only https"),
    ("ftp://cdn.runware.ai/v.mp4", True, _public, "only https"),
    ("https://evil.example.com/v.mp4", False, _public, "not on the allow-list"),
    ("https://cdn.runware.ai.evil.com/v.mp4", False, _public, "not on the allow-list"),
    ("https://cdn.runware.ai/v.mp4", False, _private, "private/loopback"),
    ("https://127.0.0.1/v.mp4", False, _public, "not on the allow-list"),
    ("https://user:pw@cdn.runware.ai/v.mp4", False, _public, "credentials"),
    ("http://169.254.169.254/latest/meta-data", True, _public, "not on the allow-list"),
])
async def test_ssrf_guard_refuses(url, allow_private, resolver, fragment):
    with pytest.raises(MediaRejected) as ei:
        await check_media_url(url, parse_hosts("", [".runware.ai"]), allow_private=allow_private, resolver=resolver)
    assert fragment in str(ei.value)
    assert "pw" not in str(ei.value)


async def test_ssrf_guard_allows_listed_hosts():
    await check_media_url("https://vm.runware.ai/a.mp4", [".runware.ai"], resolver=_public)
    # loopback only when explicitly allowed AND on the list
    await check_media_url("http://127.0.0.1:8790/media/a.mp4", parse_hosts("127.0.0.1", []), allow_private=True)
    with pytest.raises(MediaRejected):
        await check_media_url("https://127.0.0.1/a.mp4", ["127.0.0.1"], allow_private=False)


# -- the retry layer -------------------------------------------------------------------------


def _hume(app, clock, policy, metrics) -> HumeClient:
    return HumeClient(KEY, "http://hume.test", transport=httpx.ASGITransport(app), clock=clock, policy=policy,
                      metrics=metrics)


async def test_retry_after_is_honoured_and_attempts_counted(clock, policy, metrics):
    app = hume_app.create_app(KEY)
    add_fault(app, route="GET /v0/tts/voices", status=429, headers={"Retry-After": "7"}, times=2)
    async with _hume(app, clock, policy, metrics) as c:
        page = await c.voices_page("HUME_AI", 0, 5)
    assert len(page.voices_page) == 5
    assert clock.sleeps == [7.0, 7.0]
    call = metrics.calls[-1]
    assert call["attempts"] == 3 and call["ok"] is True
    assert [r["status"] for r in metrics.requests] == [429, 429, 200]


async def test_5xx_retried_with_random_exponential_backoff(clock, policy, metrics):
    app = hume_app.create_app(KEY)
    add_fault(app, route="GET /v0/tts/voices", status=503, times=3)
    async with _hume(app, clock, policy, metrics) as c:
        await c.voices_page()
    assert metrics.calls[-1]["attempts"] == 4
    assert len(clock.sleeps) == 3 and all(0 <= s <= policy.backoff_max_s for s in clock.sleeps)


async def test_attempts_exhausted_raises_last_error(clock, metrics):
    app = hume_app.create_app(KEY)
    add_fault(app, route="GET /v0/tts/voices", status=502, times=None)
    async with _hume(app, clock, RetryPolicy(max_attempts=3, deadline_s=600), metrics) as c:
        with pytest.raises(ServerError) as ei:
            await c.voices_page()
    assert ei.value.status_code == 502 and ei.value.attempts == 3


async def test_deadline_enforced_as_typed_error(clock, metrics):
    app = hume_app.create_app(KEY)
    add_fault(app, route="GET /v0/tts/voices", status=429, headers={"Retry-After": "20"}, times=None)
    policy = RetryPolicy(max_attempts=50, deadline_s=45, retry_after_cap_s=30)
    async with _hume(app, clock, policy, metrics) as c:
        with pytest.raises(DeadlineExceeded) as ei:
            await c.voices_page()
    # 0 s: try 1; sleep 20; 20 s: try 2; next sleep would end at 40 < 45 → try 3 at 40 s; 60 > 45 → stop
    assert ei.value.attempts == 3 and clock.sleeps == [20.0, 20.0]
    assert isinstance(ei.value.last_error, RateLimited)
    assert clock.t - 1000 <= 45


async def test_retry_after_above_cap_fails_fast(clock, policy, metrics):
    app = hume_app.create_app(KEY)
    add_fault(app, route="GET /v0/tts/voices", status=429, headers={"Retry-After": "3600"}, times=None)
    async with _hume(app, clock, policy, metrics) as c:
        with pytest.raises(RateLimited) as ei:
            await c.voices_page()
    assert ei.value.retry_after_s == 3600 and clock.sleeps == []
    assert metrics.calls[-1]["attempts"] == 1


async def test_401_not_retried_names_variable_and_hides_key(clock, policy, metrics, caplog):
    app = hume_app.create_app(KEY)
    secret = "hk-live-SECRET-0123456789"
    caplog.set_level(logging.DEBUG)
    async with HumeClient(secret, "http://hume.test", transport=httpx.ASGITransport(app), clock=clock, policy=policy,
                          metrics=metrics) as c:
        with pytest.raises(AuthError) as ei:
            await c.voices_page()
    err = ei.value
    assert err.status_code == 401 and "HUME_API_KEY" in str(err) and err.attempts == 1
    assert secret not in str(err) and secret not in repr(err.__dict__)
    assert secret not in caplog.text
    assert app.emu.stats()["auth_failures"] == 1
