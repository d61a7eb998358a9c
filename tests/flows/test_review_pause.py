"""``create_video`` with ``review: plan`` in its own process (in-process pause, not a deployment):
no answer within ``review_timeout`` ends the run Cancelled with the reason, before any narration
or clip task runs (real Prefect test server, embedded local providers)."""

from __future__ import annotations

import uuid


async def test_unanswered_plan_review_cancels_before_narration(prefect_harness, test_settings, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from reelflow.core.models import Brief
    from reelflow.flows.create_video import create_video

    monkeypatch.setenv("REELFLOW_PATHS__CACHE_DIR", str(test_settings.paths.cache_dir))
    brief = Brief(text=f"Vertical ad for the Lumen desk lamp: warm light for late nights, run {uuid.uuid4().hex[:6]}",
                  duration_s=6)
    state = await create_video(brief, str(tmp_path / "out"), review="plan", review_timeout=4, return_state=True)
    assert state.is_cancelled(), state
    assert "plan review timed out: no answer within review_timeout (4 s)" in state.message
    assert not (tmp_path / "out" / "video.mp4").exists()
    run_id = state.state_details.flow_run_id
    async with get_client() as client:
        tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        history = await client.read_flow_run_states(run_id)
    names = {t.name for t in tasks}
    assert any(n.startswith("plan-script") for n in names), names
    assert not any(n.startswith(("narrate-scene", "generate-clip")) for n in names), names
    assert [s.name for s in history][-2:] == ["Paused", "Cancelled"], [s.name for s in history]
