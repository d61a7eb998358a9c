"""Cache keys of processor-wrapping tasks follow the processors' code (flows/_cache.py).

Checked by behaviour: a Prefect task keyed with :func:`code_version` on a probe module serves its
cached result while the module is unchanged and runs again once the module's source changes.
"""

from __future__ import annotations

import importlib
import sys

from prefect import flow, task
from prefect.cache_policies import INPUTS

from reelflow.flows._cache import code_version, source_digest


def _probe(tmp_path, monkeypatch, text: str):
    mod = tmp_path / "reelflow_probe_mod.py"
    mod.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return mod


def test_source_digest_follows_the_module_file(tmp_path, monkeypatch):
    mod = _probe(tmp_path, monkeypatch, "THRESHOLD = 27\n")
    first = source_digest("reelflow_probe_mod")
    assert first == source_digest("reelflow_probe_mod") and len(first) == 16
    mod.write_text("THRESHOLD = 30\n")  # the detector changed
    source_digest.cache_clear()
    assert source_digest("reelflow_probe_mod") != first
    sys.modules.pop("reelflow_probe_mod", None)


def test_source_digest_covers_every_module_of_a_package(tmp_path, monkeypatch):
    pkg = tmp_path / "reelflow_probe_pkg"
    (pkg / "detectors").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "detectors" / "__init__.py").write_text("")
    (pkg / "detectors" / "content.py").write_text("THRESHOLD = 27\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = source_digest("reelflow_probe_pkg")
    (pkg / "detectors" / "content.py").write_text("THRESHOLD = 30\n")  # a change deep in the package
    source_digest.cache_clear()
    assert source_digest("reelflow_probe_pkg") != first


def test_task_result_is_recomputed_after_the_processor_changes(prefect_harness, tmp_path, monkeypatch):
    mod = _probe(tmp_path, monkeypatch, "THRESHOLD = 27\n")
    calls: list[int] = []

    @task(cache_policy=INPUTS + code_version("reelflow_probe_mod"), persist_result=True)
    def detect(x: int) -> int:
        probe = importlib.reload(importlib.import_module("reelflow_probe_mod"))
        calls.append(probe.THRESHOLD)
        return probe.THRESHOLD + x

    @flow
    def run(x: int) -> int:
        return detect(x)

    source_digest.cache_clear()
    assert run(1) == 28 and run(1) == 28
    assert calls == [27], "unchanged processor code must be served from the task cache"
    mod.write_text("THRESHOLD = 30\n")
    source_digest.cache_clear()
    assert run(1) == 31
    assert calls == [27, 30], "a changed processor must miss the cache and run again"
    sys.modules.pop("reelflow_probe_mod", None)


def test_qa_and_analysis_tasks_use_the_detector_code_key():
    """The wiring the behaviour above relies on: QA/keyframe/analysis tasks include the key."""
    from reelflow.flows import tasks
    from reelflow.flows.analyze_library import FILE_CACHE

    def code_keys(policy) -> list[str]:
        return [p.cache_key_fn(None, {}) for p in policy.policies
                if getattr(p, "cache_key_fn", None) and p.cache_key_fn.__name__ == "key"]

    digest = source_digest("reelflow.processors.shots", "reelflow.processors.qa", "reelflow.processors.keyframes")
    for t in (tasks.qa_clip, tasks.qa_video, tasks.scene_keyframes):
        assert digest in code_keys(t.cache_policy), t.name
    analysis = source_digest("reelflow.processors.library", "reelflow.processors.shots", "reelflow.processors.keyframes",
                             "reelflow.processors.features", "reelflow.processors.qa")
    assert analysis in code_keys(FILE_CACHE)
