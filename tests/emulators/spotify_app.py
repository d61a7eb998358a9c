"""Spotify Web API emulator, dev-mode surface (``../shared/docs/api-contracts.md`` §4).

``POST /api/token`` (client credentials: Basic auth or body; 400 ``invalid_client``), and under
``/v1`` with ``Authorization: Bearer``: ``/search`` (tracks; ``limit`` ≤ 10 else 400),
``/tracks/{id}``, ``/artists/{id}``, ``/playlists/{id}``, ``/playlists/{id}/items`` (paged,
absolute ``next`` built from this server's base URL). Removed endpoints answer like the real
service (``/audio-features`` 403 without a message, ``/playlists/{id}/tracks`` and
``/recommendations`` 404). Errors are ``{"error":{"status","message"}}``. The catalogue is
deterministic (fixed seed). Tokens expire after ``token_ttl_s`` (config knob).
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import string
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators._common import FaultMiddleware, own_base

_B62 = string.digits + string.ascii_letters
_ADJ = ["Midnight", "Electric", "Golden", "Neon", "Quiet", "Summer", "Broken", "Velvet", "Wild", "Paper", "Silver",
        "Endless", "Lonely", "Bright", "Falling"]
_NOUN = ["City", "Hearts", "Roads", "Dreams", "Ocean", "Fire", "Echoes", "Lights", "Rain", "Skyline", "Runner",
         "Waves", "Garden", "Signal"]
_ARTISTS = ["M83", "Nova Lane", "The Paper Kites", "Aurora Fields", "Kid Static", "Luna Park", "Jade Rivers",
            "Sunset Drive", "Echo Bloom", "Marlow"]


def _b62(seed: str) -> str:
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    out = []
    for _ in range(22):
        h, r = divmod(h, 62)
        out.append(_B62[r])
    return "".join(out)


def _is_b62(s: str) -> bool:
    return len(s) == 22 and all(c in _B62 for c in s)


def _err(status: int, message: str | None) -> JSONResponse:
    err: dict[str, Any] = {"status": status}
    if message is not None:
        err["message"] = message
    return JSONResponse({"error": err}, status_code=status)


class SpotifyEmulator:
    """Catalogue, tokens and counters."""

    def __init__(self, client_id: str = "spotify-test-id", client_secret: str = "spotify-test-secret") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.lock = threading.Lock()
        rng = random.Random(42)
        self.artists = {_b62("artist:" + a): {"id": _b62("artist:" + a), "name": a,
                                              "genres": rng.sample(["indietronica", "synthpop", "dream pop", "indie rock",
                                                                    "edm", "lo-fi"], 2)} for a in _ARTISTS}
        aids = list(self.artists)
        self.tracks: dict[str, dict[str, Any]] = {}
        for i in range(150):
            name = f"{_ADJ[i % len(_ADJ)]} {_NOUN[(i * 7) % len(_NOUN)]}" + (f" {i // 60 + 1}" if i >= 60 else "")
            aid = aids[i % len(aids)]
            tid = _b62(f"track:{i}")
            album_id = _b62(f"album:{i // 5}")
            self.tracks[tid] = {
                "id": tid, "name": name, "duration_ms": 150000 + (i * 7919) % 120000, "explicit": i % 9 == 0,
                "track_number": i % 12 + 1, "disc_number": 1, "is_local": False, "preview_url": None,
                "popularity": 30 + (i * 13) % 70, "artist_id": aid,
                "external_ids": {"isrc": f"QZEM{i:08d}"},
                "album": {"type": "album", "album_type": "album", "id": album_id,
                          "name": f"{_ADJ[(i // 5) % len(_ADJ)]} Album", "release_date": f"20{10 + i % 15}-06-01",
                          "release_date_precision": "day", "total_tracks": 5, "images": []},
            }
        tids = list(self.tracks)
        self.playlists = {
            _b62("playlist:big"): {"name": "ReelFlow Big Mix", "tracks": tids[:123], "extra": True},
            _b62("playlist:small"): {"name": "Short List", "tracks": tids[10:17], "extra": False},
        }
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.token_ttl_s = 3600
            self.extended_mode = False
            self.tokens: dict[str, float] = {}
            self.counters = {"token_requests": 0, "api_requests": 0, "auth_failures": 0, "search_requests": 0,
                             "playlist_item_pages": 0}

    def configure(self, cfg: dict[str, Any]) -> None:
        with self.lock:
            for k in ("client_id", "client_secret", "token_ttl_s", "extended_mode"):
                if k in cfg:
                    setattr(self, k, cfg[k])
            if cfg.get("expire_tokens"):
                self.tokens = {t: 0.0 for t in self.tokens}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.counters)

    def track_obj(self, tid: str, base: str) -> dict[str, Any]:
        t = self.tracks[tid]
        a = self.artists[t["artist_id"]]
        art = {"type": "artist", "id": a["id"], "name": a["name"], "uri": f"spotify:artist:{a['id']}",
               "href": f"{base}/v1/artists/{a['id']}",
               "external_urls": {"spotify": f"https://open.spotify.com/artist/{a['id']}"}}
        obj = {k: v for k, v in t.items() if k not in ("artist_id", "popularity")}
        obj.update({"type": "track", "uri": f"spotify:track:{tid}", "href": f"{base}/v1/tracks/{tid}",
                    "external_urls": {"spotify": f"https://open.spotify.com/track/{tid}"}, "artists": [art],
                    "album": {**t["album"], "artists": [{"type": "artist", "id": a["id"], "name": a["name"]}]}})
        if self.extended_mode:
            obj["popularity"] = t["popularity"]
            obj["available_markets"] = ["US", "GB", "DE"]
        return obj


def create_app(client_id: str = "spotify-test-id", client_secret: str = "spotify-test-secret") -> FaultMiddleware:
    """The Spotify emulator as an ASGI app (wrapped in the fault middleware)."""
    emu = SpotifyEmulator(client_id, client_secret)

    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        cid, csec = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                cid, _, csec = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                cid = csec = None
        with emu.lock:
            emu.counters["token_requests"] += 1
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "grant_type parameter is missing"}, status_code=400)
        if cid != emu.client_id or csec != emu.client_secret:
            with emu.lock:
                emu.counters["auth_failures"] += 1
            return JSONResponse({"error": "invalid_client", "error_description": "Invalid client"}, status_code=400)
        tok = "BQ" + secrets.token_urlsafe(40)
        with emu.lock:
            emu.tokens[tok] = time.monotonic() + emu.token_ttl_s
        return JSONResponse({"access_token": tok, "token_type": "Bearer", "expires_in": emu.token_ttl_s})

    def check(request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        with emu.lock:
            emu.counters["api_requests"] += 1
            if not auth.lower().startswith("bearer "):
                emu.counters["auth_failures"] += 1
                return _err(400, "Only valid bearer authentication supported")
            exp = emu.tokens.get(auth[7:])
            if exp is None:
                emu.counters["auth_failures"] += 1
                return _err(401, "Invalid access token")
            if exp < time.monotonic():
                emu.counters["auth_failures"] += 1
                return _err(401, "The access token expired")
        return None

    def page(items: list[Any], href: str, params: dict[str, Any], offset: int, limit: int, total: int) -> dict[str, Any]:
        def url(off: int) -> str:
            return f"{href}?{urlencode({**params, 'offset': off, 'limit': limit})}"

        return {"href": url(offset), "items": items, "limit": limit, "offset": offset, "total": total,
                "next": url(offset + limit) if offset + limit < total else None,
                "previous": url(max(0, offset - limit)) if offset > 0 else None}

    def ints(request: Request, default_limit: int) -> tuple[int, int] | JSONResponse:
        try:
            return int(request.query_params.get("limit", default_limit)), int(request.query_params.get("offset", 0))
        except ValueError:
            return _err(400, "Invalid limit")

    async def search(request: Request) -> Response:
        if (bad := check(request)) is not None:
            return bad
        q, typ = request.query_params.get("q"), request.query_params.get("type")
        if not q:
            return _err(400, "No search query")
        if not typ:
            return _err(400, "Missing parameter type")
        lo = ints(request, 5)
        if isinstance(lo, JSONResponse):
            return lo
        limit, offset = lo
        if not 0 <= limit <= 10:
            return _err(400, "Invalid limit")
        if offset < 0 or offset + limit > 1000:
            return _err(400, "Invalid offset")
        with emu.lock:
            emu.counters["search_requests"] += 1
        base = own_base(request)
        terms = [t.split(":", 1)[-1].lower() for t in q.split() if t.split(":", 1)[-1]]
        hits = [tid for tid, t in emu.tracks.items()
                if all(term in f"{t['name']} {emu.artists[t['artist_id']]['name']} {t['album']['name']}".lower()
                       for term in terms)]
        out: dict[str, Any] = {}
        for kind in typ.split(","):
            if kind == "track":
                items = [emu.track_obj(t, base) for t in hits[offset:offset + limit]]
                out["tracks"] = page(items, f"{base}/v1/search", {"query": q, "type": typ}, offset, limit, len(hits))
            else:
                out[kind + "s"] = page([], f"{base}/v1/search", {"query": q, "type": typ}, offset, limit, 0)
        return JSONResponse(out)

    async def track(request: Request) -> Response:
        if (bad := check(request)) is not None:
            return bad
        tid = request.path_params["id"]
        if not _is_b62(tid):
            return _err(400, "Invalid base62 id")
        if tid not in emu.tracks:
            return _err(404, "Resource not found")
        return JSONResponse(emu.track_obj(tid, own_base(request)))

    async def artist(request: Request) -> Response:
        if (bad := check(request)) is not None:
            return bad
        aid = request.path_params["id"]
        if not _is_b62(aid):
            return _err(400, "Invalid base62 id")
        a = emu.artists.get(aid)
        if a is None:
            return _err(404, "Resource not found")
        base = own_base(request)
        obj = {"type": "artist", "id": aid, "name": a["name"], "uri": f"spotify:artist:{aid}",
               "href": f"{base}/v1/artists/{aid}", "external_urls": {"spotify": f"https://open.spotify.com/artist/{aid}"},
               "images": [], "genres": a["genres"]}
        if emu.extended_mode:
            obj.update({"followers": {"href": None, "total": 1234}, "popularity": 61})
        return JSONResponse(obj)

    async def playlist(request: Request) -> Response:
        if (bad := check(request)) is not None:
            return bad
        pid = request.path_params["id"]
        p = emu.playlists.get(pid)
        if p is None:
            return _err(404, "Resource not found")
        base = own_base(request)
        return JSONResponse({"id": pid, "name": p["name"], "type": "playlist", "public": True,
                             "href": f"{base}/v1/playlists/{pid}",
                             "items": {"href": f"{base}/v1/playlists/{pid}/items", "total": len(p["tracks"])}})

    async def playlist_items(request: Request) -> Response:
        if (bad := check(request)) is not None:
            return bad
        pid = request.path_params["id"]
        p = emu.playlists.get(pid)
        if p is None:
            return _err(404, "Resource not found")
        lo = ints(request, 20)
        if isinstance(lo, JSONResponse):
            return lo
        limit, offset = lo
        if not 1 <= limit <= 50 or offset < 0:
            return _err(400, "Invalid limit")
        with emu.lock:
            emu.counters["playlist_item_pages"] += 1
        base = own_base(request)
        entries: list[dict[str, Any]] = [
            {"added_at": "2025-06-01T12:00:00Z", "added_by": {"id": "emulator"}, "is_local": False,
             "track": emu.track_obj(t, base)} for t in p["tracks"]]
        if p["extra"]:  # a local file and a podcast episode, which ingest must skip
            entries.insert(3, {"added_at": "2025-06-02T12:00:00Z", "is_local": True,
                               "track": {"type": "track", "id": None, "name": "my_demo.mp3", "artists": []}})
            entries.insert(7, {"added_at": "2025-06-03T12:00:00Z", "is_local": False,
                               "track": {"type": "episode", "id": _b62("episode:1"), "name": "Podcast episode"}})
        return JSONResponse(page(entries[offset:offset + limit], f"{base}/v1/playlists/{pid}/items", {}, offset, limit,
                                 len(entries)))

    async def removed_403(request: Request) -> Response:
        if (bad := check(request)) is not None:
            return bad
        return _err(403, None)

    async def removed_404(request: Request) -> Response:
        if (bad := check(request)) is not None:
            return bad
        return _err(404, "Resource not found")

    app = Starlette(routes=[
        Route("/api/token", token, methods=["POST"]),
        Route("/v1/search", search, methods=["GET"]),
        Route("/v1/tracks/{id}", track, methods=["GET"]),
        Route("/v1/artists/{id}", artist, methods=["GET"]),
        Route("/v1/playlists/{id}", playlist, methods=["GET"]),
        Route("/v1/playlists/{id}/items", playlist_items, methods=["GET"]),
        Route("/v1/playlists/{id}/tracks", removed_404, methods=["GET"]),
        Route("/v1/audio-features/{id}", removed_403, methods=["GET"]),
        Route("/v1/audio-features", removed_403, methods=["GET"]),
        Route("/v1/recommendations", removed_404, methods=["GET"]),
    ])
    app.state.emu = emu

    def error_body(status: int, message: str) -> dict[str, Any]:
        return {"error": {"status": status, "message": "API rate limit exceeded" if status == 429 else message}}

    return FaultMiddleware(app, error_body)
