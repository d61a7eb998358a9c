"""Song index on the real 32,833-row catalogue: relevance, `like`, filters, persistence, bad input."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from reelflow.core.errors import IndexMismatchError, InputError
from reelflow.processors import embeddings
from reelflow.processors.song_index import (
    REQUIRED_COLUMNS,
    SongIndex,
    catalogue_from_records,
    describe,
    load_or_build_default,
    make_faiss_index,
    read_catalogue_csv,
)


@pytest.fixture(scope="session")
def encoder(test_settings):
    return embeddings.get_encoder(cache_dir=test_settings.cache / "models")


@pytest.fixture(scope="session")
def catalogue_index(test_settings, encoder) -> SongIndex:
    """The full bundled catalogue, built once per machine into the test cache."""
    return load_or_build_default(test_settings, progress=False)


@pytest.fixture(scope="session")
def small_index(shared_data, encoder) -> SongIndex:
    return SongIndex.build(read_catalogue_csv(shared_data / "songs" / "sample_200.csv"), encoder)


# ---------------------------------------------------------------- catalogue parsing / bad input


def test_real_catalogue_is_normalised_and_deduplicated(shared_data):
    cat = read_catalogue_csv(shared_data / "songs" / "spotify_songs.csv")
    ids = [t.track_id for t in cat.tracks]
    assert len(ids) == len(set(ids))
    keys = {(t.track_name.casefold(), t.track_artist.casefold()) for t in cat.tracks}
    assert len(keys) == len(cat.tracks)
    # 32,833 rows, 28,356 unique ids; same title+artist under other ids drops some more.
    assert 25_000 < len(cat.tracks) <= 28_356
    assert len(cat.tracks) + cat.duplicates + len(cat.skipped) == 32_833
    t = cat.tracks[0]
    assert t.tempo and t.energy is not None and t.playlist_genre == "pop"
    text = describe(t)
    assert t.track_name in text and "pop" in text and "tempo" in text


def test_missing_columns_are_named(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("track_id,track_name,energy\n1,A,0.5\n")
    with pytest.raises(InputError) as err:
        read_catalogue_csv(bad)
    assert "track_artist" in err.value.message and "playlist_genre" in err.value.message
    assert "playlist_subgenre" in err.value.message and "track_name" not in err.value.message.split(":")[-1]


def test_bad_rows_skipped_and_reported_rest_indexed(shared_data, tmp_path):
    lines = (shared_data / "songs" / "sample_200.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:21]
    cols = header.split(",")
    broken = rows[0].split(",")
    broken[cols.index("tempo")] = "fast!"
    empty_title = rows[1].split(",")
    empty_title[cols.index("track_name")] = ""
    csv = tmp_path / "mixed.csv"
    csv.write_text("\n".join([header, ",".join(broken), ",".join(empty_title), *rows[2:], rows[5]]) + "\n")
    cat = read_catalogue_csv(csv)
    assert [s.line for s in cat.skipped] == [2, 3]
    assert "tempo" in cat.skipped[0].reason and "track_name" in cat.skipped[1].reason
    assert cat.duplicates >= 1
    assert len(cat.tracks) == len({r.split(",")[0] for r in rows[2:]})
    report = cat.skipped_report()
    assert report["skipped"] == 2 and report["first_skipped"][0]["line"] == 2


def test_empty_and_unreadable_catalogues(tmp_path):
    header_only = tmp_path / "empty.csv"
    header_only.write_text(",".join(REQUIRED_COLUMNS) + "\n")
    with pytest.raises(InputError, match="no valid tracks"):
        read_catalogue_csv(header_only)
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_catalogue_csv(blank)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((",".join(REQUIRED_COLUMNS) + "\n1,Caf\xe9,A,pop,x\n").encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_catalogue_csv(latin1)
    with pytest.raises(InputError, match="not found"):
        read_catalogue_csv(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="empty"):
        SongIndex.from_vectors([], np.zeros((0, 384), np.float32), model_revision="x", backend="x")


def test_spotify_track_dicts_are_accepted():
    rows = [
        {"track_id": "a1", "track_name": "Song A", "track_artist": "X", "explicit": True, "duration_ms": 1000},
        {"id": "b2", "name": "Song B", "artists": [{"name": "Y"}, {"name": "Z"}], "explicit": False},
        {"id": "c3", "name": "song a", "artists": [{"name": "x"}]},  # same title + artist as a1
        {"id": "", "name": "No id", "artists": [{"name": "Q"}]},
    ]
    cat = catalogue_from_records(rows, source="spotify:playlist:test")
    assert [t.track_id for t in cat.tracks] == ["a1", "b2"]
    assert cat.tracks[1].track_artist == "Y, Z" and cat.tracks[0].explicit is True
    assert cat.duplicates == 1 and len(cat.skipped) == 1 and cat.has_explicit


# ---------------------------------------------------------------- relevance on the real catalogue


@pytest.mark.parametrize(
    ("query", "genre"),
    [
        ("latin reggaeton dance party", "latin"),
        ("heavy guitar rock", "rock"),
        ("hard hitting rap with lots of lyrics", "rap"),
        ("edm electro house festival drop", "edm"),
    ],
)
def test_genre_vocabulary_query_returns_that_genre(catalogue_index, query, genre):
    hits = catalogue_index.search(query, k=10)
    assert len(hits) == 10
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    share = sum(h.playlist_genre == genre for h in hits) / 10
    assert share >= 0.6, (query, [(h.track_name, h.playlist_genre) for h in hits])


def test_like_returns_same_subgenre_far_above_chance(catalogue_index):
    """Neighbours share the seed's subgenre ≥ 3× more often than a random track would."""
    rng = np.random.default_rng(7)
    tracks = catalogue_index.tracks
    freq = Counter(t.playlist_subgenre for t in tracks)
    seeds = rng.choice(len(tracks), size=150, replace=False)
    same, chance = [], []
    for row in seeds:
        seed = tracks[int(row)]
        hits = catalogue_index.like(seed.track_id, k=10)
        assert len(hits) == 10 and all(h.track_id != seed.track_id for h in hits)
        same.append(np.mean([h.playlist_subgenre == seed.playlist_subgenre for h in hits]))
        chance.append(freq[seed.playlist_subgenre] / len(tracks))
    assert np.mean(same) >= 3 * np.mean(chance), (np.mean(same), np.mean(chance))
    assert np.mean(same) >= 0.3


