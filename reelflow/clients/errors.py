"""Typed errors of ReelFlow's service clients (Hume, Runware, OpenAI, Spotify).

Every error a client raises on purpose is a :class:`ServiceError`; the tree says what went
wrong, whether retrying can help (``retryable``) and carries the HTTP status, the service's
request id and the service's own message with secrets redacted
(:func:`clients._http.redact`).

- ``ServiceError``                 base (``service``, ``status_code``, ``request_id``, ``code``)
  - ``AuthError``                  401: key missing/rejected. Never retried; names the variable.
                                   Also a ``core.errors.ConfigurationError`` (CLI exit 2).
  - ``PermissionDenied``           403: the key may not use this endpoint/model. Never retried.
  - ``OutOfCredits``               402 (or OpenAI ``insufficient_quota``): "out of credits".
  - ``RequestInvalid``             400/422: the request was rejected; ``field`` names the input.
  - ``NotFound``                   404: unknown voice, track, playlist, task.
  - ``RateLimited``                429: retryable; ``retry_after_s`` from ``Retry-After``.
  - ``ServerError``                5xx: retryable.
  - ``TransportFailure``           connection refused/reset, timeouts: retryable.
  - ``MalformedResponse``          2xx whose body is not what the contract says: retryable.
  - ``DeadlineExceeded``           the call's overall deadline ran out while retrying.
  - ``JobFailed``                  an accepted async job ended in error (Runware); the API
                                   worked, the job did not.
  - ``JobTimedOut``                an async job did not finish before its deadline.
  - ``MediaRejected``              a media URL failed the SSRF guard (scheme/host/address).
  - ``MediaInvalid``               downloaded bytes are not a decodable video/audio as expected.
  - ``ModelRefused``               the LLM refused or was content-filtered (OpenAI).
  - ``OutputTruncated``            the LLM hit its token limit (``finish_reason: "length"``).
  - ``InvalidOutput``              the LLM's structured output does not validate.

Sources: status semantics from ``../shared/docs/api-contracts.md`` (sections 1.6, 2.5, 3.5, 4.4);
the shape of the tree follows ``openai/_exceptions.py`` and ``httpx/_exceptions.py``.
"""

from __future__ import annotations

from reelflow.core.errors import ConfigurationError, ReelFlowError

#: The environment variable holding each service's credentials (named in auth errors).
KEY_VARIABLES: dict[str, str] = {
    "hume": "HUME_API_KEY",
    "runware": "RUNWARE_API_KEY",
    "openai": "OPENAI_API_KEY",
    "spotify": "SPOTIFY_CLIENT_ID/SPOTIFY_CLIENT_SECRET",
}


class ServiceError(ReelFlowError):
    """A remote service call failed.

    Args:
        message: human text (already redacted).
        service: "hume", "runware", "openai" or "spotify".
        status_code: HTTP status, or None for transport-level failures.
        request_id: the service's request/task id when known.
        code: the service's machine error code (e.g. ``invalidApiKey``), when given.
        hint: what to do about it.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        status_code: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        from reelflow.core.redaction import redact

        # every service error is redacted where it is made: a body that echoes a key (or a
        # pydantic message quoting it) never carries it into logs, states or artifacts
        super().__init__(redact(message), hint=redact(hint) if hint else hint)
        self.service = service
        self.status_code = status_code
        self.request_id = request_id
        self.code = code


class AuthError(ServiceError, ConfigurationError):
    """401: the key is missing or rejected. The message names the environment variable."""

    exit_code = 2


class PermissionDenied(ServiceError):
    """403: the key may not use this endpoint or model."""

    exit_code = 2


class OutOfCredits(ServiceError):
    """402 / ``insufficient_quota``: the account has no credit left. Never retried."""

    exit_code = 2


class RequestInvalid(ServiceError):
    """400/422: the service rejected the request; ``field`` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(message, **kw)
        self.field = field


class NotFound(ServiceError):
    """404: the resource (voice, track, playlist, task) does not exist."""


class RateLimited(ServiceError):
    """429: too many requests. ``retry_after_s`` is the server's ``Retry-After`` (None if absent)."""

    retryable = True

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s


class ServerError(ServiceError):
    """5xx: the service failed; retryable."""

    retryable = True


class TransportFailure(ServiceError):
    """Connection refused/reset, read/connect timeout: no (complete) response came back."""

    retryable = True


class MalformedResponse(ServiceError):
    """A 2xx body that does not parse or lacks required fields; retryable."""

    retryable = True


class DeadlineExceeded(ServiceError):
    """The call's overall deadline ran out (after ``attempts`` tries); carries the last error."""

    def __init__(self, message: str, *, attempts: int = 0, last_error: BaseException | None = None, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(message, **kw)
        self.attempts = attempts
        self.last_error = last_error


class JobFailed(ServiceError):
    """An accepted asynchronous job ended in error (the API call itself succeeded).

    Retrying the *call* cannot help; a new job (new ``taskUUID``) may.
    """

    def __init__(self, message: str, *, task_uuid: str, **kw) -> None:  # type: ignore[no-untyped-def]
        kw.setdefault("request_id", task_uuid)
        super().__init__(message, **kw)
        self.task_uuid = task_uuid


class JobTimedOut(ServiceError):
    """An asynchronous job did not reach a terminal state before its deadline."""

    def __init__(self, message: str, *, task_uuid: str, last_status: str | None = None, **kw) -> None:  # type: ignore[no-untyped-def]
        kw.setdefault("request_id", task_uuid)
        super().__init__(message, **kw)
        self.task_uuid = task_uuid
        self.last_status = last_status


class MediaRejected(ServiceError):
    """A media URL failed the SSRF guard (not https, host not allowed, private address)."""

    exit_code = 2


class MediaInvalid(ServiceError):
    """Downloaded bytes are not a decodable video/audio of the expected kind/size."""

    retryable = True


class ModelRefused(ServiceError):
    """The LLM refused the request or its output was content-filtered."""


class OutputTruncated(ServiceError):
    """The LLM stopped at its token limit (``finish_reason == "length"``); the same request
    would stop there again, so it is not retried."""


class InvalidOutput(ServiceError):
    """The LLM's structured output did not parse or validate against the expected model.

    Deterministic for the same request: never re-sent unchanged. The caller repairs it locally,
    re-asks once with the problems stated, or falls back (``clients/openai/adapter.py``).
    """

    retryable = False


def auth_error(service: str, detail: str, **kw) -> AuthError:  # type: ignore[no-untyped-def]
    """Build the 401 error for ``service``, naming its environment variable."""
    var = KEY_VARIABLES.get(service, service.upper() + "_API_KEY")
    kw.pop("service", None)
    return AuthError(
        f"{service}: the API key was rejected ({detail}); check {var}",
        service=service,
        hint=f"set {var} to a valid key, or unset it to use the local default",
        **kw,
    )
