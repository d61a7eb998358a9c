"""``SpeechSynthesizer`` port adapter over Hume Octave TTS (:mod:`clients.hume.client`).

One scene → one WAV: the narration is split at sentence boundaries into ≤ 5,000-character
requests, each asking for WAV (and word timestamps when a voice is set, Octave 2). Continuity:
scene *i* of a ``context_key`` (one video) waits (up to ``context_wait_s``) for scene *i−1* and
sends its ``generation_id`` as ``context``, so the delivery stays consistent across scenes even
when the flow narrates scenes concurrently; if the previous scene fails, or does not start in
this process within ``START_GRACE_S`` (it came from the Prefect cache of a resumed run), the
latest generation of the video is used, or none. Leading and
trailing silence is trimmed (same threshold as the local Piper engine) and word timings are
shifted to match. Pricing: Hume sells characters per plan; no per-character price is
documented, so the cost is ``usd_per_1k_chars`` × characters (default 0); the utterance carries
one entry per paid request (characters, USD, the take's ``generation_id`` as request id) in
:attr:`core.models.Utterance.costs`.

Pay once (a crash never pays for the same line twice):

1. Each paid take is written, the moment its answer has been checked, to a receipt
   ``<receipts dir>/<request key>.json`` (``<cache>/hume-receipts`` from settings, shared by every
   video, so a line two videos say alike is paid once; ``<out folder>/.hume-receipts`` when the
   adapter is built without one) (one file, atomic: audio, word timings,
   generation id) and recorded in the cost ledger (:func:`core.ledger.record_paid`, part
   ``narration``). The request key hashes what was asked (text, voice, acting description,
   speed, model version), not the context nor the scene's place, so a rerun finds it even when
   the pacing step's re-plan moved the line to another scene.
2. The scene's WAV is written to ``out_path``, then its utterance record
   ``<out_path stem>.utterance.json`` (the :class:`core.models.Utterance`, the request key of
   the scene, the WAV's SHA-256), both atomically.

A rerun returns the utterance of a complete pair (record parses, same key, WAV digest matches)
without a request, and otherwise rebuilds the WAV from the receipts it finds, asking Hume only
for the takes that have none. A half-written pair (WAV without record, record of another WAV)
or an unreadable receipt is never reused.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import io
import json
import os
import threading
import uuid
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reelflow.clients._http import Clock, MetricsRecorder, RateLimiter, RetryPolicy, policy_from_settings
from reelflow.clients.errors import MalformedResponse, NotFound
from reelflow.clients.hume.client import HumeClient, split_text, voice_ref
from reelflow.clients.hume.types import REQUESTS_PER_MINUTE, Generation, PostedUtterance, VoiceRef
from reelflow.core.ledger import record_paid
from reelflow.core.models import CostEntry, Scene, Utterance, WordTiming
from reelflow.core.storage import atomic_path, atomic_write_json, sha256_file

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

#: Hidden folder (beside the narration WAVs) holding one receipt per paid take.
RECEIPTS_DIR = ".hume-receipts"


def request_key(*parts: Any) -> str:
    """Stable 20-hex-digit hash of JSON-able parts (what a take or a scene asked Hume for)."""
    raw = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()[:20]


def utterance_record_path(out_path: Path) -> Path:
    """The utterance record written beside a narration WAV: ``<stem>.utterance.json``."""
    return Path(out_path).with_name(Path(out_path).stem + ".utterance.json")


def load_complete_pair(out_path: Path, key: str) -> Utterance | None:
    """The :class:`core.models.Utterance` of a complete WAV + record pair for ``key``, else None.

    Complete: the record parses, names the same scene key and ``out_path``, and the WAV's
    SHA-256 equals the one recorded (so a WAV rewritten or cut short is not reused).
    """
    record = utterance_record_path(out_path)
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        if data.get("key") != key or not Path(out_path).is_file():
            return None
        utterance = Utterance.model_validate(data["utterance"])
        if Path(utterance.audio_path) != Path(out_path) or sha256_file(out_path) != data.get("wav_sha256"):
            return None
        return utterance
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.asynccontextmanager
async def take_lock(path: Path, poll_s: float = 0.05) -> AsyncIterator[None]:
    """Hold an exclusive inter-process lock on one take (``fcntl.flock`` on ``path``) while it is
    looked up, paid and written, so two runs narrating the same scene at once (two runs of one
    campaign) pay for it once: the second waits, then finds the first one's receipt. Polled
    without blocking the event loop; the lock dies with its process (a SIGKILL frees it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(poll_s)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _load_receipt(path: Path) -> tuple[Generation, np.ndarray, int] | None:
    """A receipt's take (generation, decoded audio, sample rate), or None when absent or unreadable."""
    try:
        gen = Generation.model_validate(json.loads(path.read_text(encoding="utf-8"))["generation"])
        pcm, sr = decode_wav(base64.b64decode(gen.audio))
        return gen, pcm, sr
    except (OSError, ValueError, KeyError, TypeError, MalformedResponse):
        return None


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """WAV bytes → (float32 mono samples in [-1, 1], sample rate).

    Raises:
        MalformedResponse: not a 16-bit PCM WAV.
    """
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            sr, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise MalformedResponse(f"hume: audio is not a WAV file ({exc})", service="hume") from None
    if width != 2:
        raise MalformedResponse(f"hume: expected 16-bit WAV, got {8 * width}-bit", service="hume")
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if ch > 1:
        pcm = pcm.reshape(-1, ch).mean(axis=1)
    return pcm, sr


def trim_bounds(audio: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """First/last sample to keep after silence trimming (the local TTS engine's rule)."""
    try:
        from reelflow.processors.local_tts import _trim_bounds

        return _trim_bounds(audio, sample_rate)
    except ImportError:  # pragma: no cover - processors missing in a stripped install
        loud = np.flatnonzero(np.abs(audio) > 10 ** (-45 / 20))
        if loud.size == 0:
            return 0, len(audio)
        pad = int(0.05 * sample_rate)
        return max(0, int(loud[0]) - pad), min(len(audio), int(loud[-1]) + 1 + pad)


def acting_description(scene: Scene) -> str | None:
    """Acting instructions from the scene (``voice_instruction`` + ``emotion``), ≤ 1,000 chars."""
    parts = [p for p in (scene.voice_instruction.strip(), scene.emotion.strip() if scene.emotion != "neutral" else "")
             if p]
    return "; ".join(parts)[:1000] or None


class HumeSynthesizer:
    """Narrates scenes with Hume Octave TTS.

    Args:
        api_key / base_url: ``HUME_API_KEY`` / ``HUME_BASE_URL``.
        default_voice: voice name or id when the caller gives none (``HUME_VOICE``); None lets
            Hume design a voice from the acting description.
        requests_per_minute: client-side limit shared by all calls of this adapter (100).
        usd_per_1k_chars: price to record (0 = unknown; characters are recorded regardless).
        receipts_dir: where paid takes are kept (one receipt per take, shared by every video that
            uses this folder: the same take is never paid twice); None = beside each narration WAV.
        transport / policy / clock / metrics: see :class:`clients._http.ServiceClient`.
    """

    provider = "hume"

    def __init__(self, api_key: str, base_url: str = "https://api.hume.ai", *, default_voice: str | None = None,
                 requests_per_minute: int = REQUESTS_PER_MINUTE, usd_per_1k_chars: float = 0.0,
                 context_wait_s: float = 60.0, receipts_dir: Path | None = None,
                 transport: Any = None, policy: RetryPolicy | None = None, clock: Clock | None = None,
                 metrics: MetricsRecorder | None = None) -> None:
        self._key, self._base = api_key, base_url
        self.default_voice = default_voice
        self.usd_per_1k_chars = usd_per_1k_chars
        self._transport, self._policy, self._clock, self._metrics = transport, policy, clock, metrics
        self.limiter = RateLimiter(requests_per_minute, 60.0, clock=clock)
        self._contexts: dict[str, str] = {}
        self._scene_gens: dict[str, dict[int, str]] = {}
        self._voices: dict[str, tuple[Any, str | None]] = {}  # voice text → (ref, design)
        self._started: dict[str, set[int]] = {}  # scenes being (or been) spoken, per video
        self._ended: dict[str, set[int]] = {}  # scenes done or failed, per video
        self.context_wait_s = context_wait_s
        self.receipts_dir = receipts_dir
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> HumeSynthesizer:
        """Build from :class:`core.settings.Settings` (``HUME_*`` and ``REELFLOW_SERVICE_*``)."""
        return cls(settings.hume.api_key.get_secret_value(), settings.hume.base_url,
                   default_voice=settings.hume.voice, requests_per_minute=settings.hume.requests_per_minute,
                   receipts_dir=settings.paths.cache_dir / "hume-receipts", policy=policy_from_settings(settings))

    def _client(self) -> HumeClient:
        return HumeClient(self._key, self._base, transport=self._transport, policy=self._policy, clock=self._clock,
                          limiter=self.limiter, metrics=self._metrics)

    async def check_access(self) -> None:
        """Fail fast on a rejected ``HUME_API_KEY`` (one voices page of size 1, nothing billed).

        Raises:
            clients.errors.AuthError naming HUME_API_KEY, or another ServiceError.
        """
        async with self._client() as client:
            await client.voices_page(page_size=1)

    async def _resolve_voice(self, voice: str | None) -> tuple[Any, str | None]:
        """``(VoiceRef | None, voice-design text | None)`` for a voice name, id or description.

        A UUID is used as an id as it is. A name is looked up once per adapter in both voice
        libraries (``GET /v0/tts/voices``, ``CUSTOM_VOICE`` then ``HUME_AI``), so a custom voice
        is sent with its own provider. Text that names no voice (e.g. "warm female narrator")
        becomes a voice-design description instead of a 400 from the API.
        """
        if not voice:
            return None, None
        try:
            uuid.UUID(voice)
            return voice_ref(voice), None
        except ValueError:
            pass
        with self._lock:
            if voice in self._voices:
                return self._voices[voice]
        try:
            async with self._client() as client:
                found = await client.find_voice(voice)
            resolved: tuple[Any, str | None] = (VoiceRef(id=found.id, provider=found.provider or "HUME_AI"), None)
        except NotFound:
            resolved = (None, voice.strip()[:1000])
        with self._lock:
            self._voices[voice] = resolved
        return resolved

    #: How long scene *i* waits for scene *i−1* to start in this process. Past it, scene *i−1*
    #: is taken to come from elsewhere (the Prefect cache of a resumed run, another worker) and
    #: scene *i* goes ahead without waiting for its context.
    START_GRACE_S = 2.0

    async def _wait_for_previous(self, context_key: str, index: int) -> None:
        """Wait (without blocking the loop) while scene ``index - 1`` of ``context_key`` is being spoken.

        Returns at once when it is done or failed; waits at most :attr:`START_GRACE_S` for it to
        start, and at most ``context_wait_s`` in all.
        """
        from reelflow.clients._http import Clock

        clock = self._clock or Clock()
        start = clock.now()
        while index > 0 and clock.now() - start < self.context_wait_s:
            with self._lock:
                if index - 1 in self._ended.get(context_key, set()):
                    return
                started = index - 1 in self._started.get(context_key, set())
            if not started and clock.now() - start >= self.START_GRACE_S:
                return
            await clock.sleep(0.05)

    async def synthesize(self, scene: Scene, out_path: Path, *, voice: str | None = None, language: str = "en",
                         context_key: str | None = None, pace: float = 1.0) -> Utterance:
        """Speak ``scene.narration`` into ``out_path`` (16-bit mono WAV, silence trimmed).

        ``pace`` (duration multiplier, clamped to 0.88-1.12) is sent as the utterance ``speed``
        = 1/pace (api-contracts.md §1: ``utterances[].speed``, 1.0 natural); 1.0 sends none.

        Returns:
            :class:`core.models.Utterance` with word timings (seconds from the trimmed start)
            when Hume returns them, and its cost entry (characters sent, USD).

        Raises:
            clients.errors.ServiceError subclasses (AuthError names HUME_API_KEY; RequestInvalid
            names the field, e.g. an unknown voice; DeadlineExceeded).
        """
        voice = voice or self.default_voice
        pace = min(1.12, max(0.88, pace))
        key = request_key("scene", scene.index, scene.narration, scene.emotion, scene.voice_instruction, voice,
                          round(pace, 3))
        done = load_complete_pair(Path(out_path), key)
        if done is not None:  # a rerun after a crash: the paid take is on disk, nothing is asked again
            if context_key:
                with self._lock:
                    self._started.setdefault(context_key, set()).add(scene.index)
                    self._ended.setdefault(context_key, set()).add(scene.index)
                    if done.costs and done.costs[-1].request_id:
                        self._scene_gens.setdefault(context_key, {})[scene.index] = done.costs[-1].request_id
                        self._contexts[context_key] = done.costs[-1].request_id
            return done
        ref, design = await self._resolve_voice(voice)
        desc = acting_description(scene)
        if design:  # not a voice of the account: Octave designs one from the words
            desc = "; ".join(p for p in (design, desc) if p)[:1000]
        chunks = split_text(scene.narration)
        if not context_key:
            return await self._synthesize(scene, out_path, voice, ref, desc, chunks, None, pace, key)
        with self._lock:
            self._started.setdefault(context_key, set()).add(scene.index)
        try:
            await self._wait_for_previous(context_key, scene.index)
            return await self._synthesize(scene, out_path, voice, ref, desc, chunks, context_key, pace, key)
        finally:
            with self._lock:
                self._ended.setdefault(context_key, set()).add(scene.index)

    async def _synthesize(self, scene: Scene, out_path: Path, voice: str | None, ref: Any, desc: str | None,
                          chunks: list[str], context_key: str | None, pace: float, key: str) -> Utterance:
        """:meth:`synthesize` after the context wait: the takes (receipt first), the WAV, its record."""
        pieces: list[np.ndarray] = []
        words: list[WordTiming] = []
        costs: list[CostEntry] = []
        sr = 48000
        speed = None if abs(pace - 1.0) < 1e-3 else round(1.0 / pace, 3)
        version = "2" if ref else None
        model = "octave-2" if ref else "octave"
        receipts = self.receipts_dir or Path(out_path).parent / RECEIPTS_DIR
        offset = 0.0
        async with self._client() as client:
            for text in chunks:
                take = request_key("take", text, desc, ref.model_dump() if ref else None, speed, version)
                receipt = receipts / f"{take}.json"
                async with take_lock(receipts / f".{take}.lock"):
                    found = _load_receipt(receipt)
                    if found is not None:  # paid before (a crash, another run): reuse, never pay again
                        gen, pcm, sr = found
                    else:
                        with self._lock:
                            prev = self._scene_gens.get(context_key or "", {}).get(scene.index - 1)
                            ctx = ((prev if not pieces and prev else self._contexts.get(context_key))
                                   if context_key else None)
                        result = await client.tts(
                            [PostedUtterance(text=text, description=desc, voice=ref, speed=speed)],
                            context_generation_id=ctx, audio_format="wav", version=version,
                            timestamps=ref is not None,
                        )
                        gen = result.generations[0]
                        pcm, sr = decode_wav(base64.b64decode(gen.audio))
                        # Paid: the take is on disk (and, below, in the ledger) before anything else.
                        atomic_write_json(receipt, {"generation": gen.model_dump(), "request_id": result.request_id,
                                                    "text": text, "model": model})
                cost = CostEntry(provider=self.provider, model=model, units=len(text), unit="characters",
                                 cost_usd=round(len(text) / 1000 * self.usd_per_1k_chars, 6),
                                 request_id=gen.generation_id)
                # Once per take (deduplicated on its generation id): a take reused from its receipt is
                # recorded here too, in case the crash came between the receipt and the ledger.
                record_paid(cost, "narration")
                costs.append(cost)
                if context_key:
                    with self._lock:
                        self._contexts[context_key] = gen.generation_id
                for snippet in (s for group in gen.snippets for s in group):
                    for ts in snippet.timestamps:
                        if ts.type == "word":
                            words.append(WordTiming(text=ts.text, start_s=offset + ts.time.begin / 1000,
                                                    end_s=offset + ts.time.end / 1000))
                pieces.append(pcm)
                offset += len(pcm) / sr
        if context_key:
            with self._lock:
                self._scene_gens.setdefault(context_key, {})[scene.index] = self._contexts[context_key]
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        first, last = trim_bounds(audio, sr)
        audio = audio[first:last]
        if audio.size == 0:
            raise MalformedResponse("hume: the generated audio is silent", service="hume")
        duration = len(audio) / sr
        shift = first / sr
        words = [WordTiming(text=w.text, start_s=round(min(duration, max(0.0, w.start_s - shift)), 3),
                            end_s=round(min(duration, max(0.0, w.end_s - shift)), 3)) for w in words]
        out_path = Path(out_path)
        with atomic_path(out_path, suffix=".wav") as tmp:
            with wave.open(str(tmp), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(sr)
                w.writeframes(np.clip(audio * 32767.0, -32767, 32767).astype("<i2").tobytes())
        utterance = Utterance(scene_index=scene.index, text=scene.narration, audio_path=str(out_path),
                              duration_s=round(duration, 4), sample_rate=sr, words=words, provider=self.provider,
                              voice=voice or "hume:designed-voice", costs=costs)
        # The record goes last: a WAV without it (a crash in between) is rebuilt from the receipts.
        atomic_write_json(utterance_record_path(out_path), {"key": key, "wav_sha256": sha256_file(out_path),
                                                            "utterance": utterance.model_dump(mode="json")})
        return utterance
