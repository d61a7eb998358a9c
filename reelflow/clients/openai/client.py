"""OpenAI Chat Completions with Structured Outputs, through the pinned ``openai`` SDK.

Why the SDK (unlike the other three services): it *is* the protocol reference, and with
``OPENAI_BASE_URL`` the same code talks to vLLM, llama.cpp server or Ollama
(``../shared/docs/api-contracts.md`` §3.6). ``openai`` 3.x runs on ``httpx2`` (pydantic's httpx
fork), so the client takes an ``httpx2`` transport (tests: ``httpx2.ASGITransport(emulator)``)
or a loopback ``base_url``. The SDK's own retries are off (``max_retries=0``): the shared
tenacity layer in :mod:`clients._http` is the only retry layer, with the same backoff,
``Retry-After`` cap and deadline as the other services. Chat Completions is targeted (not
Responses) for compatibility with local servers.

Errors: SDK exceptions are translated to :mod:`clients.errors` (401 → ``AuthError`` naming
``OPENAI_API_KEY``; 429 ``insufficient_quota`` → ``OutOfCredits``, never retried; refusal and
``content_filter`` → ``ModelRefused``; ``finish_reason: "length"`` → ``OutputTruncated``;
unparsable content → ``InvalidOutput``, not retried: a deterministic failure is repaired or
re-asked by the caller with the problem stated, never re-sent unchanged).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import openai

from reelflow.clients._http import (
    Clock,
    ErrorInfo,
    MetricsRecorder,
    RetryPolicy,
    ServiceClient,
    error_for_status,
    parse_retry_after,
    redact,
    request_hooks,
)
from reelflow.clients.errors import (
    InvalidOutput,
    MalformedResponse,
    ModelRefused,
    OutOfCredits,
    OutputTruncated,
    ServiceError,
    TransportFailure,
)

_DROP_KEYS = {"default", "title", "examples"}


def strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Turn a pydantic JSON schema into one OpenAI strict mode accepts.

    Every object gets ``additionalProperties: false`` and lists *all* its properties in
    ``required``; ``default``/``title`` are dropped; string ``minLength``/``maxLength`` (not
    supported by strict mode) move into the description as text so the model still sees them;
    ``$defs``/``$ref``, ``enum``, numeric bounds and ``minItems``/``maxItems`` are kept. The
    caller re-validates with the pydantic model, which enforces the dropped bounds.

    Source: OpenAI "Structured Outputs" guide → supported schemas.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for k, v in node.items():
            if k in ("properties", "$defs") and isinstance(v, dict):
                out[k] = {name: walk(sub) for name, sub in v.items()}  # names, not keywords
            elif k not in _DROP_KEYS:
                out[k] = walk(v)
        if out.get("type") == "object" or "properties" in out:
            props = out.get("properties", {})
            out["additionalProperties"] = False
            out["required"] = list(props)
        notes = []
        if "minLength" in out:
            n = out.pop("minLength")
            if n > 1:
                notes.append(f"at least {n} characters")
        if "maxLength" in out:
            notes.append(f"at most {out.pop('maxLength')} characters")
        if notes:
            desc = out.get("description", "")
            out["description"] = (desc + " " if desc else "") + f"({', '.join(notes)})"
        return out

    return walk(copy.deepcopy(schema))


@dataclass
class ChatResult:
    """A structured completion: the parsed JSON object plus usage and ids."""

    data: dict[str, Any]
    model: str
    request_id: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    parsed: Any = None


class OpenAIClient(ServiceClient):
    """Structured-output chat completions over the ``openai`` SDK (``max_retries=0``).

    Args:
        api_key: ``OPENAI_API_KEY``.
        base_url: ``OPENAI_BASE_URL`` (None = ``https://api.openai.com/v1``).
        model: default model name.
        transport: an ``httpx2.AsyncBaseTransport`` (tests: ``httpx2.ASGITransport``).
        policy / clock / metrics: see :class:`clients._http.ServiceClient`.
    """

    service = "openai"

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        model: str = "gpt-4o-mini",
        transport: httpx2.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        base = (base_url or "https://api.openai.com/v1").rstrip("/")
        super().__init__(base, policy=policy, clock=clock, metrics=metrics, secrets=[api_key])
        self.model = model
        self._http2 = httpx2.AsyncClient(
            transport=transport, trust_env=False,
            timeout=httpx2.Timeout(self.policy.attempt_timeout_s, connect=10.0),
            event_hooks=request_hooks("openai", self.metrics),
        )
        self.sdk = openai.AsyncOpenAI(api_key=api_key, base_url=base, max_retries=0, http_client=self._http2,
                                      timeout=httpx2.Timeout(self.policy.attempt_timeout_s, connect=10.0))

    async def aclose(self) -> None:
        """Close the SDK and its connection pools."""
        await self.sdk.close()
        await self._http2.aclose()
        await super().aclose()

    def _translate(self, exc: Exception) -> ServiceError:
        if isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            info = ErrorInfo(message=str(body.get("message") or exc.message), code=body.get("code"),
                             field=body.get("param"))
            headers = exc.response.headers
            if exc.status_code == 429 and (body.get("code") == "insufficient_quota"
                                           or body.get("type") == "insufficient_quota"
                                           or headers.get("x-should-retry") == "false"):
                return OutOfCredits(f"openai: out of credits: {redact(info.message)}", service="openai",
                                    status_code=429, request_id=exc.request_id, code=info.code,
                                    hint="check the OpenAI plan and billing details")
            return error_for_status("openai", exc.status_code, info, request_id=exc.request_id,
                                    retry_after_s=parse_retry_after(headers))
        if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
            return TransportFailure(f"openai: {type(exc).__name__}: {redact(exc)}", service="openai")
        if isinstance(exc, openai.APIResponseValidationError):
            return MalformedResponse(f"openai: response did not validate: {redact(exc)}", service="openai")
        return MalformedResponse(f"openai: unexpected {type(exc).__name__}: {redact(exc)}", service="openai")

    async def check_access(self) -> None:
        """Check the key with ``GET /models`` (free; also served by vLLM, llama.cpp and Ollama).

        Raises:
            AuthError (names OPENAI_API_KEY), PermissionDenied, DeadlineExceeded after retries.
        """

        async def attempt(n: int) -> None:
            try:
                await self.sdk.models.list(extra_headers={"x-reelflow-attempt": str(n)})
            except openai.OpenAIError as exc:
                raise self._translate(exc) from None

        await self.call("models", attempt)

    async def structured(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        name: str = "output",
        model: str | None = None,
        temperature: float | None = 0.7,
        max_tokens: int | None = None,
        validate: Callable[[dict[str, Any]], Any] | None = None,
    ) -> ChatResult:
        """``POST /chat/completions`` with ``response_format`` strict ``json_schema``.

        Args:
            messages: chat messages (``role``/``content``).
            schema: a JSON schema already in strict form (see :func:`strict_json_schema`).
            name: the schema name sent to the API.
            model / temperature / max_tokens: sampling options.
            validate: optional check of the decoded object (e.g. ``ScriptPlan.model_validate``);
                a ``ValueError`` from it becomes ``InvalidOutput``, which is *not* retried (the same
                request would get the same kind of answer; the caller re-asks with the problem
                stated or falls back). Its return value is stored in ``ChatResult.parsed``.

        Returns:
            :class:`ChatResult` with the decoded JSON object.

        Raises:
            ModelRefused, OutputTruncated, InvalidOutput, AuthError, OutOfCredits, RequestInvalid,
            RateLimited/ServerError/TransportFailure (after retries), DeadlineExceeded.
        """
        kwargs: dict[str, Any] = {
            "model": model or self.model,
            "messages": messages,
            "response_format": {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}},
        }
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens

        async def attempt(n: int) -> ChatResult:
            try:
                resp = await self.sdk.chat.completions.create(**kwargs, extra_headers={"x-reelflow-attempt": str(n)})
            except openai.OpenAIError as exc:
                raise self._translate(exc) from None
            except ValueError as exc:  # a 2xx body that is not JSON (the SDK lets JSONDecodeError through)
                raise MalformedResponse(f"openai: response body is not JSON: {redact(exc)}", service="openai") from None
            if isinstance(resp, str) or not getattr(resp, "choices", None):
                raise MalformedResponse("openai: completion has no choices", service="openai")
            rid = getattr(resp, "_request_id", None)
            choice = resp.choices[0]
            msg = choice.message
            if getattr(msg, "refusal", None):
                raise ModelRefused(f"openai: the model refused: {redact(msg.refusal)}", service="openai",
                                   request_id=rid)
            if choice.finish_reason == "content_filter":
                raise ModelRefused("openai: the output was stopped by the content filter", service="openai",
                                   request_id=rid, code="content_filter")
            if choice.finish_reason == "length":
                raise OutputTruncated("openai: the output hit the token limit (finish_reason=length)",
                                      service="openai", request_id=rid, code="length",
                                      hint="raise max_tokens or shorten the brief")
            usage = resp.usage
            billed = ChatResult(data={}, model=resp.model, request_id=rid,
                                prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                                completion_tokens=getattr(usage, "completion_tokens", 0) or 0)

            def invalid(message: str) -> InvalidOutput:
                err = InvalidOutput(message, service="openai", request_id=rid)
                err.billed = billed  # the completion was paid all the same (usage, model, id)
                return err

            try:
                data = json.loads(msg.content or "")
            except ValueError as exc:
                raise invalid(f"openai: the output is not JSON: {exc}") from None
            if not isinstance(data, dict):
                raise invalid("openai: the output is not a JSON object")
            parsed = None
            if validate is not None:
                try:
                    parsed = validate(data)
                except ValueError as exc:
                    raise invalid(f"openai: the output does not validate: {redact(exc)}"[:600]) from None
            billed.data, billed.parsed = data, parsed
            return billed

        return await self.call("chat.completions", attempt)
