"""Frame layout per aspect and platform: safe zones, the caption band and one type scale.

Safe zones (pixels kept free of text and heroes), as fractions of the frame:

- TikTok / Reels / Shorts, 9:16: top 8 % (tabs, status bar), bottom 21 % (description,
  buttons), right 12 % (like/comment/share rail), left 6 %.
- YouTube and any 16:9 frame: 5 % left/right/top, 10 % bottom (progress bar, controls).
- 1:1 (feed posts): 6 % on every side, 12 % at the bottom.

The caption band sits at the bottom of the safe area (two caption lines); heroes and on-screen
type use the *content* box above it, so captions never cover them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reelflow.core.models import Platform

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Layout:
    """Boxes (x0, y0, x1, y1) and sizes of one frame format."""

    width: int
    height: int
    safe: Box  # everything visual stays inside
    content: Box  # heroes and on-screen type
    captions: Box  # caption band (two lines)
    caption_size: int  # caption font size, px
    display_size: int  # headline size, px
    body_size: int  # labels, list items, px
    landscape: bool

    @property
    def margins(self) -> tuple[int, int, int]:
        """``(left, right, bottom)`` caption margins in pixels (for the ASS style)."""
        return self.safe[0], self.width - self.safe[2], self.height - self.captions[3]


def safe_fractions(width: int, height: int, platform: Platform | str) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` safe margins as fractions of width/height."""
    p = Platform(platform)
    if width > height or p is Platform.YOUTUBE and width >= height:
        return 0.05, 0.05, 0.05, 0.10
    if width == height:
        return 0.06, 0.06, 0.06, 0.12
    return 0.06, 0.08, 0.12, 0.21


def layout_for(width: int, height: int, platform: Platform | str) -> Layout:
    """The :class:`Layout` for a frame size and platform."""
    fl, ft, fr, fb = safe_fractions(width, height, platform)
    safe = (math.ceil(fl * width), math.ceil(ft * height), width - math.ceil(fr * width), height - math.ceil(fb * height))
    short = min(width, height)
    caption_size = max(28, round(0.082 * short)) if height > width else max(28, round(0.066 * short))
    band_h = round(caption_size * 2 * 1.22 + caption_size * 0.5)
    captions = (safe[0], safe[3] - band_h, safe[2], safe[3])
    gap = round(0.02 * height)
    content = (safe[0], safe[1], safe[2], captions[1] - gap)
    return Layout(
        width=width, height=height, safe=safe, content=content, captions=captions,
        caption_size=caption_size, display_size=round(0.105 * short), body_size=round(0.056 * short),
        landscape=width > height,
    )
