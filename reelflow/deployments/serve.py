"""Serve ReelFlow's deployments from this process (``flow.to_deployment`` + ``prefect.serve``).

Deployments (flow/deployment name → what it does):

- ``create_video/reelflow``: one brief → one video (parameter ``brief`` renders as a form);
- ``campaign/reelflow``: a campaign (``spec`` object or ``campaign_file`` path);
- ``index-songs/reelflow``: build/refresh the song index;
- ``analyze-library/reelflow``: analyse a video/image library.

A flow module that is not importable (not installed / being written) is skipped with a
warning. Scheduled campaigns are added with ``campaign_files`` (each needs a ``schedule``).

Run: ``python deployments/serve.py [--only create_video campaign] [--campaign FILE ...]`` with
``PREFECT_API_URL`` pointing at a server — or ``reelflow server``, which starts the server too.

Source: Prefect 3 "Serve flows", https://docs.prefect.io/v3/deploy/run-flows-in-local-processes
(``Flow.to_deployment``, ``prefect.serve``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reelflow.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `python deployments/serve.py` from anywhere
    sys.path.insert(0, str(REPO))

log = logging.getLogger("reelflow.deployments")

DEPLOYMENT_NAME = "reelflow"

#: key → (module, attribute, description, tags)
FLOWS: dict[str, tuple[str, str, str, list[str]]] = {
    "create_video": (
        "reelflow.flows.create_video", "create_video",
        "Brief in, publish-ready short video out (mp4, thumbnail, captions, metadata). "
        "Remote providers are used when their keys are set on the serving machine.",
        ["reelflow", "video"],
    ),
    "campaign": (
        "reelflow.flows.campaign", "campaign",
        "Fan out create_video over a campaign's briefs × variants × platforms within a budget; "
        "ends with a campaign report artifact.",
        ["reelflow", "campaign"],
    ),
    "index_songs": (
        "reelflow.flows.index_songs", "index_songs",
        "Build or refresh the song catalogue's FAISS index (incremental, cached embeddings).",
        ["reelflow", "music", "index"],
    ),
    "analyze_library": (
        "reelflow.flows.analyze_library", "analyze_library",
        "Analyse a library of videos/images: shots, keyframes, features, clusters.",
        ["reelflow", "analysis"],
    ),
}


#: Output and index locations are the worker's configuration, never a caller's choice: these
#: parameters are frozen to ``None`` in the deployment's schema (``readOnly``, ``enum: [null]``),
#: so the API refuses any other value (HTTP 409) and the flow uses its configured default. Every
#: other path parameter is still confined to the worker's roots by the flow (``core/paths.py``).
FROZEN_PARAMETERS: dict[str, tuple[str, ...]] = {
    "create_video": ("out_dir",),
    "index_songs": ("index_dir", "index_uri"),
    "analyze_library": ("out_dir",),
}


_FROZEN = {"readOnly": True, "enum": [None], "description": "Set by the worker's configuration, not by the caller."}


def _freeze_none(dep: Any, names: Iterable[str]) -> None:
    """Pin ``names`` to ``None`` in the deployment's parameter schema, and ``spec.out_dir`` of the
    campaign deployment likewise (a nested model field). Done on the schema directly: this
    Prefect's ``freeze()`` is applied before ``to_deployment`` fills the schema in."""
    schema = dep._parameter_openapi_schema
    for name in names:
        if name in schema.properties:
            schema.properties[name] = {**schema.properties[name], **_FROZEN}
            dep.parameters[name] = None
    spec = (schema.definitions or {}).get("CampaignSpec")
    if spec and "out_dir" in (spec.get("properties") or {}):
        spec["properties"]["out_dir"] = {**spec["properties"]["out_dir"], **_FROZEN}


def load_flow(key: str) -> Any | None:
    """Import one flow object by key; None (with a warning) when its module is not there."""
    module_name, attr, _, _ = FLOWS[key]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
            log.warning("skipping deployment %s: %s is not available (%s)", key, module_name, exc)
            return None
        raise
    obj = getattr(module, attr, None)
    if obj is None:
        log.warning("skipping deployment %s: %s has no flow %r", key, module_name, attr)
    return obj


