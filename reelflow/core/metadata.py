"""``metadata.json``: the typed record of one finished video, and its cost lines.

:class:`VideoMetadata` is what ``create_video`` writes (``model_dump(mode="json")``) next to the
video; :func:`reelflow.processors.metadata.build_metadata` builds it from the run's results
(pure, no Prefect). The keys are those content teams, the campaign report, the review UI and the
cost ledger already read (``title`` … ``created_at``, then ``review`` once the review gate is
passed); units follow :mod:`core.models` (seconds, LUFS, dBTP, pixels, USD).

Costs: :func:`run_cost_entries` turns the results of one run into ``(part, CostEntry)`` pairs —
each result carries what its call was billed (:attr:`core.models.PlannedScript.costs`,
:attr:`core.models.Utterance.costs`, :attr:`core.models.Clip.costs`), and a free local result
counts as one 0 USD line so the ledger still says which provider made each part.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field, field_serializer, model_serializer

from reelflow.core.models import (Brief, Clip, CostEntry, MusicBed, PlannedScript, QAReport, SceneRecord, SongMatch,
                                  Utterance)


def run_cost_entries(planned: PlannedScript, utterances: list[Utterance], clips: list[Clip]) -> list[tuple[str, CostEntry]]:
    """One ``(part, CostEntry)`` per billable unit of a run, from the results themselves.

    ``part`` is ``plan``, ``narration`` or ``clips``. ``clips`` should include paid clips that QA
    discarded and ``utterances`` the paid takes pacing replaced (billed all the same). A result
    without cost entries (a free local engine) gives one 0 USD entry: the plan's writer, an
    utterance's characters, a clip's seconds. An entry whose ``request_id`` was already listed (a
    take or job reused by a later round) is listed once.
    """
    entries: list[tuple[str, CostEntry]] = [("plan", e) for e in planned.costs] or [
        ("plan", CostEntry(provider=planned.llm_provider or planned.provider, model=planned.llm_model or planned.model))]
    for u in utterances:
        entries += [("narration", e) for e in u.costs] or [
            ("narration", CostEntry(provider=u.provider, model=u.voice, units=len(u.text), unit="characters"))]
    for c in clips:
        entries += [("clips", e) for e in c.costs] or [
            ("clips", CostEntry(provider=c.provider, model=c.model, units=round(c.duration_s, 3), unit="seconds",
                                request_id=c.request_id))]
    seen: set[tuple[str, str]] = set()
    unique: list[tuple[str, CostEntry]] = []
    for part, e in entries:
        if e.request_id:
            if (e.provider, e.request_id) in seen:
                continue
            seen.add((e.provider, e.request_id))
        unique.append((part, e))
    return unique


class PacingRecord(BaseModel):
    """How the narration fills the video (measured, seconds; :mod:`processors.pacing`)."""

    speech_s: float
    speech_coverage: float = Field(description="Speech time over the runtime, 0..1 (3 decimals).")
    first_word_s: float
    longest_gap_s: float = Field(description="Longest silence between lines (end hold excluded).")
    end_hold_s: float
    pace: float = Field(description="Duration multiplier the voice spoke at (0.88-1.12).")
    synthesis_rounds: int
    notes: list[str] = Field(default_factory=list)


class ScriptRecord(BaseModel):
    """Who wrote the script and what the brief analysis warned about."""

    brand: str | None = None
    warnings: list[str] = Field(default_factory=list)
    plan_writer: dict[str, Any] = Field(description="PlannedScript.writer_record(): provider, model, LLM report.")
    pacing: PacingRecord


class CaptionsRecord(BaseModel):
    """The burnt-in captions (also published as ``captions.srt``)."""

    count: int
    file: str = "captions.srt"


class MusicRecord(BaseModel):
    """The bed mixed under the narration and the catalogue's recommendations for the music mood."""

    bed: MusicBed = Field(description="Its ``path`` relative to the assets folder (no worker paths).")
    catalogue_recommendation: SongMatch | None = None
    catalogue_alternatives: list[SongMatch] = Field(default_factory=list)
    query: str


