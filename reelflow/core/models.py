"""Domain models shared by flows, clients and processors.

Only these small pydantic records (and paths/URIs) cross Prefect task boundaries; frames,
arrays and audio bytes never do. Wire types of the remote services live in
``clients/<service>/types.py``; these are ReelFlow's own vocabulary.

Units: seconds (``*_s``) are floats, frames are 0-based ints, loudness in LUFS, true peak in
dBTP, sizes in pixels, money in USD.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

#: Natural speaking rate used to fit narration into a scene (words per second).
WORDS_PER_SECOND = 2.5

#: The most narration a video can speak, in words per second of runtime: the local voice speaks
#: 2.9-3.1 words/s with its pauses (measured on the example briefs, ``processors/pacing.py``) and
#: pacing may speed it up by at most 12 %. Plans and reviewers' edits are held to this limit.
SPEAKABLE_WORDS_PER_SECOND = 3.3


class Aspect(StrEnum):
    """Output aspect ratio; each maps to one output frame size (see :func:`frame_size`)."""

    VERTICAL = "9:16"
    LANDSCAPE = "16:9"
    SQUARE = "1:1"


class Platform(StrEnum):
    """Publishing platform; decides caption safe zones and hashtag style."""

    TIKTOK = "tiktok"
    REELS = "reels"
    SHORTS = "shorts"
    YOUTUBE = "youtube"


FRAME_SIZES: dict[Aspect, tuple[int, int]] = {
    Aspect.VERTICAL: (1080, 1920),
    Aspect.LANDSCAPE: (1920, 1080),
    Aspect.SQUARE: (1080, 1080),
}


def frame_size(aspect: Aspect | str) -> tuple[int, int]:
    """Return the output ``(width, height)`` in pixels for an aspect ratio.

    Raises:
        ValueError: the aspect is not one of "9:16", "16:9", "1:1".
    """
    return FRAME_SIZES[Aspect(aspect)]


#: Characters a brief may not contain: C0/C1 control characters (except tab, newline, carriage
#: return), bidirectional embedding/override/isolate controls (Trojan Source, CVE-2021-42574:
#: they reorder how text is displayed versus what is spoken and captioned), Unicode tag
#: characters (invisible text) and interlinear annotation controls. Letters of every script,
#: emoji and the left-to-right/right-to-left marks (U+200E, U+200F, U+061C) stay allowed.
_FORBIDDEN_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def check_plain_text(value: str, field: str) -> str:
    """Refuse control, bidi-override and invisible tag characters in user text.

    Args:
        value: the text (already stripped by the model).
        field: the field name used in the error.

    Returns:
        ``value`` unchanged (a leading byte-order mark is dropped).

    Raises:
        ValueError: naming the field, the character's code point and its position, and the fix
            (pydantic turns it into a validation error; the CLI exits 2).
    """
    value = value.removeprefix("\ufeff")
    m = _FORBIDDEN_CHARS.search(value)
    if m:
        ch = m.group()
        kind = "a bidirectional-override character" if "\u202a" <= ch <= "\u2069" else (
            "an invisible tag character" if ch >= "\U000e0000" else "a control character")
        raise ValueError(
            f"{field} contains {kind} U+{ord(ch):04X} at position {m.start()}; remove it and pass plain text "
            "(letters, digits, punctuation, emoji, newlines)"
        )
    return value


class Brief(BaseModel):
    """What a content team asks for. Input of ``create_video``.

    Loaded from CLI text, a JSON object or one JSONL line; ``brief`` is accepted as an alias of
    ``text`` so ``assets/briefs/*.jsonl`` records load directly.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    text: str = Field(
        min_length=10,
        max_length=2000,
        validation_alias=AliasChoices("text", "brief"),
        description="The brief itself, 10-2,000 characters.",
    )
    id: str | None = Field(default=None, max_length=120, description="Optional brief id (slug).")
    # None (left empty in a form, a file or the CLI) = what the text asks for ("15-second TikTok"),
    # else 30 s, 9:16, tiktok; always set once validated (see _format_from_text)
    duration_s: float | None = Field(default=None, ge=6, le=90,
                                     description="Target length in seconds (empty: the text's, else 30).")
    aspect: Aspect | None = Field(default=None, description='"9:16", "16:9" or "1:1" (empty: the text\'s, else 9:16).')
    platform: Platform | None = Field(default=None,
                                      description="tiktok, reels, shorts or youtube (empty: the text's, else tiktok).")
    language: str = Field(default="en", min_length=2, max_length=12, description="BCP-47 language tag.")
    tone: str | None = Field(default=None, max_length=200, description='e.g. "upbeat, playful".')
    audience: str | None = Field(default=None, max_length=200, description='e.g. "Gen-Z runners".')
    brand: str | None = Field(default=None, max_length=120, description="Brand or product owner.")
    voice: str | None = Field(default=None, max_length=200, description="Voice name/id or description.")
    music: str | None = Field(default=None, max_length=300, description="Music preference, free text.")
    brand_color: str | None = Field(
        default=None, max_length=40,
        description='Brand colour for the video\'s palette: "#1e90ff", "1e90ff" or a CSS name ("teal").',
    )
    logo: str | None = Field(default=None, max_length=1000, description="Logo image file for the end card.")

    @field_validator("brand_color")
    @classmethod
    def _colour(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        from PIL import ImageColor

        raw = v.strip()
        if len(raw) in (3, 6) and all(ch in "0123456789abcdefABCDEF" for ch in raw):
            raw = "#" + raw
        try:
            ImageColor.getrgb(raw)
        except ValueError:
            raise ValueError(f"unknown brand colour {v!r}: give a hex colour like \"#1e90ff\" or a CSS name like \"teal\"") from None
        return raw

    @field_validator("text", "id", "language", "tone", "audience", "brand", "voice", "music")
    @classmethod
    def _printable(cls, v: str | None, info: ValidationInfo) -> str | None:
        return None if v is None else check_plain_text(v, info.field_name or "text")

    @model_validator(mode="after")
    def _format_from_text(self) -> Brief:
        """Empty length, aspect and platform: what the text asks for ("15-second vertical TikTok ...",
        :func:`reelflow.core.brief_format.stated_format`), else 30 s, 9:16, tiktok; given fields win."""
        from reelflow.core.brief_format import stated_format

        unset = {k for k in ("duration_s", "aspect", "platform") if getattr(self, k) is None}
        if not unset:
            return self
        said = stated_format(self.text)
        if "duration_s" in unset:
            if said.duration_s is not None and not 6 <= said.duration_s <= 90:
                raise ValueError(f"the brief asks for a {said.duration_s:g} s video; ReelFlow makes 6-90 s videos: "
                                 f"change the length in the text or set duration_s (--duration) between 6 and 90")
            self.duration_s = said.duration_s if said.duration_s is not None else 30.0
        if "aspect" in unset:
            self.aspect = Aspect(said.aspect) if said.aspect else Aspect.VERTICAL
        if "platform" in unset:
            self.platform = Platform(said.platform) if said.platform else Platform.TIKTOK
        return self

    @property
    def size(self) -> tuple[int, int]:
        """Output frame size ``(width, height)`` in pixels."""
        return frame_size(self.aspect)


BeatKind = Literal["hook", "benefit", "proof", "cta", "story"]

VisualKind = Literal["kinetic", "hero", "stat", "list", "photo", "end_card"]


class VisualSpec(BaseModel):
    """What a scene shows, for every planner and every renderer (the one scene contract).

    ``kind`` picks the layout: ``kinetic`` (key words of the line as moving type), ``hero`` (the
    product or subject as a matched illustration), ``stat`` (``stat_value`` counting up over
    ``stat_label``), ``list`` (up to 4 ``items``), ``photo`` (footage), ``end_card`` (brand and
    call to action). ``keywords`` say what to show, for asset matching; ``headline`` is the
    on-screen words (at most 6 words, 40 characters). ``visual_prompt`` on the scene stays for
    text-to-video providers.
    """

    kind: VisualKind
    headline: str = Field(default="", max_length=40)  # on-screen words; <= 6 words
    keywords: list[str] = Field(default_factory=list, max_length=8)  # what to show, for asset matching
    stat_value: str = ""  # e.g. "30", "$10", "8x"  (kind == "stat")
    stat_label: str = ""  # e.g. "meals for every $10"
    items: list[str] = Field(default_factory=list, max_length=4)  # kind == "list", each <= 28 chars


class Scene(BaseModel):
    """One scene of a plan: one narration utterance over one clip."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="0-based position in the video.")
    beat: BeatKind = Field(default="story", description="Role of the scene in the ad's structure.")
    narration: str = Field(min_length=1, max_length=600, description="Words spoken over the scene.")
    visual_prompt: str = Field(min_length=1, max_length=600, description="What the clip shows.")
    negative_prompt: str = Field(default="", max_length=300, description="What the clip must not show.")
    duration_s: float = Field(gt=0, le=60, description="Planned scene length in seconds.")
    on_screen_text: str = Field(default="", max_length=80, description="Short overlay text (optional).")
    voice_instruction: str = Field(default="", max_length=300, description="Acting direction for TTS.")
    emotion: str = Field(default="neutral", max_length=40, description="Emotion label for TTS.")
    visual: VisualSpec = Field(
        default_factory=lambda: VisualSpec(kind="kinetic"),
        description="What the scene shows (layout kind, headline, keywords for asset matching).",
    )


class ScriptPlan(BaseModel):
    """The script and shot plan for one video (output of a ``ScriptWriter``).

    The same schema is used for OpenAI Structured Outputs (strict ``json_schema``).
    """

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    hook: str = Field(min_length=1, max_length=200)
    scenes: list[Scene] = Field(min_length=3, max_length=8)
    description: str = Field(min_length=1, max_length=2200)
    hashtags: list[str] = Field(min_length=1, max_length=12)
    music_mood: str = Field(min_length=1, max_length=300, description="Query for the song index.")
    call_to_action: str = Field(min_length=1, max_length=200)

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, v: list[str]) -> list[str]:
        out = []
        for tag in v:
            tag = "#" + "".join(ch for ch in tag.lstrip("#") if ch.isalnum() or ch == "_")
            if len(tag) > 1 and tag.lower() not in {t.lower() for t in out}:
                out.append(tag)
        if not out:
            raise ValueError("at least one non-empty hashtag is required")
        return out

    @model_validator(mode="after")
    def _reindex(self) -> ScriptPlan:
        for i, scene in enumerate(self.scenes):
            scene.index = i
        return self

    @property
    def duration_s(self) -> float:
        """Sum of the planned scene durations in seconds."""
        return sum(s.duration_s for s in self.scenes)


class WordTiming(BaseModel):
    """A word (or phrase) and when it is spoken, in seconds from the start of its utterance."""

    text: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)


class CostEntry(BaseModel):
    """One billable unit of work (0 USD for local providers).

    Adapters return the entries of a call with its result (:attr:`Utterance.costs`,
    :attr:`Clip.costs`, :attr:`PlannedScript.costs`), so concurrent videos in one process never
    share a cost list; ``units`` are in ``unit`` (characters, seconds of video, tokens).
    """

    provider: str
    model: str = ""
    units: float = 0.0
    unit: str = ""
    cost_usd: float = 0.0
    request_id: str | None = None


class PlannedScript(BaseModel):
    """What a ``ScriptWriter`` returns: the plan, what writing it cost, and who wrote it.

    ``provider``/``model`` name who wrote *this* plan: an LLM writer that fell back to the offline
    planner says ``local-template`` here and names itself in ``llm_provider``/``llm_model``. The
    LLM fields stay ``None`` for a writer that asks no model (they are left out of
    :meth:`writer_record`).
    """

    plan: ScriptPlan
    costs: list[CostEntry] = Field(default_factory=list, description="One entry per paid completion (tokens, USD).")
    provider: str
    model: str = ""
    completions: int | None = Field(default=None, description="Paid completions (LLM writers).")
    reasks: int | None = Field(default=None, description="Re-asks with the problems stated (0 or 1).")
    repairs: list[str] | None = Field(default=None, description="Over-long strings cut locally.")
    fallback_reason: str | None = Field(default=None, description="Why the offline planner wrote the plan.")
    llm_provider: str | None = None
    llm_model: str | None = None

    @property
    def cost_usd(self) -> float:
        """Total of :attr:`costs` in USD."""
        return round(sum(c.cost_usd for c in self.costs), 6)

    def writer_record(self) -> dict[str, object]:
        """Who wrote the plan and how, for ``metadata.json`` ``script.plan_writer`` (no plan, no costs)."""
        return self.model_dump(mode="json", exclude={"plan", "costs"}, exclude_none=True)


class Utterance(BaseModel):
    """Narration audio of one scene, as written by a ``SpeechSynthesizer``."""

    scene_index: int
    text: str
    audio_path: str = Field(description="WAV file (mono or stereo PCM).")
    duration_s: float = Field(gt=0, description="Real duration after silence trimming.")
    sample_rate: int
    words: list[WordTiming] = Field(default_factory=list, description="Empty when the engine gives none.")
    provider: str
    voice: str
    costs: list[CostEntry] = Field(
        default_factory=list,
        description="What this utterance was billed, one entry per paid request; empty for a free local engine.",
    )

    @property
    def cost_usd(self) -> float:
        """Total of :attr:`costs` in USD."""
        return round(sum(c.cost_usd for c in self.costs), 6)


class ClipRequest(BaseModel):
    """What a ``ClipGenerator`` must render for one scene."""

    scene_index: int
    prompt: str
    negative_prompt: str = ""
    duration_s: float = Field(gt=0)
    width: int
    height: int
    fps: int = 30
    seed: int = 0
    sibling_prompts: list[str] = Field(
        default_factory=list,
        description="All scenes' visual prompts in order, so a library-based generator can assign "
        "footage globally (no repeats) while scenes render concurrently.",
    )


class Clip(BaseModel):
    """A rendered/generated clip for one scene."""

    scene_index: int
    path: str
    duration_s: float
    width: int
    height: int
    fps: float
    provider: str
    model: str = ""
    source: str = Field(default="", description="Footage file or remote task id the clip came from.")
    licence: str = ""
    credit: str = ""
    prompt: str = ""
    seed: int | None = None
    request_id: str | None = None
    costs: list[CostEntry] = Field(
        default_factory=list,
        description="What this clip was billed (the successful job; failed or stuck jobs are in the "
        "cost ledger when paid); empty for a free local renderer.",
    )
    loop_seams_s: list[float] = Field(
        default_factory=list,
        description="Times (s) where a source shorter than the scene restarts (looped); clip QA does "
        "not count a cut there as unexpected.",
    )

    @property
    def cost_usd(self) -> float:
        """Total of :attr:`costs` in USD."""
        return round(sum(c.cost_usd for c in self.costs), 6)


#: Licences whose media may appear in a rendered video (``../shared/data/README.md``): CC0,
#: public domain, the Pexels licence and CC BY (with its credit in ``metadata.json``).
RENDERABLE_LICENCES = ("cc0", "public domain", "pexels", "cc by", "cc-by")


def is_renderable_licence(licence: str) -> bool:
    """True when ``licence`` (free text, e.g. ``"CC0 1.0"``) is one of :data:`RENDERABLE_LICENCES`."""
    text = licence.strip().lower()
    return any(text.startswith(x) for x in RENDERABLE_LICENCES)


class SongMatch(BaseModel):
    """A catalogue track returned by the song index, with its cosine similarity ``score``."""

    track_id: str
    track_name: str
    track_artist: str
    playlist_genre: str = ""
    playlist_subgenre: str = ""
    tempo: float | None = None
    energy: float | None = None
    valence: float | None = None
    score: float


class MusicBed(BaseModel):
    """A renderable (CC0) music track chosen to be mixed under the narration."""

    path: str
    title: str
    artist: str
    licence: str
    credit: str = ""
    score: float = 0.0


class Shot(BaseModel):
    """A shot: a run of frames between two cuts. ``end_frame`` is inclusive."""

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float


class Keyframe(BaseModel):
    """A representative frame of a shot, saved as JPEG."""

    shot_index: int
    frame: int
    time_s: float
    path: str


class SceneRecord(BaseModel):
    """What ``metadata.json`` says about one scene of the finished video."""

    index: int
    start_s: float
    end_s: float
    narration: str
    visual_prompt: str
    clip_source: str
    clip_licence: str
    clip_provider: str
    voice: str
    voice_provider: str
    beat: str = "story"
    visual: VisualSpec = Field(default_factory=lambda: VisualSpec(kind="kinetic"))
    speech_start_s: float | None = Field(default=None, description="Measured: when this scene's line starts (s).")
    speech_end_s: float | None = Field(default=None, description="Measured: when it ends (s).")
    # --- motion design (what the scene shows) ---
    visual_kind: str = Field(default="", description="kinetic | hero | stat | list | photo | end_card | clip")
    headline: str = ""
    assets: list[dict] = Field(
        default_factory=list,
        description="Chosen assets: id, label, score (cosine + bonuses), via, licence, source package@version.",
    )
    footage: str | None = None
    footage_score: float | None = None
    fallback: str = Field(default="", description="Why the scene shows typography only, when it does.")


class QAReport(BaseModel):
    """Checks run on the finished video."""

    detected_cuts_s: list[float] = Field(default_factory=list)
    expected_cuts_s: list[float] = Field(default_factory=list)
    cuts_matched: int = 0
    black_segments: list[tuple[float, float]] = Field(default_factory=list)
    frozen_segments: list[tuple[float, float]] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    passed: bool = True


class VideoResult(BaseModel):
    """What ``create_video`` returns: where everything is and the headline numbers."""

    out_dir: str
    video: str
    thumbnail: str
    captions: str
    plan: str
    metadata: str
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float
    sha256: str
    flow_run_id: str | None = None
    cost_usd: float = 0.0
    created_at: datetime
