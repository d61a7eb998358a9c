"""Cache keys of processor-wrapping tasks follow the processors' code (flows/_cache.py)."""

from __future__ import annotations

import sys

from reelflow.flows._cache import code_version, source_digest


def test_source_digest_follows_the_module_file(tmp_path, monkeypatch):
    mod = tmp_path / "reelflow_probe_mod.py"
    mod.write_text("THRESHOLD = 27\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = source_digest("reelflow_probe_mod")
    assert first == source_digest("reelflow_probe_mod") and len(first) == 16
    mod.write_text("THRESHOLD = 30\n")  # the detector changed
    source_digest.cache_clear()
    assert source_digest("reelflow_probe_mod") != first
    sys.modules.pop("reelflow_probe_mod", None)


def test_qa_tasks_are_keyed_on_the_detector_code():
    from reelflow.flows import tasks
    from reelflow.flows.analyze_library import FILE_CACHE

    digest = source_digest("reelflow.processors.shots", "reelflow.processors.qa", "reelflow.processors.keyframes")
    key = code_version("reelflow.processors.shots", "reelflow.processors.qa", "reelflow.processors.keyframes").cache_key_fn(None, {})
    assert key == digest
    for t in (tasks.qa_clip, tasks.qa_video, tasks.scene_keyframes):
        assert t.cache_policy == tasks.CACHED_QA
    analysis = source_digest("reelflow.processors.library", "reelflow.processors.shots", "reelflow.processors.keyframes",
                             "reelflow.processors.features", "reelflow.processors.qa")
    keys = [p.cache_key_fn(None, {}) for p in FILE_CACHE.policies
            if getattr(p, "cache_key_fn", None) and p.cache_key_fn.__name__ == "key"]
    assert keys == [analysis]
    qa_keys = [p.cache_key_fn(None, {}) for p in tasks.CACHED_QA.policies
               if getattr(p, "cache_key_fn", None) and p.cache_key_fn.__name__ == "key"]
    assert qa_keys == [digest]
