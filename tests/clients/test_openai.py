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
from reelflow.processors.planner import TemplatePlanner
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


async def test_5xx_and_malformed_retried_invalid_output_not(app, clock, policy, metrics):
    add_fault(app, route="POST /v1/chat/completions", status=500, times=1)
    add_fault(app, route="POST /v1/chat/completions", kind="malformed", when="after", times=1)
    async with client(app, clock, policy, metrics=metrics) as c:
        await c.structured(MSG, SCHEMA, validate=ScriptPlan.model_validate)
        assert metrics.calls[-1]["attempts"] == 3

        def reject(data):
            raise ValueError("scenes: too few")

        before = app.emu.stats()["completions"]
        with pytest.raises(InvalidOutput):
            await c.structured(MSG, SCHEMA, validate=reject)
    # a deterministic failure is never re-sent as the identical request
    assert metrics.calls[-1]["attempts"] == 1 and app.emu.stats()["completions"] == before + 1


def _unpack(planned):
    """``(plan, cost entries, writer record)`` of a :class:`PlannedScript`."""
    return planned.plan, planned.costs, planned.writer_record()


def writer_for(app, clock, policy) -> OpenAIScriptWriter:
    return OpenAIScriptWriter(KEY, BASE, rules=TemplatePlanner(), transport=httpx2.ASGITransport(app=app),
                              clock=clock, policy=policy)


BRIEF = Brief(text="Launch video for our new TrailFox Grip trail running shoe: sticky grip on wet rock, "
                   "built to last 800 km. End with 'Find your trail'.", brand="TrailFox", duration_s=27,
              tone="upbeat")


async def test_script_writer_fits_duration(app, clock, policy):
    writer = writer_for(app, clock, policy)
    planned = await writer.write_plan(BRIEF)
    plan, costs, report = planned.plan, planned.costs, planned.writer_record()
    assert plan.duration_s == pytest.approx(27, abs=0.01)
    assert [s.index for s in plan.scenes] == list(range(len(plan.scenes)))
    assert writer.provider == "openai" and costs[0].unit == "tokens" and costs[0].cost_usd > 0
    assert report["completions"] == 1 and report["reasks"] == 0 and "fallback_reason" not in report
    assert "TrailFox" in plan.scenes[-1].narration and plan.scenes[-1].narration.endswith("Find your trail.")
    # the strict schema asks for each scene's visual spec; the system prompt states its rules
    sent = app.emu.stats()["messages"][0]
    assert "keywords" in sent[0]["content"] and "Key facts to say" in sent[1]["content"]


def _long_strings(plan: dict) -> dict:
    plan["title"] = "A title far longer than sixty characters that a model wrote anyway, word after word"
    plan["scenes"][0]["on_screen_text"] = "word " * 30
    plan["scenes"][0]["visual"]["headline"] = "seven words of on screen headline text here"
    return plan


async def test_over_long_strings_are_repaired_locally_not_reasked(app, clock, policy):
    app.emu.script([_long_strings])
    plan, costs, report = _unpack(await writer_for(app, clock, policy).write_plan(BRIEF))
    assert app.emu.stats()["completions"] == 1 and len(costs) == 1 and report["reasks"] == 0
    assert len(plan.title) <= 60 and not plan.title.endswith(" ") and len(plan.scenes[0].on_screen_text) <= 80
    assert len(plan.scenes[0].visual.headline.split()) <= 6
    assert any("title" in r for r in report["repairs"])
    # cut at a word boundary: every word of the title is a whole word of the original
    assert set(plan.title.split()) <= set(_long_strings({"title": "", "scenes": [{"visual": {}}]})["title"].split())


def _no_brand(plan: dict) -> dict:
    for sc in plan["scenes"]:
        sc["narration"] = sc["narration"].replace("TrailFox", "").replace("Find your trail", "Go now")
    return plan


async def test_paid_completions_reach_the_ledger_when_paid_once_each(app, clock, policy, tmp_path):
    """Each billed completion (the answer and the re-ask) is in the cost ledger as soon as it is
    paid; recording the plan's entries again at the end of the run adds nothing."""
    from reelflow.core.ledger import CostLedger, paid_scope

    app.emu.script([_no_brand])
    with paid_scope(tmp_path / "ledger.sqlite", "flow-run-7"):
        planned = await writer_for(app, clock, policy).write_plan(BRIEF)
    ledger = CostLedger(tmp_path / "ledger.sqlite")
    rows = ledger.entries(flow_run_id="flow-run-7")
    assert len(planned.costs) == 2 and [r["request_id"] for r in rows] == [c.request_id for c in planned.costs]
    assert all(r["part"] == "plan" and r["unit"] == "tokens" for r in rows)
    assert sum(r["cost_usd"] for r in rows) == pytest.approx(planned.cost_usd)
    assert not any(ledger.record(c, "flow-run-7", part="plan") for c in planned.costs)
    assert len(ledger.entries(flow_run_id="flow-run-7")) == 2


async def test_brand_missing_reasked_once_then_fixed(app, clock, policy):
    app.emu.script([_no_brand])  # first answer omits the brand; the re-ask gets a compliant one
    plan, costs, report = _unpack(await writer_for(app, clock, policy).write_plan(BRIEF))
    stats = app.emu.stats()
    assert stats["completions"] == 2 and len(costs) == 2 and report["reasks"] == 1
    reask = stats["messages"][1][-1]["content"]
    assert "TrailFox" in reask and "never said" in reask and "Find your trail" in reask
    assert stats["messages"][1][:2] == stats["messages"][0]  # the re-ask extends, it is not the same request
    assert "TrailFox" in " ".join(s.narration for s in plan.scenes) and "fallback_reason" not in report


async def test_still_failing_after_reask_falls_back_offline_two_completions(app, clock, policy):
    def speaks_notes(plan: dict) -> dict:
        plan = _no_brand(plan)
        plan["scenes"][1]["narration"] = "A 30-second vertical video for TikTok."
        return plan

    app.emu.script([speaks_notes, speaks_notes])
    plan, costs, report = _unpack(await writer_for(app, clock, policy).write_plan(BRIEF))
    assert app.emu.stats()["completions"] == 2 and len(costs) == 2 and report["reasks"] == 1
    assert report["provider"] == "local-template" and "TrailFox" in report["fallback_reason"]
    assert "production notes" in report["fallback_reason"]
    spoken = " ".join(s.narration for s in plan.scenes)
    assert "TrailFox" in spoken and "vertical" not in spoken and plan.scenes[-1].narration.endswith("Find your trail.")


@pytest.mark.parametrize("answer", ["{not json", {"title": "t"}])
async def test_non_json_or_invalid_answer_never_resent_unchanged(app, clock, policy, answer):
    app.emu.script([answer, answer])
    plan, costs, report = _unpack(await writer_for(app, clock, policy).write_plan(BRIEF))
    msgs = app.emu.stats()["messages"]
    assert len(msgs) <= 2 and len(costs) == len(msgs) <= 2
    if len(msgs) == 2:
        assert msgs[0] != msgs[1]
    assert report["provider"] == "local-template" and report["fallback_reason"]
    assert 3 <= len(plan.scenes) <= 8


async def test_refusal_falls_back_after_one_completion(app, clock, policy):
    add_fault(app, route="POST /v1/chat/completions", kind="refusal", times=None)
    plan, costs, report = _unpack(await writer_for(app, clock, policy).write_plan(BRIEF))
    assert app.emu.stats()["completions"] == 1 and "ModelRefused" in report["fallback_reason"]
    assert plan.scenes[-1].narration.endswith("Find your trail.")


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
