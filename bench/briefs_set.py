"""The rubric brief set: the 12 shared examples plus Super Bowl ad descriptions turned into briefs.

Used by ``bench/bench_script_rubric.py`` and ``tests/processors/test_script_rubric.py``.
A Super Bowl record becomes a brief: its YouTube description (the premise as the uploader wrote
it, boilerplate included: the analysis must drop it) as ``text``, its ``brand`` as the structured
field, a duration cycling 15/20/30 s, and a tone from the FiveThirtyEight flags (funny → funny,
patriotic → inspirational, animals → heartwarming, else none).
"""

from __future__ import annotations

import json
from pathlib import Path

from reelflow.core.models import Brief

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "briefs"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def example_briefs(root: Path = SHARED) -> list[Brief]:
    """The 12 hand-written example briefs (``examples.jsonl``)."""
    return [Brief.model_validate(r) for r in _jsonl(root / "examples.jsonl")]


def superbowl_briefs(root: Path = SHARED, n: int = 40) -> list[Brief]:
    """The first ``n`` Super Bowl records with a description of 40+ characters, as briefs."""
    out: list[Brief] = []
    for i, r in enumerate(_jsonl(root / "superbowl_ad_briefs.jsonl")):
        desc = (r.get("description") or "").strip()
        if len(desc) < 40:
            continue
        flags = set(r.get("creative_attributes") or [])
        tone = "funny" if "funny" in flags else "inspirational" if "patriotic" in flags else \
            "heartwarming" if "animals" in flags else None
        out.append(Brief(text=desc[:2000], brand=r["brand"], id=f"superbowl-{i + 1}",
                         duration_s=(15, 20, 30)[len(out) % 3], tone=tone))
        if len(out) >= n:
            break
    return out


def rubric_briefs(root: Path = SHARED, n_superbowl: int = 40) -> list[Brief]:
    """Examples first, then Super Bowl briefs."""
    return example_briefs(root) + superbowl_briefs(root, n_superbowl)
