"""Secret redaction for every string ReelFlow emits: errors, logs, artifacts, metadata.

:func:`register_secret` remembers a key (service keys from settings, OAuth tokens obtained at run
time, S3 and Prefect API credentials); :func:`redact` replaces every registered secret, bearer /
basic credentials and secret-looking query parameters with ``***``.
:func:`install_log_redaction` puts :func:`redact` in front of every log handler (a log-record
factory: it runs for every logger, including Prefect's API log handler that feeds the UI), so a
secret that reaches a log message or a traceback is masked before any handler sees it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from typing import Any

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_SECRET_PARAMS = re.compile(
    r"(?i)((?:api[_-]?key|access[_-]?token|token|key|secret|client_secret|signature|sig|x-amz-credential"
    r"|x-amz-security-token)=)[^&\s\"']+"
)
_BEARER = re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
#: Environment variables whose values are secrets even though ReelFlow's settings do not hold them.
SECRET_ENV_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING",
                   "PREFECT_SERVER_API_AUTH_STRING", "OPENAI_API_KEY", "HUME_API_KEY", "RUNWARE_API_KEY",
                   "SPOTIFY_CLIENT_SECRET")


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` so :func:`redact` hides it everywhere (ignored if shorter than 4)."""
    if secret and len(secret) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(secret)


def register_secrets(secrets: Iterable[Any]) -> None:
    """:func:`register_secret` for each value (``SecretStr`` values are unwrapped)."""
    for s in secrets:
        if s is None:
            continue
        value = s.get_secret_value() if hasattr(s, "get_secret_value") else str(s)
        register_secret(value)


def register_env_secrets(env: dict[str, str] | None = None) -> None:
    """Register the values of :data:`SECRET_ENV_VARS` found in ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    register_secrets(env.get(v) for v in SECRET_ENV_VARS)


def redact(text: object) -> str:
    """Return ``str(text)`` with registered secrets, bearer/basic credentials and secret query
    parameters replaced by ``***``."""
    s = str(text)
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for sec in secrets:
        if sec in s:
            s = s.replace(sec, "***")
    s = _BEARER.sub(lambda m: m.group(1) + " ***", s)
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + "***", s)


_INSTALLED = False
_INSTALL_LOCK = threading.Lock()


def install_log_redaction() -> None:
    """Redact every log record at creation (idempotent; wraps the current record factory).

    The message is formatted once with its arguments and redacted; an exception's traceback
    text is redacted too (``exc_text``), so handlers and formatters only ever see masked text.
    """
    global _INSTALLED
    with _INSTALL_LOCK:
        if _INSTALLED:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string: keep the record as logging would
                return record
            clean = redact(message)
            if clean != message or record.args:
                record.msg, record.args = clean, None
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            return record

        logging.setLogRecordFactory(factory)
        _INSTALLED = True
