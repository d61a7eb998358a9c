"""Song index persistence never loses a user's files or a good index.

- the reported case: ``--index-dir`` pointing at a folder holding ``photos/a.txt``, ``.hidden/b``
  and ``notes.txt`` is refused and every file stays intact;
- only ReelFlow's own version folders (name AND manifest) are ever removed; the previous version
  is kept; a corrupt live version falls back to it instead of a rebuild;
- a process saving and another loading the same folder at once: the reader never fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from reelflow.core.errors import InputError
from reelflow.processors import embeddings
from reelflow.processors.song_index import (
    INDEX_MARKER,
    SongIndex,
    _load_usable,
    claim_index_dir,
    index_versions,
    read_catalogue_csv,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def encoder(test_settings):
    return embeddings.get_encoder(cache_dir=test_settings.cache / "models")


@pytest.fixture(scope="module")
def small_index(shared_data, encoder) -> SongIndex:
    cat = read_catalogue_csv(shared_data / "songs" / "sample_200.csv")
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(cat.tracks), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return SongIndex.from_vectors(cat.tracks, vectors, model_revision=encoder.revision, backend=encoder.backend,
                                  encoder=encoder)


def _user_folder(root: Path) -> dict[str, bytes]:
    files = {"photos/a.txt": b"holiday\n", ".hidden/b": b"secret-ish\n", "notes.txt": b"my notes\n"}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_reported_case_foreign_folder_is_refused_and_left_intact(small_index, tmp_path):
    folder = tmp_path / "mine"
    files = _user_folder(folder)
    before = _snapshot(folder)
    with pytest.raises(InputError) as err:
        small_index.save(folder)
    assert "not a ReelFlow song index" in err.value.message and "notes.txt" in err.value.message
    assert "--index-dir" in err.value.hint
    assert _snapshot(folder) == before == files
    assert sorted(p.name for p in folder.iterdir()) == [".hidden", "notes.txt", "photos"]


def test_reported_case_through_the_index_songs_flow(prefect_harness, small_index, tmp_path, monkeypatch):
    """``reelflow songs index --index-dir DIR`` runs this flow: refused before any work."""
    from reelflow.flows.index_songs import index_songs

    folder = tmp_path / "mine"
    before = _user_folder(folder)
    monkeypatch.setenv("REELFLOW_PATHS__ALLOWED_ROOTS", str(tmp_path))
    with pytest.raises(InputError, match="not a ReelFlow song index"):
        index_songs(catalogue=str(REPO / "reelflow" / "assets" / "catalogue" / "spotify_songs.csv"),
                    index_dir=str(folder), cluster=False)
    assert _snapshot(folder) == before
    assert not (tmp_path / ".mine-work").exists() or not any((tmp_path / ".mine-work").iterdir())


def test_only_own_versions_are_pruned_and_previous_is_kept(small_index, tmp_path):
    folder = tmp_path / "idx"
    v1 = small_index.save(folder).name
    assert (folder / INDEX_MARKER).is_file()
    # things a user (or another tool) put there later, some looking like ours
    (folder / "notes.txt").write_text("keep me")
    (folder / "photos").mkdir()
    (folder / "photos" / "a.txt").write_text("keep me too")
    lookalike = folder / "20200101T000000-deadbeef"  # our name, no manifest: not ours
    lookalike.mkdir()
    (lookalike / "data.bin").write_bytes(b"x")
    v2 = small_index.save(folder).name
    assert index_versions(folder) == [v1, v2]  # previous kept
    v3 = small_index.save(folder).name
    assert set(index_versions(folder)) == {v2, v3}  # v1 (ours, two back) removed
    assert (folder / "CURRENT").read_text().strip() == v3
    assert (folder / "notes.txt").read_text() == "keep me"
    assert (folder / "photos" / "a.txt").read_text() == "keep me too"
    assert (lookalike / "data.bin").read_bytes() == b"x"


def test_index_saved_before_the_marker_is_still_recognised(small_index, tmp_path):
    folder = tmp_path / "legacy"
    v1 = small_index.save(folder).name
    (folder / INDEX_MARKER).unlink()  # layout of an index saved by an older ReelFlow
    claim_index_dir(folder)
    assert (folder / INDEX_MARKER).is_file()
    v2 = small_index.save(folder).name
    assert index_versions(folder) == [v1, v2]


def test_a_file_or_unknown_folder_is_never_claimed(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        claim_index_dir(tmp_path / "f")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "CURRENT").mkdir()  # a folder named CURRENT is not our pointer file
    with pytest.raises(InputError):
        claim_index_dir(tmp_path / "d")


def test_corrupt_live_version_falls_back_to_the_kept_one(small_index, tmp_path):
    folder = tmp_path / "idx"
    small_index.manifest["source_kind"] = "custom"  # a team's own catalogue: must never be rebuilt over
    try:
        good = small_index.save(folder).name
        bad = small_index.save(folder)
    finally:
        small_index.manifest.pop("source_kind", None)
    vec = bad / "vectors.npy"
    vec.write_bytes(vec.read_bytes()[:100])
    idx, reason = _load_usable(folder, small_index.encoder, source_sha="not-the-bundled-one")
    assert idx is not None and reason == "" and idx.manifest["version"] == good
    assert (folder / "CURRENT").read_text().strip() == good
    assert idx.manifest["source_kind"] == "custom" and len(idx) == len(small_index)


_WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from reelflow.processors.embeddings import get_encoder
    from reelflow.processors.song_index import SongIndex, Track, index_lock
    enc = get_encoder(cache_dir=sys.argv[2])
    rng = np.random.default_rng(1)
    tracks = [Track(track_id=str(i), track_name=f"t{i}", track_artist="a", playlist_genre="pop") for i in range(300)]
    v = rng.standard_normal((300, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    idx = SongIndex.from_vectors(tracks, v, model_revision=enc.revision, backend=enc.backend, encoder=enc)
    end = time.time() + float(sys.argv[3])
    n = 0
    while n == 0 or time.time() < end:  # at least one save: a duration of 0 seeds the folder
        with index_lock(sys.argv[1]):
            idx.save(sys.argv[1])
        n += 1
    print(n)
""")

_READER = textwrap.dedent("""
    import sys, time
    from reelflow.processors.embeddings import get_encoder
    from reelflow.processors.song_index import SongIndex
    enc = get_encoder(cache_dir=sys.argv[2])
    end = time.time() + float(sys.argv[3])
    n = 0
    while time.time() < end:
        idx = SongIndex.load(sys.argv[1], encoder=enc)  # no lock: relies on the kept previous version
        assert len(idx) == 300
        n += 1
    print(n)
""")


def test_concurrent_save_and_load_in_two_processes(small_index, tmp_path, test_settings):
    folder = tmp_path / "shared-idx"
    writer0 = subprocess.run([sys.executable, "-c", _WRITER, str(folder), str(test_settings.cache / "models"), "0"],
                             capture_output=True, text=True, timeout=120, cwd=REPO)
    assert writer0.returncode == 0, writer0.stderr
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.time()
    procs = [subprocess.Popen([sys.executable, "-c", code, str(folder), str(test_settings.cache / "models"), "6"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
             for code in (_WRITER, _READER)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, errtext) in zip(procs, outs, strict=True):
        assert p.returncode == 0, errtext[-2000:]
    saves, loads = int(outs[0][0].strip()), int(outs[1][0].strip())
    assert saves >= 2 and loads >= 2, (saves, loads, time.time() - t0)
    assert len(index_versions(folder)) == 2
    assert json.loads((folder / (folder / "CURRENT").read_text().strip() / "manifest.json").read_text())["count"] == 300
