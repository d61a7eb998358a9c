"""Property tests of every service client's response parsing, at the wire (``httpx.MockTransport``):
any status and any body (random JSON of any shape, truncated JSON, binary) ends in either a
parsed result or one of the typed ``clients.errors.ServiceError`` classes — never a raw
``TypeError``/``KeyError``/``ValidationError`` — and secrets never appear in the error."""

from __future__ import annotations

import json

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from reelflow.clients._http import FakeClock, RetryPolicy
from reelflow.clients.errors import ServiceError
from tests.fuzz.conftest import n

KEY = "fuzz-secret-key-9b2e71"
POLICY = RetryPolicy(max_attempts=1, deadline_s=30, backoff_initial_s=0.1, backoff_max_s=0.1, retry_after_cap_s=1,
                     attempt_timeout_s=5)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=20), st.just(KEY)),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["data", "errors", "taskUUID", "status", "videoURL", "cost", "generations", "audio",
                         "snippets", "tracks", "items", "next", "artists", "album", "name", "id", "message", "code",
                         "detail", "error", "access_token", "expires_in", "page_number", "voices_page", "x"]),
        kids, max_size=6),
    max_leaves=25)
bodies = st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64),
                   json_values.map(lambda v: json.dumps(v).encode()[:-1]))
statuses = st.sampled_from([200, 200, 200, 201, 204, 400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503])


def transport(status: int, body: bytes, token_ok: bool = True) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if token_ok and request.url.path.endswith("/api/token"):
            return httpx.Response(200, json={"access_token": "tok-123456", "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})
    return httpx.MockTransport(handler)


async def _typed(coro) -> None:
    try:
        await coro
    except ServiceError as exc:
        assert KEY not in str(exc)


@settings(max_examples=n(80))
@given(status=statuses, body=bodies)
async def test_runware_submit_and_poll_parse_anything(status, body):
    from reelflow.clients.runware.client import RunwareClient, new_task_uuid
    from reelflow.clients.runware.types import VideoInference

    async with RunwareClient(KEY, "http://runware.test/v1", transport=transport(status, body), clock=FakeClock(),
                             policy=POLICY) as client:
        task = VideoInference(taskUUID=new_task_uuid(), model="klingai:5@3", positivePrompt="a shoe", duration=5,
                              width=1080, height=1920, fps=24)
        await _typed(client.submit(task))
        await _typed(client.get_response(task.taskUUID))


@settings(max_examples=n(60))
@given(status=statuses, body=bodies)
async def test_hume_tts_and_voices_parse_anything(status, body):
    from reelflow.clients.hume.client import HumeClient
    from reelflow.clients.hume.types import PostedUtterance

    async with HumeClient(KEY, "http://hume.test", transport=transport(status, body), clock=FakeClock(),
                          policy=POLICY) as client:
        await _typed(client.tts([PostedUtterance(text="Fast, light, ready for wet rock.")]))
        await _typed(client.voices_page())


@settings(max_examples=n(60))
@given(status=statuses, body=bodies, token_ok=st.booleans())
async def test_spotify_search_and_playlist_parse_anything(status, body, token_ok):
    from reelflow.clients.spotify.client import SpotifyClient

    async with SpotifyClient("cid", KEY, "http://spotify.test/v1", "http://spotify.test/api/token",
                             transport=transport(status, body, token_ok), clock=FakeClock(), policy=POLICY) as client:
        await _typed(client.search_tracks("sunny latin party", limit=10))

        async def playlist():
            return [row async for row in client.iter_playlist_tracks("37i9dQZF1DXcBWIGoYBM5M")]

        await _typed(playlist())