class LookRecord(BaseModel):
    """Palette (hex per role, and its name) and whether a logo was drawn."""

    palette: dict[str, str]
    logo: bool


class _OmitsUnset(BaseModel):
    """A record whose :data:`OMIT_IF_NONE` fields are left out of its dump while they are ``None``
    (keys that ``metadata.json`` has only when there is something to say)."""

    OMIT_IF_NONE: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        for key in self.OMIT_IF_NONE:
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ClipQARecord(_OmitsUnset):
    """QA of one scene's clip; ``note`` only for scenes checked as part of the final video."""

    OMIT_IF_NONE = ("note",)

    scene: int
    passed: bool
    flags: list[str] = Field(default_factory=list)
    provider: str
    note: str | None = None


class VideoQARecord(QAReport):
    """QA of the final video (cuts vs scene boundaries, black/frozen stretches) and of each clip."""

    clips: list[ClipQARecord] = Field(default_factory=list)


class PromptRecord(BaseModel):
    """The prompt, model and seed each scene's clip was made from."""

    scene: int
    prompt: str
    model: str
    seed: int | None = None


class ProvenanceRecord(BaseModel):
    """Who and what made the video: version, flow run, providers per part, prompts, the brief."""

    reelflow_version: str
    flow_run_id: str | None = None
    providers: dict[str, Any] = Field(description="plan {provider, model}; narration/clips: provider lists; "
                                                  "music_bed and catalogue: local sources.")
    prompts: list[PromptRecord] = Field(default_factory=list)
    brief: Brief


class CostLine(CostEntry):
    """A cost entry of the run and the part it paid for (``plan``, ``narration``, ``clips``)."""

    part: str


class CostsRecord(BaseModel):
    """What the video cost: per provider, in total, and every entry."""

    per_provider_usd: dict[str, float] = Field(default_factory=dict)
    total_usd: float = 0.0
    entries: list[CostLine] = Field(default_factory=list)

    @classmethod
    def from_entries(cls, entries: list[tuple[str, CostEntry]]) -> CostsRecord:
        """Totals (USD, 4 decimals) of ``(part, entry)`` pairs from :func:`run_cost_entries`."""
        per: dict[str, float] = {}
        for _, e in entries:
            per[e.provider] = round(per.get(e.provider, 0.0) + e.cost_usd, 4)
        return cls(per_provider_usd=per, total_usd=round(sum(e.cost_usd for _, e in entries), 4),
                   entries=[CostLine(part=part, **e.model_dump()) for part, e in entries])

    def ledger_entries(self) -> list[tuple[str, CostEntry]]:
        """The entries as ``(part, CostEntry)`` pairs, for :class:`core.ledger.CostLedger`."""
        return [(line.part, CostEntry.model_validate(line.model_dump(exclude={"part"}))) for line in self.entries]


class VideoMetadata(_OmitsUnset):
    """``metadata.json`` of one video (written as ``model_dump(mode="json")``).

    Measured fields come from the final file: ``duration_s``, size, codecs (ffprobe-style header
    read, :func:`processors.media.probe`), ``loudness_lufs``/``true_peak_dbtp`` (BS.1770-4, after
    encoding) and ``sha256``. ``review`` is set once the review gate has decided (``None`` →
    left out of the file).
    """

    OMIT_IF_NONE = ("review",)

    title: str
    description: str
    hashtags: list[str]
    call_to_action: str
    script: ScriptRecord
    language: str
    platform: str
    aspect: str
    duration_s: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    video_profile: str | None = None
    pix_fmt: str | None = None
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    loudness_lufs: float
    true_peak_dbtp: float
    captions: CaptionsRecord
    scenes: list[SceneRecord]
    music: MusicRecord
    credits: list[str] = Field(default_factory=list, description="Attribution lines (CC BY footage, music, clips).")
    look: LookRecord
    qa: VideoQARecord
    provenance: ProvenanceRecord
    costs: CostsRecord
    sha256: str
    video_file: str = "video.mp4"
    created_at: datetime
    review: dict[str, Any] | None = Field(default=None, description="The review gate's record (flows/review.py).")

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()