def build_deployments(
    only: Iterable[str] | None = None,
    campaign_files: Iterable[str | Path] = (),
    settings: Settings | None = None,
) -> list[Any]:
    """Build the ``RunnerDeployment`` objects to serve.

    Args:
        only: deployment keys to include (default: all of :data:`FLOWS`).
        campaign_files: campaign files with a ``schedule``; each becomes ``campaign/<name>``
            with its cron schedule and ``campaign_file`` parameter.
        settings: ReelFlow settings (for the task runner); default from the environment.

    Returns:
        Deployments for ``prefect.serve``.

    Raises:
        InputError: an unknown key in ``only``, or a campaign file that is invalid or has no
            ``schedule``.
    """
    from reelflow.core.errors import InputError
    from reelflow.core.settings import load_settings
    from reelflow.flows.runners import make_task_runner
    from reelflow import __version__

    settings = settings or load_settings()
    keys = list(only) if only else list(FLOWS)
    unknown = [k for k in keys if k not in FLOWS]
    if unknown:
        raise InputError(f"unknown deployment(s): {', '.join(unknown)}", hint=f"choose from {', '.join(FLOWS)}")
    deployments = []
    for key in keys:
        flow_obj = load_flow(key)
        if flow_obj is None:
            continue
        _, _, description, tags = FLOWS[key]
        if key in ("create_video", "analyze_library") and settings.runner.task_runner == "dask":
            flow_obj = flow_obj.with_options(task_runner=make_task_runner(settings))
        dep = flow_obj.to_deployment(
            name=DEPLOYMENT_NAME, description=description, tags=tags, version=__version__,
        )
        _freeze_none(dep, FROZEN_PARAMETERS.get(key, ()))
        deployments.append(dep)
    for cfile in campaign_files:
        deployments.append(scheduled_campaign_deployment(cfile, settings))
    return deployments


def scheduled_campaign_deployment(path: str | Path, settings: Settings | None = None) -> Any:
    """``campaign/<name>`` deployment with the file's cron schedule (validated first).

    Raises:
        InputError: the file is invalid or has no ``schedule`` section.
    """
    from prefect.client.schemas.schedules import CronSchedule

    from reelflow.core.errors import InputError
    from reelflow.core.settings import load_settings
    from reelflow.flows.campaign import campaign_for, load_campaign
    from reelflow import __version__

    path = Path(path).resolve()
    loaded = load_campaign(path)
    from reelflow.core.campaigns import trust_campaign_file

    trust_campaign_file(path, loaded.spec)  # this exact file (and its briefs/out folder) only
    sched = loaded.spec.schedule
    if sched is None:
        raise InputError(f"{path}: no `schedule:` section", hint='add schedule: {cron: "0 9 * * MON", timezone: UTC}')
    flow_obj = campaign_for(loaded.spec, settings or load_settings())
    return flow_obj.to_deployment(
        name=loaded.spec.name,
        schedules=[CronSchedule(cron=sched.cron, timezone=sched.timezone)],
        parameters={"campaign_file": str(path)},
        description=f"Scheduled campaign {loaded.spec.name}: {loaded.spec.description}".strip(": "),
        tags=["reelflow", "campaign", "scheduled"],
        version=__version__,
    )


def serve_deployments(deployments: list[Any], limit: int | None = None) -> None:
    """Serve ``deployments`` until interrupted (polls the API for scheduled/triggered runs).

    Also cancels suspended runs whose review deadline passed (:func:`flows.review.start_review_sweeper`).
    """
    import prefect

    from reelflow.flows.review import start_review_sweeper

    start_review_sweeper()
    prefect.serve(*deployments, pause_on_shutdown=False, print_starting_message=True, limit=limit)


def main(argv: list[str] | None = None) -> int:
    """``python deployments/serve.py [--only KEY ...] [--campaign FILE ...] [--limit N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(FLOWS), help="deployments to serve (default: all)")
    parser.add_argument("--campaign", action="append", default=[], help="scheduled campaign file (repeatable)")
    parser.add_argument("--limit", type=int, default=None, help="max concurrent flow runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    deployments = build_deployments(args.only, args.campaign)
    if not deployments:
        log.error("nothing to serve")
        return 2
    serve_deployments(deployments, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
