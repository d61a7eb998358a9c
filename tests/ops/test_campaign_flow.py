"""The ``campaign`` flow for real: create_video subflows on the embedded defaults under Prefect.

One campaign of 2 valid briefs × 2 variants + 1 invalid brief, where one video's output folder
is blocked (a file sits where the folder must go), so it fails at run time: the other videos
still complete, the report names the invalid and the failed ones, costs land in the ledger.
A second campaign with ``budget_usd: 0`` and a paid provider configured submits nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reelflow.core.ledger import CostLedger

pytestmark = pytest.mark.slow  # real videos under a real Prefect server (~2-3 min)

CAMPAIGN = """\
name: ops-test
briefs:
  - id: grip
    brand: TrailFox
    text: "Vertical ad for the TrailFox Grip trail shoe: sticky grip on wet rock, light for race day. End with 'Find your trail'."
    duration_s: 6
  - id: coffee
    brand: Pikolo
    text: "Short ad for Pikolo Roasters' morning blend: smooth, fresh-roasted, delivered weekly. Close on 'Start your day right'."
    duration_s: 6
    platform: reels
  - id: broken
    text: "tiny"
variants:
  - name: a
  - name: b
    hook: "Ever wished mornings were easier?"
    music: calm acoustic
budget_usd: 1.0
max_concurrency: 2
out_dir: {out}
"""


async def _artifacts(flow_run_id: str) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        arts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in arts}


@pytest.fixture(scope="module")
def ran(prefect_harness, test_settings, tmp_path_factory):
    from reelflow.core.settings import load_settings
    from reelflow.flows.campaign import run_campaign_file

    work = tmp_path_factory.mktemp("campaign")
    out = work / "out"
    out.mkdir()
    (out / "coffee--b").write_text("a file where the video folder must go")  # this video must fail
    cfile = work / "campaign.yaml"
    cfile.write_text(CAMPAIGN.format(out=out), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REELFLOW_PATHS__CACHE_DIR", str(test_settings.paths.cache_dir))
        mp.setenv("REELFLOW_PATHS__OUTPUTS_DIR", str(work / "outputs"))
        state = run_campaign_file(cfile, load_settings(_env_file=None))
        report = state.result()
    return state, report, out


def test_campaign_completes_others_and_names_bad_ones(ran) -> None:
    state, report, out = ran
    assert state.is_completed(), state
    assert state.message == "3 of 5 completed (1 failed, 1 invalid)"
    by = {(r.brief, r.variant): r for r in report.rows}
    assert {k: r.status for k, r in by.items()} == {
        ("grip", "a"): "completed", ("grip", "b"): "completed", ("coffee", "a"): "completed",
        ("coffee", "b"): "failed", ("broken", "(all)"): "invalid",
    }
    assert "text: String should have at least 10 characters" in by[("broken", "(all)")].reason
    assert "campaign.yaml:" in by[("broken", "(all)")].reason
    assert "coffee--b" in by[("coffee", "b")].reason and by[("coffee", "b")].flow_run_id
    for key in [("grip", "a"), ("grip", "b"), ("coffee", "a")]:
        row = by[key]
        assert Path(row.output).is_file() and Path(row.output).stat().st_size > 10_000
        assert Path(row.thumbnail).is_file()
        assert 5.0 <= row.duration_s <= 11.0
        assert "plan=local-template" in row.providers and "narration=local-piper" in row.providers
        assert row.cost_usd == 0.0
    assert (out / "campaign-report.json").is_file()


def test_campaign_report_artifacts_and_ledger(ran, test_settings) -> None:
    state, report, _ = ran
    arts = asyncio.run(_artifacts(report.flow_run_id))
    assert {"campaign-ops-test", "campaign-ops-test-summary"} <= set(arts)
    table = arts["campaign-ops-test"]
    assert table.type == "table"
    assert "coffee" in str(table.data) and "invalid" in str(table.data)
    summary = str(arts["campaign-ops-test-summary"].data)
    assert "3 of 5 completed" in summary and "broken" in summary

    ledger = CostLedger.from_settings(test_settings)
    done = [r for r in report.rows if r.status == "completed"]
    for r in done:
        rows = ledger.entries(flow_run_id=r.flow_run_id)
        assert rows, f"no ledger rows for {r.brief}/{r.variant}"
        assert all(x["cost_usd"] == 0 for x in rows)
        assert {"local-template", "local-piper"} <= {x["provider"] for x in rows}
    total = ledger.summarise(flow_run_ids=[r.flow_run_id for r in done])
    assert total["total_usd"] == 0 and total["entries"] >= len(done)


def test_budget_zero_refuses_paid_work_and_says_why(prefect_harness, test_settings, tmp_path: Path) -> None:
    from reelflow.core.settings import load_settings
    from reelflow.flows.campaign import run_campaign_file

    cfile = tmp_path / "c.yaml"
    cfile.write_text(
        "name: zero-budget\nbudget_usd: 0\nout_dir: " + str(tmp_path / "out") + "\n"
        "briefs:\n  - {id: one, text: \"A brief about trail shoes for runners.\", duration_s: 6}\n"
        "  - {id: two, text: \"A brief about coffee for slow mornings.\", duration_s: 6}\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REELFLOW_PATHS__CACHE_DIR", str(test_settings.paths.cache_dir))
        mp.setenv("RUNWARE_API_KEY", "test-key-never-used")  # clips would be paid
        state = run_campaign_file(cfile, load_settings(_env_file=None))
    assert state.is_failed()
    assert state.message == "0 of 2 completed (2 skipped)"
    report = state.result(raise_on_failure=False)
    assert [r.status for r in report.rows] == ["skipped", "skipped"]
    assert all("budget_usd is 0" in r.reason and "clips" in r.reason for r in report.rows)
    assert not any(p.is_dir() for p in (tmp_path / "out").iterdir())
