"""Shared emulator machinery: fault injection middleware, control endpoints, real media bytes.

Every emulator app is wrapped by :class:`FaultMiddleware` and exposes:

- ``POST /__emulator__/faults``: a rule, a list of rules, ``{"rules": [...]}`` or a probabilistic
  profile ``{"p_5xx":0.2, "p_429":0.1, "p_reset":0.05, "p_job_failed":0.05, "p_job_stuck":0.05,
  "seed":7, "retry_after_s":1, "latency_max_s":0.3}`` (latency: uniform 0..max on every request). A rule::

      {"route": "POST /v0/tts",          # fnmatch on "METHOD /path" ("*" = any)
       "body_contains": "getResponse",   # optional: only requests whose body contains this
       "kind": "status" | "reset" | "latency" | "malformed" | "body"
               | "job_failed" | "job_stuck" | "refusal" | "length" | "content_filter",
       "status": 429, "headers": {"Retry-After": "1"}, "body": {...},   # for "status"/"body"
       "content_type": "text/html", "body_text": "...",                 # for "body"
       "delay_s": 2.0,                   # for "latency" (then the request proceeds)
       "when": "before" | "after",       # reset/malformed: before or after the handler ran
       "times": 1}                       # how many requests it hits (null = forever)

- ``DELETE /__emulator__/faults``: clear rules and profile.
- ``GET /__emulator__/stats``: the service's own counters (+ ``faults_fired``).
- ``POST /__emulator__/reset``: clear state, rules and counters.
- ``POST /__emulator__/config``: change service knobs (e.g. Runware ``polls_to_complete``).

A "reset" sends response headers announcing a body, part of it, then raises
:class:`EmulatedReset`: uvicorn drops the connection (the client sees a real transport error),
``httpx.ASGITransport`` re-raises it (a ``ConnectionResetError``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import io
import json
import random
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

CONTROL_PREFIX = "/__emulator__"
MEDIA_CACHE = Path(tempfile.gettempdir()) / "reelflow-emulator-media"


class EmulatedReset(ConnectionResetError):
    """Raised by the middleware to drop the connection mid-response."""


@dataclass
class Rule:
    """One scripted fault (see the module docstring)."""

    route: str = "*"
    kind: str = "status"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    body_text: str | None = None
    content_type: str | None = None
    delay_s: float = 0.0
    when: str = "before"
    times: int | None = 1
    body_contains: str | None = None
    fired: int = 0

    def matches(self, method: str, path: str, body: bytes) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if not fnmatch.fnmatch(f"{method} {path}", self.route) and self.route != "*":
            return False
        if self.body_contains and self.body_contains.encode() not in body:
            return False
        return True


@dataclass
class Profile:
    """Probabilistic faults applied to every non-control request."""

    p_5xx: float = 0.0
    p_429: float = 0.0
    p_reset: float = 0.0
    p_job_failed: float = 0.0
    p_job_stuck: float = 0.0
    retry_after_s: float = 1.0
    seed: int = 0
    latency_max_s: float = 0.0  # each request waits a uniform 0..latency_max_s first (own RNG)


class FaultState:
    """Rules, profile and counters of one emulator."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.profile: Profile | None = None
        self.rng = random.Random(0)
        self.latency_rng = random.Random(1)
        self.fired: dict[str, int] = {}
        self.lock = threading.Lock()

    def configure(self, payload: Any) -> None:
        """Install rules or a profile from a control request body."""
        with self.lock:
            if isinstance(payload, dict) and any(k.startswith("p_") for k in payload):
                self.profile = Profile(**payload)
                self.rng = random.Random(self.profile.seed)
                self.latency_rng = random.Random(self.profile.seed + 1)  # latency never shifts the fault draws
                return
            rules = payload.get("rules", [payload]) if isinstance(payload, dict) else payload
            for r in rules:
                self.rules.append(Rule(**r))

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.profile = None
            self.fired.clear()

    def count(self, kind: str) -> None:
        self.fired[kind] = self.fired.get(kind, 0) + 1

    def pick(self, method: str, path: str, body: bytes) -> Rule | None:
        """The scripted rule for this request (consumes one ``times``), else a profile draw."""
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path, body):
                    rule.fired += 1
                    self.count(rule.kind)
                    return rule
            p = self.profile
            if p is None:
                return None
            x = self.rng.random()
            if x < p.p_5xx:
                self.count("status")
                return Rule(kind="status", status=self.rng.choice([500, 502, 503]))
            x -= p.p_5xx
            if x < p.p_429:
                self.count("status")
                return Rule(kind="status", status=429, headers={"Retry-After": f"{p.retry_after_s:g}"})
            x -= p.p_429
            if x < p.p_reset:
                self.count("reset")
                return Rule(kind="reset", when="after")
            if b'"videoInference"' in body:
                y = self.rng.random()
                if y < p.p_job_failed:
                    self.count("job_failed")
                    return Rule(kind="job_failed")
                if y < p.p_job_failed + p.p_job_stuck:
                    self.count("job_stuck")
                    return Rule(kind="job_stuck")
            return None

    def latency(self) -> float:
        """Seconds this request waits under the profile's ``latency_max_s`` (0 without a profile)."""
        with self.lock:
            p = self.profile
            if p is None or p.latency_max_s <= 0:
                return 0.0
            return self.latency_rng.uniform(0.0, p.latency_max_s)


