"""Thin async httpx client for the Spotify Web API (client-credentials flow).

Why not ``spotipy``: it is synchronous (``requests``) and its urllib3 ``Retry`` sleeps the full
``Retry-After`` (observed up to 20,000 s) inside the call (``../shared/docs/api-contracts.md``
§4.5). Here 429 is handled in the shared retry layer without blocking the event loop, and a
``Retry-After`` above the cap fails fast with ``RateLimited(retry_after_s=...)``.

Surface (dev-mode safe, §4.2): token (cached, refreshed 60 s before expiry and once on a 401),
``search`` (≤ 10 results a page, the 2026 dev-mode cap), ``tracks/{id}``, ``artists/{id}``,
``playlists/{id}`` and ``playlists/{id}/items`` (paged by the absolute ``next`` URL, which must
stay on the API host).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from reelflow.clients._http import Clock, ErrorInfo, MetricsRecorder, RetryPolicy, ServiceClient, register_secret
from reelflow.clients.errors import AuthError, MalformedResponse, RequestInvalid, auth_error

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

#: Dev-mode page cap of ``/search`` since February 2026.
SEARCH_PAGE_MAX = 10
PLAYLIST_PAGE_MAX = 50


def _obj(value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is an object (``None`` → empty); else :class:`MalformedResponse`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedResponse(f"spotify: {what} is a {type(value).__name__}, not an object", service="spotify")
    return value


def _list(value: Any, what: str) -> list[Any]:
    """``value`` when it is a list (``None`` → empty); else :class:`MalformedResponse`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedResponse(f"spotify: {what} is a {type(value).__name__}, not a list", service="spotify")
    return value


def flatten_track(track: dict[str, Any], added_at: str | None = None) -> dict[str, Any]:
    """A Spotify track object → ReelFlow's catalogue row.

    Returns:
        dict with ``track_id``, ``track_name``, ``track_artist`` (first artist), ``track_artists``
        (all, comma-joined), ``artist_ids``, ``album`` (name), ``album_id``, ``release_date``,
        ``duration_ms``, ``explicit``, ``popularity`` (None in dev mode), ``isrc``, ``uri``,
        ``added_at``.
    """
    if not isinstance(track, dict):
        raise MalformedResponse(f"spotify: a track is a {type(track).__name__}, not an object", service="spotify")
    artists = [a for a in (track.get("artists") or []) if isinstance(a, dict)] if isinstance(
        track.get("artists"), list) else []
    album = track.get("album") if isinstance(track.get("album"), dict) else {}
    ext = track.get("external_ids") if isinstance(track.get("external_ids"), dict) else {}
    return {
        "track_id": track.get("id"),
        "track_name": track.get("name", ""),
        "track_artist": str(artists[0].get("name") or "") if artists else "",
        "track_artists": ", ".join(str(a.get("name") or "") for a in artists),
        "artist_ids": [a.get("id") for a in artists],
        "album": album.get("name", ""),
        "album_id": album.get("id"),
        "release_date": album.get("release_date"),
        "duration_ms": track.get("duration_ms"),
        "explicit": track.get("explicit"),
        "popularity": track.get("popularity"),
        "isrc": ext.get("isrc"),
        "uri": track.get("uri"),
        "added_at": added_at,
    }


