"""Shared machinery of ReelFlow's service clients: one retry layer, rate limiting, redaction,
structured request logs, metrics and the media-download SSRF guard.

Design (see ``README.md`` → architecture → service clients):

- **One retry layer.** :meth:`ServiceClient.call` runs one logical operation with tenacity:
  random-exponential backoff, ``Retry-After`` honoured (a 429 whose ``Retry-After`` exceeds
  ``RetryPolicy.retry_after_cap_s`` fails fast instead of sleeping for an hour), at most
  ``max_attempts`` tries and an overall ``deadline_s`` (a retry whose sleep would cross the
  deadline is not attempted; the call raises :class:`~clients.errors.DeadlineExceeded`). Only
  errors whose ``retryable`` is true are retried: 429, 5xx, transport failures, malformed 2xx.
  SDK retries are switched off (OpenAI ``max_retries=0``) so tries never multiply.
- **Rate limiting** per service with a thread-safe token bucket (:class:`RateLimiter`): Prefect
  runs async tasks on several threads/event loops, so the bucket uses a ``threading.Lock`` and
  only ``await``s the computed wait.
- **Redaction**: every registered secret (API keys, bearer tokens) and secret-looking query
  parameters are replaced by ``***`` in log lines, error messages and recorded URLs.
- **Request logs** come from httpx event hooks (:func:`request_hooks`): one structured record
  per HTTP exchange on logger ``reelflow.clients`` (method, redacted URL, status, latency,
  attempt). :class:`MetricsRecorder` aggregates per-service latency, attempts and success rate;
  the flow reads :meth:`MetricsRecorder.snapshot` into a Prefect artifact.
- **SSRF guard** (:func:`check_media_url`): media is only fetched over https from hosts on the
  allow-list, never from private/loopback/link-local addresses, unless
  ``REELFLOW_ALLOW_PRIVATE_MEDIA=true`` (emulators, on-premise gateways) — and then still only
  from allow-listed hosts.

Sources: tenacity docs (``AsyncRetrying``, ``wait_random_exponential``); httpx "Event Hooks";
``openai/_base_client.py`` (``_calculate_retry_timeout``: Retry-After parsing and cap);
OWASP SSRF prevention cheat sheet (allow-list + resolved-address checks).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import socket
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception, wait_random_exponential
from tenacity.stop import stop_base

from reelflow.clients.errors import (
    DeadlineExceeded,
    MalformedResponse,
    MediaRejected,
    NotFound,
    OutOfCredits,
    PermissionDenied,
    RateLimited,
    RequestInvalid,
    ServerError,
    ServiceError,
    TransportFailure,
    auth_error,
)

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

log = logging.getLogger("reelflow.clients")
T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# Redaction
# --------------------------------------------------------------------------------------------

# One registry for the whole process (core/redaction.py); re-exported here for the clients.
from reelflow.core.redaction import redact, register_secret  # noqa: E402,F401


def redact_url(url: object) -> str:
    """A URL without credentials: userinfo dropped, secret query parameters masked."""
    parts = urlsplit(str(url))
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return redact(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


class MetricsRecorder:
    """Thread-safe collector of per-service request and call statistics.

    Two event kinds are recorded: HTTP exchanges (from the event hooks: one per attempt that got
    a response) and logical calls (from :meth:`ServiceClient.call`: one per operation, with the
    number of attempts it took and whether it succeeded).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []

    def record_request(self, service: str, method: str, url: str, status: int | None, latency_ms: float,
                       attempt: int = 1, error: str | None = None) -> None:
        """Record one HTTP exchange (URL must already be redacted)."""
        with self._lock:
            self.requests.append({"service": service, "method": method, "url": url, "status": status,
                                  "latency_ms": round(latency_ms, 2), "attempt": attempt, "error": error})

    def record_call(self, service: str, op: str, attempts: int, ok: bool, latency_ms: float,
                    error: str | None = None) -> None:
        """Record one logical operation (all its attempts)."""
        with self._lock:
            self.calls.append({"service": service, "op": op, "attempts": attempts, "ok": ok,
                               "latency_ms": round(latency_ms, 2), "error": error})

    def reset(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self.requests.clear()
            self.calls.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        """Per-service summary rows, sorted by service name.

        Returns:
            One dict per service: ``service``, ``calls``, ``succeeded``, ``failed``,
            ``success_rate`` (0..1), ``attempts`` (total tries), ``retries`` (attempts − calls),
            ``http_requests``, ``http_errors`` (status ≥ 400 or transport error),
            ``latency_ms_p50`` / ``latency_ms_p95`` / ``latency_ms_max`` of the logical calls,
            and ``errors`` (error class → count).
        """
        with self._lock:
            calls = list(self.calls)
            reqs = list(self.requests)
        rows = []
        for svc in sorted({c["service"] for c in calls} | {r["service"] for r in reqs}):
            sc = [c for c in calls if c["service"] == svc]
            sr = [r for r in reqs if r["service"] == svc]
            lat = sorted(c["latency_ms"] for c in sc)
            errors: dict[str, int] = {}
            for c in sc:
                if c["error"]:
                    errors[c["error"]] = errors.get(c["error"], 0) + 1
            ok = sum(1 for c in sc if c["ok"])
            attempts = sum(c["attempts"] for c in sc)
            rows.append({
                "service": svc,
                "calls": len(sc),
                "succeeded": ok,
                "failed": len(sc) - ok,
                "success_rate": round(ok / len(sc), 4) if sc else None,
                "attempts": attempts,
                "retries": attempts - len(sc),
                "http_requests": len(sr),
                "http_errors": sum(1 for r in sr if r["error"] or (r["status"] or 0) >= 400),
                "latency_ms_p50": round(statistics.median(lat), 1) if lat else None,
                "latency_ms_p95": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1) if lat else None,
                "latency_ms_max": round(lat[-1], 1) if lat else None,
                "errors": errors,
            })
        return rows


