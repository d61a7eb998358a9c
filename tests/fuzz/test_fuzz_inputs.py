"""Property tests: every user-supplied input either loads or fails with ReelFlow's typed error
(or pydantic's, for models), in bounded time — never a raw exception.

Inputs: briefs (control, bidi, ASS and markdown specials, huge texts), brief files, campaign
files (random YAML, aliases, deep nesting, huge files), catalogue CSVs (huge fields, wrong
encodings, random columns) and settings from the environment."""

from __future__ import annotations

import json
import time

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelflow.core.errors import InputError
from reelflow.core.models import Brief
from tests.fuzz.conftest import n

SPECIALS = ["{\\fs400}", "{\\p1}m 0 0 l 100 0", "\\N", "| x |", "[a](javascript:x)", "<script>", "# h", "**", "`",
            "\u202e", "\u2066", "\x1b[2J", "\x00", "\r\n", "\ufeff", "\U000e0041", "🏃‍♀️", "ـ", "\u200f", "%s%n"]
text_pieces = st.one_of(st.text(max_size=80), st.sampled_from(SPECIALS),
                        st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
brief_text = st.lists(text_pieces, max_size=12).map("".join) | st.integers(1, 50_000).map(lambda k: "word " * k)


@settings(max_examples=n(150))
@given(text=brief_text, brand=st.none() | text_pieces, tone=st.none() | text_pieces)
def test_brief_validates_or_refuses_cleanly(text, brand, tone):
    try:
        b = Brief(text=text, brand=brand, tone=tone)
    except pydantic.ValidationError as exc:
        assert exc.errors()  # a named field and a message
        return
    assert 10 <= len(b.text) <= 2000
    for value in (b.text, b.brand or "", b.tone or ""):
        assert not any(c in value for c in ("\u202e", "\u2066", "\x1b", "\x00", "\U000e0041"))


@settings(max_examples=n(60))
@given(lines=st.lists(st.one_of(st.binary(max_size=200),
                                st.dictionaries(st.sampled_from(["text", "brief", "id", "duration_s", "aspect", "x"]),
                                                st.one_of(st.text(max_size=60), st.integers(), st.floats()), max_size=4)
                                .map(lambda d: json.dumps(d).encode())), max_size=8),
       suffix=st.sampled_from([".jsonl", ".json"]))
def test_brief_files_load_or_fail_typed(tmp_path_factory, lines, suffix):
    from reelflow.core.briefs import load_brief_file

    p = tmp_path_factory.mktemp("briefs") / f"b{suffix}"
    p.write_bytes(b"\n".join(lines))
    try:
        out = load_brief_file(p)
    except InputError as exc:
        assert str(p) in exc.message or "brief" in exc.message
        return
    assert isinstance(out, list)


yaml_scalars = st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
yaml_docs = st.recursive(yaml_scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids,
                                                                                                     max_size=4), max_leaves=30)


def _alias_bomb(depth: int, width: int) -> str:
    lines = ["a0: &a0 [x, y]"]
    for i in range(1, depth + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\nname: bomb\nbriefs: *a{depth}\n"


campaign_text = st.one_of(
    st.text(max_size=400),
    yaml_docs.map(lambda d: json.dumps({"name": "fz", "briefs": d})),
    st.fixed_dictionaries({"name": st.text(max_size=20), "briefs": st.lists(st.fixed_dictionaries(
        {"text": brief_text}), max_size=3), "budget_usd": st.floats(-5, 50), "max_concurrency": st.integers(-2, 99)}
    ).map(json.dumps),
    st.builds(_alias_bomb, st.integers(1, 9), st.integers(2, 12)),
    st.integers(1, 20_000).map(lambda d: "name: deep\nbriefs: " + "[" * d + "]" * d),
    st.sampled_from(["name: x\nbriefs: &b [*b]\n", "a: &a {b: *a}\n", "!!python/object:os.system {}\n",
                     "name: x\nbriefs: [!!binary AAAA]\n"]),
)


@settings(max_examples=n(120))
@given(text=campaign_text)
def test_campaign_files_load_or_fail_typed_in_bounded_time(tmp_path_factory, text):
    from reelflow.core.campaigns import load_campaign

    p = tmp_path_factory.mktemp("camp") / "c.yaml"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    t0 = time.perf_counter()
    try:
        loaded = load_campaign(p)
    except InputError as exc:
        assert exc.message
    except UnicodeEncodeError:
        return  # lone surrogates cannot even be written as UTF-8
    else:
        assert loaded.spec.name
    assert time.perf_counter() - t0 < 5.0


CSV_HEADER = "track_id,track_name,track_artist,playlist_genre,playlist_subgenre,tempo,energy,explicit"
csv_field = st.one_of(st.text(max_size=30), st.integers().map(str), st.sampled_from(['"', '""', ",", "\x00", "\r", "NaN",
                                                                                      "-1e309", "x" * (140 * 1024)]))


@settings(max_examples=n(60))
@given(rows=st.lists(st.lists(csv_field, min_size=0, max_size=9), max_size=6),
       header=st.sampled_from([CSV_HEADER, "a,b,c", "", CSV_HEADER.replace("track_name", "name")]),
       encoding=st.sampled_from(["utf-8", "latin-1", "utf-16", "utf-8-sig"]))
def test_catalogue_csv_loads_or_fails_typed(tmp_path_factory, rows, header, encoding):
    from reelflow.processors.song_index import read_catalogue_csv

    p = tmp_path_factory.mktemp("csv") / "cat.csv"
    text = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    try:
        p.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        p.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        cat = read_catalogue_csv(p)
    except InputError as exc:
        assert exc.message and exc.hint
        return
    assert cat.tracks and all(t.track_id and t.track_name for t in cat.tracks)


NUMERIC_ENV = ["REELFLOW_RENDER__FPS", "REELFLOW_RENDER__CRF", "REELFLOW_RUNNER__MAX_CONCURRENCY",
               "REELFLOW_SERVICE_DEADLINE_S", "REELFLOW_HUME_REQUESTS_PER_MINUTE", "REELFLOW_LOG_JSON",
               "REELFLOW_ALLOW_PRIVATE_MEDIA", "REELFLOW_STORAGE__MULTIPART_THRESHOLD_MB"]


@settings(max_examples=n(60))
@given(values=st.dictionaries(st.sampled_from(NUMERIC_ENV), st.one_of(st.text(max_size=12), st.integers().map(str),
                                                                      st.floats().map(str)), max_size=4))
def test_settings_from_environment_load_or_name_the_variable(values):
    from reelflow.core.settings import load_settings

    with pytest.MonkeyPatch.context() as mp:
        for k, v in values.items():
            mp.setenv(k, v.replace("\x00", ""))
        try:
            s = load_settings(_env_file=None)
        except pydantic.ValidationError as exc:
            assert exc.errors()[0]["loc"]  # names the field
            return
    assert 12 <= s.render.fps <= 60 and s.runner.max_concurrency >= 1 and s.hume.requests_per_minute >= 1
