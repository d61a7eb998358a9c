"""``index_songs`` under a real (temporary) Prefect server: build, cached re-index, incremental add,
skipped-row and cluster artifacts, bad CSV."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.errors import InputError


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


async def _artifact(key: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        arts = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return arts[0] if arts else None


def test_index_then_cached_reindex_then_incremental_add(prefect_harness, csv_files, tmp_path, test_settings):
    from flows.index_songs import index_songs
    from processors.embeddings import get_encoder
    from processors.song_index import SongIndex

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

    report = asyncio.run(_artifact("song-catalogue-report"))
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
    from flows.index_songs import index_songs

    with pytest.raises(InputError, match="track_name, track_artist"):
        index_songs(catalogue=str(csv_files["bad"]), index_dir=str(tmp_path / "idx"))
    assert not (tmp_path / "idx" / "CURRENT").exists()
    with pytest.raises(InputError, match="not found"):
        index_songs(catalogue=str(tmp_path / "missing.csv"), index_dir=str(tmp_path / "idx"))