#: The process-wide recorder the flow reads (clients use it unless given another).
METRICS = MetricsRecorder()


def request_hooks(service: str, metrics: MetricsRecorder) -> dict[str, list[Callable[..., Awaitable[None]]]]:
    """httpx ``event_hooks`` that log one structured, redacted record per HTTP exchange.

    Works with ``httpx.AsyncClient`` and ``httpx2.AsyncClient`` (same hook API). The attempt
    number is read from ``request.extensions["reelflow_attempt"]`` when the caller sets it.
    """

    async def on_request(request: Any) -> None:
        request.extensions["reelflow_t0"] = time.perf_counter()

    async def on_response(response: Any) -> None:
        req = response.request
        t0 = req.extensions.get("reelflow_t0", time.perf_counter())
        ms = (time.perf_counter() - t0) * 1000
        attempt = int(req.extensions.get("reelflow_attempt") or req.headers.get("x-reelflow-attempt") or 1)
        url = redact_url(req.url)
        metrics.record_request(service, req.method, url, response.status_code, ms, attempt)
        log.info(
            "%s %s %s -> %s in %.0f ms (attempt %d)", service, req.method, url, response.status_code, ms, attempt,
            extra={"service": service, "method": req.method, "url": url, "status": response.status_code,
                   "latency_ms": round(ms, 2), "attempt": attempt},
        )

    return {"request": [on_request], "response": [on_response]}


# --------------------------------------------------------------------------------------------
# Clock, retry policy, rate limiting
# --------------------------------------------------------------------------------------------


