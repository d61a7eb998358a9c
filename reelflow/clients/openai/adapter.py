"""``ScriptWriter`` port adapter over OpenAI Structured Outputs (:mod:`clients.openai.client`).

The strict ``json_schema`` is generated from :class:`core.models.ScriptPlan` (see
:func:`clients.openai.client.strict_json_schema`), so it includes each scene's ``visual``
(:class:`core.models.VisualSpec`); the system prompt states the same rules the offline planner
follows. Every answer goes through the same checks as an offline plan:

1. limits strict mode cannot express (string lengths, list lengths) are repaired locally, cut
   at a word boundary (``ScriptRules.repair``, injected: the offline planner's rules) — never re-asked;
2. pydantic validation and the hard rules (``ScriptRules.check``: brand said,
   no production notes spoken, required closing line last, no repeated line);
3. a plan that breaks a hard rule is re-asked ONCE, with the problems listed in the request;
4. if the second answer still fails (or the model refuses, truncates, or answers non-JSON),
   the offline planner writes the plan and the reason is recorded.

So a plan costs at most two paid completions, and a deterministic failure is never re-sent as
the identical request. Transient faults (429, 5xx, transport) are retried by the client's single
retry layer; a provider still failing past its deadline also falls back, with the reason recorded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reelflow.clients._http import Clock, MetricsRecorder, RetryPolicy, policy_from_settings
from reelflow.clients.errors import AuthError, InvalidOutput, PermissionDenied, ServiceError
from reelflow.clients.openai.client import ChatResult, OpenAIClient, strict_json_schema
from reelflow.core.ledger import record_paid
from reelflow.core.models import Brief, CostEntry, PlannedScript, ScriptPlan
from reelflow.core.ports import ScriptRules

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

#: Paid completions one plan may cost at most (the answer and one re-ask).
MAX_COMPLETIONS = 2

#: USD per 1M tokens (input, output) for models with published prices; others record 0.
PRICES_PER_M: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}

SCHEMA: dict[str, Any] = strict_json_schema(ScriptPlan.model_json_schema())

SYSTEM_PROMPT = """You are the copywriter of short social video ads. Write the spoken script and shot plan.
Answer only in the given JSON schema. Rules:
- Narration is ad copy spoken aloud, second person or storytelling. NEVER speak production notes:
  no durations, platforms, aspect ratios, "vertical", "video", "tone", "audience", "end card",
  "fast cuts", "logo" directions. Turn directives ("mention X", "highlight X") into spoken lines.
- 3 to 8 scenes; the first scene is the hook (a question, bold claim, number or "you" problem),
  the last is the call to action and names the brand. Say the brand at least once.
- Say every key fact of the brief as a whole sentence; invent no facts, numbers or claims.
- If the brief gives a closing line/tagline ("end with 'X'"), the last scene's narration ends with
  it verbatim.
- Speech should fill the video: about {words} words in total (about {wps} words per second), no
  stock filler lines. Scene durations (seconds) must add up to the requested total.
- visual: kind "stat" for a line with a number (stat_value like "30", "$10", "8x"; stat_label what
  it counts), "list" for a list of benefits (up to 4 items, each at most 28 characters), "end_card"
  for the call to action, "hero" for the product or subject, else "kinetic" (or "photo").
  headline: the on-screen words, at most 6 words. keywords: up to 8 concrete nouns a picture can
  show (e.g. "skier", "gold medal", "mountain", "bread", "bicycle").
- visual_prompt describes one continuous shot for a text-to-video model (subject, setting, camera,
  light); negative_prompt lists what must not appear (text, watermarks, logos).
- voice_instruction is a short acting direction (under 100 characters); emotion is one word.
- title at most 60 characters and names the brand or product; hashtags are single words without
  spaces (brand, topic); music_mood is a search query for background music.
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


def user_prompt(brief: Brief, analysis: Any = None) -> str:
    """The user message describing the brief (and what the analysis found must be said)."""
    lines = [f"Brief: {brief.text}", f"Total duration: {brief.duration_s:g} seconds",
             f"Aspect ratio: {brief.aspect.value}; platform: {brief.platform.value}; language: {brief.language}"]
    brand = brief.brand or (analysis.brand if analysis else None)
    for label, value in (("Tone", brief.tone), ("Audience", brief.audience), ("Brand", brand),
                         ("Music preference", brief.music)):
        if value:
            lines.append(f"{label}: {value}")
    if analysis is not None:
        if analysis.facts:
            lines.append("Key facts to say: " + "; ".join(analysis.facts))
        if analysis.closing_line:
            lines.append(f"Closing line (verbatim, last): {analysis.closing_line!r}")
    return "\n".join(lines)


def reask_message(problems: list[str]) -> str:
    """The re-ask: the problems of the previous answer, listed, and what to return."""
    return ("Your plan breaks these rules:\n" + "\n".join(f"- {p}" for p in problems) +
            "\nReturn the full corrected plan in the same JSON schema.")


