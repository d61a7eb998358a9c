"""Prefect artifacts for ``create_video``: a markdown run report and a table of scenes.

Artifact keys must be lowercase letters, digits and dashes; they are stable per brief so the
UI's artifact page shows the history of one brief's runs.
"""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from reelflow.core.models import ScriptPlan, VideoResult


def artifact_key(*parts: str) -> str:
    """Prefect artifact key from free text: lowercase, dashes, ≤ 100 chars."""
    key = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return key[:100] or "reelflow"


def _script_rows(metadata: dict[str, Any]) -> list[str]:
    """Pacing figures and brief warnings (e.g. no brand) as report rows."""
    script = metadata.get("script") or {}
    pacing = script.get("pacing") or {}
    rows = []
    if pacing:
        rows.append(f"| speech | {pacing['speech_coverage'] * 100:.0f} % of the runtime, first word at "
                    f"{pacing['first_word_s']:.2f} s, longest gap {pacing['longest_gap_s']:.2f} s, "
                    f"end card {pacing['end_hold_s']:.2f} s |")
    writer = script.get("plan_writer") or {}
    if writer.get("fallback_reason"):
        rows.append(f"| plan | offline planner (LLM plan refused: {writer['fallback_reason']}) |")
    for w in script.get("warnings") or []:
        rows.append(f"| **warning** | {w} |")
    return rows


def render_report(plan: ScriptPlan, metadata: dict[str, Any], result: VideoResult, uris: dict[str, str]) -> str:
    """Markdown run report: headline numbers, plan table, music, QA, outputs."""
    music = metadata["music"]
    rec = music.get("catalogue_recommendation") or {}
    qa = metadata["qa"]
    lines = [
        f"# {md_escape(plan.title)}",
        "",
        f"**Hook:** {md_escape(plan.hook)}  ",
        f"**Call to action:** {md_escape(plan.call_to_action)}  ",
        f"**Hashtags:** {md_escape(' '.join(plan.hashtags))}",
        "",
        "| metric | value |",
        "|---|---|",
        f"| duration | {result.duration_s:.2f} s |",
        f"| size | {metadata['width']}×{metadata['height']} @ {metadata['fps']:.2f} fps |",
        f"| codecs | {metadata['video_codec']} ({metadata.get('video_profile')}) + {metadata['audio_codec']} |",
        f"| loudness | {result.loudness_lufs:.2f} LUFS integrated, {result.true_peak_dbtp:.2f} dBTP true peak |",
        f"| captions | {metadata['captions']['count']} |",
        f"| clip QA | {sum(c['passed'] for c in qa.get('clips', []))}/{len(qa.get('clips', []))} clips passed"
        + "".join(f"; scene {c['scene']}: {md_escape(', '.join(c['flags']))}" for c in qa.get("clips", []) if c["flags"])
        + " |",
        f"| QA | {'passed' if qa['passed'] else 'FLAGGED: ' + md_escape('; '.join(qa['flags']))} |",
        f"| cost | {result.cost_usd:.4f} USD |",
        f"| sha256 | `{result.sha256}` |",
        *_script_rows(metadata),
        "",
        "## Scenes",
        "",
        "| # | start–end (s) | narration | clip | voice |",
        "|---|---|---|---|---|",
    ]
    for s in metadata["scenes"]:
        lines.append(
            f"| {s['index']} | {s['start_s']:.2f}–{s['end_s']:.2f} | {md_escape(s['narration'])} | "
            f"{md_escape(s['clip_source'])} ({md_escape(s['clip_provider'])}) | {md_escape(s['voice'])} "
            f"({md_escape(s['voice_provider'])}) |"
        )
    lines += [
        "",
        "## Music",
        "",
        f"- Bed mixed in: **{md_escape(music['bed']['title'])}** by {md_escape(music['bed']['artist'])} "
        f"({md_escape(music['bed']['licence'])})",
        f"- Catalogue recommendation: **{md_escape(rec.get('track_name', '—'))}** by "
        f"{md_escape(rec.get('track_artist', '—'))} ({md_escape(rec.get('playlist_genre', ''))}/"
        f"{md_escape(rec.get('playlist_subgenre', ''))}, similarity {rec.get('score', 0):.3f})",
        f"- Query: _{md_escape(music['query'])}_",
        "",
        "## Outputs",
        "",
    ]
    lines += [f"- {md_code(name)}: {md_code(uri)}" for name, uri in uris.items()]
    lines += ["", f"Thumbnail: {md_code(result.thumbnail)}"]
    return "\n".join(lines)


async def publish_run_report(
    plan: ScriptPlan, metadata: dict[str, Any], result: VideoResult, uris: dict[str, str]
) -> None:
    """Create the run-report markdown artifact and the scenes table artifact for this flow run."""
    brief_id = metadata["provenance"]["brief"].get("id") or plan.title
    await acreate_markdown_artifact(
        markdown=render_report(plan, metadata, result, uris),
        key=artifact_key("video-report", brief_id),
        description=f"Run report: {md_escape(plan.title, 200)}",
    )
    await acreate_table_artifact(
        table=[
            {
                "scene": s["index"],
                "start_s": s["start_s"],
                "end_s": s["end_s"],
                "narration": s["narration"],
                "visual_prompt": s["visual_prompt"],
                "clip_source": s["clip_source"],
                "clip_provider": s["clip_provider"],
                "voice_provider": s["voice_provider"],
            }
            for s in metadata["scenes"]
        ],
        key=artifact_key("video-scenes", brief_id),
        description=f"Scenes of {md_escape(plan.title, 200)}",
    )


_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_escape(text: object, limit: int | None = 500) -> str:
    """User or provider text made inert inside a markdown artifact (CommonMark backslash escapes).

    Every markdown punctuation character is backslash-escaped, ``<``/``>``/``&`` become HTML
    entities (no raw HTML, no autolinks), newlines become spaces (a table row stays one row) and
    the text is capped at ``limit`` characters. So a brief's ``| col |``, ``[link](javascript:…)``,
    ``<img onerror=…>`` or ``# heading`` shows as the characters typed.
    """
    s = " ".join(str(text).split())
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIALS.sub(r"\\\1", s)


def md_code(text: object) -> str:
    """``text`` as an inline code span that no backtick in it can close early."""
    s = " ".join(str(text).split()).replace("`", "'")
    return f"`{s}`"
