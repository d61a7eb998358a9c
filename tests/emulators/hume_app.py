"""Hume Octave TTS emulator (``../shared/docs/api-contracts.md`` §1).

Routes: ``POST /v0/tts`` (JSON, base64 audio), ``POST /v0/tts/file`` (raw audio),
``GET /v0/tts/voices`` (paged; empty ``voices_page`` past the end). Auth ``X-Hume-Api-Key``
(or ``api_key``/``access_token`` query). 422 pydantic ``detail`` for schema errors, 400
``{"message","code"}`` for semantic ones, 401 Apigee ``fault`` body. Audio is real: a 48 kHz
mono voiced signal framed by silence, about 2.5 words per second, WAV/MP3/PCM.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators._common import FaultMiddleware, mp3_bytes, speech_like_pcm, wav_bytes

SR = 48000
_NAMES = ["Ava Song", "Male English Actor", "Kora", "Dacher", "Ito", "Whimsy", "Stella", "Sunny", "Finn",
          "Colton Rivers", "Imani Carter", "Sebastian Lockwood", "Vince Douglas", "Terrence Bentley",
          "Nature Documentary Narrator", "Campfire Narrator", "Literature Professor", "Spanish Instructor",
          "Lady Elizabeth", "Booming American Narrator", "Charming Cowgirl", "Friendly Troll",
          "Soft Male Conversationalist", "Alice Bennett"]
_CUSTOM = ["ReelFlow Brand Voice", "Promo Announcer", "Calm Explainer"]


def _vid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "hume-voice:" + name))


def _err422(loc: list[Any], msg: str, typ: str = "missing") -> JSONResponse:
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": typ}]}, status_code=422)


def _err400(message: str, code: str = "bad_request") -> JSONResponse:
    return JSONResponse({"code": code, "error": "Bad Request", "message": message}, status_code=400)


class HumeEmulator:
    """State of the Hume emulator (voices, generations, counters)."""

    def __init__(self, api_key: str = "hume-test-key") -> None:
        self.api_key = api_key
        self.voices = {"HUME_AI": [{"id": _vid(n), "name": n, "provider": "HUME_AI",
                                    "compatible_octave_models": ["1", "2"] if i % 3 else ["1"]}
                                   for i, n in enumerate(_NAMES)],
                       "CUSTOM_VOICE": [{"id": _vid(n), "name": n, "provider": "CUSTOM_VOICE",
                                         "compatible_octave_models": ["2"]} for n in _CUSTOM]}
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.generations: dict[str, dict[str, Any]] = {}
            self.counters = {"tts_requests": 0, "characters": 0, "generations": 0, "voices_requests": 0,
                             "auth_failures": 0}
            self.contexts_used: list[str] = []
            self.requests: list[dict[str, Any]] = []

    def configure(self, cfg: dict[str, Any]) -> None:
        if "api_key" in cfg:
            self.api_key = cfg["api_key"]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {**self.counters, "contexts_used": list(self.contexts_used), "requests": list(self.requests)}

    def authorized(self, request: Request) -> bool:
        key = (request.headers.get("x-hume-api-key") or request.query_params.get("api_key")
               or request.query_params.get("access_token"))
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = key or auth[7:]
        ok = key == self.api_key
        if not ok:
            with self.lock:
                self.counters["auth_failures"] += 1
        return ok

    def find_voice(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        provider = ref.get("provider") or "CUSTOM_VOICE"
        for v in self.voices.get(provider, []):
            if ref.get("id") == v["id"] or (ref.get("name") and ref.get("name") == v["name"]):
                return v
        return None


def _unauthorized() -> JSONResponse:
    return JSONResponse({"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}},
                        status_code=401)


def _validate(emu: HumeEmulator, body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _err422(["body"], "Input should be a valid dictionary", "dict_type")
    utts = body.get("utterances")
    if utts is None:
        return _err422(["body", "utterances"], "Field required")
    if not isinstance(utts, list) or not utts:
        return _err422(["body", "utterances"], "Input should be a non-empty list", "list_type")
    for i, u in enumerate(utts):
        if not isinstance(u, dict) or "text" not in u:
            return _err422(["body", "utterances", i, "text"], "Field required")
        if not isinstance(u["text"], str):
            return _err422(["body", "utterances", i, "text"], "Input should be a valid string", "string_type")
        if "speed" in u and not isinstance(u["speed"], int | float):
            return _err422(["body", "utterances", i, "speed"], "Input should be a valid number", "float_type")
    fmt = (body.get("format") or {"type": "mp3"}).get("type")
    if fmt not in ("mp3", "wav", "pcm"):
        return _err422(["body", "format", "type"], "Input should be 'mp3', 'wav' or 'pcm'", "literal_error")
    ng = body.get("num_generations", 1)
    if not isinstance(ng, int) or not 1 <= ng <= 5:
        return _err422(["body", "num_generations"], "Input should be less than or equal to 5", "less_than_equal")
    version = body.get("version")
    if version is not None and version not in ("1", "2"):
        return _err422(["body", "version"], "Input should be '1' or '2'", "literal_error")
    for i, u in enumerate(utts):
        if len(u["text"]) > 5000:
            return _err400(f"utterances[{i}].text exceeds the 5000 character limit", "text_too_long")
        if len(u.get("description") or "") > 1000:
            return _err400(f"utterances[{i}].description exceeds the 1000 character limit", "description_too_long")
        if u.get("voice") and emu.find_voice(u["voice"]) is None:
            return _err400(f"Voice not found: {u['voice'].get('name') or u['voice'].get('id')}", "voice_not_found")
    if version == "2" and not utts[0].get("voice"):
        return _err400('Octave 2 (version "2") requires a voice', "voice_required")
    ctx = body.get("context") or {}
    if ctx.get("generation_id") and ctx["generation_id"] not in emu.generations:
        return _err400(f"Generation not found: {ctx['generation_id']}", "generation_not_found")
    return None


def _synthesize(emu: HumeEmulator, body: dict[str, Any]) -> dict[str, Any]:
    utts = body["utterances"]
    fmt = (body.get("format") or {"type": "mp3"})["type"]
    want_words = body.get("version") == "2" and "word" in (body.get("include_timestamp_types") or [])
    gens = []
    for g in range(body.get("num_generations", 1)):
        gid = str(uuid.uuid4())
        pcms, snippets = [], []
        for i, u in enumerate(utts):
            words = u["text"].split()
            speed = float(u.get("speed") or 1.0)
            lead, tail = 0.12, 0.2 + float(u.get("trailing_silence") or 0)
            voiced = max(0.5, len(words) / 2.5 / speed)
            pcm = speech_like_pcm(lead + voiced + tail, SR, lead, tail, seed=len(u["text"]) + g)
            pcms.append(pcm)
            stamps = []
            if want_words and words:
                step = voiced / len(words)
                stamps = [{"type": "word", "text": w, "time": {"begin": round((lead + k * step) * 1000),
                                                                "end": round((lead + (k + 1) * step) * 1000)}}
                          for k, w in enumerate(words)]
            snippets.append([{"id": str(uuid.uuid4()), "generation_id": gid, "utterance_index": i, "text": u["text"],
                              "transcribed_text": u["text"], "audio": base64.b64encode(_encode(pcm, fmt)).decode(),
                              "timestamps": stamps}])
        import numpy as np

        full = np.concatenate(pcms)
        audio = _encode(full, fmt)
        emu.generations[gid] = {"utterances": len(utts)}
        gens.append({"generation_id": gid, "duration": round(len(full) / SR, 3), "file_size": len(audio),
                     "encoding": {"format": fmt, "sample_rate": SR}, "audio": base64.b64encode(audio).decode(),
                     "snippets": snippets, "_raw": audio})
    return {"request_id": str(uuid.uuid4()), "generations": gens}


def _encode(pcm: Any, fmt: str) -> bytes:
    if fmt == "pcm":
        return pcm.tobytes()
    wav = wav_bytes(pcm, SR)
    return wav if fmt == "wav" else mp3_bytes(wav)


_CTYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "application/octet-stream"}


def create_app(api_key: str = "hume-test-key") -> FaultMiddleware:
    """The Hume emulator as an ASGI app (wrapped in the fault middleware)."""
    emu = HumeEmulator(api_key)

    async def tts(request: Request) -> Response:
        if not emu.authorized(request):
            return _unauthorized()
        try:
            body = await request.json()
        except ValueError:
            return _err422(["body"], "JSON decode error", "json_invalid")
        bad = _validate(emu, body)
        if bad is not None:
            return bad
        import anyio

        result = await anyio.to_thread.run_sync(_synthesize, emu, body)
        with emu.lock:
            emu.counters["tts_requests"] += 1
            emu.counters["characters"] += sum(len(u["text"]) for u in body["utterances"])
            emu.counters["generations"] += len(result["generations"])
            if (body.get("context") or {}).get("generation_id"):
                emu.contexts_used.append(body["context"]["generation_id"])
            emu.requests.append({k: v for k, v in body.items() if k != "utterances"} |
                                {"utterances": [{k: v for k, v in u.items()} for u in body["utterances"]],
                                 "t": time.time(),
                                 "generation_ids": [g["generation_id"] for g in result["generations"]]})
        raw = result["generations"][0].pop("_raw")
        for g in result["generations"][1:]:
            g.pop("_raw")
        if request.url.path.endswith("/file"):
            fmt = (body.get("format") or {"type": "mp3"})["type"]
            return Response(raw, media_type=_CTYPES[fmt])
        return JSONResponse(result)

    async def voices(request: Request) -> Response:
        if not emu.authorized(request):
            return _unauthorized()
        q = request.query_params
        provider = q.get("provider")
        if provider is None:
            return _err422(["query", "provider"], "Field required")
        if provider not in emu.voices:
            return _err422(["query", "provider"], "Input should be 'HUME_AI' or 'CUSTOM_VOICE'", "enum")
        try:
            page, size = int(q.get("page_number", 0)), int(q.get("page_size", 10))
        except ValueError:
            return _err422(["query", "page_number"], "Input should be a valid integer", "int_parsing")
        if not 1 <= size <= 100 or page < 0:
            return _err400("page_size must be between 1 and 100 and page_number >= 0", "invalid_page")
        with emu.lock:
            emu.counters["voices_requests"] += 1
        allv = emu.voices[provider]
        total_pages = (len(allv) + size - 1) // size
        return JSONResponse({"page_number": page, "page_size": size, "total_pages": total_pages,
                             "voices_page": allv[page * size:(page + 1) * size]})

    app = Starlette(routes=[
        Route("/v0/tts", tts, methods=["POST"]),
        Route("/v0/tts/file", tts, methods=["POST"]),
        Route("/v0/tts/voices", voices, methods=["GET"]),
    ])
    app.state.emu = emu

    def error_body(status: int, message: str) -> dict[str, Any]:
        if status == 401:
            return {"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}}
        return {"code": str(status), "error": message, "message": message}

    return FaultMiddleware(app, error_body)