def test_filters_combine_and_return_k_results(catalogue_index):
    hits = catalogue_index.search("happy summer dance", k=10, genre="rock", min_tempo=120, max_tempo=140)
    assert len(hits) == 10
    assert all(h.playlist_genre == "rock" and 120 <= h.tempo <= 140 for h in hits)
    sub = catalogue_index.search("sad slow ballad", k=7, genre="neo soul", max_tempo=90)
    assert len(sub) == 7 and all(h.playlist_subgenre == "neo soul" and h.tempo <= 90 for h in sub)
    # Filter-then-rank is exact: same as brute force over the matching rows.
    q = catalogue_index.encoder.encode(["happy summer dance"])[0]
    rows = [i for i, t in enumerate(catalogue_index.tracks)
            if t.playlist_genre == "rock" and t.tempo is not None and 120 <= t.tempo <= 140]
    best = sorted(rows, key=lambda i: -float(catalogue_index.vectors[i] @ q))[:10]
    assert [h.track_id for h in hits] == [catalogue_index.tracks[i].track_id for i in best]


def test_filter_with_fewer_matches_than_k(catalogue_index):
    hits = catalogue_index.search("anything", k=50, genre="latin", min_tempo=199, max_tempo=240)
    n_match = sum(1 for t in catalogue_index.tracks
                  if t.playlist_genre == "latin" and t.tempo is not None and 199 <= t.tempo <= 240)
    assert len(hits) == min(50, n_match)
    assert all(199 <= h.tempo <= 240 for h in hits)


def test_bad_queries_and_filters(catalogue_index):
    for bad in ("", "   ", "x" * 1001):
        with pytest.raises(InputError):
            catalogue_index.search(bad)
    catalogue_index.search("x" * 1000, k=1)
    with pytest.raises(InputError, match="unknown genre"):
        catalogue_index.search("party", genre="polka")
    with pytest.raises(InputError, match="min tempo"):
        catalogue_index.search("party", min_tempo=150, max_tempo=100)
    with pytest.raises(InputError, match="explicit"):
        catalogue_index.search("party", explicit=True)
    with pytest.raises(InputError, match="k must be"):
        catalogue_index.search("party", k=0)
    with pytest.raises(InputError, match="not in the song index"):
        catalogue_index.like("no-such-track")


