"""``index_songs`` under a real (temporary) Prefect server: build, cached re-index, incremental add,
skipped-row and cluster artifacts, bad CSV."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from reelflow.core.errors import InputError


@pytest.fixture(scope="module")
def csv_files(shared_data, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("songs-csv")
    lines = (shared_data / "songs" / "spotify_songs.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    cols = header.split(",")
    broken = rows[3].split(",")
    broken[cols.index("energy")] = "loud"
    base = [header, *rows[:3], ",".join(broken), *rows[4:200]]
    files = {"base": root / "base.csv", "more": root / "more.csv", "bad": root / "bad.csv"}
    files["base"].write_text("\n".join(base) + "\n", encoding="utf-8")
    files["more"].write_text("\n".join([*base, *rows[200:260]]) + "\n", encoding="utf-8")
    files["bad"].write_text("track_id,name,artist\n1,a,b\n", encoding="utf-8")
    return files


async def _task_states(flow_run_id) -> dict[str, list[str]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    out: dict[str, list[str]] = {}
    for r in runs:
        name = next((p for p in ("load-catalogue", "embed-batch", "cluster-catalogue", "persist-index")
                     if r.name.startswith(p)), r.name)
        out.setdefault(name, []).append(r.state.name)
    return out


async def _artifact(key: str, flow_run_id=None):
    """The artifact ``key`` of one flow run (the session's Prefect harness holds other tests' runs)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    flt = ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
    if flow_run_id is not None:
        flt = ArtifactFilter(key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    async with get_client() as client:
        arts = await client.read_artifacts(artifact_filter=flt)
    return arts[0] if arts else None


def test_index_then_cached_reindex_then_incremental_add(prefect_harness, csv_files, tmp_path, test_settings):
    from reelflow.flows.index_songs import index_songs
    from reelflow.processors.embeddings import get_encoder
    from reelflow.processors.song_index import SongIndex

    get_encoder(cache_dir=test_settings.cache / "models")
    index_dir = tmp_path / "idx"

    first_state = index_songs(catalogue=str(csv_files["base"]), index_dir=str(index_dir), return_state=True)
    first = first_state.result()
    assert first["action"] == "built"
    assert first["skipped"] == 1 and first["count"] >= 190
    assert first["cached_batches"] == 0 and first["clusters"] >= 1

    idx = SongIndex.load(index_dir)
    assert len(idx) == first["count"] and idx.manifest["content_key"]
    assert all(t.cluster >= 0 for t in idx.tracks)
    assert idx.search("dance pop", k=5)[0].playlist_genre == "pop"

    report = asyncio.run(_artifact("song-catalogue-report", first_state.state_details.flow_run_id))
    assert report is not None and "unparseable energy" in report.data and "| 5 |" in report.data
    clusters = asyncio.run(_artifact("song-clusters"))
    assert clusters is not None and "top_genres" in clusters.data

    # Unchanged catalogue: every content-keyed task is a cache hit and nothing is rewritten.
    version = (index_dir / "CURRENT").read_text()
    second_state = index_songs(catalogue=str(csv_files["base"]), index_dir=str(index_dir), return_state=True)
    second = second_state.result()
    assert second["action"] == "unchanged" and second["cached_batches"] == second["batches"] == 1
    states = asyncio.run(_task_states(second_state.state_details.flow_run_id))
    assert states["load-catalogue"] == ["Cached"]
    assert states["embed-batch"] == ["Cached"]
    assert states["cluster-catalogue"] == ["Cached"]
    assert (index_dir / "CURRENT").read_text() == version

    # Appended tracks: the live index is extended in place, old rows untouched.
    third = index_songs(catalogue=str(csv_files["more"]), index_dir=str(index_dir))
    assert third["action"] == "incremental-add"
    assert 40 <= third["added"] <= 60 and third["count"] == first["count"] + third["added"]
    grown = SongIndex.load(index_dir)
    new_track = grown.tracks[-1]
    assert grown.like(new_track.track_id, k=3)
    assert grown.search(f"{new_track.track_name} by {new_track.track_artist}", k=5)[0].track_id in {
        t.track_id for t in grown.tracks}


def test_bad_catalogue_fails_with_named_columns(prefect_harness, csv_files, tmp_path):
    from reelflow.flows.index_songs import index_songs

    with pytest.raises(InputError, match="track_name, track_artist"):
        index_songs(catalogue=str(csv_files["bad"]), index_dir=str(tmp_path / "idx"))
    assert not (tmp_path / "idx" / "CURRENT").exists()
    with pytest.raises(InputError, match="not found"):
        index_songs(catalogue=str(tmp_path / "missing.csv"), index_dir=str(tmp_path / "idx"))


# ---------------------------------------------------------------- S3 location (real SeaweedFS)


@pytest.fixture
def s3_env(seaweed, monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": seaweed.access_key, "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
                 "AWS_ENDPOINT_URL": seaweed.endpoint, "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    return seaweed


def _bucket(seaweed):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=seaweed.endpoint, region_name="us-east-1",
                        aws_access_key_id=seaweed.access_key, aws_secret_access_key=seaweed.secret_key,
                        config=Config(s3={"addressing_style": "path"}))


def _keys(s3, bucket: str, prefix: str) -> list[str]:
    return sorted(o["Key"][len(prefix) + 1:] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get(
        "Contents", []))


def test_index_published_to_s3_and_loaded_from_it(prefect_harness, csv_files, tmp_path, s3_env, test_settings):
    import uuid

    from typer.testing import CliRunner

    from reelflow.core.errors import IndexMismatchError
    from reelflow.core.settings import PathsSettings, Settings, load_settings
    from reelflow.processors import song_index
    from reelflow.processors.embeddings import get_encoder
    from reelflow.processors.song_index import SongIndex, load_or_build_default, publish_index
    from reelflow.cli_songs import app

    encoder = get_encoder(cache_dir=test_settings.cache / "models")
    s3_settings = load_settings()  # the S3 server's endpoint and credentials, from the environment
    prefix = f"songs-{uuid.uuid4().hex[:8]}/song_index"
    uri = f"s3://{s3_env.bucket}/{prefix}"
    s3 = _bucket(s3_env)
    local = tmp_path / "idx"

    # `reelflow songs index --index-uri`: atomic local save, then files, manifest, CURRENT last
    res = CliRunner().invoke(app, ["index", "--catalogue", str(csv_files["base"]), "--index-dir", str(local),
                                   "--index-uri", uri, "--no-cluster", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    v1 = (local / "CURRENT").read_text().strip()
    assert summary["published"]["published"] is True and summary["published"]["version"] == v1
    assert set(_keys(s3, s3_env.bucket, prefix)) == {"CURRENT", f"{v1}/manifest.json", f"{v1}/tracks.json",
                                                     f"{v1}/vectors.npy"}
    assert s3.get_object(Bucket=s3_env.bucket, Key=f"{prefix}/CURRENT")["Body"].read().decode().strip() == v1
    assert publish_index(local, uri, s3_settings)["published"] is False  # already live: nothing uploaded

    # load_from_uri: download into an empty cache, verify, load; same answers as the local index
    cache = tmp_path / "cache" / "song_index"
    remote = SongIndex.load_from_uri(uri, cache, encoder=encoder, settings=s3_settings)
    original = SongIndex.load(local, encoder=encoder)
    assert remote.manifest["version"] == v1 and len(remote) == len(original) == summary["count"]
    assert remote.search("dance pop", k=5) == original.search("dance pop", k=5)
    mtime = (cache / v1 / "vectors.npy").stat().st_mtime_ns
    SongIndex.load_from_uri(uri, cache, encoder=encoder, settings=s3_settings)  # cached version: no new download
    assert (cache / v1 / "vectors.npy").stat().st_mtime_ns == mtime

    # load_or_build_default with REELFLOW_SONG_INDEX_URI: a missing cache is filled from S3 (no build)
    settings = Settings(paths=PathsSettings(cache_dir=tmp_path / "worker-cache"), song_index_uri=uri, _env_file=None)
    default = load_or_build_default(settings, on_build=lambda reason: pytest.fail(f"rebuilt: {reason}"))
    assert default.manifest["version"] == v1 and len(default) == summary["count"]
    # ... and a stale cache follows a newly published version
    grown = index_songs_with_uri(csv_files["more"], local, uri)
    v2 = (local / "CURRENT").read_text().strip()
    assert grown["action"] == "incremental-add" and grown["published"]["version"] == v2 != v1
    song_index._DEFAULT.pop(str((tmp_path / "worker-cache" / "song_index").resolve()))
    fresh = load_or_build_default(settings, on_build=lambda reason: pytest.fail(f"rebuilt: {reason}"))
    assert fresh.manifest["version"] == v2 and len(fresh) == grown["count"] > len(default)

    # three publishes keep the last two versions at the remote location
    SongIndex.load(local, encoder=encoder).save(local)
    v3 = (local / "CURRENT").read_text().strip()
    publish_index(local, uri, s3_settings)
    versions = {k.split("/")[0] for k in _keys(s3, s3_env.bucket, prefix) if "/" in k}
    assert versions == {v2, v3}

    # corrupt remote data is refused, and the refused download leaves the target cache untouched
    obj = s3.get_object(Bucket=s3_env.bucket, Key=f"{prefix}/{v3}/tracks.json")
    body, meta = obj["Body"].read(), obj["Metadata"]
    s3.put_object(Bucket=s3_env.bucket, Key=f"{prefix}/{v3}/tracks.json", Body=body[:-10] + b"XXXXXXXXXX")
    bad_cache = tmp_path / "bad-cache" / "song_index"
    with pytest.raises(IndexMismatchError, match="checksum"):
        SongIndex.load_from_uri(uri, bad_cache, encoder=encoder, settings=s3_settings)
    assert not (bad_cache / "CURRENT").exists() and not (bad_cache / v3).exists()
    # a truncated object whose own metadata still claims the original checksum is refused too
    assert meta.get("sha256")
    s3.put_object(Bucket=s3_env.bucket, Key=f"{prefix}/{v3}/tracks.json", Body=body[: len(body) // 2],
                  Metadata={"sha256": meta["sha256"]})
    with pytest.raises(IndexMismatchError):
        SongIndex.load_from_uri(uri, bad_cache, encoder=encoder, settings=s3_settings)

    with pytest.raises(InputError, match="S3"):
        SongIndex.load_from_uri("file:///tmp/x", bad_cache, encoder=encoder, settings=s3_settings)


def index_songs_with_uri(csv_path: Path, index_dir: Path, uri: str) -> dict:
    from reelflow.core.paths import trust_local_uri
    from reelflow.flows.index_songs import index_songs

    trust_local_uri(uri)  # as `reelflow songs index --index-uri` does for the URI its user typed
    return index_songs(catalogue=str(csv_path), index_dir=str(index_dir), index_uri=uri, cluster=False)
