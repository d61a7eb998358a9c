"""Hypothesis settings for the property tests: a fixed example budget per test (CI total in
``tests/fuzz/README.md``), no per-example deadline (2 shared cores), derandomised so CI is
reproducible; ``HYPOTHESIS_PROFILE=deep`` runs 10x more locally."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, report_multiple_bugs=False,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("deep", parent=settings.get_profile("ci"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Multiplier of every test's max_examples (profile "deep": 10).
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 1


def n(examples: int) -> int:
    """``examples`` scaled by the active profile."""
    return examples * SCALE