def test_default_index_loads_from_cache_with_manifest(test_settings, catalogue_index):
    from reelflow.processors.song_index import _DEFAULT, default_index_dir

    manifest = SongIndex.read_manifest(default_index_dir(test_settings))
    for key in ("model_name", "model_revision", "encoder_backend", "dim", "metric", "count", "catalogue_sha256",
                "built_at", "faiss", "files"):
        assert key in manifest
    assert manifest["count"] == len(catalogue_index) and manifest["faiss"]["type"] == "IndexFlatIP"
    _DEFAULT.clear()  # force a load from disk
    again = load_or_build_default(test_settings)
    assert again is not catalogue_index and len(again) == len(catalogue_index)
    assert again.search("heavy guitar rock", k=3) == catalogue_index.search("heavy guitar rock", k=3)


# ---------------------------------------------------------------- persistence and integrity


def test_save_load_roundtrip(small_index, tmp_path):
    folder = small_index.save(tmp_path / "idx")
    assert (tmp_path / "idx" / "CURRENT").read_text().strip() == folder.name
    loaded = SongIndex.load(tmp_path / "idx", encoder=small_index.encoder)
    assert loaded.search("dance pop", k=5) == small_index.search("dance pop", k=5)
    assert loaded.manifest["count"] == len(small_index)
    # A second save replaces the first atomically and keeps it as the previous version; a third
    # removes it (only ReelFlow's own version folders are ever removed).
    second = loaded.save(tmp_path / "idx")
    assert folder.exists() and second.exists()
    third = loaded.save(tmp_path / "idx")
    assert not folder.exists() and second.exists() and third.exists()


def test_index_built_with_other_encoder_is_refused(small_index, tmp_path):
    small_index.save(tmp_path / "idx")
    other = "torch-fp32" if small_index.encoder.backend != "torch-fp32" else "onnx-qint8"
    other_encoder = embeddings.get_encoder(other)
    if other_encoder.revision == small_index.encoder.revision:
        pytest.skip("only one encoder path available")
    with pytest.raises(IndexMismatchError) as err:
        SongIndex.load(tmp_path / "idx", encoder=other_encoder)
    assert "different encoder" in err.value.message and "rebuild" in err.value.hint


def test_manifest_for_another_model_is_refused(small_index, tmp_path):
    folder = small_index.save(tmp_path / "idx")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["model_name"] = "sentence-transformers/all-mpnet-base-v2"
    manifest["dim"] = 768
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="all-mpnet-base-v2") as err:
        SongIndex.load(tmp_path / "idx", encoder=small_index.encoder)
    assert "reelflow songs index --rebuild" in err.value.hint


def test_truncated_or_corrupt_files_are_detected(small_index, tmp_path):
    folder = small_index.save(tmp_path / "idx")
    vec = folder / "vectors.npy"
    data = vec.read_bytes()
    vec.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexMismatchError, match="truncated"):
        SongIndex.load(tmp_path / "idx", encoder=small_index.encoder)
    flipped = bytearray(data)
    flipped[-5] ^= 0xFF
    vec.write_bytes(bytes(flipped))
    with pytest.raises(IndexMismatchError, match="SHA-256"):
        SongIndex.load(tmp_path / "idx", encoder=small_index.encoder)
    shutil.rmtree(tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="no song index"):
        SongIndex.load(tmp_path / "idx", encoder=small_index.encoder)


def test_load_refuses_a_current_pointer_that_escapes_the_index_dir(small_index, tmp_path):
    """A CURRENT pointer naming a folder outside the index dir is corrupt: load fails loudly."""
    small_index.save(tmp_path / "idx")
    (tmp_path / "idx" / "CURRENT").write_text("../escape\n")
    with pytest.raises(IndexMismatchError, match="corrupt"):
        SongIndex.load(tmp_path / "idx", encoder=small_index.encoder)


def test_incremental_add(small_index, shared_data, encoder):
    cat = read_catalogue_csv(shared_data / "songs" / "sample_200.csv")
    idx = SongIndex.from_vectors(cat.tracks[:150], small_index.vectors[:150], model_revision=encoder.revision,
                                 backend=encoder.backend, encoder=encoder)
    added = idx.add(cat.tracks[100:], small_index.vectors[100:])
    assert added == len(cat.tracks) - 150 and len(idx) == len(cat.tracks)
    assert idx.search("dance pop", k=5) == small_index.search("dance pop", k=5)