class SpotifyClient(ServiceClient):
    """Async Spotify Web API client (client credentials; no user scopes).

    Args:
        client_id / client_secret: ``SPOTIFY_CLIENT_ID`` / ``SPOTIFY_CLIENT_SECRET``.
        api_base_url: ``SPOTIFY_API_BASE_URL`` (default ``https://api.spotify.com/v1``).
        token_url: ``SPOTIFY_TOKEN_URL`` (default ``https://accounts.spotify.com/api/token``).
        transport / policy / clock / metrics: see :class:`clients._http.ServiceClient`.
    """

    service = "spotify"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        api_base_url: str = "https://api.spotify.com/v1",
        token_url: str = "https://accounts.spotify.com/api/token",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        super().__init__(api_base_url, transport=transport, policy=policy, clock=clock, metrics=metrics,
                         secrets=[client_secret, basic])
        self.token_url = token_url
        self._basic = basic
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.token_requests = 0

    def parse_error(self, response: httpx.Response) -> ErrorInfo:
        """``{"error":{"status","message"}}`` (API) or ``{"error","error_description"}`` (token)."""
        try:
            body = response.json()
        except ValueError:
            return ErrorInfo(message=response.text[:300])
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            return ErrorInfo(message=str(err.get("message") or f"HTTP {err.get('status', response.status_code)}"),
                             code=err.get("reason"))
        if isinstance(err, str):
            return ErrorInfo(message=str(body.get("error_description") or err), code=err)
        return ErrorInfo(message=str(body)[:300])

    # -- token ----------------------------------------------------------------------------------

    async def token(self, *, force: bool = False) -> str:
        """A valid access token (cached; refreshed 60 s before ``expires_in`` runs out).

        Raises:
            AuthError: the client id/secret were rejected (names both variables).
        """
        cached = self._cached(force)
        if cached:
            return cached
        return await self.call("token", lambda n: self._token_once(n, force))

    def _cached(self, force: bool) -> str | None:
        with self._lock:
            if not force and self._token and self.clock.now() < self._expires_at - 60:
                return self._token
        return None

    async def _token_once(self, attempt: int, force: bool = False) -> str:
        """One token request (no retries of its own: it runs inside the caller's attempt)."""
        cached = self._cached(force)
        if cached:
            return cached
        try:
            r = await self.send("POST", self.token_url, data={"grant_type": "client_credentials"},
                                headers={"Authorization": f"Basic {self._basic}"}, attempt=attempt)
        except RequestInvalid as exc:
            if exc.code in ("invalid_client", "unauthorized_client"):
                raise auth_error("spotify", exc.message, status_code=exc.status_code) from None
            raise
        data = self.json(r)
        tok = data.get("access_token") if isinstance(data, dict) else None
        if not tok:
            raise MalformedResponse("spotify: token response has no access_token", service="spotify")
        register_secret(tok)
        with self._lock:
            self.token_requests += 1
            self._token = tok
            self._expires_at = self.clock.now() + float(data.get("expires_in", 3600))
        return tok

    async def get(self, path_or_url: str, params: dict[str, Any] | None = None, *, op: str = "get") -> Any:
        """GET an API path (or an absolute ``next`` URL on the API host) with the bearer token.

        A 401 refreshes the token once (expired/revoked) before giving up.
        """
        if path_or_url.startswith("http"):
            base, target = urlsplit(self.base_url), urlsplit(path_or_url)
            if (target.scheme, target.netloc) != (base.scheme, base.netloc):
                raise MalformedResponse(f"spotify: paging URL leaves the API host ({target.netloc})",
                                        service="spotify")
        refreshed = False

        async def attempt(n: int) -> Any:
            nonlocal refreshed
            tok = await self._token_once(n)
            try:
                r = await self.send("GET", path_or_url, params=params, headers={"Authorization": f"Bearer {tok}"},
                                    attempt=n)
            except AuthError:
                if refreshed:
                    raise
                refreshed = True
                tok = await self._token_once(n, force=True)
                r = await self.send("GET", path_or_url, params=params, headers={"Authorization": f"Bearer {tok}"},
                                    attempt=n)
            data = self.json(r)
            if not isinstance(data, dict):  # every endpoint used here answers an object
                raise MalformedResponse(f"spotify: {op} answered a {type(data).__name__}, not an object",
                                        service="spotify")
            return data

        return await self.call(op, attempt)

    # -- endpoints ------------------------------------------------------------------------------

    async def search(self, query: str, *, type: str = "track", limit: int = SEARCH_PAGE_MAX, offset: int = 0,
                     market: str | None = None) -> dict[str, Any]:
        """``GET /search``: one page (``limit`` ≤ 10 in dev mode)."""
        if not query.strip():
            raise RequestInvalid("spotify: search query is empty", field="q", service="spotify")
        params: dict[str, Any] = {"q": query, "type": type, "limit": min(limit, SEARCH_PAGE_MAX), "offset": offset}
        if market:
            params["market"] = market
        return await self.get("/search", params, op="search")

    async def search_tracks(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """Up to ``limit`` tracks for ``query`` as flattened rows (:func:`flatten_track`),
        fetched in pages of ≤ 10."""
        out: list[dict[str, Any]] = []
        offset = 0
        while len(out) < limit:
            page = _obj((await self.search(query, limit=min(SEARCH_PAGE_MAX, limit - len(out)),
                                           offset=offset)).get("tracks"), "search tracks")
            items = _list(page.get("items"), "search items")
            out.extend(flatten_track(t) for t in items if t)
            offset += len(items)
            if not items or not page.get("next") or offset >= 1000:
                break
        return out[:limit]

    async def track(self, track_id: str) -> dict[str, Any]:
        """``GET /tracks/{id}`` (raw track object)."""
        return await self.get(f"/tracks/{track_id}", op="track")

    async def artist(self, artist_id: str) -> dict[str, Any]:
        """``GET /artists/{id}`` (``genres`` may be empty or absent in dev mode)."""
        return await self.get(f"/artists/{artist_id}", op="artist")

    async def playlist(self, playlist_id: str) -> dict[str, Any]:
        """``GET /playlists/{id}``."""
        return await self.get(f"/playlists/{playlist_id}", op="playlist")

    async def iter_playlist_items(self, playlist_id: str, page_size: int = PLAYLIST_PAGE_MAX) -> AsyncIterator[dict[str, Any]]:
        """Raw playlist item objects of ``/playlists/{id}/items``, following ``next``."""
        page: Any = await self.get(f"/playlists/{playlist_id}/items",
                                   {"limit": min(page_size, PLAYLIST_PAGE_MAX), "offset": 0}, op="playlist_items")
        while True:
            for item in _list(page.get("items"), "playlist items"):
                if not isinstance(item, dict):
                    raise MalformedResponse("spotify: a playlist item is not an object", service="spotify")
                yield item
            nxt = page.get("next")
            if not nxt:
                return
            page = await self.get(nxt, op="playlist_items")

    async def iter_playlist_tracks(self, playlist_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every track of a playlist as a flattened row (local files and episodes skipped)."""
        async for item in self.iter_playlist_items(playlist_id):
            track = item.get("track") or item.get("item")
            if not track or item.get("is_local"):
                continue
            if not isinstance(track, dict):
                raise MalformedResponse("spotify: a playlist item's track is not an object", service="spotify")
            if track.get("type", "track") != "track" or not track.get("id"):
                continue
            yield flatten_track(track, item.get("added_at"))


def client_from_settings(settings: Settings, **kw: Any) -> SpotifyClient:
    """Build a :class:`SpotifyClient` from :class:`core.settings.Settings`.

    Raises:
        core.errors.ConfigurationError: ``SPOTIFY_CLIENT_ID``/``SPOTIFY_CLIENT_SECRET`` unset.
    """
    from reelflow.core.errors import ConfigurationError

    if not settings.spotify.client_id or settings.spotify.client_secret is None:
        raise ConfigurationError("Spotify is not configured: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET",
                                 hint="create an app at developer.spotify.com and export both variables")
    return SpotifyClient(settings.spotify.client_id, settings.spotify.client_secret.get_secret_value(),
                         settings.spotify.api_base_url, settings.spotify.token_url, **kw)


async def iter_playlist_tracks(playlist_id: str, settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """Module-level convenience: every track of ``playlist_id`` with a client built from ``settings``."""
    async with client_from_settings(settings) as client:
        async for row in client.iter_playlist_tracks(playlist_id):
            yield row


async def search_tracks(query: str, limit: int, settings: Settings) -> list[dict[str, Any]]:
    """Module-level convenience: :meth:`SpotifyClient.search_tracks` with a client built from ``settings``."""
    async with client_from_settings(settings) as client:
        return await client.search_tracks(query, limit)


__all__ = ["SpotifyClient", "client_from_settings", "flatten_track", "iter_playlist_tracks", "search_tracks"]
