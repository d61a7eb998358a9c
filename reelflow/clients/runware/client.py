"""Thin async httpx client for Runware's REST task API (video generation).

Why not the ``runware`` SDK: 0.5.x is WebSocket-first (auth handshake, ping/pong, session
UUIDs) and hides the polling state machine; ``runware-sdk`` 1.x has REST but is built on
aiohttp and treats a retried submit's ``conflictTaskUUID`` as an error
(``../shared/docs/api-contracts.md`` §2.6, §2.9). The wire format is one URL taking JSON
arrays, so ~200 lines of httpx give us one retry layer, our own deadline and an explicit
idempotency protocol.

Four verbs:

- :meth:`RunwareClient.submit` — ``POST {base}`` ``[videoInference]`` with a client-chosen
  ``taskUUID`` (v4), ``deliveryMethod: "async"``. Retried on 429/5xx/transport errors with the
  **same** UUID; a ``conflictTaskUUID`` answer on a retry (or for a UUID the caller already
  persisted) means the first submit landed, so it counts as accepted: a retry never pays twice.
- :meth:`RunwareClient.poll` — ``getResponse`` until ``success``/``error`` with backoff and a
  deadline (:class:`~clients.errors.JobTimedOut`); job errors (top-level ``errors[]``, item
  ``status:"error"`` with ``error{}`` or flat ``code``/``message``) raise
  :class:`~clients.errors.JobFailed`.
- :meth:`RunwareClient.download` — SSRF-guarded streamed GET (no API key sent), size cap,
  content type check, PyAV decode check, atomic rename; an undecodable file is fetched once more,
  then :class:`~clients.errors.MediaInvalid`.
- :meth:`RunwareClient.create_and_poll` — the three in a row.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from reelflow.clients._http import (
    Clock,
    ErrorInfo,
    MetricsRecorder,
    RetryPolicy,
    ServiceClient,
    check_media_url,
    check_peer,
    redact,
    redact_url,
    request_hooks,
)
from reelflow.clients._polling import PollPolicy, poll_until
from reelflow.clients.errors import JobFailed, MalformedResponse, MediaInvalid, NotFound, RequestInvalid, TransportFailure
from reelflow.clients.runware.types import MODELS, NON_TERMINAL, TaskState, VideoInference, VideoItem
from reelflow.core.storage import atomic_path

#: Runware's own media hosts (the default download allow-list). [guess: CDN host names]
DEFAULT_MEDIA_HOSTS = (".runware.ai",)


def new_task_uuid() -> str:
    """A fresh random UUID v4 string."""
    return str(uuid.uuid4())


def validate_task(task: VideoInference) -> None:
    """Check duration/size/fps against :data:`MODELS` before sending (unknown models pass).

    Raises:
        RequestInvalid: naming the field and the allowed values.
    """
    spec = MODELS.get(task.model)
    try:
        uuid.UUID(task.taskUUID, version=4)
    except ValueError:
        raise RequestInvalid(f"runware: taskUUID {task.taskUUID!r} is not a UUID", field="taskUUID",
                             service="runware") from None
    if spec is None:
        return
    if task.duration not in spec.durations:
        raise RequestInvalid(f"runware: duration {task.duration:g} s is not allowed for {task.model}; "
                             f"allowed: {', '.join(f'{d:g}' for d in spec.durations)}", field="duration",
                             service="runware")
    if (task.width, task.height) not in spec.resolutions:
        allowed = ", ".join(f"{w}x{h}" for w, h in spec.resolutions)
        raise RequestInvalid(f"runware: {task.width}x{task.height} is not allowed for {task.model}; allowed: {allowed}",
                             field="width/height", service="runware")
    if task.fps is not None and task.fps not in spec.fps:
        raise RequestInvalid(f"runware: fps {task.fps} is not allowed for {task.model}; allowed: "
                             f"{', '.join(map(str, spec.fps))}", field="fps", service="runware")


class RunwareClient(ServiceClient):
    """Async client for Runware ``videoInference`` over REST.

    Args:
        api_key: ``RUNWARE_API_KEY`` (``Authorization: Bearer``; never sent to media hosts).
        base_url: ``RUNWARE_BASE_URL`` (default ``https://api.runware.ai/v1``).
        media_hosts: download allow-list (``REELFLOW_MEDIA_HOSTS``; ``.suffix`` = subdomains).
        allow_private_media: ``REELFLOW_ALLOW_PRIVATE_MEDIA`` (lifts https/private rules only).
        poll_policy: cadence and deadline of :meth:`poll`.
        max_download_bytes: size cap of one video.
        transport / policy / clock / metrics: see :class:`clients._http.ServiceClient`.
    """

    service = "runware"

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.runware.ai/v1",
        *,
        media_hosts: list[str] | None = None,
        allow_private_media: bool = False,
        poll_policy: PollPolicy | None = None,
        max_download_bytes: int = 512 * 1024 * 1024,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        super().__init__(base_url, transport=transport, policy=policy, clock=clock, metrics=metrics,
                         secrets=[api_key], headers={"Authorization": f"Bearer {api_key}"})
        self.endpoint = base_url.rstrip("/")
        self.media_hosts = list(media_hosts) if media_hosts else list(DEFAULT_MEDIA_HOSTS)
        self.allow_private_media = allow_private_media
        self.poll_policy = poll_policy or PollPolicy()
        self.max_download_bytes = max_download_bytes
        self.media_http = httpx.AsyncClient(
            transport=transport, follow_redirects=False, trust_env=False,
            timeout=httpx.Timeout(self.policy.attempt_timeout_s, connect=10.0),
            event_hooks=request_hooks("runware", self.metrics),
        )

    async def aclose(self) -> None:
        """Close both connection pools (API and media)."""
        await super().aclose()
        await self.media_http.aclose()

    def parse_error(self, response: httpx.Response) -> ErrorInfo:
        """``{"errors":[{"code","message","parameter","allowedValues"...}]}``."""
        try:
            body = response.json()
        except ValueError:
            return ErrorInfo(message=redact(response.text[:300]))
        errs = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errs, list) and errs:
            e = errs[0]
            param = e.get("parameter")
            if isinstance(param, list):
                param = ",".join(map(str, param))
            msg = str(e.get("message", ""))
            if e.get("allowedValues") is not None:
                msg += f" (allowed: {e['allowedValues']})"
            return ErrorInfo(message=redact(msg), code=e.get("code"), field=param,
                             extra={k: redact(v) if isinstance(v, str) else v for k, v in e.items()})
        return ErrorInfo(message=redact(str(body)[:300]))

    # -- submit ---------------------------------------------------------------------------------

    async def submit(self, task: VideoInference, *, known_uuid: bool = False) -> str:
        """Submit a video task; return its ``taskUUID`` once the server has accepted it.

        Args:
            task: the request (its ``taskUUID`` must be persisted by the caller first).
            known_uuid: the UUID may have been sent before (a re-run after a crash): a
                ``conflictTaskUUID`` answer then means "already accepted".

        Raises:
            RequestInvalid (field named), AuthError, OutOfCredits, DeadlineExceeded.
        """
        validate_task(task)
        body = [task.model_dump(exclude_none=True)]

        async def attempt(n: int) -> str:
            try:
                r = await self.send("POST", self.endpoint, json=body, attempt=n)
            except RequestInvalid as exc:
                if exc.code == "conflictTaskUUID" and (n > 1 or known_uuid):
                    return task.taskUUID  # the earlier submit landed; do not pay twice
                raise
            data = self.json(r)
            if not isinstance(data, dict):
                raise MalformedResponse("runware: submit response is not an object", service="runware")
            for e in data.get("errors") or []:
                if e.get("taskUUID") in (None, task.taskUUID):
                    if e.get("code") == "conflictTaskUUID" and (n > 1 or known_uuid):
                        return task.taskUUID
                    raise RequestInvalid(f"runware: submit rejected: {e.get('message', e)}", field=e.get("parameter"),
                                         code=e.get("code"), service="runware", request_id=task.taskUUID)
            return task.taskUUID

        return await self.call("submit", attempt)

    async def ping(self) -> None:
        """Check the key with Runware's free ``ping`` task (``[{"taskType": "ping", "ping": true}]``).

        Nothing is billed. Used before a run spends anything elsewhere.

        Raises:
            AuthError (names RUNWARE_API_KEY), OutOfCredits, DeadlineExceeded after retries.
        """
        body = [{"taskType": "ping", "ping": True}]

        async def attempt(n: int) -> None:
            self.json(await self.send("POST", self.endpoint, json=body, attempt=n))

        await self.call("ping", attempt)

    # -- poll -----------------------------------------------------------------------------------

    async def get_response(self, task_uuid: str) -> TaskState:
        """One ``getResponse`` poll → the task's current :class:`TaskState`."""
        body = [{"taskType": "getResponse", "taskUUID": task_uuid}]

        async def attempt(n: int) -> TaskState:
            try:
                data = self.json(await self.send("POST", self.endpoint, json=body, attempt=n))
            except (RequestInvalid, NotFound) as exc:
                return TaskState(task_uuid=task_uuid, status="error", error_code=exc.code, error_message=exc.message)
            if not isinstance(data, dict):
                raise MalformedResponse("runware: getResponse body is not an object", service="runware")
            return self._state_from(task_uuid, data)

        return await self.call("getResponse", attempt)

    @staticmethod
    def _state_from(task_uuid: str, data: dict[str, Any]) -> TaskState:
        """Parse a ``getResponse`` body; any shape that is not the documented one is
        :class:`MalformedResponse` (retryable), never a raw ``TypeError``/``ValidationError``."""
        try:
            return RunwareClient._parse_state(task_uuid, data)
        except (ValidationError, AttributeError, TypeError, KeyError, ValueError) as exc:
            raise MalformedResponse(f"runware: getResponse body has an unexpected shape ({type(exc).__name__})",
                                    service="runware") from None

    @staticmethod
    def _parse_state(task_uuid: str, data: dict[str, Any]) -> TaskState:
        for e in data.get("errors") or []:
            if e.get("taskUUID") in (None, task_uuid):
                return TaskState(task_uuid=task_uuid, status="error", error_code=e.get("code"),
                                 error_message=redact(str(e.get("message") or "")) or None)
        items = [VideoItem.model_validate(i) for i in data.get("data") or [] if i.get("taskUUID") == task_uuid]
        for it in items:
            if it.status == "success" or (it.status is None and it.url):
                if not it.url:
                    raise MalformedResponse("runware: success item without videoURL", service="runware")
                return TaskState(task_uuid=task_uuid, status="success", item=it)
        for it in items:
            if it.status == "error":
                err = it.error or {}
                return TaskState(task_uuid=task_uuid, status="error", item=it,
                                 error_code=err.get("code") or it.code,
                                 error_message=redact(str(err.get("message") or it.message or "")) or None)
        last = next((it.status for it in reversed(items) if it.status), "processing")
        return TaskState(task_uuid=task_uuid, status=last if last in NON_TERMINAL else "processing")

    async def poll(self, task_uuid: str, *, policy: PollPolicy | None = None) -> VideoItem:
        """Poll until the task finishes.

        Returns:
            The success item (``videoURL``, ``cost`` USD, ``seed``).

        Raises:
            JobFailed: the task ended in error (code and message from Runware).
            JobTimedOut: still not finished at the poll deadline.
        """
        outcome = await poll_until(
            lambda: self.get_response(task_uuid), is_terminal=lambda s: s.terminal, status_of=lambda s: s.status,
            job_id=task_uuid, service="runware", policy=policy or self.poll_policy, clock=self.clock,
        )
        state = outcome.state
        if state.status == "error":
            raise JobFailed(f"runware: task {task_uuid} failed: {state.error_code or 'error'}: "
                            f"{state.error_message or 'no message'}", task_uuid=task_uuid, code=state.error_code,
                            service="runware")
        assert state.item is not None
        return state.item

    # -- download -------------------------------------------------------------------------------

    async def download(self, url: str, dest: Path | str, *, expect_size: tuple[int, int] | None = None,
                       max_duration_s: float | None = None) -> Path:
        """Stream ``url`` to ``dest`` atomically after the SSRF guard; check it decodes.

        Args:
            url: the task's ``videoURL``.
            dest: final path (written via a temp file + ``os.replace``).
            expect_size: ``(width, height)`` the video must have, if known.
            max_duration_s: longest accepted video (seconds), if known (:func:`core.limits.max_clip_duration_s`).

        Raises:
            MediaRejected: the URL failed the SSRF guard (never fetched).
            MediaInvalid: wrong content type, too large, or not a decodable video (after one
                re-download).
            TransportFailure / ServerError / DeadlineExceeded: the fetch itself failed.
        """
        dest = Path(dest)
        invalid_seen = 0

        async def attempt(n: int) -> Path:
            nonlocal invalid_seen
            try:
                return await self._download_once(url, dest, expect_size, n, max_duration_s)
            except MediaInvalid as exc:
                invalid_seen += 1
                if invalid_seen >= 2:
                    exc.retryable = False  # type: ignore[misc]
                raise

        return await self.call("download", attempt)

    async def _download_once(self, url: str, dest: Path, expect_size: tuple[int, int] | None, attempt: int,
                             max_duration_s: float | None = None) -> Path:
        for _hop in range(4):
            await check_media_url(url, self.media_hosts, allow_private=self.allow_private_media, service="runware")
            request = self.media_http.build_request("GET", url)
            request.extensions["reelflow_attempt"] = attempt
            try:
                response = await self.media_http.send(request, stream=True)
            except (httpx.TransportError, ConnectionError) as exc:
                raise TransportFailure(f"runware: GET {redact_url(url)}: {type(exc).__name__}", service="runware") from None
            try:
                check_peer(response, allow_private=self.allow_private_media, service="runware")
                if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("location"):
                    url = str(response.url.join(response.headers["location"]))
                    continue
                if response.status_code >= 400:
                    await response.aread()
                    self.raise_for_status(response)
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if not (ctype.startswith("video/") or ctype == "application/octet-stream"):
                    raise MediaInvalid(f"runware: {redact_url(url)} has content type {ctype or 'none'!r}, not video",
                                       service="runware")
                declared = int(response.headers.get("content-length") or 0)
                if declared > self.max_download_bytes:
                    raise MediaInvalid(f"runware: video is {declared} bytes (cap {self.max_download_bytes})",
                                       service="runware")
                with atomic_path(dest) as tmp:
                    size = 0
                    try:
                        with open(tmp, "wb") as fh:
                            async for chunk in response.aiter_bytes(1 << 16):
                                size += len(chunk)
                                if size > self.max_download_bytes:
                                    raise MediaInvalid(f"runware: video exceeds {self.max_download_bytes} bytes",
                                                       service="runware")
                                fh.write(chunk)
                    except (httpx.TransportError, ConnectionError) as exc:
                        raise TransportFailure(f"runware: download of {redact_url(url)} broke off: "
                                               f"{type(exc).__name__}", service="runware") from None
                    _, _, duration, _ = probe_video(tmp, expect_size)
                    if max_duration_s is not None and duration > max_duration_s:
                        raise MediaInvalid(f"runware: video is {duration:.1f} s long, more than the "
                                           f"{max_duration_s:.0f} s accepted for this clip", service="runware")
                return dest
            finally:
                await response.aclose()
        raise MediaInvalid(f"runware: too many redirects for {redact_url(url)}", service="runware")

    # -- all together ---------------------------------------------------------------------------

    async def create_and_poll(self, task: VideoInference, dest: Path | str, *, known_uuid: bool = False,
                              policy: PollPolicy | None = None) -> tuple[VideoItem, Path]:
        """Submit, poll to completion and download; returns the result item and the file."""
        await self.submit(task, known_uuid=known_uuid)
        item = await self.poll(task.taskUUID, policy=policy)
        path = await self.download(item.url or "", dest, expect_size=(task.width, task.height))
        return item, path


def probe_video(path: Path | str, expect_size: tuple[int, int] | None = None) -> tuple[int, int, float, float]:
    """Open ``path`` with PyAV, decode its first frame and one near its end, and return
    ``(width, height, duration_s, fps)``.

    Raises:
        MediaInvalid: not a decodable video, or not ``expect_size``.
    """
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaInvalid(f"runware: {Path(path).name} has no video stream", service="runware")
            stream = container.streams.video[0]
            frame = next(container.decode(stream), None)
            if frame is None:
                raise MediaInvalid(f"runware: {Path(path).name} has no decodable frame", service="runware")
            w, h = frame.width, frame.height
            dur = float(stream.duration * stream.time_base) if stream.duration else (
                container.duration / 1e6 if container.duration else 0.0)
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            if dur > 0.5 and stream.time_base:
                # a file cut short (a dropped connection that still sent a valid header) decodes
                # its first frame but not its end: check a frame near the end too
                container.seek(int(dur * 0.9 / stream.time_base), stream=stream, backward=True)
                tail = next(container.decode(stream), None)
                if tail is None:
                    raise MediaInvalid(f"runware: {Path(path).name} is truncated (no frame near its end)",
                                       service="runware")
    except MediaInvalid:
        raise
    except Exception as exc:  # PyAV raises many error classes for garbage input
        raise MediaInvalid(f"runware: {Path(path).name} is not a decodable video ({type(exc).__name__})",
                           service="runware") from None
    if expect_size and (w, h) != tuple(expect_size):
        raise MediaInvalid(f"runware: video is {w}x{h}, expected {expect_size[0]}x{expect_size[1]}", service="runware")
    return w, h, dur, fps
