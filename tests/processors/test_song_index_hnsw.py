"""HNSW path of the song index on real catalogue vectors: forced on a small index, saved, loaded,
searched with and without filters; results agree with exact search (recall@10 ≥ 0.95)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from reelflow.processors import embeddings
from reelflow.processors.song_index import SongIndex, choose_index_spec, load_or_build_default

N = 3000  # rows of the real catalogue in the small index
QUERIES = ["sunny latin summer party", "sad acoustic ballad", "aggressive rap with heavy bass",
           "chill relaxing lo-fi evening", "euphoric edm festival drop", "classic rock guitar anthem"]


@pytest.fixture(scope="module")
def encoder(test_settings):
    return embeddings.get_encoder(cache_dir=test_settings.cache / "models")


@pytest.fixture(scope="module")
def subsets(test_settings, encoder):
    """Real MiniLM vectors of N catalogue tracks spread over the catalogue (from the cached index)."""
    full = load_or_build_default(test_settings, progress=False)
    rows = np.arange(0, len(full), len(full) // N)[:N]  # every k-th track: all genres present
    tracks = [copy.copy(full.tracks[r]) for r in rows]
    vectors = full.vectors[rows].copy()
    common = dict(model_revision=encoder.revision, backend=encoder.backend, encoder=encoder)
    hnsw = SongIndex.from_vectors(tracks, vectors, index_spec=choose_index_spec(N, flat_max=0), **common)
    exact = SongIndex.from_vectors(tracks, vectors, **common)
    # held-out catalogue tracks serve as "like this" query vectors
    held_out = full.vectors[rows[:200] + 1].copy()
    return hnsw, exact, held_out


def _recall(a: list[list[int]], b: list[list[int]]) -> float:
    return float(np.mean([len(set(x) & set(y)) / max(len(y), 1) for x, y in zip(a, b, strict=True)]))


def test_choose_index_spec_threshold_override():
    assert choose_index_spec(10)["type"] == "IndexFlatIP"
    spec = choose_index_spec(10, flat_max=0)
    assert spec["type"] == "IndexHNSWFlat" and spec["M"] == 32 and spec["efSearch"] == 128


def test_hnsw_save_load_round_trip_matches_exact(subsets, tmp_path, encoder):
    hnsw, exact, held_out = subsets
    assert hnsw.manifest["faiss"]["type"] == "IndexHNSWFlat" and exact.manifest["faiss"]["type"] == "IndexFlatIP"

    folder = hnsw.save(tmp_path / "idx")
    assert (folder / "index.faiss").is_file()  # HNSW graph persisted (exact indexes are rebuilt)
    loaded = SongIndex.load(tmp_path / "idx", encoder=encoder)
    assert loaded.manifest["faiss"]["type"] == "IndexHNSWFlat" and hasattr(loaded.index, "hnsw")
    assert loaded.index.hnsw.efSearch == 128 and loaded.index.ntotal == N
    np.testing.assert_array_equal(loaded.vectors, hnsw.vectors)

    # The loaded graph answers exactly like the one that was saved.
    for q in QUERIES:
        assert [m.track_id for m in loaded.search(q, k=10)] == [m.track_id for m in hnsw.search(q, k=10)]

    # recall@10 against exact search: text queries + 200 held-out catalogue tracks as queries
    qv = np.vstack([encoder.encode(QUERIES), held_out])
    got = [[r for r, _ in loaded.search_vector(v, 10)] for v in qv]
    truth = [[r for r, _ in exact.search_vector(v, 10)] for v in qv]
    recall = _recall(got, truth)
    assert recall >= 0.95, recall

    # Scores are real cosines of the returned rows, best first.
    hits = loaded.search_vector(qv[0], 10)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    np.testing.assert_allclose(scores, [float(loaded.vectors[r] @ qv[0]) for r, _ in hits], atol=1e-4)


@pytest.mark.parametrize("filters", [{"genre": "pop"}, {"min_tempo": 120.0, "max_tempo": 130.0},
                                     {"genre": "rock", "min_tempo": 100.0}])
def test_hnsw_filtered_search_after_load(subsets, tmp_path, encoder, filters):
    hnsw, exact, held_out = subsets
    hnsw.save(tmp_path / "idx")
    loaded = SongIndex.load(tmp_path / "idx", encoder=encoder)
    loaded.exact_subset_max = 0  # force the FAISS IDSelectorBitmap path (not the exact subset scan)
    qv = np.vstack([encoder.encode(QUERIES), held_out[:60]])
    got, truth = [], []
    for v in qv:
        rows = [r for r, _ in loaded.search_vector(v, 10, **filters)]
        assert len(rows) == 10
        for r in rows:
            t = loaded.tracks[r]
            if "genre" in filters:
                assert filters["genre"] in (t.playlist_genre, t.playlist_subgenre)
            if "min_tempo" in filters:
                assert t.tempo >= filters["min_tempo"]
            if "max_tempo" in filters:
                assert t.tempo <= filters["max_tempo"]
        got.append(rows)
        truth.append([r for r, _ in exact.search_vector(v, 10, **filters)])
    recall = _recall(got, truth)
    assert recall >= 0.95, (filters, recall)

    # the public text API agrees too, and `like` excludes the seed
    m = loaded.search("dance pop party", k=5, **filters)
    assert len(m) == 5 and m == sorted(m, key=lambda x: -x.score)
    seed = loaded.tracks[0].track_id
    assert seed not in {x.track_id for x in loaded.like(seed, k=10)}


def test_hnsw_incremental_add_keeps_hnsw(subsets, encoder, tmp_path):
    hnsw, _, _ = subsets
    hnsw.save(tmp_path / "idx")
    grown = SongIndex.load(tmp_path / "idx", encoder=encoder)
    extra = [copy.copy(t) for t in grown.tracks[:5]]
    for i, t in enumerate(extra):
        t.track_id = f"extra-{i}"
    added = grown.add(extra, grown.vectors[:5])
    assert added == 5 and grown.manifest["faiss"]["type"] == "IndexHNSWFlat" and grown.index.ntotal == N + 5
    assert grown.like("extra-0", k=1)[0].track_id == grown.tracks[0].track_id  # identical vector
