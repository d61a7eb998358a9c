"""Ports: the interfaces the flows depend on. Adapters live in ``clients/`` (remote services)
and ``processors/`` (embedded local defaults); ``flows/_wiring.py`` picks one per port.

All ports are async so a remote client (httpx) and a local engine (run in a worker thread)
look the same to the flow. Each adapter exposes ``provider`` (e.g. ``"local-piper"``,
``"hume"``) so metadata can record who made each part.

Costs travel with results: every port method returns what its call was billed inside its result
(:attr:`PlannedScript.costs`, :attr:`Utterance.costs`, :attr:`Clip.costs`, empty when free). An
adapter keeps no list of costs of its own, so two videos made at once by one process (one shared
adapter) never see each other's entries; the flow sums the costs of the results it got.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reelflow.core.models import Brief, Clip, ClipRequest, PlannedScript, Scene, ScriptPlan, Utterance


@runtime_checkable
class ScriptWriter(Protocol):
    """Writes the script and shot plan for a brief."""

    provider: str
    model: str

    async def write_plan(self, brief: Brief) -> PlannedScript:
        """Return a plan whose scene durations add up to ``brief.duration_s`` (±0.5 s), with the
        cost entries of writing it (one per paid completion) and who wrote it.

        Raises:
            core.errors.ReelFlowError subclasses on failure (never returns None).
        """
        ...


class ScriptRules(Protocol):
    """The offline script rules an LLM planner is held to, injected by the composition root.

    Implemented by :class:`processors.planner.TemplatePlanner`; the OpenAI adapter uses it to
    analyse the brief, repair over-long strings locally, check the hard rules and, when a model's
    answer still breaks them after one re-ask, write the plan itself (the fallback).
    """

    provider: str
    model: str
    #: The local voice's planning rate in words per second (pauses included).
    words_per_second: float

    def analyze(self, brief: Brief) -> Any:
        """Typed brief analysis (brand, facts, required lines, production notes).

        Raises:
            core.errors.InputError: the brief is bad input (nothing to say, line too long).
        """
        ...

    def repair(self, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Cut over-long strings of a decoded plan at word boundaries: ``(fixed copy, what was cut)``."""
        ...

    def check(self, plan: ScriptPlan, analysis: Any, brief: Brief) -> list[str]:
        """The hard rules a plan breaks, as problems stated for a re-ask (empty = good)."""
        ...

    def plan(self, brief: Brief) -> ScriptPlan:
        """Write the plan offline (the fallback)."""
        ...


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """Speaks one scene's narration into a WAV file."""

    provider: str

    async def synthesize(
        self,
        scene: Scene,
        out_path: Path,
        *,
        voice: str | None = None,
        language: str = "en",
        context_key: str | None = None,
        pace: float = 1.0,
    ) -> Utterance:
        """Write ``out_path`` (WAV, leading/trailing silence trimmed) and describe it; the
        utterance carries what it was billed (:attr:`Utterance.costs`).

        ``pace`` multiplies the natural duration (0.88-1.12: 0.9 speaks ~5 % faster); engines map
        it to their own control (Piper ``length_scale``, Hume ``speed`` = 1/pace).

        ``context_key`` groups the utterances of one video so engines that support continuity
        (Hume ``context``) keep one consistent delivery.
        """
        ...


@runtime_checkable
class ClipGenerator(Protocol):
    """Produces one MP4 clip per scene at the requested size and duration."""

    provider: str

    async def generate(self, request: ClipRequest, out_path: Path) -> Clip:
        """Write ``out_path`` (H.264 MP4, ``request.width``×``request.height``, ≥ duration); the
        clip carries what it was billed (:attr:`Clip.costs`)."""
        ...


@runtime_checkable
class Storage(Protocol):
    """Where finished outputs are published (local folder or S3)."""

    def publish(self, local_path: Path, key: str, content_type: str | None = None) -> str:
        """Copy a finished local file to ``key`` atomically; return its URI."""
        ...

    def uri(self, key: str) -> str:
        """URI of ``key`` in this storage."""
        ...
