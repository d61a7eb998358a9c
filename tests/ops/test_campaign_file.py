"""Campaign files: validation with field + line, brief-level errors, variants, platforms, estimates."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelflow.core.errors import InputError
from reelflow.core.models import Aspect, Platform
from reelflow.core.settings import Settings
from reelflow.flows.campaign import apply_variant, estimate_video_cost, load_campaign, Variant

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_example_campaign_loads_into_12_items() -> None:
    loaded = load_campaign(REPO / "reelflow" / "assets" / "campaigns" / "example.yaml")
    assert loaded.spec.name == "spring-shorts"
    assert len(loaded.items) == 12 and not loaded.invalid
    ids = [i.brief.id for i in loaded.items]
    assert len(set(ids)) == 12
    assert ids[:2] == ["pikolo-morning--a", "pikolo-morning--b"]
    assert loaded.spec.schedule is not None and loaded.spec.schedule.timezone == "Europe/Berlin"


def test_structural_errors_name_field_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", """\
name: Bad Name
briefs:
  - text: "A fine brief about trail shoes for runners."
variants:
  - name: a
    hok: "typo"
budget_usd: -1
schedule:
  cron: "61 9 * * MON"
  timezone: Mars/Olympus
""")
    with pytest.raises(InputError) as info:
        load_campaign(path)
    msg = str(info.value)
    assert f"{path}:1: name: 'Bad Name' is not a slug" in msg
    assert f"{path}:6: variants[0].hok: Extra inputs are not permitted" in msg
    assert f"{path}:7: budget_usd: Input should be greater than or equal to 0" in msg
    assert f'{path}:9: schedule.cron: cron "61 9 * * MON" does not parse' in msg
    assert f"{path}:10: schedule.timezone: unknown timezone 'Mars/Olympus'" in msg


def test_cron_with_wrong_field_count_and_yaml_syntax_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", 'name: c\nbriefs: [{text: "A fine brief about coffee for mornings."}]\n'
                                      'schedule: {cron: "every monday"}\n')
    with pytest.raises(InputError, match=r"c.yaml:3: schedule.cron: cron \"every monday\" must have 5 fields"):
        load_campaign(path)
    broken = _write(tmp_path, "broken.yaml", "name: x\nbriefs:\n  - text: [unclosed\n")
    with pytest.raises(InputError, match=r"broken.yaml:\d+: not valid YAML/JSON"):
        load_campaign(broken)


def test_json_campaign_and_missing_briefs(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.json", '{\n  "name": "j",\n  "briefs": [],\n  "budget_usd": "lots"\n}\n')
    with pytest.raises(InputError) as info:
        load_campaign(path)
    assert f"{path}:4: budget_usd: Input should be a valid number" in str(info.value)
    empty = _write(tmp_path, "e.json", '{"name": "e", "briefs": []}')
    with pytest.raises(InputError, match="the campaign has no briefs"):
        load_campaign(empty)
    missing = _write(tmp_path, "m.yaml", "name: m\nbriefs_file: nowhere.jsonl\n")
    with pytest.raises(InputError, match=r"m.yaml:2: briefs_file: cannot read .*nowhere.jsonl"):
        load_campaign(missing)


def test_invalid_briefs_become_report_items_unless_strict(tmp_path: Path) -> None:
    _write(tmp_path, "b.jsonl", '{"id": "j1", "text": "Another perfectly fine brief for a coffee ad."}\n'
                                '{"id": "j2", "text": "x"}\n\nnot json\n')
    path = _write(tmp_path, "c.yaml", """\
name: mixed
briefs_file: b.jsonl
briefs:
  - id: ok
    text: "A fine brief about trail shoes for runners."
  - id: too-long
    text: "A fine brief about trail shoes for runners."
    duration_s: 200
variants: [{name: a}, {name: b}]
""")
    loaded = load_campaign(path)
    assert [(i.brief_id, i.variant) for i in loaded.items] == [
        ("ok", "a"), ("ok", "b"), ("too-long", "(all)"), ("j1", "a"), ("j1", "b"), ("j2", "(all)"), ("brief-5", "(all)"),
    ]
    errors = [i.error for i in loaded.invalid]
    assert errors[0] == f"{path}:8: briefs[1].duration_s: Input should be less than or equal to 90"
    assert errors[1] == f"{tmp_path / 'b.jsonl'}:2: text: String should have at least 10 characters"
    assert errors[2].startswith(f"{tmp_path / 'b.jsonl'}:4: not valid JSON")
    strict = _write(tmp_path, "s.yaml", path.read_text() + "strict: true\n")
    with pytest.raises(InputError, match="strict: true"):
        load_campaign(strict)


def test_variants_and_platform_presets(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.yaml", """\
name: plat
briefs:
  - {id: long, text: "A long brief about a trail shoe for runners everywhere.", duration_s: 80}
variants:
  - {name: a}
  - {name: b, hook: "Ever slipped on wet rock?", voice: calm male, music: lo-fi}
platforms: [tiktok, youtube, tiktok]
""")
    items = load_campaign(path).items
    assert [(i.variant, i.platform) for i in items] == [("a", "tiktok"), ("a", "youtube"), ("b", "tiktok"), ("b", "youtube")]
    tiktok_b = items[2].brief
    assert tiktok_b.id == "long--b--tiktok"
    assert tiktok_b.text.startswith("Ever slipped on wet rock? A long brief")
    assert (tiktok_b.voice, tiktok_b.music, tiktok_b.duration_s, tiktok_b.aspect) == ("calm male", "lo-fi", 60, Aspect.VERTICAL)
    assert items[1].brief.aspect == Aspect.LANDSCAPE and items[1].brief.duration_s == 80
    plain = apply_variant(items[0].brief, Variant(name="z"), None, "x")
    assert plain.id == "x--z" and plain.platform == Platform.TIKTOK


def test_cost_estimate_is_zero_on_embedded_defaults_and_positive_with_keys() -> None:
    brief = load_campaign(REPO / "reelflow" / "assets" / "campaigns" / "example.yaml").items[0].brief
    assert estimate_video_cost(brief, Settings(_env_file=None)) == {}
    paid = Settings(_env_file=None, RUNWARE_API_KEY="k", HUME_API_KEY="h", OPENAI_API_KEY="o")
    est = estimate_video_cost(brief, paid)
    assert set(est) == {"plan", "narration", "clips"}
    # klingai:5@3 list price per second x 4 scenes x its 5 s clips (each scene is billed a whole
    # clip) x the allowance for failed/stuck jobs that are billed and made again
    from reelflow.flows.campaign import CLIP_RETRY_ALLOWANCE

    assert est["clips"] == pytest.approx(4 * 5 * 0.0574 * CLIP_RETRY_ALLOWANCE, rel=1e-3)


def test_cli_campaign_check_and_invalid_file_exit_codes(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    exe = str(Path(sys.executable).parent / "reelflow")
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200")
    ok = subprocess.run([exe, "campaign", "run", str(REPO / "reelflow/assets/campaigns/example.yaml"), "--check"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "campaign spring-shorts: 12 videos, 0 invalid briefs" in ok.stderr
    bad = _write(tmp_path, "bad.yaml", "name: x\nbriefs: [{text: \"A fine brief about coffee mornings.\"}]\n"
                                       "schedule: {cron: \"not a cron\"}\n")
    res = subprocess.run([exe, "campaign", "run", str(bad)], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2
    assert f"{bad}:3: schedule.cron:" in " ".join(res.stderr.split())
