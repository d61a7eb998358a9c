"""Loading briefs from CLI text, a JSON file or a JSONL file.

A JSONL file is read line by line: a broken line (bad JSON, invalid field) is reported with its
1-based line number and does not stop the good lines from loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reelflow.core.errors import InputError
from reelflow.core.models import Brief


@dataclass(frozen=True)
class BriefLine:
    """One record of a brief file: a valid ``brief`` or an ``error`` message, with its line."""

    line: int
    brief: Brief | None = None
    error: str | None = None


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def brief_from_mapping(data: Any, *, source: str, defaults: dict[str, Any] | None = None) -> Brief:
    """Validate one brief record.

    Raises:
        InputError: not an object, or a field is invalid (named with its message).
    """
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object with a 'text' field, got {type(data).__name__}")
    merged = {**(defaults or {}), **data}
    try:
        return Brief.model_validate(merged)
    except ValidationError as exc:
        raise InputError(
            f"{source}: invalid brief: {_validation_message(exc)}",
            hint="text must be 10-2,000 characters; duration_s 6-90; aspect 9:16, 16:9 or 1:1; "
            "platform tiktok, reels, shorts or youtube",
        ) from None


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file.

    Raises:
        InputError: missing, unreadable, over :data:`core.storage.MAX_TEXT_INPUT_BYTES` or not
            UTF-8 (names the file and the fix).
    """
    from reelflow.core.storage import MAX_TEXT_INPUT_BYTES, read_capped

    raw = read_capped(path, MAX_TEXT_INPUT_BYTES, "brief file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"brief file {path} is not UTF-8 (bad byte at offset {exc.start})",
            hint="re-save the file as UTF-8",
        ) from None


def load_brief_file(path: Path | str, defaults: dict[str, Any] | None = None) -> list[BriefLine]:
    """Load a ``.json`` (one object or a list) or ``.jsonl`` brief file.

    Returns:
        One :class:`BriefLine` per record; JSONL records carry their 1-based line number.

    Raises:
        InputError: the file is missing, unreadable, not UTF-8, empty, or (for .json) not valid JSON.
    """
    path = Path(path)
    text = read_text_file(path)
    if not text.strip():
        raise InputError(f"brief file {path} is empty", hint="put one JSON brief per line (JSONL) or one JSON object")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}", hint="fix the JSON syntax") from None
        records = data if isinstance(data, list) else [data]
        out = []
        for i, rec in enumerate(records, start=1):
            try:
                out.append(BriefLine(line=i, brief=brief_from_mapping(rec, source=f"{path}[{i}]", defaults=defaults)))
            except InputError as exc:
                out.append(BriefLine(line=i, error=exc.message))
        return out
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(BriefLine(line=lineno, error=f"{path}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            out.append(BriefLine(line=lineno, brief=brief_from_mapping(rec, source=f"{path}:{lineno}", defaults=defaults)))
        except InputError as exc:
            out.append(BriefLine(line=lineno, error=exc.message))
    return out