ErrorBody = Callable[[int, str], dict[str, Any]]


class FaultMiddleware:
    """ASGI middleware applying :class:`FaultState` rules and serving the control endpoints.

    Args:
        app: the service's Starlette app (its ``state.emu`` has ``stats()``, ``reset()``,
            ``configure(dict)``).
        error_body: ``(status, message) → JSON body`` in the service's error shape.
    """

    def __init__(self, app: Any, error_body: ErrorBody) -> None:
        self.app = app
        self.error_body = error_body
        self.faults = FaultState()

    @property
    def emu(self) -> Any:
        return self.app.state.emu

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        if path.startswith(CONTROL_PREFIX):
            return await self._control(scope, receive, send, path)
        body = b""
        more = True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)

        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:  # later calls wait for the client to disconnect, like a real receive()
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        rule = self.faults.pick(scope["method"], path, body)
        delay = self.faults.latency()
        if delay:
            await asyncio.sleep(delay)
        if rule is None:
            return await self.app(scope, replay, send)
        if rule.kind == "latency":
            await asyncio.sleep(rule.delay_s)
            return await self.app(scope, replay, send)
        if rule.kind == "status":
            payload = rule.body if rule.body is not None else self.error_body(rule.status, _reason(rule.status))
            resp = JSONResponse(payload, status_code=rule.status, headers=rule.headers)
            return await resp(scope, replay, send)
        if rule.kind == "body":
            data = rule.body_text.encode() if rule.body_text is not None else json.dumps(rule.body).encode()
            resp = Response(data, status_code=200, media_type=rule.content_type or "application/json", headers=rule.headers)
            return await resp(scope, replay, send)
        if rule.kind in ("reset", "malformed"):
            if rule.when == "after":
                status, headers, content = await _capture(self.app, scope, replay)
            else:
                status, headers, content = 200, [(b"content-type", b"application/json")], b'{"data": []}'
            if rule.kind == "malformed":
                bad = b'{"data": [{"taskType": "vid' if content else b"<html>oops"
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(bad)).encode()))
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": bad, "more_body": False})
                return
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(max(len(content), 64) + 1000).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content[: len(content) // 3], "more_body": True})
            raise EmulatedReset("emulated connection reset")
        # Service-specific kinds (job_failed, job_stuck, refusal, length, content_filter, ...).
        scope.setdefault("state", {})["fault"] = rule.kind
        return await self.app(scope, replay, send)

    async def _control(self, scope: dict, receive: Callable, send: Callable, path: str) -> None:
        request = Request(scope, receive)
        action = path[len(CONTROL_PREFIX):].strip("/")
        if action == "faults" and request.method == "POST":
            self.faults.configure(await request.json())
            resp = JSONResponse({"ok": True, "rules": len(self.faults.rules),
                                 "profile": self.faults.profile is not None})
        elif action == "faults" and request.method == "DELETE":
            self.faults.clear()
            resp = JSONResponse({"ok": True})
        elif action == "stats":
            resp = JSONResponse({**self.emu.stats(), "faults_fired": dict(self.faults.fired)})
        elif action == "reset" and request.method == "POST":
            self.faults.clear()
            self.emu.reset()
            resp = JSONResponse({"ok": True})
        elif action == "config" and request.method == "POST":
            self.emu.configure(await request.json())
            resp = JSONResponse({"ok": True})
        else:
            resp = JSONResponse({"error": f"unknown control action {action!r}"}, status_code=404)
        await resp(scope, receive, send)


async def _capture(app: Any, scope: dict, receive: Callable) -> tuple[int, list, bytes]:
    status, headers, chunks = 200, [], []

    async def capture_send(msg: dict) -> None:
        nonlocal status, headers
        if msg["type"] == "http.response.start":
            status, headers = msg["status"], list(msg.get("headers", []))
        elif msg["type"] == "http.response.body":
            chunks.append(msg.get("body", b""))

    await app(scope, receive, capture_send)
    return status, headers, b"".join(chunks)


def _reason(status: int) -> str:
    return {429: "Too many requests", 500: "Internal server error", 502: "Bad gateway",
            503: "Service unavailable", 401: "Unauthorized", 402: "Payment required",
            403: "Forbidden"}.get(status, f"HTTP {status}")


def fault_of(request: Request) -> str | None:
    """The service-specific fault kind the middleware attached to this request, if any."""
    return request.scope.get("state", {}).get("fault")


# ---------------------------------------------------------------------------------------------
# Real media bytes
# ---------------------------------------------------------------------------------------------

_media_lock = threading.Lock()


def speech_like_pcm(duration_s: float, sr: int = 48000, lead_s: float = 0.12, tail_s: float = 0.2,
                    seed: int = 0) -> np.ndarray:
    """int16 mono samples: ``lead_s`` silence, a voiced (pitch-gliding, syllable-modulated)
    signal, ``tail_s`` silence. Total length ``duration_s`` seconds."""
    n = max(1, int(duration_s * sr))
    lead, tail = int(lead_s * sr), int(tail_s * sr)
    voiced = max(1, n - lead - tail)
    t = np.arange(voiced) / sr
    rng = np.random.default_rng(seed)
    f0 = 140 + 25 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    sig = sum(np.sin(k * phase) / k for k in range(1, 6))
    env = 0.55 + 0.45 * np.abs(np.sin(2 * np.pi * 3.0 * t))
    sig = 0.3 * sig * env / np.max(np.abs(sig))
    out = np.zeros(n, dtype=np.float32)
    out[lead:lead + voiced] = sig[: n - lead]
    return (np.clip(out, -1, 1) * 32767).astype(np.int16)


def wav_bytes(pcm: np.ndarray, sr: int = 48000) -> bytes:
    """16-bit mono WAV file bytes."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def mp3_bytes(wav: bytes) -> bytes:
    """Encode WAV bytes to MP3 with the bundled ffmpeg (libmp3lame)."""
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "wav", "-i", "pipe:0", "-c:a", "libmp3lame",
                           "-b:a", "64k", "-f", "mp3", "pipe:1"], input=wav, capture_output=True, check=True)
    return proc.stdout


def mp4_file(width: int, height: int, duration_s: float, fps: int) -> Path:
    """A real H.264 MP4 (``testsrc2``) of the given size/duration/fps, cached on disk."""
    MEDIA_CACHE.mkdir(parents=True, exist_ok=True)
    dest = MEDIA_CACHE / f"testsrc_{width}x{height}_{duration_s:g}s_{fps}fps.mp4"
    with _media_lock:
        if dest.exists() and dest.stat().st_size > 0:
            return dest
        tmp = dest.with_suffix(".tmp.mp4")
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size={width}x{height}:rate={fps}:duration={duration_s:g}",
                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                        str(tmp)], check=True, capture_output=True)
        tmp.replace(dest)
    return dest


def own_base(request: Request) -> str:
    """This app's absolute base URL (scheme, host, port and mount path; no trailing slash)."""
    root = request.scope.get("root_path", "")
    return str(request.url.replace(path=root or "/", query="")).rstrip("/")
