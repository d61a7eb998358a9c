"""Thin async httpx client for Hume Octave TTS.

Why not the ``hume`` SDK: it is Fern-generated and churns (0.14 dropped a namespace), has
its own retry layer (2 retries) that would multiply ours, and adds nothing for three endpoints
(``../shared/docs/api-contracts.md`` §0, §1.9). This client validates the documented limits
before sending (text ≤ 5,000 chars, description ≤ 1,000, ≤ 5 generations), retries only
429/5xx/transport errors in the shared layer, and stays under 100 requests/minute with a
client-side token bucket.

Endpoints (base ``HUME_BASE_URL``, default ``https://api.hume.ai``; header ``X-Hume-Api-Key``):
``POST /v0/tts`` (JSON, base64 audio), ``POST /v0/tts/file`` (raw audio bytes),
``GET /v0/tts/voices`` (paged; the last page is followed by an empty ``voices_page``).

Errors: see :mod:`clients.errors` (401 → ``AuthError`` naming ``HUME_API_KEY``; 400/422 →
``RequestInvalid`` with the field from the pydantic ``detail[].loc`` or ``ErrorResponse``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from reelflow.clients._http import Clock, ErrorInfo, MetricsRecorder, RateLimiter, RetryPolicy, ServiceClient
from reelflow.clients.errors import MalformedResponse, NotFound, RequestInvalid
from reelflow.clients.hume.types import (
    MAX_DESCRIPTION_CHARS,
    MAX_GENERATIONS,
    MAX_TEXT_CHARS,
    REQUESTS_PER_MINUTE,
    AudioFormat,
    PagedVoices,
    PostedUtterance,
    Provider,
    ReturnTts,
    Voice,
    VoiceRef,
)

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Split ``text`` into chunks of ≤ ``limit`` characters at sentence boundaries.

    A single sentence longer than ``limit`` is split at the last space before the limit (or
    hard-cut when it has none). Whitespace between chunks is dropped.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    cur = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if cur:
                chunks.append(cur)
                cur = ""
            chunks.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if not cur:
            cur = sentence
        elif len(cur) + 1 + len(sentence) <= limit:
            cur = f"{cur} {sentence}"
        else:
            chunks.append(cur)
            cur = sentence
    if cur:
        chunks.append(cur)
    return [c for c in chunks if c]


def voice_ref(voice: str | None, provider: Provider = "HUME_AI") -> VoiceRef | None:
    """A voice reference from a UUID (by id) or a name (by name); None stays None."""
    if not voice:
        return None
    try:
        uuid.UUID(voice)
        return VoiceRef(id=voice, provider=provider)
    except ValueError:
        return VoiceRef(name=voice, provider=provider)


class HumeClient(ServiceClient):
    """Async client for Hume Octave TTS.

    Args:
        api_key: ``HUME_API_KEY`` (sent as ``X-Hume-Api-Key``; redacted everywhere).
        base_url: ``HUME_BASE_URL``.
        transport / policy / clock / metrics: see :class:`clients._http.ServiceClient`.
        limiter: shared rate limiter (default: 100 requests per 60 s).
    """

    service = "hume"

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.hume.ai",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        super().__init__(
            base_url, transport=transport, policy=policy, clock=clock,
            limiter=limiter or RateLimiter(REQUESTS_PER_MINUTE, 60.0, clock=clock),
            metrics=metrics, secrets=[api_key], headers={"X-Hume-Api-Key": api_key},
        )

    def parse_error(self, response: httpx.Response) -> ErrorInfo:
        """Hume error bodies: pydantic ``{"detail":[{"loc","msg"}]}`` (422), ``ErrorResponse``
        ``{"message","code","error"}`` (400) or an Apigee ``fault`` (401)."""
        try:
            body = response.json()
        except ValueError:
            return ErrorInfo(message=response.text[:300])
        if isinstance(body, dict):
            detail = body.get("detail")
            if isinstance(detail, list) and detail:
                d = detail[0]
                loc = [str(p) for p in d.get("loc", []) if p != "body"]
                return ErrorInfo(message=str(d.get("msg", "")), code=d.get("type"), field=".".join(loc) or None)
            if isinstance(detail, str):
                return ErrorInfo(message=detail)
            fault = body.get("fault")
            if isinstance(fault, dict):
                return ErrorInfo(message=str(fault.get("faultstring", "")),
                                 code=(fault.get("detail") or {}).get("errorcode"))
            msg = body.get("message") or body.get("error") or ""
            return ErrorInfo(message=str(msg), code=body.get("code"), field=body.get("field"))
        return ErrorInfo(message=str(body)[:300])

    @staticmethod
    def build_request(
        utterances: list[PostedUtterance],
        *,
        context_generation_id: str | None = None,
        audio_format: AudioFormat = "wav",
        num_generations: int = 1,
        version: str | None = None,
        timestamps: bool = False,
        split_utterances: bool = False,
    ) -> dict[str, Any]:
        """Validate limits and build a ``PostedTts`` body.

        Raises:
            RequestInvalid: a limit is exceeded or ``version="2"`` has no voice (checked here,
            before anything is sent or billed), naming the field.
        """
        if not utterances:
            raise RequestInvalid("hume: at least one utterance is required", field="utterances", service="hume")
        for i, u in enumerate(utterances):
            if not u.text.strip():
                raise RequestInvalid(f"hume: utterances[{i}].text is empty", field=f"utterances.{i}.text", service="hume")
            if len(u.text) > MAX_TEXT_CHARS:
                raise RequestInvalid(f"hume: utterances[{i}].text has {len(u.text)} characters (max {MAX_TEXT_CHARS}); "
                                     "split it with split_text()", field=f"utterances.{i}.text", service="hume")
            if u.description and len(u.description) > MAX_DESCRIPTION_CHARS:
                raise RequestInvalid(f"hume: utterances[{i}].description exceeds {MAX_DESCRIPTION_CHARS} characters",
                                     field=f"utterances.{i}.description", service="hume")
        if not 1 <= num_generations <= MAX_GENERATIONS:
            raise RequestInvalid(f"hume: num_generations must be 1..{MAX_GENERATIONS}", field="num_generations",
                                 service="hume")
        if version == "2" and utterances[0].voice is None:
            raise RequestInvalid('hume: version "2" requires a voice on the first utterance', field="version",
                                 service="hume")
        body: dict[str, Any] = {
            "utterances": [u.model_dump(exclude_none=True) for u in utterances],
            "format": {"type": audio_format},
            "num_generations": num_generations,
            "split_utterances": split_utterances,
        }
        if context_generation_id:
            body["context"] = {"generation_id": context_generation_id}
        if version:
            body["version"] = version
        if timestamps:
            body["include_timestamp_types"] = ["word"]
        return body

    async def tts(self, utterances: list[PostedUtterance], **options: Any) -> ReturnTts:
        """``POST /v0/tts``: synthesize and return generations with base64 audio.

        Args:
            utterances: what to say (each ≤ 5,000 chars).
            **options: see :meth:`build_request` (``context_generation_id``, ``audio_format``,
                ``num_generations``, ``version``, ``timestamps``, ``split_utterances``).

        Raises:
            RequestInvalid, AuthError, RateLimited, DeadlineExceeded, MalformedResponse.
        """
        body = self.build_request(utterances, **options)

        async def attempt(n: int) -> ReturnTts:
            data = self.json(await self.send("POST", "/v0/tts", json=body, attempt=n))
            try:
                return ReturnTts.model_validate(data)
            except ValueError as exc:
                raise MalformedResponse(f"hume: /v0/tts response does not match ReturnTts: {exc}"[:400],
                                        service="hume") from exc

        return await self.call("tts", attempt)

    async def tts_file(self, utterances: list[PostedUtterance], **options: Any) -> tuple[bytes, str]:
        """``POST /v0/tts/file``: the first generation's raw audio bytes and content type."""
        body = self.build_request(utterances, **options)

        async def attempt(n: int) -> tuple[bytes, str]:
            r = await self.send("POST", "/v0/tts/file", json=body, attempt=n)
            if not r.content:
                raise MalformedResponse("hume: /v0/tts/file returned an empty body", service="hume")
            return r.content, r.headers.get("content-type", "application/octet-stream")

        return await self.call("tts_file", attempt)

    async def voices_page(self, provider: Provider = "HUME_AI", page_number: int = 0, page_size: int = 10) -> PagedVoices:
        """``GET /v0/tts/voices`` for one page (``page_number`` 0-based, ``page_size`` 1–100)."""
        if not 1 <= page_size <= 100:
            raise RequestInvalid("hume: page_size must be 1..100", field="page_size", service="hume")
        data = await self.request_json("voices", "GET", "/v0/tts/voices",
                                       params={"provider": provider, "page_number": page_number,
                                               "page_size": page_size})
        try:
            return PagedVoices.model_validate(data)
        except ValueError as exc:
            raise MalformedResponse(f"hume: voices page does not match ReturnPagedVoices: {exc}"[:400],
                                    service="hume") from exc

    async def iter_voices(self, provider: Provider = "HUME_AI", page_size: int = 50) -> AsyncIterator[Voice]:
        """Every voice of ``provider``, page by page, until an empty page (or ``total_pages``)."""
        page = 0
        while True:
            p = await self.voices_page(provider, page, page_size)
            if not p.voices_page:
                return
            for v in p.voices_page:
                yield v
            page += 1
            if p.total_pages and page >= p.total_pages:
                return

    async def list_voices(self, providers: tuple[Provider, ...] = ("HUME_AI", "CUSTOM_VOICE"),
                          page_size: int = 50) -> list[Voice]:
        """All voices of the given providers (library first, then the account's own)."""
        out: list[Voice] = []
        for prov in providers:
            async for v in self.iter_voices(prov, page_size):
                out.append(v if v.provider else v.model_copy(update={"provider": prov}))
        return out

    async def find_voice(self, name_or_id: str) -> Voice:
        """Look a voice up by id or (case-insensitive) name in both providers.

        Raises:
            NotFound: no such voice (the message lists a few names).
        """
        seen: list[str] = []
        for prov in ("CUSTOM_VOICE", "HUME_AI"):
            async for v in self.iter_voices(prov):  # type: ignore[arg-type]
                if v.id == name_or_id or v.name.lower() == name_or_id.lower():
                    return v if v.provider else v.model_copy(update={"provider": prov})
                seen.append(v.name)
        raise NotFound(f"hume: no voice named {name_or_id!r} (e.g. {', '.join(seen[:5])})", service="hume",
                       hint="run `reelflow voices` to list the available voices")
