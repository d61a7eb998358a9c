"""Cache-key parts shared by the flows' tasks.

Prefect's ``TASK_SOURCE`` policy covers the task function's own source only. A task that is a
thin wrapper around a processor (shot detection, QA, analysis) must also miss its cache when
that processor's code changes — otherwise a fixed detector keeps serving the old answers from
the result store. :func:`code_version` builds that part from the processor modules' files.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

from prefect.cache_policies import CacheKeyFnPolicy
from prefect.context import TaskRunContext


@lru_cache(maxsize=None)
def source_digest(*modules: str) -> str:
    """SHA-256 (16 hex digits) of the source files of ``modules`` (dotted names), in order.

    A package counts with every ``.py`` file below it (sorted by relative path), so splitting a
    processor into a package keeps the key sensitive to each of its modules.

    Raises:
        ModuleNotFoundError: a module cannot be found.
    """
    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            raise ModuleNotFoundError(name)
        origin = Path(spec.origin)
        if spec.submodule_search_locations:  # a package: every module in it
            files = sorted(p for loc in spec.submodule_search_locations for p in Path(loc).rglob("*.py"))
            root = origin.parent
        else:
            files, root = [origin], origin.parent
        for path in files:
            rel = path.relative_to(root).as_posix()
            h.update(name.encode() + b"\0" + rel.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def code_version(*modules: str) -> CacheKeyFnPolicy:
    """Cache policy part that changes whenever one of ``modules``' source files changes."""

    def key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
        return source_digest(*modules)

    return CacheKeyFnPolicy(cache_key_fn=key)
