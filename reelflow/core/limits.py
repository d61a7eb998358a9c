"""Resource limits for untrusted media, in one place.

- :data:`MAX_IMAGE_PIXELS`: Pillow's decompression-bomb threshold, set explicitly
  (:func:`apply_pil_limits`); Pillow raises ``DecompressionBombError`` above twice this.
- :func:`max_clip_duration_s`: the longest clip accepted from a generation provider for a
  requested length (a provider bug or a hostile host returning an hour of video is refused
  before ffmpeg spends an hour on it).
- :func:`ffmpeg_timeout_s`: the wall-clock budget of one ffmpeg call, from the media it makes.
"""

from __future__ import annotations

#: Largest image (pixels) decoded without a warning; 2x this is refused by Pillow. 8K UHD is 33 MP.
MAX_IMAGE_PIXELS = 50_000_000
#: Absolute cap of one provider clip (seconds), whatever was requested.
MAX_CLIP_S = 120.0


def apply_pil_limits() -> None:
    """Set ``PIL.Image.MAX_IMAGE_PIXELS`` to :data:`MAX_IMAGE_PIXELS` (idempotent)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


def max_clip_duration_s(requested_s: float) -> float:
    """Longest acceptable provider clip for a request of ``requested_s`` seconds.

    Providers round up to their fixed lengths (5 s, 10 s), so up to 3x + 10 s is accepted,
    never more than :data:`MAX_CLIP_S`.
    """
    return min(MAX_CLIP_S, max(3.0 * requested_s + 10.0, 15.0))


def ffmpeg_timeout_s(media_s: float, pixels: int = 1920 * 1080) -> float:
    """Wall-clock budget (s) of one ffmpeg call producing ``media_s`` seconds of ``pixels`` frames.

    Measured here: a 1080x1920 veryfast encode runs at ~0.5-1x real time on 2 busy cores; the
    budget is 10x that plus 60 s of start-up, so only a hung or runaway process hits it.
    """
    scale = max(pixels / (1920 * 1080), 0.25)
    return 60.0 + 10.0 * max(media_s, 1.0) * scale