# ---------------------------------------------------------------- HNSW path


def _clustered(n: int, d: int = 384, centres: int = 50, rank: int = 16, seed: int = 0) -> np.ndarray:
    """Unit vectors around fixed centroids, spread along per-cluster low-rank subspaces + noise."""
    base = np.random.default_rng(0)
    c = base.standard_normal((centres, d)).astype(np.float32) / np.sqrt(d)
    basis = base.standard_normal((centres, rank, d)).astype(np.float32) / np.sqrt(d) * (0.5 / np.sqrt(rank))
    rng = np.random.default_rng(seed + 1)
    lab = rng.integers(0, centres, n)
    z = rng.standard_normal((n, rank)).astype(np.float32)
    x = c[lab] + np.einsum("nr,nrd->nd", z, basis[lab]) + 0.1 / np.sqrt(d) * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_hnsw_recall_and_filtered_search_via_id_selector(encoder):
    from reelflow.processors.song_index import Track, choose_index_spec

    x = _clustered(6000)
    q = _clustered(100, seed=1)
    spec = choose_index_spec(10**6)
    assert spec["type"] == "IndexHNSWFlat"
    hnsw = make_faiss_index(x, spec)
    exact = make_faiss_index(x, choose_index_spec(10))
    _, got = hnsw.search(q, 10)
    _, truth = exact.search(q, 10)
    recall = np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth, strict=True)])
    assert recall >= 0.95
    tracks = [Track(track_id=str(i), track_name=f"t{i}", track_artist="a", playlist_genre="pop" if i % 3 else "rock",
                    tempo=float(60 + i % 120)) for i in range(len(x))]
    idx = SongIndex(tracks, x, {"faiss": spec, "model_revision": encoder.revision}, encoder=encoder, index=hnsw)
    idx.exact_subset_max = 0  # force the FAISS IDSelector path
    hits = idx.search_vector(q[0], 10, genre="rock", min_tempo=100)
    assert len(hits) == 10
    assert all(tracks[r].playlist_genre == "rock" and tracks[r].tempo >= 100 for r, _ in hits)
    idx.exact_subset_max = 10**9
    exact_hits = idx.search_vector(q[0], 10, genre="rock", min_tempo=100)
    assert len(set(r for r, _ in hits) & set(r for r, _ in exact_hits)) >= 9


def test_index_dir_path_is_independent_of_cwd(test_settings):
    from reelflow.processors.song_index import default_catalogue_path, default_index_dir

    assert default_index_dir(test_settings) == Path(test_settings.cache) / "song_index"
    assert default_catalogue_path(test_settings).is_file()


# ---------------------------------------------------------------- CLI (`reelflow songs ...`)


def test_cli_search_like_json_and_exit_codes(small_index, tmp_path):
    from typer.testing import CliRunner

    from reelflow.cli_songs import app

    small_index.save(tmp_path / "idx")
    runner = CliRunner()
    res = runner.invoke(app, ["search", "dance pop party", "-k", "4", "--json", "--index-dir", str(tmp_path / "idx")])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 4 and [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert set(rows[0]) == {"track_id", "track_name", "track_artist", "playlist_genre", "playlist_subgenre",
                            "tempo", "energy", "valence", "score"}
    res = runner.invoke(app, ["search", "party", "--genre", "pop", "--min-tempo", "120", "--json",
                              "--index-dir", str(tmp_path / "idx")])
    assert res.exit_code == 0 and all(r["playlist_genre"] == "pop" and r["tempo"] >= 120 for r in json.loads(res.stdout))
    seed = small_index.tracks[0].track_id
    res = runner.invoke(app, ["like", seed, "-k", "3", "--json", "--index-dir", str(tmp_path / "idx")])
    assert res.exit_code == 0 and seed not in {r["track_id"] for r in json.loads(res.stdout)}
    for bad in (["search", "", "--index-dir", str(tmp_path / "idx")],
                ["search", "x" * 1001, "--index-dir", str(tmp_path / "idx")],
                ["search", "party", "--genre", "polka", "--index-dir", str(tmp_path / "idx")],
                ["like", "nope", "--index-dir", str(tmp_path / "idx")],
                ["search", "party", "--index-dir", str(tmp_path / "missing")]):
        res = runner.invoke(app, bad)
        assert res.exit_code == 2, (bad, res.output)
