"""Path confinement (core/paths.py) and its use by the flows, on real folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reelflow.core.errors import InputError
from reelflow.core.paths import clear_trusted, confine, confine_uri, relative_to_root, safe_component, trust_local
from reelflow.core.settings import PathsSettings, Settings


@pytest.fixture()
def roots(tmp_path) -> tuple[Settings, Path]:
    out, cache, extra = tmp_path / "outputs", tmp_path / "cache", tmp_path / "media"
    for p in (out, cache, extra):
        p.mkdir()
    settings = Settings(paths=PathsSettings(outputs_dir=out, cache_dir=cache, allowed_roots=str(extra)),
                        _env_file=None)
    yield settings, tmp_path
    clear_trusted()


def test_paths_under_roots_pass_and_others_are_refused_naming_the_parameter(roots):
    settings, tmp = roots
    assert confine(tmp / "outputs" / "a" / "b", "out_dir", settings, "write") == (tmp / "outputs" / "a" / "b").resolve()
    assert confine(tmp / "media" / "x.mp4", "paths[0]", settings) is not None
    assert confine(None, "out_dir", settings) is None
    for bad in ("/etc", str(tmp / "outputs" / ".." / "elsewhere"), str(tmp), "/", "~"):
        with pytest.raises(InputError) as err:
            confine(bad, "out_dir", settings, "write")
        assert "out_dir" in err.value.message and "REELFLOW_PATHS__ALLOWED_ROOTS" in err.value.hint
    with pytest.raises(InputError, match="not a usable path"):
        confine("bad\x00name", "catalogue", settings)
    # assets are readable, not writable
    assets = settings.paths.assets_dir / "catalogue" / "spotify_songs.csv"
    assert confine(assets, "catalogue", settings, "read") == assets.resolve()
    with pytest.raises(InputError):
        confine(assets.parent, "index_dir", settings, "write")


def test_a_symlink_out_of_a_root_is_refused(roots):
    settings, tmp = roots
    (tmp / "outputs" / "link").symlink_to("/etc")
    with pytest.raises(InputError, match="out_dir"):
        confine(tmp / "outputs" / "link" / "passwd", "out_dir", settings, "write")


def test_trust_local_is_exact_for_files_and_recursive_for_folders(roots):
    settings, tmp = roots
    (tmp / "elsewhere").mkdir()
    (tmp / "elsewhere" / "c.yaml").write_text("x")
    trust_local(tmp / "elsewhere" / "c.yaml", tree=False)
    assert confine(tmp / "elsewhere" / "c.yaml", "campaign_file", settings)
    with pytest.raises(InputError):
        confine(tmp / "elsewhere" / "other.yaml", "campaign_file", settings)
    trust_local(tmp / "elsewhere")
    assert confine(tmp / "elsewhere" / "deep" / "x", "out_dir", settings, "write")


def test_storage_uri_parameter_must_be_configured(roots):
    settings, _ = roots
    with pytest.raises(InputError, match="index_uri"):
        confine_uri("s3://someone-else/bucket", "index_uri", settings)
    configured = settings.model_copy(update={"song_index_uri": "s3://team/songs"})
    assert confine_uri("s3://team/songs/", "index_uri", configured) == "s3://team/songs"
    assert confine_uri("", "index_uri", settings) is None


def test_safe_component_and_relative_paths(tmp_path):
    assert safe_component("..") == "file"  # the stem of a file named "...mp4"
    assert safe_component(Path("...mp4").stem) == "file"
    assert safe_component("a/../b") == "a_.._b"
    assert safe_component(".hidden") == "hidden"
    assert safe_component("clip\x00\n") == "clip_"
    assert relative_to_root(tmp_path / "assets" / "music" / "bed.ogg", tmp_path / "assets") == "music/bed.ogg"
    assert relative_to_root("/somewhere/else/bed.ogg", tmp_path) == "bed.ogg"


def test_campaign_flow_refuses_paths_outside_roots(prefect_harness, roots, monkeypatch):
    """campaign_file, base_dir, spec.briefs_file and spec.out_dir are each confined."""
    from reelflow.core.campaigns import CampaignSpec
    from reelflow.flows.campaign import campaign

    settings, tmp = roots
    monkeypatch.setenv("REELFLOW_PATHS__OUTPUTS_DIR", str(settings.paths.outputs_dir))
    monkeypatch.setenv("REELFLOW_PATHS__CACHE_DIR", str(settings.paths.cache_dir))
    monkeypatch.setenv("REELFLOW_PATHS__ALLOWED_ROOTS", str(tmp / "media"))
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "c.yaml").write_text("name: x\nbriefs: ['A brief long enough to be valid here.']\n")
    (outside / "b.jsonl").write_text('{"text": "A brief long enough to be valid here."}\n')
    inside = tmp / "media"
    (inside / "c.yaml").write_text("name: x\nbriefs_file: ../outside/b.jsonl\n")
    brief = {"text": "A brief long enough to be valid here."}
    cases = [
        ({"campaign_file": str(outside / "c.yaml")}, "campaign_file"),
        ({"campaign_file": str(inside / "c.yaml")}, "spec.briefs_file"),
        ({"spec": CampaignSpec(name="x", briefs=[brief]), "base_dir": str(outside)}, "base_dir"),
        ({"spec": CampaignSpec(name="x", briefs_file="b.jsonl"), "base_dir": str(inside / "..")}, "base_dir"),
        ({"spec": CampaignSpec(name="x", briefs_file=str(outside / "b.jsonl"))}, "spec.briefs_file"),
        ({"spec": CampaignSpec(name="x", briefs=[brief], out_dir=str(outside / "out"))}, "spec.out_dir"),
    ]
    for params, name in cases:
        with pytest.raises(InputError) as err:
            campaign(**params)
        assert name in err.value.message, (params, err.value.message)
    assert sorted(p.name for p in outside.iterdir()) == ["b.jsonl", "c.yaml"]  # nothing written there


def test_analyze_input_named_dotdot_mp4_stays_inside_out(prefect_harness, tmp_path, monkeypatch):
    from reelflow.flows.analyze_library import analyze_library

    monkeypatch.setenv("REELFLOW_PATHS__ALLOWED_ROOTS", str(tmp_path))
    src = tmp_path / "in"
    src.mkdir()
    (src / "...mp4").write_bytes(os.urandom(2048))  # not a video either: an error record
    out = tmp_path / "lib" / "out"
    report = analyze_library([str(src / "...mp4")], str(out))
    assert report.n_errors == 1
    outside = [p for p in (tmp_path / "lib").iterdir() if p != out]
    assert outside == [], outside
