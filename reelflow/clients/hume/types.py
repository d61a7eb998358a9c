"""Hume Octave TTS wire types (``POST /v0/tts``, ``GET /v0/tts/voices``).

Mirrors ``hume`` 0.14.1 ``hume/tts/types/*`` as summarised in
``../shared/docs/api-contracts.md`` §1.3–1.4. Unknown response fields are ignored so the client
tolerates additions.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Documented limits (dev.hume.ai "API limits").
MAX_TEXT_CHARS = 5000
MAX_DESCRIPTION_CHARS = 1000
MAX_GENERATIONS = 5
REQUESTS_PER_MINUTE = 100

Provider = Literal["HUME_AI", "CUSTOM_VOICE"]
AudioFormat = Literal["wav", "mp3", "pcm"]


class VoiceRef(BaseModel):
    """A voice by ``id`` or by ``name``; library voices need ``provider="HUME_AI"``."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str | None = None
    provider: Provider | None = None


class PostedUtterance(BaseModel):
    """One utterance of a TTS request."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT_CHARS)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    voice: VoiceRef | None = None
    speed: float | None = Field(default=None, gt=0)
    trailing_silence: float | None = Field(default=None, ge=0)


class TimeRange(BaseModel):
    """Milliseconds from the start of the snippet."""

    begin: int
    end: int


class Timestamp(BaseModel):
    """A word/phoneme timing (Octave 2 only)."""

    type: str
    text: str
    time: TimeRange


class Snippet(BaseModel):
    """A piece of one utterance's audio."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    generation_id: str | None = None
    utterance_index: int | None = None
    text: str = ""
    transcribed_text: str | None = None
    audio: str | None = None
    timestamps: list[Timestamp] = Field(default_factory=list)


class Encoding(BaseModel):
    """Audio encoding of a generation."""

    format: str
    sample_rate: int = 48000


class Generation(BaseModel):
    """One generated take: base64 ``audio`` plus ``snippets`` per utterance."""

    model_config = ConfigDict(extra="ignore")

    generation_id: str
    duration: float
    file_size: int | None = None
    encoding: Encoding
    audio: str
    snippets: list[list[Snippet]] = Field(default_factory=list)


class ReturnTts(BaseModel):
    """``POST /v0/tts`` response."""

    model_config = ConfigDict(extra="ignore")

    request_id: str | None = None
    generations: list[Generation] = Field(min_length=1)


class Voice(BaseModel):
    """A voice from the library (``HUME_AI``) or the account (``CUSTOM_VOICE``)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    provider: str | None = None
    compatible_octave_models: list[str] | None = None


class PagedVoices(BaseModel):
    """``GET /v0/tts/voices`` response (``voices_page`` empty past the last page)."""

    model_config = ConfigDict(extra="ignore")

    page_number: int = 0
    page_size: int = 10
    total_pages: int = 0
    voices_page: list[Voice] = Field(default_factory=list)
