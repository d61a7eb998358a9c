"""``ScriptWriter`` port adapter over OpenAI Structured Outputs (:mod:`clients.openai.client`).

The strict ``json_schema`` is generated from :class:`core.models.ScriptPlan` (see
:func:`clients.openai.client.strict_json_schema`); the answer is validated with ``ScriptPlan``
inside the client's single retry layer (an invalid answer is asked again, within the deadline)
and the scene durations are rescaled to add up to ``brief.duration_s``.
"""

from __future__ import annotations

import threading
from typing import Any

from reelflow.clients._http import Clock, MetricsRecorder, RetryPolicy, policy_from_settings
from reelflow.clients.openai.client import OpenAIClient, strict_json_schema
from reelflow.core.models import WORDS_PER_SECOND, Brief, CostEntry, ScriptPlan

#: USD per 1M tokens (input, output) for models with published prices; others record 0.
PRICES_PER_M: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}

SCHEMA: dict[str, Any] = strict_json_schema(ScriptPlan.model_json_schema())

SYSTEM_PROMPT = """You write scripts and shot plans for short vertical/landscape social videos.
Answer only in the given JSON schema. Rules:
- 3 to 8 scenes; the first scene is the hook, the last is the call to action.
- Scene durations (seconds) must add up to the requested total.
- Each scene's narration fits its duration at about {wps} spoken words per second.
- visual_prompt describes one continuous shot for a text-to-video model (subject, setting, camera,
  light); negative_prompt lists what must not appear (text, watermarks, logos).
- voice_instruction is a short acting direction (under 100 characters); emotion is one word.
- hashtags are single words without spaces; music_mood is a search query for background music.
- Write in the requested language."""


def rescale_durations(plan: ScriptPlan, total_s: float) -> ScriptPlan:
    """Scale scene durations proportionally so they sum to ``total_s`` (each ≤ 60 s, ≥ 0.5 s).

    The last scene absorbs rounding so the sum is exact to 1 ms.
    """
    current = plan.duration_s or 1.0
    factor = total_s / current
    durations = [max(0.5, min(60.0, round(s.duration_s * factor, 3))) for s in plan.scenes]
    durations[-1] = max(0.5, min(60.0, round(total_s - sum(durations[:-1]), 3)))
    scenes = [s.model_copy(update={"duration_s": d}) for s, d in zip(plan.scenes, durations, strict=True)]
    return plan.model_copy(update={"scenes": scenes})


def user_prompt(brief: Brief) -> str:
    """The user message describing the brief."""
    lines = [f"Brief: {brief.text}", f"Total duration: {brief.duration_s:g} seconds",
             f"Aspect ratio: {brief.aspect.value}; platform: {brief.platform.value}; language: {brief.language}"]
    for label, value in (("Tone", brief.tone), ("Audience", brief.audience), ("Brand", brief.brand),
                         ("Music preference", brief.music)):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


class OpenAIScriptWriter:
    """Writes a :class:`ScriptPlan` with OpenAI (or any OpenAI-compatible server).

    Args:
        api_key: ``OPENAI_API_KEY``; base_url: ``OPENAI_BASE_URL``; model: ``OPENAI_MODEL``.
        transport: ``httpx2`` transport for tests; policy/clock/metrics: see ``clients._http``.

    Attributes:
        costs: one :class:`core.models.CostEntry` per plan written (tokens and USD).
    """

    provider = "openai"

    def __init__(self, api_key: str, base_url: str | None = None, model: str = "gpt-4o-mini", *,
                 transport: Any = None, policy: RetryPolicy | None = None, clock: Clock | None = None,
                 metrics: MetricsRecorder | None = None, temperature: float = 0.7) -> None:
        self._key, self._base, self.model = api_key, base_url, model
        self._transport, self._policy, self._clock, self._metrics = transport, policy, clock, metrics
        self.temperature = temperature
        self.costs: list[CostEntry] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> OpenAIScriptWriter:
        """Build from :class:`core.settings.Settings` (``OPENAI_*`` and ``REELFLOW_SERVICE_*``)."""
        return cls(settings.openai_api_key.get_secret_value(), settings.openai_base_url, settings.openai_model,
                   policy=policy_from_settings(settings))

    async def check_access(self) -> None:
        """Fail fast on a rejected ``OPENAI_API_KEY`` (``GET /models``, nothing billed).

        Raises:
            clients.errors.AuthError naming OPENAI_API_KEY, or another ServiceError.
        """
        async with OpenAIClient(self._key, self._base, model=self.model, transport=self._transport,
                                policy=self._policy, clock=self._clock, metrics=self._metrics) as client:
            await client.check_access()

    async def write_plan(self, brief: Brief) -> ScriptPlan:
        """Ask the model for a plan, validate it and fit it to ``brief.duration_s``.

        Raises:
            clients.errors.ServiceError subclasses (AuthError names OPENAI_API_KEY; ModelRefused;
            OutputTruncated; InvalidOutput when every try failed validation; DeadlineExceeded).
        """
        messages = [{"role": "system", "content": SYSTEM_PROMPT.format(wps=WORDS_PER_SECOND)},
                    {"role": "user", "content": user_prompt(brief)}]
        async with OpenAIClient(self._key, self._base, model=self.model, transport=self._transport,
                                policy=self._policy, clock=self._clock, metrics=self._metrics) as client:
            result = await client.structured(messages, SCHEMA, name="script_plan", temperature=self.temperature,
                                             validate=ScriptPlan.model_validate)
        plan = rescale_durations(result.parsed, brief.duration_s)
        pin, pout = PRICES_PER_M.get(self.model, (0.0, 0.0))
        cost = (result.prompt_tokens * pin + result.completion_tokens * pout) / 1e6
        with self._lock:
            self.costs.append(CostEntry(provider=self.provider, model=result.model or self.model,
                                        units=result.prompt_tokens + result.completion_tokens, unit="tokens",
                                        cost_usd=round(cost, 6), request_id=result.request_id))
        return plan
