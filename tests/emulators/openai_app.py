"""OpenAI Chat Completions emulator with Structured Outputs (``../shared/docs/api-contracts.md`` §3).

``POST /v1/chat/completions``: Bearer auth (401 ``invalid_api_key`` with a masked key),
``messages`` required, ``response_format`` ``json_schema`` **strict** checked like the real
server (every object needs ``additionalProperties: false`` and every key in ``required``,
else 400 ``param: response_format``), and an answer generated *from the schema* (so any strict
schema gets a valid object) seeded by the user's words. ``GET /v1/models``.
Fault kinds: ``refusal``, ``length`` (truncated JSON, ``finish_reason: "length"``),
``content_filter``; plus the generic ones. Responses carry ``x-request-id``.

Like a model that follows its instructions, a ``script_plan`` answer says the ``Brand:`` of the
user message in its last scene and ends on the ``Closing line``; words come from the ``Brief:``
line only. Scripted answers (``emu.script([obj_or_callable, ...])``) replace the next generated
answers in order (a callable gets the generated object and returns the answer), e.g. one that
breaks a length limit or omits the brand; ``stats()["messages"]`` keeps each request's messages.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators._common import FaultMiddleware, fault_of

MODELS = ["gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4o", "gpt-4.1-mini", "gpt-4.1"]
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_STOP = {"the", "and", "for", "with", "that", "this", "your", "you", "about", "from", "write", "into", "brief",
         "video", "seconds", "scenes", "scene", "script", "plan", "make"}


def _err(status: int, message: str, type_: str = "invalid_request_error", param: str | None = None,
         code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type_, "param": param, "code": code}},
                        status_code=status, headers={"x-request-id": f"req_{uuid.uuid4().hex[:24]}", **(headers or {})})


def strict_problem(schema: Any, ctx: tuple[str, ...] = ()) -> str | None:
    """The real server's complaint about a non-strict schema, or None when it is fine."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            if schema.get("additionalProperties") is not False:
                return f"In context={ctx}, 'additionalProperties' is required to be supplied and to be false."
            props = list(schema.get("properties", {}))
            missing = [p for p in props if p not in (schema.get("required") or [])]
            if missing:
                return (f"In context={ctx}, 'required' is required to be supplied and to be an array including every "
                        f"key in properties. Missing '{missing[0]}'.")
        for k, v in schema.items():
            problem = strict_problem(v, (*ctx, k) if k not in ("properties", "$defs") else ctx)
            if problem:
                return problem
    elif isinstance(schema, list):
        for v in schema:
            problem = strict_problem(v, ctx)
            if problem:
                return problem
    return None


class Generator:
    """Builds a JSON value satisfying a strict schema, using words from the prompt."""

    def __init__(self, root: dict[str, Any], words: list[str]) -> None:
        self.root = root
        self.words = words or ["product", "launch"]
        self.n = 0

    def word(self) -> str:
        self.n += 1
        return self.words[self.n % len(self.words)]

    def value(self, s: dict[str, Any], name: str = "", index: int = 0) -> Any:
        if "$ref" in s:
            ref = s["$ref"].split("/")[-1]
            return self.value(self.root.get("$defs", {}).get(ref, {}), name, index)
        if "anyOf" in s:
            return self.value(s["anyOf"][0], name, index)
        if "enum" in s:
            return s["enum"][index % len(s["enum"])]
        t = s.get("type")
        if isinstance(t, list):
            t = next((x for x in t if x != "null"), "null")
        if t == "object":
            return {k: self.value(v, k, index) for k, v in s.get("properties", {}).items()}
        if t == "array":
            lo = s.get("minItems", 1)
            hi = s.get("maxItems", lo + 2)
            n = max(lo, min(hi, lo + 1))
            return [self.value(s.get("items", {}), name, i) for i in range(n)]
        if t in ("number", "integer"):
            lo = s.get("minimum", s.get("exclusiveMinimum", 0))
            hi = s.get("maximum", 1000)
            v = min(hi, max(lo + (1 if "exclusiveMinimum" in s else 0), 5 if "duration" in name else index))
            return int(v) if t == "integer" else float(v)
        if t == "boolean":
            return False
        if t == "string":
            m = re.search(r"at most (\d+) characters", s.get("description", ""))
            limit = int(m.group(1)) if m else 120
            if "hashtag" in name or "tag" in name:
                text = self.word()
            elif "prompt" in name or "visual" in name:
                text = f"cinematic shot of {self.word()} and {self.word()}, soft light"
            else:
                text = f"{name.replace('_', ' ')}: {self.word()} {self.word()} {self.word()}"
            return text[:limit]
        return None


def _follow_instructions(plan: dict[str, Any], user: str) -> None:
    """Make a generated plan say the brand and end on the closing line, as instructed."""
    scenes = plan.get("scenes") or []
    if not scenes:
        return
    brand = re.search(r"^Brand:\s*(.+)$", user, re.M)
    close = re.search(r"^Closing line \(verbatim, last\):\s*['\"](.+)['\"]$", user, re.M)
    last = scenes[-1]
    text = str(last.get("narration", "")).rstrip(". ")
    if brand:
        text = f"{text}. {brand.group(1).strip()}"
    if close:
        text = f"{text}. {close.group(1).strip()}"
    last["narration"] = (text + ".")[-600:]
    for i, sc in enumerate(scenes):  # distinct lines, as a real model writes
        if not str(sc.get("narration", "")).strip():
            sc["narration"] = f"Line {i + 1}."


