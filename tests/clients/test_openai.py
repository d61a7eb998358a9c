"""OpenAI client (SDK on httpx2, max_retries=0 + our retry layer) and OpenAIScriptWriter."""

from __future__ import annotations

import httpx2
import pytest

from reelflow.clients.errors import (
    AuthError,
    InvalidOutput,
    ModelRefused,
    OutOfCredits,
    OutputTruncated,
    RequestInvalid,
)
from reelflow.clients.openai.adapter import SCHEMA, OpenAIScriptWriter, rescale_durations
from reelflow.clients.openai.client import OpenAIClient, strict_json_schema
from reelflow.core.models import Brief, ScriptPlan
from tests.clients.conftest import add_fault
from tests.emulators import openai_app
from tests.emulators.openai_app import strict_problem

KEY = "openai-test-key"
BASE = "http://openai.test/v1"
MSG = [{"role": "user", "content": "Plan a video about trail running shoes for Gen-Z runners"}]


@pytest.fixture
def app():
    return openai_app.create_app(KEY)


def client(app, clock, policy, key=KEY, metrics=None) -> OpenAIClient:
    return OpenAIClient(key, BASE, transport=httpx2.ASGITransport(app=app), clock=clock, policy=policy,
                        metrics=metrics)


def test_strict_schema_from_scriptplan_is_strict():
    raw = ScriptPlan.model_json_schema()
    assert strict_problem(raw) is not None  # pydantic's own schema is not strict
    assert strict_problem(SCHEMA) is None
    scene = SCHEMA["$defs"]["Scene"]
    assert set(scene["required"]) == set(scene["properties"]) and "default" not in str(SCHEMA)
    assert "at most 600 characters" in scene["properties"]["narration"]["description"]
    assert SCHEMA["properties"]["scenes"]["minItems"] == 3 and "title" in SCHEMA["properties"]


async def test_structured_output_parses_and_validates(app, clock, policy, metrics):
    async with client(app, clock, policy, metrics=metrics) as c:
        res = await c.structured(MSG, SCHEMA, name="script_plan", validate=ScriptPlan.model_validate)
    assert isinstance(res.parsed, ScriptPlan) and 3 <= len(res.parsed.scenes) <= 8
    assert res.request_id and res.request_id.startswith("req_") and res.prompt_tokens > 0
    assert app.emu.stats()["schemas"] == ["script_plan"]
    assert metrics.requests[0]["status"] == 200 and metrics.requests[0]["service"] == "openai"


async def test_non_strict_schema_rejected_names_param(app, clock, policy):
    async with client(app, clock, policy) as c:
        with pytest.raises(RequestInvalid) as ei:
            await c.structured(MSG, ScriptPlan.model_json_schema(), name="plan")
    assert ei.value.field == "response_format" and "'required' is required" in str(ei.value)
    assert ei.value.attempts == 1


@pytest.mark.parametrize("kind,exc", [("refusal", ModelRefused), ("content_filter", ModelRefused),
                                      ("length", OutputTruncated)])
async def test_refusal_filter_and_truncation_are_typed(app, clock, policy, kind, exc):
    add_fault(app, route="POST /v1/chat/completions", kind=kind, times=None)
    async with client(app, clock, policy) as c:
        with pytest.raises(exc) as ei:
            await c.structured(MSG, SCHEMA)
    assert ei.value.attempts == 1 and app.emu.stats()["completions"] == 1


async def test_401_names_variable_hides_key(app, clock, policy, caplog):
    secret = "sk-proj-SECRETSECRET9876"
    caplog.set_level("DEBUG")
    async with client(app, clock, policy, key=secret) as c:
        with pytest.raises(AuthError) as ei:
            await c.structured(MSG, SCHEMA)
    assert "OPENAI_API_KEY" in str(ei.value) and secret not in str(ei.value) and secret not in caplog.text


async def test_429_retry_after_honoured_then_success(app, clock, policy, metrics):
    add_fault(app, route="POST /v1/chat/completions", status=429, headers={"retry-after-ms": "1500"}, times=2)
    async with client(app, clock, policy, metrics=metrics) as c:
        await c.structured(MSG, SCHEMA)
    assert clock.sleeps == [1.5, 1.5] and metrics.calls[-1]["attempts"] == 3
    # the SDK itself never retried (max_retries=0): one HTTP request per attempt
    assert len(metrics.requests) == 3


async def test_insufficient_quota_is_out_of_credits_no_retry(app, clock, policy):
    body = {"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                      "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}
    add_fault(app, route="POST /v1/chat/completions", status=429, body=body, times=None)
    async with client(app, clock, policy) as c:
        with pytest.raises(OutOfCredits) as ei:
            await c.structured(MSG, SCHEMA)
    assert "out of credits" in str(ei.value) and clock.sleeps == []


async def test_5xx_malformed_and_invalid_output_retried(app, clock, policy, metrics):
    add_fault(app, route="POST /v1/chat/completions", status=500, times=1)
    add_fault(app, route="POST /v1/chat/completions", kind="malformed", when="after", times=1)
    async with client(app, clock, policy, metrics=metrics) as c:
        await c.structured(MSG, SCHEMA, validate=ScriptPlan.model_validate)
        assert metrics.calls[-1]["attempts"] == 3

        def reject(data):
            raise ValueError("scenes: too few")

        with pytest.raises(InvalidOutput):
            await c.structured(MSG, SCHEMA, validate=reject)
    assert metrics.calls[-1]["attempts"] == policy.max_attempts


async def test_script_writer_fits_duration(app, clock, policy):
    writer = OpenAIScriptWriter(KEY, BASE, transport=httpx2.ASGITransport(app=app), clock=clock, policy=policy)
    brief = Brief(text="Launch video for a recycled trail running shoe", duration_s=27, tone="upbeat")
    plan = await writer.write_plan(brief)
    assert plan.duration_s == pytest.approx(27, abs=0.01)
    assert [s.index for s in plan.scenes] == list(range(len(plan.scenes)))
    assert writer.provider == "openai" and writer.costs[0].unit == "tokens" and writer.costs[0].cost_usd > 0


def test_rescale_durations_exact():
    plan = ScriptPlan.model_validate({
        "title": "t", "hook": "h", "description": "d", "hashtags": ["a"], "music_mood": "m", "call_to_action": "c",
        "scenes": [{"index": i, "narration": "n", "visual_prompt": "v", "duration_s": d} for i, d in
                   enumerate([5, 5, 7])]})
    out = rescale_durations(plan, 30)
    assert sum(s.duration_s for s in out.scenes) == pytest.approx(30, abs=1e-3)
    assert out.scenes[2].duration_s > out.scenes[0].duration_s


def test_strict_json_schema_keeps_property_names_that_are_keywords():
    schema = {"type": "object", "properties": {"title": {"type": "string", "title": "T", "default": "x"},
                                               "default": {"type": "integer"}}}
    out = strict_json_schema(schema)
    assert set(out["properties"]) == {"title", "default"} and out["required"] == ["title", "default"]
    assert "default" not in out["properties"]["title"]
