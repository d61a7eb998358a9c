"""Composition root: turns :class:`core.settings.Settings` into concrete port implementations.

This is the only place that decides "local or remote": a service is used remotely exactly
when its key is set (``OPENAI_API_KEY``, ``HUME_API_KEY``, ``RUNWARE_API_KEY``); otherwise the
embedded local default runs (template planner, Piper TTS, footage renderer). Flows and tasks
get their adapters from :func:`get_runtime`, which caches one runtime per process and settings
(the encoder and indexes are loaded once, not per task).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from reelflow.core.ports import ClipGenerator, ScriptWriter, SpeechSynthesizer
from reelflow.core.settings import Settings, load_settings


#: (settings section, field) → Prefect Secret block name (``prefect block create secret`` / the UI's Blocks page).
SECRET_BLOCKS = {
    ("openai", "api_key"): "openai-api-key",
    ("hume", "api_key"): "hume-api-key",
    ("runware", "api_key"): "runware-api-key",
    ("spotify", "client_secret"): "spotify-client-secret",
}


def apply_prefect_secrets(settings: Settings) -> Settings:
    """Fill unset service keys from Prefect Secret blocks when ``REELFLOW_PREFECT_SECRETS=true``.

    Environment variables win; a missing block is skipped (that service stays local).
    Source: Prefect ``prefect.blocks.system.Secret``.
    """
    if not settings.prefect_secrets:
        return settings
    from prefect.blocks.system import Secret
    from pydantic import SecretStr

    updates: dict[str, Any] = {}
    for (section, field_name), block in SECRET_BLOCKS.items():
        if getattr(getattr(settings, section), field_name) is not None:
            continue
        try:
            value = Secret.load(block, _sync=True).get()
        except ValueError:  # no such block
            continue
        current = updates.get(section) or getattr(settings, section)
        updates[section] = current.model_copy(update={field_name: SecretStr(str(value))})
    return settings.model_copy(update=updates) if updates else settings


#: Part of a video → the settings section whose ``api_key`` selects its remote service.
REMOTE_KEYS = {"plan": "openai", "narration": "hume", "clips": "runware"}


def remote_parts(settings: Settings) -> frozenset[str]:
    """The parts (``plan``, ``narration``, ``clips``) made by a remote, paid service: those whose key
    is set. The one place that decides "local or remote"; the ``make_*`` functions follow it."""
    return frozenset(part for part, section in REMOTE_KEYS.items() if getattr(settings, section).api_key is not None)


def make_script_writer(settings: Settings) -> ScriptWriter:
    """OpenAI (Structured Outputs) when ``OPENAI_API_KEY`` is set, else the template planner.

    The OpenAI writer is given the template planner as its :class:`core.ports.ScriptRules`: the same
    analysis, checks and local repairs, and the fallback when a model's plan still breaks them.
    """
    from reelflow.processors.planner import TemplatePlanner

    if "plan" in remote_parts(settings):
        from reelflow.clients.openai.adapter import OpenAIScriptWriter

        return OpenAIScriptWriter.from_settings(settings, rules=TemplatePlanner())
    return TemplatePlanner()


def make_speech_synthesizer(settings: Settings) -> SpeechSynthesizer:
    """Hume Octave TTS when ``HUME_API_KEY`` is set, else local Piper."""
    if "narration" in remote_parts(settings):
        from reelflow.clients.hume.adapter import HumeSynthesizer

        return HumeSynthesizer.from_settings(settings)
    from reelflow.processors.local_tts import PiperSynthesizer

    return PiperSynthesizer()


def make_clip_generator(settings: Settings) -> ClipGenerator:
    """Runware videoInference when ``RUNWARE_API_KEY`` is set, else the local motion-design
    renderer (scenes drawn straight into the final encode, :mod:`processors.motion`)."""
    if "clips" in remote_parts(settings):
        from reelflow.clients.runware.adapter import RunwareClipGenerator

        return RunwareClipGenerator.from_settings(settings)
    from reelflow.processors.clip_renderer import MotionClipGenerator

    return MotionClipGenerator()


@dataclass
class Runtime:
    """The adapters one process uses for one configuration.

    ``remote`` names the parts made by a remote, paid service (:func:`remote_parts`): the flows ask
    it whether a key check is due, whether a clip is a generated one to check and show, and whether
    API metrics are worth publishing, instead of guessing from provider names.
    """

    settings: Settings
    writer: ScriptWriter
    tts: SpeechSynthesizer
    clips: ClipGenerator
    remote: frozenset[str] = frozenset()
    _lazy: dict[str, Any] = field(default_factory=dict)
    _checked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def song_index(self) -> Any:
        """The catalogue :class:`processors.song_index.SongIndex` (built on first use, cached on disk)."""
        with self._lock:
            if "songs" not in self._lazy:
                from reelflow.processors.song_index import load_or_build_default

                self._lazy["songs"] = load_or_build_default(self.settings)
            return self._lazy["songs"]

    def asset_library(self) -> Any:
        """The motion-design :class:`processors.motion.assets.AssetLibrary` (vectors cached on disk).

        Raises:
            core.errors.AssetError: a manifest entry's file is missing or its licence not allowed.
        """
        from reelflow.processors.motion.assets import default_library

        return default_library(self.settings.assets, self.settings.cache / "motion")

    def footage_library(self, folder: str | None = None) -> Any:
        """The footage library of ``folder`` (default: the shipped ``assets/footage``)."""
        key = f"footage:{folder or ''}"
        with self._lock:
            if key not in self._lazy:
                from reelflow.processors.embeddings import encode
                from reelflow.processors.motion.footage import FootageLibrary

                self._lazy[key] = FootageLibrary(folder or self.settings.assets / "footage", encode)
            return self._lazy[key]

    def bed_library(self) -> Any:
        """The CC0 :class:`processors.bed_library.BedLibrary` of renderable music beds."""
        with self._lock:
            if "beds" not in self._lazy:
                from reelflow.processors.bed_library import BedLibrary

                self._lazy["beds"] = BedLibrary.load(self.settings)
            return self._lazy["beds"]

    async def check_access(self) -> list[str]:
        """Check every remote adapter's key once per process (cheap, unbilled calls), concurrently.

        Local adapters have nothing to check. A key that passed is not checked again by this
        runtime, so a campaign pays the round trip once per worker process.

        Returns:
            The providers checked now (empty when all were checked before or all are local).

        Raises:
            clients.errors.AuthError: a key was rejected (the message names its variable); other
                ``ServiceError`` subclasses when a service stays unreachable past its deadline.
        """
        import asyncio

        adapters = {"plan": self.writer, "narration": self.tts, "clips": self.clips}
        todo = [adapters[part] for part in sorted(self.remote) if adapters[part].provider not in self._checked]
        await asyncio.gather(*(p.check_access() for p in todo))
        self._checked.update(p.provider for p in todo)
        return [p.provider for p in todo]

    def warm_up(self) -> None:
        """Load what a local run needs (encoder, song index, bed library, Piper voice, footage
        embeddings, the loudness meter's modules) so the first tasks find it in memory. Remote
        adapters load nothing."""
        from reelflow.processors.clip_renderer import LocalClipRenderer
        from reelflow.processors.local_tts import PiperSynthesizer, load_voice

        self.song_index()
        self.bed_library()
        self.asset_library().embeddings()
        if isinstance(self.clips, LocalClipRenderer):
            self.clips.footage_embeddings()
        if isinstance(self.tts, PiperSynthesizer):
            load_voice()
        from reelflow.processors import loudness

        loudness.preload()

    def providers(self) -> dict[str, str]:
        """Provider name per part, for metadata."""
        return {"plan": self.writer.provider, "narration": self.tts.provider, "clips": self.clips.provider}


_RUNTIMES: dict[str, Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


def _settings_key(settings: Settings) -> str:
    secrets = [
        s.get_secret_value() if s is not None else ""
        for s in (settings.openai.api_key, settings.hume.api_key, settings.runware.api_key)
    ]
    raw = settings.model_dump_json() + "|" + "|".join(secrets)
    return hashlib.sha256(raw.encode()).hexdigest()


def get_runtime(settings: Settings | None = None) -> Runtime:
    """Return the process-wide :class:`Runtime` for ``settings`` (default: from the environment).

    Raises:
        core.errors.ConfigurationError: a remote adapter rejects its configuration.
    """
    settings = settings or apply_prefect_secrets(load_settings())
    key = _settings_key(settings)
    with _RUNTIMES_LOCK:
        rt = _RUNTIMES.get(key)
        if rt is None:
            rt = Runtime(
                settings=settings,
                writer=make_script_writer(settings),
                tts=make_speech_synthesizer(settings),
                clips=make_clip_generator(settings),
                remote=remote_parts(settings),
            )
            _RUNTIMES[key] = rt
        return rt


def start_warm_up(settings: Settings | None = None) -> threading.Thread:
    """Warm the process-wide runtime in a daemon thread (:meth:`Runtime.warm_up`).

    The CLI calls it just before starting a flow run, so model and index loads overlap the
    Prefect (ephemeral) server start instead of following it. A failure here is ignored: the
    flow's own tasks raise it again, with their retries and error handling. With
    ``REELFLOW_PREFECT_SECRETS=true`` nothing is warmed (the keys come from the Prefect API).
    """
    import logging

    def run() -> None:
        try:
            base = settings or load_settings()
            if base.prefect_secrets:
                return  # keys come from the Prefect API, which is not up yet: the flow loads them
            get_runtime(base).warm_up()
        except Exception as exc:  # noqa: BLE001 - reported by the flow's tasks
            logging.getLogger(__name__).debug("warm-up failed (the flow will report it): %s", exc)

    thread = threading.Thread(target=run, name="reelflow-warm-up", daemon=True)
    thread.start()
    return thread