def create_app(api_key: str = "openai-test-key") -> FaultMiddleware:
    """The OpenAI emulator as an ASGI app (wrapped in the fault middleware)."""
    state: dict[str, Any] = {"api_key": api_key, "completions": 0, "auth_failures": 0, "retry_counts": [],
                             "schemas": [], "messages": []}
    scripted: list[Any] = []
    lock = threading.Lock()

    class Emu:
        def stats(self) -> dict[str, Any]:
            with lock:
                return {k: v for k, v in state.items() if k != "api_key"}

        def reset(self) -> None:
            with lock:
                state.update(completions=0, auth_failures=0, retry_counts=[], schemas=[], messages=[])
                scripted.clear()

        def script(self, answers: list[Any]) -> None:
            """Queue answers for the next completions (a dict, a raw string, or a callable)."""
            with lock:
                scripted.extend(answers)

        def configure(self, cfg: dict[str, Any]) -> None:
            with lock:
                state.update({k: v for k, v in cfg.items() if k == "api_key"})

    def auth_failed(request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        key = auth[7:] if auth.lower().startswith("bearer ") else ""
        if key == state["api_key"]:
            return None
        with lock:
            state["auth_failures"] += 1
        masked = (key[:3] + "*" * 4 + key[-4:]) if len(key) > 8 else "****"
        return _err(401, f"Incorrect API key provided: {masked}. You can find your API key at "
                         "https://platform.openai.com/account/api-keys.", code="invalid_api_key")

    async def completions(request: Request) -> Response:
        if (bad := auth_failed(request)) is not None:
            return bad
        try:
            body = await request.json()
        except ValueError:
            return _err(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return _err(400, "Request body must be an object.")
        model = body.get("model")
        if not model:
            return _err(400, "you must provide a model parameter", param="model")
        if model not in MODELS:
            return _err(404, f"The model '{model}' does not exist or you do not have access to it.",
                        code="model_not_found")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _err(400, "[] is too short - 'messages'", param="messages")
        rf = body.get("response_format") or {"type": "text"}
        schema = None
        if rf.get("type") == "json_schema":
            js = rf.get("json_schema") or {}
            if not js.get("name"):
                return _err(400, "Missing required parameter: 'response_format.json_schema.name'.",
                            param="response_format.json_schema.name", code="missing_required_parameter")
            schema = js.get("schema") or {}
            if js.get("strict") and (problem := strict_problem(schema)):
                return _err(400, f"Invalid schema for response_format '{js['name']}': {problem}",
                            param="response_format")
        with lock:
            state["completions"] += 1
            state["retry_counts"].append(request.headers.get("x-stainless-retry-count"))
            if schema is not None:
                state["schemas"].append(rf["json_schema"]["name"])
            state["messages"].append(messages)
            answer = scripted.pop(0) if scripted else None
        user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        brief_line = re.search(r"^Brief:\s*(.*)$", user, re.M)
        words = [w.lower() for w in _WORD.findall(brief_line.group(1) if brief_line else user)
                 if w.lower() not in _STOP][:40]
        content: str | None
        if schema is not None:
            obj = Generator(schema, words).value(schema)
            if rf["json_schema"]["name"] == "script_plan" and isinstance(obj, dict):
                _follow_instructions(obj, user)
            if callable(answer):
                obj = answer(obj)
            elif answer is not None:
                obj = answer
            content = obj if isinstance(obj, str) else json.dumps(obj)
        else:
            content = "Sure: " + " ".join(words[:20])
        finish, refusal = "stop", None
        fault = fault_of(request)
        if fault == "refusal":
            content, refusal = None, "I'm sorry, I can't help with that."
        elif fault == "length":
            content, finish = (content or "")[: max(1, len(content or "") // 2)], "length"
        elif fault == "content_filter":
            content, finish = None, "content_filter"
        prompt_tokens = max(1, len(json.dumps(messages)) // 4)
        completion_tokens = max(1, len(content or refusal or "") // 4)
        rid = f"req_{uuid.uuid4().hex[:24]}"
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": model if "-20" in model else f"{model}-2024-07-18", "system_fingerprint": "fp_emulator",
            "service_tier": "default",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": refusal,
                                                 "annotations": []}, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }, headers={"x-request-id": rid, "openai-processing-ms": "12", "openai-version": "2020-10-01",
                    "x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "499"})

    async def models(request: Request) -> Response:
        if (bad := auth_failed(request)) is not None:
            return bad
        return JSONResponse({"object": "list", "data": [{"id": m, "object": "model", "created": 1721172741,
                                                         "owned_by": "system"} for m in MODELS]})

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"]),
                            Route("/v1/models", models, methods=["GET"])])
    app.state.emu = Emu()

    def error_body(status: int, message: str) -> dict[str, Any]:
        if status == 429:
            return {"error": {"message": "Rate limit reached for gpt-4o-mini in organization org-emulator on requests "
                                         "per min (RPM): Limit 500, Used 500, Requested 1.", "type": "requests",
                              "param": None, "code": "rate_limit_exceeded"}}
        if status >= 500:
            return {"error": {"message": "The server had an error while processing your request. Sorry about that!",
                              "type": "server_error", "param": None, "code": None}}
        return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}

    return FaultMiddleware(app, error_body)
