"""Prefect automation that tells reviewers a run waits for them (fires on Paused / Suspended).

``ensure_review_notification(url)`` stores a ``Webhook`` block (``reelflow-review-webhook``)
and an automation (``reelflow-review-waiting``): its trigger is the server's flow-run state
event — ``prefect.flow-run.Paused`` for an in-process pause, ``prefect.flow-run.Suspended``
for a deployment run — and its action (``call-webhook``) POSTs a JSON body naming the run, its
state and its UI page (``url`` needs ``PREFECT_UI_URL`` set on the server; ``path`` is always
there). Point it at Slack/Teams/any HTTP endpoint; Prefect's own
notification blocks (e.g. Slack) can replace the webhook in the UI.

``reelflow review notify --webhook URL`` runs it from the command line.

Source: Prefect 3 automations (``EventTrigger``, ``CallWebhook``) and state-change events,
https://docs.prefect.io/v3/automate/events/automations-triggers (prefect 3.8.8: events are
``prefect.flow-run.<state name>`` with resource ``prefect.flow-run.<id>``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

AUTOMATION_NAME = "reelflow-review-waiting"
BLOCK_NAME = "reelflow-review-webhook"
#: The state-change events of a run that starts waiting for a reviewer.
WAITING_EVENTS = ("prefect.flow-run.Paused", "prefect.flow-run.Suspended")
#: Body the webhook receives (Jinja, rendered by the Prefect server per event).
PAYLOAD = (
    '{"text": "ReelFlow run {{ flow_run.name }} waits for a review", '
    '"flow_run_id": "{{ flow_run.id }}", "flow_run_name": "{{ flow_run.name }}", '
    '"state": "{{ flow_run.state.name }}", "url": "{{ (flow_run|ui_url) or \'\' }}", '
    '"path": "/runs/flow-run/{{ flow_run.id }}"}'
)


def review_waiting_automation(block_document_id: Any, *, name: str = AUTOMATION_NAME) -> Any:
    """The automation (``prefect.events.schemas.automations.AutomationCore``) calling a webhook
    block whenever a flow run enters ``Paused`` or ``Suspended``."""
    from prefect.events.actions import CallWebhook
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    trigger = EventTrigger(
        expect=set(WAITING_EVENTS),
        match={"prefect.resource.id": "prefect.flow-run.*"},
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(0),
    )
    return AutomationCore(
        name=name,
        description="Tell reviewers that a ReelFlow run waits at a review point (review: plan/final/both).",
        enabled=True,
        trigger=trigger,
        actions=[CallWebhook(block_document_id=block_document_id, payload=PAYLOAD)],
    )


async def ensure_review_notification(url: str, *, name: str = AUTOMATION_NAME) -> tuple[str, str]:
    """Create (or replace) the webhook block and the automation; returns ``(automation id, block id)``.

    Raises:
        InputError: ``url`` is not an http(s) URL.
    """
    from prefect.blocks.webhook import Webhook
    from prefect.client.orchestration import get_client

    from reelflow.core.errors import InputError

    if not url.startswith(("http://", "https://")):
        raise InputError(f"--webhook {url!r} is not an http(s) URL", hint="e.g. https://hooks.slack.com/services/...")
    block_id = await Webhook(url=url).asave(BLOCK_NAME, overwrite=True)
    async with get_client() as client:
        for old in await client.read_automations_by_name(name):
            await client.delete_automation(old.id)
        automation_id = await client.create_automation(review_waiting_automation(block_id, name=name))
    return str(automation_id), str(block_id)
