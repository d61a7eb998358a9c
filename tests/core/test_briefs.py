"""Brief validation and brief-file loading on real brief files."""

from __future__ import annotations

import json

import pytest

from reelflow.core.briefs import brief_from_mapping, load_brief_file
from reelflow.core.errors import InputError
from reelflow.core.models import Aspect, Brief, Platform, ScriptPlan, frame_size


def test_shared_example_briefs_load(shared_data):
    lines = load_brief_file(shared_data / "briefs" / "examples.jsonl")
    assert len(lines) == 12
    assert all(ln.brief is not None for ln in lines)
    first = lines[0].brief
    assert first.id == "toyota-good-odds" and first.brand == "Toyota"
    assert first.aspect is Aspect.VERTICAL and first.size == (1080, 1920)


def test_bundled_briefs_load():
    from reelflow.cli_make import DEMO_BRIEFS, DEMO_DEFAULT_ID

    lines = load_brief_file(DEMO_BRIEFS)
    ids = [ln.brief.id for ln in lines if ln.brief]
    assert DEMO_DEFAULT_ID in ids and len(ids) == len(lines) >= 5


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"text": "too short"}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "A valid brief text here", "duration_s": 5}, "duration_s"),
        ({"text": "A valid brief text here", "duration_s": 91}, "duration_s"),
        ({"text": "A valid brief text here", "platform": "myspace"}, "platform"),
        ({"text": "A valid brief text here", "aspect": "4:3"}, "aspect"),
        ({"text": "A valid brief text here", "colour": "red"}, "colour"),
    ],
)
def test_bad_brief_names_the_field(record, field):
    with pytest.raises(InputError) as exc:
        brief_from_mapping(record, source="test")
    assert field in str(exc.value)


def test_jsonl_with_broken_lines_reports_line_numbers(tmp_path):
    path = tmp_path / "briefs.jsonl"
    good = {"id": "a", "text": "A product launch video for a shoe", "platform": "shorts"}
    path.write_text(
        json.dumps(good) + "\n" + "{not json\n" + "\n" + json.dumps({"text": "short"}) + "\n"
        + json.dumps({**good, "id": "b"}) + "\n",
        encoding="utf-8",
    )
    lines = load_brief_file(path)
    assert [ln.line for ln in lines] == [1, 2, 4, 5]
    assert [ln.brief.id for ln in lines if ln.brief] == ["a", "b"]
    errors = {ln.line: ln.error for ln in lines if ln.error}
    assert "invalid JSON" in errors[2] and ":2:" in errors[2]
    assert "text" in errors[4]


def test_non_utf8_and_empty_files(tmp_path):
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"text": "Caf\xe9 au lait for everyone, every day"}\n'.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_brief_file(bad)
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="empty"):
        load_brief_file(empty)
    with pytest.raises(InputError, match="not found"):
        load_brief_file(tmp_path / "missing.jsonl")


def test_frame_sizes_and_enums():
    assert frame_size("16:9") == (1920, 1080) and frame_size("1:1") == (1080, 1080)
    b = Brief(text="A thirty second ad for trail shoes", platform="reels")
    assert b.platform is Platform.REELS and b.duration_s == 30


def test_plan_schema_normalises_hashtags_and_indexes():
    scene = {"index": 9, "narration": "Hello there.", "visual_prompt": "a rocket", "duration_s": 5}
    plan = ScriptPlan(
        title="t", hook="h", scenes=[scene, scene, scene], description="d",
        hashtags=["trail", "#Trail", "#run fast"], music_mood="upbeat", call_to_action="Buy",
    )
    assert [s.index for s in plan.scenes] == [0, 1, 2]
    assert plan.hashtags == ["#trail", "#runfast"]
    assert plan.duration_s == 15
