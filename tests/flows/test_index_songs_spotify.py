"""``index_songs`` ingesting Spotify playlists and searches end to end: the Spotify emulator on
real loopback HTTP (uvicorn), a real Prefect server (``prefect_harness``), real MiniLM and FAISS.

Covers paging (a 125-entry playlist is 3 pages of 50), a 429 with ``Retry-After`` survived,
de-duplication against the CSV catalogue (same ``track_id``; same title + artist), descriptions
without audio features (Spotify closed them to new apps), search by exact title, manifest
counts per source, and the ``reelflow songs index --spotify-playlist`` CLI in a subprocess."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, TEST_CACHE
from tests.emulators import EmulatorServer, spotify_app
from tests.emulators.spotify_app import _b62

CID, SECRET = "spotify-test-id", "spotify-test-secret"
BIG, SMALL = _b62("playlist:big"), _b62("playlist:small")
SEARCH = "lights 3"  # the emulator's third-series "... Lights 3" tracks, mostly outside the playlist


@pytest.fixture(scope="module")
def spotify_server():
    app = spotify_app.create_app(CID, SECRET)
    with EmulatorServer(app) as server:
        yield server.url, app


@pytest.fixture
def spotify_env(spotify_server, monkeypatch) -> dict[str, str]:
    url, _ = spotify_server
    httpx.post(f"{url}/__emulator__/reset").raise_for_status()
    env = {"SPOTIFY_CLIENT_ID": CID, "SPOTIFY_CLIENT_SECRET": SECRET, "SPOTIFY_API_BASE_URL": f"{url}/v1",
           "SPOTIFY_TOKEN_URL": f"{url}/api/token", "REELFLOW_SERVICE_BACKOFF_MAX_S": "1"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture(scope="module")
def csv_with_collisions(shared_data, spotify_server, tmp_path_factory) -> Path:
    """200 real catalogue rows + the real "Midnight City" by M83 row (the emulator's first
    track has the same title and artist under another id) + a row reusing the id of the
    emulator's track 5 under another title."""
    src = shared_data / "songs" / "sample_200.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    with (REPO / "reelflow" / "assets" / "catalogue" / "spotify_songs.csv").open(encoding="utf-8", newline="") as fh:
        midnight = next(r for r in csv.DictReader(fh) if r["track_name"] == "Midnight City" and r["track_artist"] == "M83")
    same_id = dict(rows[0], track_id=_b62("track:5"), track_name="Catalogue Song Sharing An Id",
                   track_artist="Catalogue Artist")
    out = tmp_path_factory.mktemp("spotify-csv") / "catalogue.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows([*rows, {k: midnight.get(k, "") for k in header}, same_id])
    return out


def _search_hits(emu) -> list[str]:
    """Track ids the emulator's ``/search`` returns for :data:`SEARCH` (every term must match)."""
    def text(tid: str) -> str:
        t = emu.tracks[tid]
        return f"{t['name']} {emu.artists[t['artist_id']]['name']} {t['album']['name']}".lower()

    return [tid for tid in emu.tracks if all(term in text(tid) for term in SEARCH.split())]


def _expected_new(emu, csv_path: Path) -> list[str]:
    """Spotify track ids that must be added: each source de-duplicated by itself (id, title +
    artist; the emulator repeats title + artist every 30 tracks), then against earlier sources."""
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ids = {r["track_id"] for r in rows}
    keys = {(r["track_name"].casefold(), r["track_artist"].casefold()) for r in rows}
    tids = list(emu.tracks)

    def artist(tid: str) -> str:
        return emu.artists[emu.tracks[tid]["artist_id"]]["name"]

    out = []
    for source in (emu.playlists[BIG]["tracks"], _search_hits(emu)[:50]):
        own_ids, own_keys, unique = set(), set(), []
        for tid in source:
            key = (emu.tracks[tid]["name"].casefold(), artist(tid).casefold())
            if tid not in own_ids and key not in own_keys:
                unique.append((tid, key))
            own_ids.add(tid)
            own_keys.add(key)
        for tid, key in unique:
            if tid in ids or key in keys:
                continue
            ids.add(tid)
            keys.add(key)
            out.append(tid)
    return out


