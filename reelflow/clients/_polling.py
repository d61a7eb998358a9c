"""Deadline-bounded polling of asynchronous jobs (Runware ``getResponse``).

One loop, used by every long job: fetch the job's state, stop when it is terminal, otherwise
sleep with a growing interval (``initial_s`` × ``factor`` up to ``max_s``, or the server's
hint when it gives one) and give up with :class:`~clients.errors.JobTimedOut` at the deadline.
``Clock`` is injectable so tests run instantly.

Source: Runware "Task Polling" docs (exponential backoff from 1–2 s, an initial delay for
video); Runware/runware-python ``client.py`` (1 s → ×1.5 up to 10 s, 20-minute timeout).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from reelflow.clients._http import Clock
from reelflow.clients.errors import JobTimedOut

S = TypeVar("S")


@dataclass
class PollPolicy:
    """Polling cadence and deadline (seconds)."""

    initial_delay_s: float = 1.0
    initial_s: float = 1.0
    factor: float = 1.5
    max_s: float = 10.0
    deadline_s: float = 900.0


@dataclass
class PollOutcome(Generic[S]):
    """The terminal state and how many polls it took."""

    state: S
    polls: int
    waited_s: float


async def poll_until(
    fetch: Callable[[], Awaitable[S]],
    *,
    is_terminal: Callable[[S], bool],
    status_of: Callable[[S], str | None],
    job_id: str,
    service: str,
    policy: PollPolicy | None = None,
    clock: Clock | None = None,
) -> PollOutcome[S]:
    """Poll ``fetch()`` until ``is_terminal(state)`` or the deadline.

    Args:
        fetch: one poll (its own retries live in the client's retry layer).
        is_terminal: true for success/error states.
        status_of: the state's status string (for the timeout message).
        job_id: the job's id (``taskUUID``).
        service: for error messages.
        policy: cadence and deadline; clock: injectable time/sleep.

    Returns:
        The terminal state with the poll count.

    Raises:
        JobTimedOut: the deadline passed first (carries the last status seen).
        Whatever ``fetch`` raises (e.g. ``JobFailed``).
    """
    p = policy or PollPolicy()
    c = clock or Clock()
    start = c.now()
    polls = 0
    last: str | None = None
    delay = p.initial_s
    if p.initial_delay_s > 0:
        await c.sleep(min(p.initial_delay_s, p.deadline_s))
    while True:
        state = await fetch()
        polls += 1
        last = status_of(state)
        if is_terminal(state):
            return PollOutcome(state, polls, c.now() - start)
        remaining = p.deadline_s - (c.now() - start)
        if remaining <= 0:
            raise JobTimedOut(
                f"{service}: job {job_id} still {last or 'pending'} after {p.deadline_s:g} s ({polls} polls)",
                task_uuid=job_id, last_status=last, service=service,
            )
        await c.sleep(min(delay, remaining))
        delay = min(p.max_s, delay * p.factor)
