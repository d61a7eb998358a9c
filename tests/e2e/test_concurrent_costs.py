"""Two videos made at once in one process keep their costs apart (issue 11: costs travel with
results, no shared list on the adapters).

Both ``create_video`` runs share one runtime, so one OpenAI script writer and one Hume
synthesizer (the emulators on real loopback HTTP) serve both at the same time; clips, music,
captions and assembly are the real local components. Each video's ``metadata.json`` and its
cost-ledger rows must hold exactly its own paid completions and its own narration characters.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from tests.conftest import TEST_CACHE
from tests.emulators import DEFAULT_KEYS, EmulatorServer, base_urls, combined_app


@pytest.fixture
def openai_and_hume(monkeypatch):
    """OpenAI and Hume pointed at a fresh emulator; Runware left unset (local clips)."""
    with EmulatorServer(combined_app()) as server:
        env = {"OPENAI_API_KEY": DEFAULT_KEYS["OPENAI_API_KEY"], "HUME_API_KEY": DEFAULT_KEYS["HUME_API_KEY"],
               **base_urls(server.url), "REELFLOW_PATHS__CACHE_DIR": str(TEST_CACHE), "HUME_VOICE": "Ava Song"}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
        yield server.url


@pytest.mark.slow
async def test_two_concurrent_videos_keep_their_costs_apart(openai_and_hume, prefect_harness, tmp_path):
    from reelflow.core.ledger import CostLedger
    from reelflow.core.models import Brief
    from reelflow.core.settings import load_settings
    from reelflow.flows.create_video import create_video

    run = uuid.uuid4().hex[:8]  # fresh briefs: no cached step of an earlier session is reused
    briefs = {
        "lamp": Brief(text=f"Teaser for the Lumo desk lamp: warm light, zero glare, run {run}", duration_s=10,
                      aspect="1:1", platform="reels", brand="Lumo"),
        "bakery": Brief(text=f"Open day at Crumb and Co bakery: sourdough at seven, free coffee for the first "
                             f"fifty guests, bring a friend, run {run}", duration_s=10, aspect="1:1",
                        platform="reels", brand="Crumb and Co"),
    }
    results = dict(zip(briefs, await asyncio.gather(
        *(create_video(b, str(tmp_path / name)) for name, b in briefs.items())), strict=True))

    openai_stats = httpx.get(f"{openai_and_hume}/openai/__emulator__/stats").json()
    meta = {name: json.loads(open(r.metadata).read()) for name, r in results.items()}
    ledger = CostLedger.from_settings(load_settings())
    plan_ids = {}
    for name, m in meta.items():
        entries = m["costs"]["entries"]
        plan = [e for e in entries if e["part"] == "plan"]
        narration = [e for e in entries if e["part"] == "narration"]
        # the plan's entries are this brief's completions, each with its own request id
        asked = sum(1 for msgs in openai_stats["messages"]
                    if any(f"Brief: {briefs[name].text}" in str(x.get("content")) for x in msgs))
        assert len(plan) == asked >= 1 and all(e["provider"] == "openai" and e["unit"] == "tokens" for e in plan)
        assert all(e["request_id"] and e["cost_usd"] > 0 for e in plan)
        plan_ids[name] = {e["request_id"] for e in plan}
        # narration: every paid take of THIS video (each scene's final line, and any take an
        # earlier pacing round replaced), counting its own lines' characters, each take once
        assert all(e["provider"] == "hume" and e["unit"] == "characters" and e["request_id"] for e in narration)
        assert len({e["request_id"] for e in narration}) == len(narration)
        final_lines = sorted(len(s["narration"]) for s in m["scenes"])
        units = sorted(e["units"] for e in narration)
        assert all(units.count(n) >= final_lines.count(n) for n in final_lines), (units, final_lines)
        assert m["costs"]["total_usd"] == pytest.approx(sum(e["cost_usd"] for e in entries), abs=1e-4)
        assert results[name].cost_usd == m["costs"]["total_usd"]
        # the cost ledger rows of this flow run are the same entries, nothing of the other video
        rows = ledger.entries(flow_run_id=results[name].flow_run_id)
        assert {r["request_id"] for r in rows if r["part"] == "plan"} == plan_ids[name]
        assert sorted(r["units"] for r in rows if r["part"] == "narration") == sorted(e["units"] for e in narration)
    assert not plan_ids["lamp"] & plan_ids["bakery"]
    # every paid completion is counted once, by the video that asked for it
    assert len(plan_ids["lamp"]) + len(plan_ids["bakery"]) == openai_stats["completions"]
