"""Structured JSON-lines logging that carries the Prefect flow/task run ids.

Enable with ``REELFLOW_LOG_JSON=true``. Two ways it gets installed:

1. **Prefect processes** (``reelflow server``, ``serve``, workers, flow-run subprocesses):
   :func:`apply_log_settings` (called by the CLI before Prefect is imported) writes
   ``~/.reelflow/logging-json.yml`` — Prefect's own ``logging.yml`` with the console handler's
   formatter replaced by :class:`JsonLinesFormatter` — and sets
   ``PREFECT_LOGGING_SETTINGS_PATH`` to it. Child processes inherit the variable, so every
   flow run's console output is JSON lines. To do it by hand on a worker machine::

       export PREFECT_LOGGING_SETTINGS_PATH=/path/to/logging-json.yml   # from write_prefect_logging_config()

2. **Plain Python** (tests, scripts): :func:`configure_json_logging` puts a JSON handler on the
   root logger.

Each line: ``{"ts", "level", "logger", "message", "flow_run_id", "flow_run_name", "flow_name",
"task_run_id", "task_run_name", "exc_info"?}``. Prefect's run loggers put the ids on the record
(``get_run_logger()``); for other loggers inside a run, the ids are read from Prefect's run
context when Prefect is already imported (this module never imports it).

Source: Prefect 3 logging customisation,
https://docs.prefect.io/v3/advanced/logging-customization (``PREFECT_LOGGING_SETTINGS_PATH``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_RUN_FIELDS = ("flow_run_id", "flow_run_name", "flow_name", "task_run_id", "task_run_name")
_TRUE = {"1", "true", "yes", "on"}


def _context_ids() -> dict[str, str]:
    """Flow/task run ids from Prefect's context, if Prefect is loaded and a run is active."""
    if "prefect.context" not in sys.modules:
        return {}
    try:
        ctx_mod = sys.modules["prefect.context"]
        out: dict[str, str] = {}
        fctx = ctx_mod.FlowRunContext.get()
        if fctx is not None and getattr(fctx, "flow_run", None) is not None:
            out["flow_run_id"] = str(fctx.flow_run.id)
            out["flow_run_name"] = str(fctx.flow_run.name)
        tctx = ctx_mod.TaskRunContext.get()
        if tctx is not None and getattr(tctx, "task_run", None) is not None:
            out["task_run_id"] = str(tctx.task_run.id)
            out["task_run_name"] = str(tctx.task_run.name)
            out.setdefault("flow_run_id", str(tctx.task_run.flow_run_id))
        return out
    except Exception:  # noqa: BLE001 - logging must never fail
        return {}


class JsonLinesFormatter(logging.Formatter):
    """Format each record as one JSON object on one line (UTF-8, no embedded newlines).

    Keys: ``ts`` (ISO 8601 UTC, ms), ``level``, ``logger``, ``message`` and the Prefect run
    fields when known; ``exc_info`` holds the formatted traceback. Extra attributes passed with
    ``logger.info(..., extra={"k": v})`` are included when JSON-serialisable.
    """

    _STD = set(vars(logging.LogRecord("x", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _RUN_FIELDS:
            value = getattr(record, key, None)
            if value not in (None, "<unknown>"):
                payload[key] = str(value)
        if "flow_run_id" not in payload:
            for key, value in _context_ids().items():
                payload.setdefault(key, value)
        for key, value in record.__dict__.items():
            if key in self._STD or key in payload or key.startswith("_") or key in _RUN_FIELDS:
                continue
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                continue
            payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def json_logging_enabled(env: dict[str, str] | None = None) -> bool:
    """True when ``REELFLOW_LOG_JSON`` is set to a true value."""
    env = os.environ if env is None else env
    return env.get("REELFLOW_LOG_JSON", "").strip().lower() in _TRUE


def configure_json_logging(level: int | str = logging.INFO, stream: Any = None) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON lines; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def write_prefect_logging_config(dest: Path | str | None = None) -> Path:
    """Write a Prefect ``logging.yml`` whose console output is JSON lines; return its path.

    It is Prefect's packaged ``logging.yml`` with a ``reelflow_json`` formatter
    (:class:`JsonLinesFormatter`) and the ``console`` handler switched to a plain
    ``logging.StreamHandler`` using it (run logs still go to the Prefect API as usual).

    Raises:
        FileNotFoundError: Prefect is not installed (its packaged config is the template).
    """
    import importlib.util

    import yaml

    from reelflow.core.storage import atomic_write_text

    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("prefect is not installed; cannot template its logging.yml")
    template = Path(list(spec.submodule_search_locations)[0]) / "logging" / "logging.yml"
    config = yaml.safe_load(template.read_text(encoding="utf-8"))
    config["formatters"]["reelflow_json"] = {"()": "reelflow.core.logging.JsonLinesFormatter"}
    config["handlers"]["console"] = {
        "level": 0,
        "class": "logging.StreamHandler",
        "formatter": "reelflow_json",
        "stream": "ext://sys.stderr",
    }
    dest = Path(dest) if dest else Path("~/.reelflow/logging-json.yml").expanduser()
    return atomic_write_text(dest, yaml.safe_dump(config, sort_keys=False))


def apply_log_settings(env: dict[str, str] | None = None) -> Path | None:
    """If ``REELFLOW_LOG_JSON`` is true, point ``PREFECT_LOGGING_SETTINGS_PATH`` at a JSON config.

    Call before Prefect is imported (the CLI does). Child processes inherit the variable.
    An explicit ``PREFECT_LOGGING_SETTINGS_PATH`` is left alone.

    Returns:
        The config path in use, or None when JSON logging is off.
    """
    env = os.environ if env is None else env
    if not json_logging_enabled(env):
        return None
    if env.get("PREFECT_LOGGING_SETTINGS_PATH"):
        return Path(env["PREFECT_LOGGING_SETTINGS_PATH"])
    path = write_prefect_logging_config()
    env["PREFECT_LOGGING_SETTINGS_PATH"] = str(path)
    return path
