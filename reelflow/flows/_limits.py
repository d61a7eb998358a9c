"""Cross-worker rate limits as Prefect global concurrency limits.

Hume allows 100 TTS requests per minute per account. A client-side token bucket
(``clients/_http.RateLimiter``) only sees one process; campaign videos run in several worker
processes (Dask, several ``serve``/worker processes), so the narration task also takes a slot
of the Prefect global concurrency limit :data:`HUME_LIMIT` in rate-limit mode (``limit`` =
requests per minute, slots decay at ``limit / 60`` per second), which the Prefect server counts
for every worker at once. The limit is created on first use (and updated when
``REELFLOW_HUME_REQUESTS_PER_MINUTE`` changes).

Source: Prefect 3 "Global concurrency limits and rate limits"
(https://docs.prefect.io/v3/develop/global-concurrency-limits, ``prefect.concurrency.asyncio.rate_limit``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

#: Name of the global concurrency limit that paces Hume TTS requests across workers.
HUME_LIMIT = "reelflow-hume-requests"
#: Longest wait for a slot before the narration step fails (retried by Prefect like any transient error).
SLOT_TIMEOUT_S = 600.0

_ENSURED: dict[str, int] = {}


async def ensure_rate_limit(name: str, per_minute: int) -> None:
    """Create or update the global concurrency limit ``name`` as a ``per_minute`` rate limit."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    if _ENSURED.get(name) == per_minute:
        return
    decay = per_minute / 60.0
    async with get_client() as client:
        try:
            current = await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            current = None
        if current is None:
            try:
                await client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=per_minute, slot_decay_per_second=decay))
            except ObjectAlreadyExists:
                pass  # another worker created it first
        elif current.limit != per_minute or abs((current.slot_decay_per_second or 0) - decay) > 1e-9:
            await client.update_global_concurrency_limit(
                name, GlobalConcurrencyLimitUpdate(limit=per_minute, slot_decay_per_second=decay))
    _ENSURED[name] = per_minute


async def provider_rate_slot(provider: str, settings: Settings, requests: int = 1) -> None:
    """Wait for ``requests`` slots of the provider's cross-worker rate limit (Hume only; else no-op).

    Raises:
        TimeoutError: no slot within :data:`SLOT_TIMEOUT_S` (retryable).
    """
    if provider != "hume":
        return
    from prefect.concurrency.asyncio import rate_limit

    per_minute = settings.hume.requests_per_minute
    await ensure_rate_limit(HUME_LIMIT, per_minute)
    await rate_limit(HUME_LIMIT, occupy=max(1, requests), timeout_seconds=SLOT_TIMEOUT_S, strict=True)
