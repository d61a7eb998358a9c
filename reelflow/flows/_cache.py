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

    A package counts with every ``.py`` file under it (sorted by path), so splitting a module
    into a package keeps its digest sensitive to all of its code.

    Raises:
        ModuleNotFoundError: a module cannot be found.
    """
    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            raise ModuleNotFoundError(name)
        files = [Path(spec.origin)]
        if spec.submodule_search_locations:
            files = sorted(f for d in spec.submodule_search_locations for f in Path(d).rglob("*.py"))
        for f in files:
            with open(f, "rb") as fh:
                h.update(name.encode() + b"\0" + str(f.name).encode() + b"\0" + fh.read())
    return h.hexdigest()[:16]


def code_version(*modules: str) -> CacheKeyFnPolicy:
    """Cache policy part that changes whenever one of ``modules``' source files changes."""

    def key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
        return source_digest(*modules)

    return CacheKeyFnPolicy(cache_key_fn=key)