@dataclass
class Clock:
    """Time source and sleeper, injectable so tests run instantly.

    ``now()`` returns monotonic seconds; ``sleep(s)`` awaits ``s`` seconds.
    """

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class FakeClock(Clock):
    """A clock whose ``sleep`` advances virtual time without waiting; records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []
        super().__init__(now=lambda: self.t, sleep=self._sleep)

    async def _sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += max(0.0, s)
        await asyncio.sleep(0)


@dataclass
class RetryPolicy:
    """How one logical call is retried.

    Attributes:
        max_attempts: total tries (first + retries).
        deadline_s: overall budget of one call in seconds, sleeps included.
        backoff_initial_s / backoff_max_s: random-exponential backoff window
            (``uniform(0, min(max, initial·2^n))``, tenacity ``wait_random_exponential``).
        retry_after_cap_s: a ``Retry-After`` longer than this is not waited for (fail fast).
        attempt_timeout_s: per-attempt timeout (also bounded by the remaining deadline).
    """

    max_attempts: int = 6
    deadline_s: float = 120.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_cap_s: float = 60.0
    attempt_timeout_s: float = 60.0


class RateLimiter:
    """Thread-safe token bucket: at most ``rate`` requests per ``per_s`` seconds, bursts to ``burst``.

    Usable from any event loop or thread (Prefect's thread runner runs tasks on several loops);
    waiting never blocks the loop.

    Args:
        rate: tokens added per ``per_s`` seconds (e.g. Hume: 100 per 60 s).
        per_s: the window in seconds.
        burst: bucket size (defaults to ``rate``).
        clock: injectable time source.
    """

    def __init__(self, rate: float, per_s: float = 60.0, burst: float | None = None, clock: Clock | None = None) -> None:
        if rate <= 0 or per_s <= 0:
            raise ValueError("rate and per_s must be positive")
        self.rate_per_s = rate / per_s
        self.burst = float(burst if burst is not None else rate)
        self.clock = clock or Clock()
        self._tokens = self.burst
        self._last = self.clock.now()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def _reserve(self) -> float:
        with self._lock:
            now = self.clock.now()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_per_s)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate_per_s

    async def acquire(self) -> None:
        """Take one token, sleeping (without blocking the loop) until one is available."""
        wait = self._reserve()
        if wait > 0:
            self.waited_s += wait
            await self.clock.sleep(wait)


# --------------------------------------------------------------------------------------------
# Response classification
# --------------------------------------------------------------------------------------------


def parse_retry_after(headers: Any, clock_now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``Retry-After`` (seconds or HTTP date).

    Source: ``openai/_base_client.py`` ``_parse_retry_after_header``; RFC 9110 §10.2.3.
    """
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    except (TypeError, ValueError):
        pass
    ra = headers.get("retry-after")
    if ra is None:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        parsed = email.utils.parsedate_tz(ra)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())


@dataclass
class ErrorInfo:
    """What a service's error body says: human ``message``, machine ``code``, the ``field``."""

    message: str = ""
    code: str | None = None
    field: str | None = None
    extra: dict[str, Any] = dc_field(default_factory=dict)


def error_for_status(service: str, status: int, info: ErrorInfo, *, request_id: str | None = None,
                     retry_after_s: float | None = None) -> ServiceError:
    """Map an HTTP status + parsed error body to the typed error (message redacted)."""
    msg = redact(info.message or f"HTTP {status}")
    kw: dict[str, Any] = {"service": service, "status_code": status, "request_id": request_id, "code": info.code}
    if status == 401:
        return auth_error(service, msg, **{k: v for k, v in kw.items() if k != "service"})
    if status == 402:
        return OutOfCredits(f"{service}: out of credits: {msg}", hint=f"top up the {service} account", **kw)
    if status == 403:
        return PermissionDenied(f"{service}: permission denied: {msg}", **kw)
    if status == 404:
        return NotFound(f"{service}: not found: {msg}", **kw)
    if status in (400, 409, 413, 422):
        where = f" (field: {info.field})" if info.field else ""
        return RequestInvalid(f"{service}: request rejected{where}: {msg}", field=info.field, **kw)
    if status == 429:
        return RateLimited(f"{service}: rate limited: {msg}", retry_after_s=retry_after_s, **kw)
    if status == 408 or status >= 500:
        return ServerError(f"{service}: server error {status}: {msg}", **kw)
    return ServiceError(f"{service}: unexpected HTTP {status}: {msg}", **kw)


# --------------------------------------------------------------------------------------------
# The client base
# --------------------------------------------------------------------------------------------


class _DeadlineStop(stop_base):
    def __init__(self, client: ServiceClient, start: float, deadline_s: float, max_attempts: int) -> None:
        self.c, self.start, self.deadline_s, self.max_attempts = client, start, deadline_s, max_attempts
        self.hit_deadline = False

    def __call__(self, rs: RetryCallState) -> bool:
        if rs.attempt_number >= self.max_attempts:
            return True
        elapsed = self.c.clock.now() - self.start
        if elapsed + rs.upcoming_sleep >= self.deadline_s:
            self.hit_deadline = True
            return True
        return False


