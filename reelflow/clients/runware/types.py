"""Runware REST task API wire types (``videoInference``, ``getResponse``) and model limits.

Source: ``../shared/docs/api-contracts.md`` §2 (runware 0.5.24 ``types.py`` ``IVideoInference``,
Runware docs "Task Polling", "Errors"). The per-model allowed values below are ReelFlow's
table, **[guess]** where Runware's docs do not list them; the server's 400 with
``allowedValues`` stays authoritative and is surfaced as ``RequestInvalid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["processing", "success", "error"]
NON_TERMINAL = {"processing", "pending", "queued", "scheduled", "waiting", "in_progress"}


@dataclass(frozen=True)
class ModelSpec:
    """What a video model accepts: durations (s), (width, height) pairs, frame rates."""

    air: str
    durations: tuple[float, ...]
    resolutions: tuple[tuple[int, int], ...]
    fps: tuple[int, ...]
    usd_per_second: float = 0.0

    def nearest_resolution(self, width: int, height: int) -> tuple[int, int]:
        """The allowed size with the closest aspect ratio (ties: the larger area)."""
        target = width / height
        return min(self.resolutions, key=lambda r: (abs(r[0] / r[1] - target), -r[0] * r[1]))

    def duration_for(self, seconds: float) -> float:
        """The shortest allowed duration ≥ ``seconds`` (else the longest)."""
        fits = [d for d in self.durations if d >= seconds - 1e-6]
        return min(fits) if fits else max(self.durations)

    def fps_for(self, fps: int) -> int:
        """The allowed frame rate closest to ``fps``."""
        return min(self.fps, key=lambda f: abs(f - fps))


#: Models ReelFlow knows the limits of (at least 9:16, 16:9 and 1:1 each).
MODELS: dict[str, ModelSpec] = {
    "klingai:5@3": ModelSpec("klingai:5@3", (5, 10), ((1920, 1080), (1080, 1920), (1080, 1080)), (24, 30), 0.0574),
    "klingai:1@1": ModelSpec("klingai:1@1", (5, 10), ((1280, 720), (720, 1280), (960, 960)), (24, 30), 0.028),
    "bytedance:1@1": ModelSpec("bytedance:1@1", (5, 10), ((864, 480), (480, 864), (640, 640), (1248, 704), (704, 1248)),
                               (24,), 0.018),
    "minimax:3@1": ModelSpec("minimax:3@1", (6, 10), ((1366, 768), (768, 1366), (1024, 1024)), (25,), 0.045),
    "google:3@1": ModelSpec("google:3@1", (8,), ((1280, 720), (720, 1280), (1080, 1080)), (24,), 0.10),
}


class VideoInference(BaseModel):
    """A ``videoInference`` task (REST body element)."""

    model_config = ConfigDict(extra="forbid")

    taskType: Literal["videoInference"] = "videoInference"
    taskUUID: str
    model: str
    positivePrompt: str = Field(min_length=2, max_length=3000)
    negativePrompt: str | None = None
    duration: float
    width: int
    height: int
    fps: int | None = None
    seed: int | None = None
    numberResults: int = 1
    deliveryMethod: Literal["async"] = "async"
    outputType: Literal["URL"] = "URL"
    outputFormat: Literal["MP4", "WEBM"] = "MP4"
    outputQuality: int | None = 95
    includeCost: bool = True
    ttl: int | None = None
    providerSettings: dict[str, Any] | None = None


class VideoItem(BaseModel):
    """One ``data`` item for a video task (ack, progress or result)."""

    model_config = ConfigDict(extra="ignore")

    taskType: str
    taskUUID: str
    status: str | None = None
    progress: float | None = None
    videoUUID: str | None = None
    videoURL: str | None = None
    mediaURL: str | None = None
    seed: int | None = None
    cost: float | None = None
    error: dict[str, Any] | None = None
    code: str | None = None
    message: str | None = None

    @property
    def url(self) -> str | None:
        """``videoURL`` (or ``mediaURL`` on newer responses)."""
        return self.videoURL or self.mediaURL


class TaskState(BaseModel):
    """What one ``getResponse`` poll says about a task."""

    task_uuid: str
    status: str
    item: VideoItem | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def terminal(self) -> bool:
        """Success or error (any other status means keep polling)."""
        return self.status in ("success", "error")