class OpenAIScriptWriter:
    """Writes a :class:`ScriptPlan` with OpenAI (or any OpenAI-compatible server).

    Args:
        api_key: ``OPENAI_API_KEY``; base_url: ``OPENAI_BASE_URL``; model: ``OPENAI_MODEL``.
        rules: the offline script rules and fallback planner (:class:`core.ports.ScriptRules`),
            given by the composition root (``flows/_wiring.py``).
        transport: ``httpx2`` transport for tests; policy/clock/metrics: see ``clients._http``.

    Each :meth:`write_plan` returns its own cost entries (one per paid completion); the writer keeps
    none, so one instance serves concurrent videos.
    """

    provider = "openai"

    def __init__(self, api_key: str, base_url: str | None = None, model: str = "gpt-4o-mini", *,
                 rules: ScriptRules, transport: Any = None, policy: RetryPolicy | None = None, clock: Clock | None = None,
                 metrics: MetricsRecorder | None = None, temperature: float = 0.7) -> None:
        self._key, self._base, self.model = api_key, base_url, model
        self._transport, self._policy, self._clock, self._metrics = transport, policy, clock, metrics
        self.temperature = temperature
        self.rules = rules

    @classmethod
    def from_settings(cls, settings: Settings, rules: ScriptRules) -> OpenAIScriptWriter:
        """Build from :class:`core.settings.Settings` (``OPENAI_*`` and ``REELFLOW_SERVICE_*``)."""
        return cls(settings.openai.api_key.get_secret_value(), settings.openai.base_url, settings.openai.model,
                   rules=rules, policy=policy_from_settings(settings))

    async def check_access(self) -> None:
        """Fail fast on a rejected ``OPENAI_API_KEY`` (``GET /models``, nothing billed).

        Raises:
            clients.errors.AuthError naming OPENAI_API_KEY, or another ServiceError.
        """
        async with OpenAIClient(self._key, self._base, model=self.model, transport=self._transport,
                                policy=self._policy, clock=self._clock, metrics=self._metrics) as client:
            await client.check_access()

    async def write_plan(self, brief: Brief) -> PlannedScript:
        """``ScriptWriter`` port: ask the model for a plan, check it like an offline plan, re-ask
        once, else fall back to the offline planner.

        Returns:
            :class:`core.models.PlannedScript` with this plan's cost entries (one per paid
            completion, ≤ :data:`MAX_COMPLETIONS`), ``completions``, ``reasks`` (0/1), ``repairs``
            (local cuts), and, when the offline planner wrote the plan, ``fallback_reason``,
            ``provider: local-template`` and ``llm_provider``/``llm_model``.

        Raises:
            core.errors.InputError: the brief is bad input (from the offline analysis).
            clients.errors.AuthError / PermissionDenied: the key is rejected (a configuration
                problem, never hidden behind a fallback).
        """
        offline = self.rules
        wps = offline.words_per_second
        analysis = offline.analyze(brief)
        words = int(brief.duration_s * 0.88 * wps)
        messages: list[dict[str, str]] = [
            {"role": "system", "content": SYSTEM_PROMPT.format(wps=wps, words=words)},
            {"role": "user", "content": user_prompt(brief, analysis)},
        ]
        costs: list[CostEntry] = []
        completions, reasks, repairs_done = 0, 0, []
        problems: list[str] = []
        try:
            async with OpenAIClient(self._key, self._base, model=self.model, transport=self._transport,
                                    policy=self._policy, clock=self._clock, metrics=self._metrics) as client:
                for attempt in range(MAX_COMPLETIONS):
                    try:
                        result = await client.structured(messages, SCHEMA, name="script_plan",
                                                         temperature=self.temperature)
                    except InvalidOutput as exc:  # not JSON: paid, deterministic → re-ask with the problem
                        billed = getattr(exc, "billed", None)
                        if billed is None:
                            raise
                        completions += 1
                        costs.append(self._cost(billed))
                        plan, problems, answer = None, [f"the answer is not a JSON object of the schema ({exc})"], "{}"
                    else:
                        completions += 1
                        costs.append(self._cost(result))  # counted when paid, not when the video completes
                        plan, problems, repairs = self._check(result.data, analysis, brief, offline)
                        repairs_done += repairs
                        answer = json.dumps(result.data)
                    if plan is not None and not problems:
                        return PlannedScript(plan=rescale_durations(plan, brief.duration_s), costs=costs,
                                             provider=self.provider, model=self.model, completions=completions,
                                             reasks=reasks, repairs=repairs_done)
                    if attempt + 1 < MAX_COMPLETIONS:
                        reasks += 1
                        messages = messages + [
                            {"role": "assistant", "content": answer},
                            {"role": "user", "content": reask_message(problems)},
                        ]
        except (AuthError, PermissionDenied):
            raise
        except ServiceError as exc:  # refused, truncated, non-JSON, or transient past its deadline
            problems = [f"{type(exc).__name__}: {exc}"]
        return PlannedScript(plan=offline.plan(brief), costs=costs, provider=offline.provider, model=offline.model,
                             completions=completions, reasks=reasks, repairs=repairs_done,
                             fallback_reason="; ".join(problems)[:500], llm_provider=self.provider,
                             llm_model=self.model)

    @staticmethod
    def _check(data: dict[str, Any], analysis: Any, brief: Brief,
               rules: ScriptRules) -> tuple[ScriptPlan | None, list[str], list[str]]:
        """Repair lengths locally, validate, apply the hard rules: ``(plan|None, problems, repairs)``."""
        fixed, repairs = rules.repair(data)
        try:
            plan = ScriptPlan.model_validate(fixed)
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:8]]
            return None, problems, repairs
        return plan, rules.check(plan, analysis, brief), repairs

    def _cost(self, result: ChatResult) -> CostEntry:
        """The cost entry of one billed completion (tokens; USD from :data:`PRICES_PER_M`, else 0),
        recorded in the cost ledger at once when a :func:`core.ledger.paid_scope` is active (a crash
        later in the video keeps it; the end-of-run record of the same request adds nothing)."""
        pin, pout = PRICES_PER_M.get(self.model, (0.0, 0.0))
        cost = (result.prompt_tokens * pin + result.completion_tokens * pout) / 1e6
        entry = CostEntry(provider=self.provider, model=result.model or self.model,
                          units=result.prompt_tokens + result.completion_tokens, unit="tokens",
                          cost_usd=round(cost, 6), request_id=result.request_id)
        record_paid(entry, "plan")
        return entry