class ServiceClient:
    """Base of the thin async httpx clients (Hume, Runware, Spotify) and the OpenAI wrapper.

    Args:
        service: "hume", "runware", "openai" or "spotify" (names errors, logs, metrics).
        base_url: the service root (e.g. ``https://api.hume.ai``).
        transport: an ``httpx.AsyncBaseTransport`` (tests: ``httpx.ASGITransport(emulator)``).
        policy: retry policy; clock: injectable time/sleep; limiter: optional rate limiter.
        metrics: where request/call statistics go (default :data:`METRICS`).
        secrets: strings to redact from logs and errors (keys, tokens).
        headers: default headers (auth).

    Use as ``async with Client(...) as c:``; the connection pool closes on exit.
    """

    service = "service"

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        metrics: MetricsRecorder | None = None,
        secrets: Iterable[str | None] = (),
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        self.limiter = limiter
        self.metrics = metrics or METRICS
        for s in secrets:
            register_secret(s)
        self.http: httpx.AsyncClient = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            headers=headers or {},
            timeout=timeout or httpx.Timeout(self.policy.attempt_timeout_s, connect=10.0),
            event_hooks=request_hooks(self.service, self.metrics),
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    # -- the one retry layer ----------------------------------------------------------------

    async def call(self, op: str, attempt_fn: Callable[[int], Awaitable[T]], *,
                   deadline_s: float | None = None, max_attempts: int | None = None) -> T:
        """Run ``attempt_fn(attempt_number)`` until it succeeds, retrying retryable errors.

        Args:
            op: operation name for logs/metrics (e.g. ``"tts"``).
            attempt_fn: one try; raises :class:`ServiceError` subclasses.
            deadline_s / max_attempts: override the policy for this call.

        Returns:
            ``attempt_fn``'s result.

        Raises:
            ServiceError: the first non-retryable error, the last retryable one when attempts
            run out, :class:`DeadlineExceeded` when the deadline runs out, or
            :class:`RateLimited` at once when ``Retry-After`` exceeds the cap.
        """
        p = self.policy
        deadline = deadline_s if deadline_s is not None else p.deadline_s
        attempts_max = max_attempts or p.max_attempts
        start = self.clock.now()
        t0 = time.perf_counter()
        stop = _DeadlineStop(self, start, deadline, attempts_max)
        backoff = wait_random_exponential(multiplier=p.backoff_initial_s, max=p.backoff_max_s)

        def should_retry(exc: BaseException) -> bool:
            if not getattr(exc, "retryable", False):
                return False
            if isinstance(exc, RateLimited) and exc.retry_after_s is not None and exc.retry_after_s > p.retry_after_cap_s:
                return False
            return True

        def wait(rs: RetryCallState) -> float:
            exc = rs.outcome.exception() if rs.outcome else None
            if isinstance(exc, RateLimited) and exc.retry_after_s is not None:
                return float(exc.retry_after_s)
            return float(backoff(rs))

        attempts = 0

        async def one() -> T:
            nonlocal attempts
            attempts += 1
            remaining = deadline - (self.clock.now() - start)
            if remaining <= 0:
                raise DeadlineExceeded(f"{self.service}: {op}: deadline of {deadline:g} s exceeded",
                                       service=self.service, attempts=attempts - 1)
            try:
                async with asyncio.timeout(min(remaining, p.attempt_timeout_s)):
                    return await attempt_fn(attempts)
            except TimeoutError as exc:
                raise TransportFailure(f"{self.service}: {op}: attempt timed out", service=self.service) from exc

        error: BaseException | None = None
        try:
            async for attempt in AsyncRetrying(stop=stop, wait=wait, retry=retry_if_exception(should_retry),
                                               sleep=self.clock.sleep, reraise=False):
                with attempt:
                    result = await one()
            self.metrics.record_call(self.service, op, attempts, True, (time.perf_counter() - t0) * 1000)
            return result
        except RetryError as exc:
            last = exc.last_attempt.exception()
            error = last
            if stop.hit_deadline or isinstance(last, DeadlineExceeded):
                error = DeadlineExceeded(
                    f"{self.service}: {op}: gave up after {attempts} attempt(s), deadline {deadline:g} s; "
                    f"last error: {redact(last)}",
                    service=self.service, attempts=attempts, last_error=last,
                    status_code=getattr(last, "status_code", None), request_id=getattr(last, "request_id", None),
                )
                raise error from last
            raise last from None  # type: ignore[misc]
        except BaseException as exc:
            error = exc
            raise
        finally:
            if error is not None:
                if isinstance(error, ServiceError):
                    error.attempts = attempts  # type: ignore[attr-defined]
                self.metrics.record_call(self.service, op, attempts, False, (time.perf_counter() - t0) * 1000,
                                         type(error).__name__)

    # -- one HTTP exchange ----------------------------------------------------------------------

    def parse_error(self, response: httpx.Response) -> ErrorInfo:
        """Extract message/code/field from a service error body (overridden per service)."""
        return ErrorInfo(message=response.text[:500])

    async def send(self, method: str, url: str, *, attempt: int = 1, **kw: Any) -> httpx.Response:
        """Send one request (rate-limited) and return the response with its body read.

        Raises:
            TransportFailure: no complete response (refused, reset, timeout).
            ServiceError subclass: any status ≥ 400 (via :meth:`raise_for_status`).
        """
        if self.limiter is not None:
            await self.limiter.acquire()
        request = self.http.build_request(method, url, **kw)
        request.extensions["reelflow_attempt"] = attempt
        try:
            response = await self.http.send(request)
        except (httpx.TransportError, ConnectionError) as exc:
            self.metrics.record_request(self.service, method, redact_url(request.url), None, 0.0, attempt,
                                        type(exc).__name__)
            log.warning("%s %s %s -> %s (attempt %d)", self.service, method, redact_url(request.url),
                        type(exc).__name__, attempt)
            raise TransportFailure(f"{self.service}: {method} {redact_url(request.url)}: "
                                   f"{type(exc).__name__}: {redact(exc)}", service=self.service) from None
        self.raise_for_status(response)
        return response

    def raise_for_status(self, response: httpx.Response) -> None:
        """Raise the typed error for a status ≥ 400 (no-op otherwise)."""
        if response.status_code < 400:
            return
        try:
            info = self.parse_error(response)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError):
            # an error body of an unexpected shape still gives the typed error for its status
            info = ErrorInfo(message=response.text[:300])
        raise error_for_status(
            self.service, response.status_code, info,
            request_id=response.headers.get("x-request-id") or response.headers.get("request-id"),
            retry_after_s=parse_retry_after(response.headers),
        )

    def json(self, response: httpx.Response) -> Any:
        """Decode a JSON body or raise :class:`MalformedResponse` (retryable)."""
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedResponse(
                f"{self.service}: {response.request.method} {redact_url(response.request.url)}: body is not JSON "
                f"({redact(response.text[:80])!r})", service=self.service, status_code=response.status_code,
            ) from exc

    async def request_json(self, op: str, method: str, url: str, **kw: Any) -> Any:
        """``call`` + ``send`` + ``json`` for idempotent requests."""

        async def attempt(n: int) -> Any:
            return self.json(await self.send(method, url, attempt=n, **kw))

        return await self.call(op, attempt)