def test_spotify_playlist_and_search_ingest(prefect_harness, spotify_server, spotify_env, csv_with_collisions,
                                            tmp_path, test_settings):
    from reelflow.flows.index_songs import index_songs
    from reelflow.processors.embeddings import get_encoder
    from reelflow.processors.song_index import SongIndex, describe, read_catalogue_csv

    get_encoder(cache_dir=test_settings.cache / "models")
    url, app = spotify_server
    emu = app.emu
    # popularity is only served outside dev mode; one 429 with Retry-After on the paged listing
    httpx.post(f"{url}/__emulator__/config", json={"extended_mode": True}).raise_for_status()
    httpx.post(f"{url}/__emulator__/faults", json={"route": "GET /v1/playlists/*/items", "status": 429,
                                                   "headers": {"Retry-After": "1"}, "times": 1}).raise_for_status()
    index_dir = tmp_path / "idx"

    summary = index_songs(catalogue=str(csv_with_collisions), spotify_playlists=[BIG], spotify_searches=[SEARCH],
                          index_dir=str(index_dir), cluster=False)

    stats = httpx.get(f"{url}/__emulator__/stats").json()
    assert stats["faults_fired"].get("status") == 1  # the 429 was served and survived
    assert stats["playlist_item_pages"] == 3  # 125 entries (incl. a local file and an episode) / 50
    n_hits = min(50, len(_search_hits(emu)))
    assert stats["search_requests"] == -(-n_hits // 10)  # dev-mode pages of 10

    expected = _expected_new(emu, csv_with_collisions)
    n_csv = len(read_catalogue_csv(csv_with_collisions).tracks)
    assert n_csv >= 190
    assert summary["action"] == "built" and summary["count"] == n_csv + len(expected)
    idx = SongIndex.load(index_dir)
    manifest = idx.manifest
    assert manifest["count"] == n_csv + len(expected)
    spotify_counts = {k: v for k, v in manifest["sources"].items() if k.startswith("spotify:")}
    assert sum(spotify_counts.values()) == len(expected)
    assert manifest["sources"]["csv:catalogue.csv"] == n_csv
    # 123 playlist tracks: 63 distinct title + artist, minus "Midnight City" and the shared id
    n_playlist = spotify_counts[f"spotify:playlist:{BIG}"]
    assert n_playlist == 61
    assert spotify_counts[f"spotify:search:{SEARCH}"] == len(expected) - n_playlist >= 10

    # de-duplication: the CSV wins on the shared id and on the shared title + artist
    assert idx.track(_b62("track:5")).track_name == "Catalogue Song Sharing An Id"
    assert idx.track(_b62("track:0")) is None
    assert [t.track_artist for t in idx.tracks if t.track_name == "Midnight City"] == ["M83"]
    assert {t.track_id for t in idx.tracks} >= set(expected)

    # descriptions without audio features: title, artist, album, artist genres, explicit, popularity
    t = idx.track(expected[8])
    raw = emu.tracks[expected[8]]
    assert t.tempo is None and t.energy is None and t.album == raw["album"]["name"]
    text = describe(t)
    genres = emu.artists[raw["artist_id"]]["genres"]
    assert t.playlist_genre == genres[0] and t.playlist_subgenre == genres[1]
    assert raw["name"] in text and raw["album"]["name"] in text and genres[0] in text
    assert ("explicit lyrics" if raw["explicit"] else "clean lyrics") in text
    assert t.popularity == raw["popularity"] and any(w in text for w in ("popular hit", "well-known", "deep cut"))

    # searchable by exact title (playlist tracks and search-only tracks alike)
    for tid in [expected[0], expected[30], expected[60], *expected[61:64]]:
        title = emu.tracks[tid]["name"]
        top = [m.track_id for m in idx.search(title, k=5)]
        assert tid in top, (title, [idx.track(x).track_name for x in top])

    # the same sources again: nothing changes (embeddings cached, live index kept)
    again = index_songs(catalogue=str(csv_with_collisions), spotify_playlists=[BIG], spotify_searches=[SEARCH],
                        index_dir=str(index_dir), cluster=False)
    assert again["action"] == "unchanged" and again["cached_batches"] == again["batches"]


def test_cli_index_spotify_playlist_subprocess(prefect_harness, spotify_env, tmp_path):
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, **spotify_env, "REELFLOW_PATHS__CACHE_DIR": str(TEST_CACHE), "HF_HUB_OFFLINE": "1",
           "PREFECT_API_URL": PREFECT_API_URL.value()}
    cmd = [sys.executable, "-m", "reelflow.cli", "songs", "index", "--spotify-playlist", SMALL,
           "--index-dir", str(tmp_path / "idx"), "--no-cluster", "--json"]
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout)
    assert summary["count"] == 7 and summary["sources"] == {f"spotify:playlist:{SMALL}": 7}

    from reelflow.processors.song_index import SongIndex

    idx = SongIndex.load(tmp_path / "idx")
    assert len(idx) == 7 and all(t.source == f"spotify:playlist:{SMALL}" for t in idx.tracks)
