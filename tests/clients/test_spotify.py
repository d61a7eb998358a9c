"""Spotify client against the Spotify emulator (dev-mode surface)."""

from __future__ import annotations

import httpx
import pytest

from reelflow.clients.errors import AuthError, MalformedResponse, NotFound, PermissionDenied, RateLimited, RequestInvalid
from reelflow.clients.spotify.client import SpotifyClient
from tests.clients.conftest import add_fault, open_connections
from tests.emulators import spotify_app
from tests.emulators.spotify_app import _b62

CID, SECRET = "spotify-test-id", "spotify-test-secret"
API, TOKEN = "http://spotify.test/v1", "http://spotify.test/api/token"
BIG, SMALL = _b62("playlist:big"), _b62("playlist:small")


@pytest.fixture
def app():
    return spotify_app.create_app(CID, SECRET)


def client(app, clock, policy, secret=SECRET, metrics=None) -> SpotifyClient:
    return SpotifyClient(CID, secret, API, TOKEN, transport=httpx.ASGITransport(app), clock=clock, policy=policy,
                         metrics=metrics)


async def test_search_tracks_pages_of_ten_with_flat_rows(app, clock, policy):
    async with client(app, clock, policy) as c:
        rows = await c.search_tracks("midnight", limit=12)
        with pytest.raises(RequestInvalid):
            await c.search("   ")
    assert len(rows) == 12
    assert app.emu.stats()["search_requests"] == 2  # 10 + 2: the dev-mode cap is respected
    row = rows[0]
    assert {"track_id", "track_name", "track_artist", "explicit", "duration_ms", "album", "popularity"} <= set(row)
    assert "midnight" in row["track_name"].lower() and row["popularity"] is None  # dev mode: no popularity


async def test_token_cached_and_refreshed_on_expiry(app, clock, policy):
    async with client(app, clock, policy) as c:
        tid = (await c.search_tracks("city", 1))[0]["track_id"]
        await c.track(tid)
        assert app.emu.stats()["token_requests"] == 1
        app.emu.configure({"expire_tokens": True})  # server-side expiry → 401 → one refresh
        t = await c.track(tid)
        assert t["id"] == tid and app.emu.stats()["token_requests"] == 2
        clock.t += 3600  # client-side expiry: refreshed 60 s before expires_in
        await c.track(tid)
        assert app.emu.stats()["token_requests"] == 3 and c.token_requests == 3


async def test_playlist_items_paged_skipping_local_and_episodes(app, clock, policy):
    async with client(app, clock, policy) as c:
        rows = [r async for r in c.iter_playlist_tracks(BIG)]
        small = [r async for r in c.iter_playlist_tracks(SMALL)]
        meta = await c.playlist(BIG)
    assert len(rows) == 123 and meta["items"]["total"] == 123
    assert len({r["track_id"] for r in rows}) == 123 and len(small) == 7
    assert app.emu.stats()["playlist_item_pages"] == 3 + 1  # 125 entries / 50 + 1 page
    assert rows[0]["added_at"] == "2025-06-01T12:00:00Z"


async def test_artist_track_and_errors(app, clock, policy):
    async with client(app, clock, policy) as c:
        row = (await c.search_tracks("m83", 1))[0]
        artist = await c.artist(row["artist_ids"][0])
        assert artist["name"] == "M83" and isinstance(artist.get("genres", []), list)
        with pytest.raises(RequestInvalid) as ei:
            await c.track("not-base62!")
        assert "Invalid base62 id" in str(ei.value)
        with pytest.raises(NotFound):
            await c.track("A" * 22)
        with pytest.raises(PermissionDenied):
            await c.get("/audio-features/" + row["track_id"])
        with pytest.raises(NotFound):
            await c.get(f"/playlists/{BIG}/tracks")  # removed in Feb 2026 for dev mode


async def test_bad_credentials_name_both_variables(app, clock, policy, caplog):
    caplog.set_level("DEBUG")
    async with client(app, clock, policy, secret="wrong-secret-XYZ123") as c:
        with pytest.raises(AuthError) as ei:
            await c.search_tracks("city", 1)
    msg = str(ei.value)
    assert "SPOTIFY_CLIENT_ID" in msg and "SPOTIFY_CLIENT_SECRET" in msg and "Invalid client" in msg
    assert "wrong-secret-XYZ123" not in msg and "wrong-secret-XYZ123" not in caplog.text


async def test_429_small_retry_after_honoured_large_fails_fast(app, clock, policy, metrics):
    add_fault(app, route="GET /v1/search", status=429, headers={"Retry-After": "2"}, times=1)
    async with client(app, clock, policy, metrics=metrics) as c:
        await c.search_tracks("city", 1)
        assert clock.sleeps == [2.0]
        add_fault(app, route="GET /v1/search", status=429, headers={"Retry-After": "20000"}, times=None)
        with pytest.raises(RateLimited) as ei:
            await c.search_tracks("city", 1)
    assert ei.value.retry_after_s == 20000 and clock.sleeps == [2.0]
    assert "API rate limit exceeded" in str(ei.value)


async def test_paging_url_must_stay_on_api_host(app, clock, policy):
    async with client(app, clock, policy) as c:
        with pytest.raises(MalformedResponse):
            await c.get("http://evil.test/v1/playlists/x/items")


async def test_real_http_reset_and_5xx_retried_no_leaks(live_env, clock, policy, metrics):
    app = live_env["app"].state.services["spotify"]
    add_fault(app, route="GET /v1/playlists/*/items", kind="reset", times=1)
    add_fault(app, route="POST /api/token", status=503, times=1)
    async with SpotifyClient(CID, SECRET, live_env["SPOTIFY_API_BASE_URL"], live_env["SPOTIFY_TOKEN_URL"],
                             clock=clock, policy=policy, metrics=metrics) as c:
        rows = [r async for r in c.iter_playlist_tracks(SMALL)]
        assert open_connections(c.http) == 0
    assert len(rows) == 7
    assert any(r["error"] for r in metrics.requests) and any(r["status"] == 503 for r in metrics.requests)