# --------------------------------------------------------------------------------------------
# SSRF guard
# --------------------------------------------------------------------------------------------


def parse_hosts(value: str | Iterable[str] | None, default: Iterable[str]) -> list[str]:
    """Comma-separated host list → lower-case entries (``.suffix`` entries match subdomains)."""
    if value is None or value == "":
        return [h.lower() for h in default]
    items = value.split(",") if isinstance(value, str) else list(value)
    return [h.strip().lower() for h in items if h.strip()]


def _host_allowed(host: str, allowed: list[str]) -> bool:
    for entry in allowed:
        if entry.startswith("."):
            if host.endswith(entry) or host == entry[1:]:
                return True
        elif host == entry:
            return True
    return False


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_addresses(addr: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """``addr`` and every IPv4 address tunnelled inside it (IPv4-mapped ``::ffff:a.b.c.d``,
    6to4 ``2002::/16``, Teredo ``2001::/32`` server and client, NAT64 ``64:ff9b::/96``), so a
    wrapped loopback or private address is judged by what it reaches (RFC 4291, 3056, 4380, 6052).

    Raises:
        ValueError: ``addr`` is not an IP address.
    """
    ip = ipaddress.ip_address(addr.split("%")[0].strip("[]"))
    out: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            out.append(ip.ipv4_mapped)
        if ip.sixtofour:
            out.append(ip.sixtofour)
        if ip.teredo:
            out.extend(ip.teredo)
        if ip in _NAT64:
            out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def is_public_address(addr: str) -> bool:
    """True when ``addr`` and everything tunnelled in it is globally routable unicast.

    Uses ``ipaddress``'s ``is_global`` (IANA special-purpose registries: refuses private,
    loopback, link-local, shared 100.64.0.0/10, documentation, benchmarking, reserved), plus
    multicast and unspecified. An unparseable address is not public.
    """
    try:
        ips = embedded_addresses(addr)
    except ValueError:
        return False
    return all(ip.is_global and not ip.is_multicast and not ip.is_unspecified for ip in ips)


def _is_private(addr: str) -> bool:
    return not is_public_address(addr)


def check_peer(response: httpx.Response, *, allow_private: bool = False, service: str = "media") -> None:
    """Refuse a response whose CONNECTED peer is not public on port 443 (DNS rebinding between
    :func:`check_media_url` and httpx's own resolution). Called before the body is read.

    Transports without a socket (``httpx.ASGITransport`` in tests) have no peer to check.

    Raises:
        MediaRejected: naming the peer address.
    """
    if allow_private:
        return
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return
    addr, port = str(peer[0]), (int(peer[1]) if len(peer) > 1 else None)
    if not is_public_address(addr) or port not in (None, 443):
        raise MediaRejected(
            f"{service}: refusing media from {redact_url(response.request.url)}: connected to {addr} port {port}, "
            "not a public address on port 443", service=service,
            hint="private addresses are only allowed with REELFLOW_ALLOW_PRIVATE_MEDIA=true")


async def check_media_url(url: str, allowed_hosts: list[str], *, allow_private: bool = False,
                          service: str = "media",
                          resolver: Callable[[str], Awaitable[list[str]]] | None = None) -> None:
    """Refuse a media URL unless it is safe to fetch (SSRF guard).

    Rules: scheme https (http only with ``allow_private``); host on ``allowed_hosts``
    (exact, or ``.example.com`` for subdomains); port 443 and every resolved address public
    (:func:`is_public_address`: ``is_global``, tunnelled IPv4 unwrapped) unless
    ``allow_private``. No credentials in the URL. The address actually connected to is
    checked again by :func:`check_peer` once the response arrives.

    Raises:
        MediaRejected: naming the rule that failed and ``REELFLOW_MEDIA_HOSTS`` /
        ``REELFLOW_ALLOW_PRIVATE_MEDIA``.
    """
    parts = urlsplit(url)
    shown = redact_url(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not allow_private):
        raise MediaRejected(f"{service}: refusing media URL {shown}: only https is allowed",
                            service=service, hint="set REELFLOW_ALLOW_PRIVATE_MEDIA=true only for emulators/gateways")
    if parts.username or parts.password:
        raise MediaRejected(f"{service}: refusing media URL {shown}: credentials in URL", service=service)
    if not host or not _host_allowed(host, allowed_hosts):
        raise MediaRejected(
            f"{service}: refusing media URL {shown}: host {host!r} is not on the allow-list {allowed_hosts}",
            service=service, hint="add the host to REELFLOW_MEDIA_HOSTS (comma-separated)")
    if allow_private:
        return
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port not in (None, 443):
        raise MediaRejected(f"{service}: refusing media URL {shown}: port {port} (only 443)", service=service,
                            hint="other ports are only allowed with REELFLOW_ALLOW_PRIVATE_MEDIA=true")
    try:
        addrs = [host] if _is_ip(host) else await (resolver or _resolve)(host)
    except OSError as exc:
        raise MediaRejected(f"{service}: refusing media URL {shown}: cannot resolve {host!r}: {exc}",
                            service=service) from None
    bad = [a for a in addrs if _is_private(a)]
    if bad or not addrs:
        raise MediaRejected(
            f"{service}: refusing media URL {shown}: {host!r} resolves to a private/loopback/link-local "
            f"address ({', '.join(bad) or 'none'})", service=service,
            hint="private addresses are only allowed with REELFLOW_ALLOW_PRIVATE_MEDIA=true")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


async def _resolve(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({i[4][0] for i in infos})


def policy_from_settings(settings: Settings) -> RetryPolicy:
    """A :class:`RetryPolicy` from :class:`core.settings.Settings` (``REELFLOW_SERVICE_*``)."""
    return RetryPolicy(
        max_attempts=settings.http.max_attempts,
        deadline_s=settings.http.deadline_s,
        backoff_max_s=settings.http.backoff_max_s,
        backoff_initial_s=min(0.5, settings.http.backoff_max_s),
        retry_after_cap_s=settings.http.retry_after_cap_s,
        attempt_timeout_s=min(60.0, settings.http.deadline_s),
    )
