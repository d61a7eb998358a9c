"""Per-video colour palette: from a brand colour when given, else from the brief's tone.

Colours are ``(r, g, b)`` tuples of 0-255 ints. The background is a dark two-stop gradient so
white type and the 3D emoji read on it; the accent (highlight boxes, the spoken caption word,
the call-to-action pill) is the brand colour itself, lifted in lightness when it would not
stand out on the background. Contrast follows WCAG 2.1 relative luminance.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

from reelflow.core.errors import InputError

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Colours of one video (all ``(r, g, b)``)."""

    bg_top: RGB
    bg_bottom: RGB
    accent: RGB  # highlight boxes, CTA pill, spoken caption word
    on_accent: RGB  # text drawn on the accent
    text: RGB  # main type
    muted: RGB  # secondary type
    glow: RGB  # soft background blobs / particles
    name: str = "custom"

    def to_json(self) -> dict[str, str]:
        """Hex strings per role (for metadata)."""
        return {k: hex_color(v) for k, v in self.__dict__.items() if isinstance(v, tuple)} | {"name": self.name}


def hex_color(c: RGB) -> str:
    """``(r, g, b)`` → ``"#rrggbb"``."""
    return "#{:02x}{:02x}{:02x}".format(*c)


def parse_color(text: str, what: str = "--brand-color") -> RGB:
    """Parse ``#rgb``, ``#rrggbb`` (``#`` optional) or a CSS colour name (``"teal"``).

    Raises:
        InputError: not a colour; the message names ``what`` and the accepted forms.
    """
    from PIL import ImageColor

    raw = (text or "").strip()
    if re.fullmatch(r"[0-9a-fA-F]{6}|[0-9a-fA-F]{3}", raw):
        raw = "#" + raw
    try:
        r, g, b = ImageColor.getrgb(raw)[:3]
    except ValueError:
        raise InputError(
            f"unknown colour {text!r} for {what}",
            hint='give a hex colour like "#1e90ff" or "1e90ff", or a CSS colour name like "teal"',
        ) from None
    return int(r), int(g), int(b)


def luminance(c: RGB) -> float:
    """WCAG relative luminance of an sRGB colour, 0..1."""

    def lin(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two colours, 1..21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _hls(h: float, lig: float, s: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(lig, 0), 1), min(max(s, 0), 1))
    return round(r * 255), round(g * 255), round(b * 255)


def from_brand(color: RGB) -> Palette:
    """Palette around a brand colour: deep background of its hue, the colour as accent."""
    h, lig, s = colorsys.rgb_to_hls(*(v / 255 for v in color))
    s_bg = min(0.75, max(0.35, s))
    bg_top = _hls(h, 0.16, s_bg)
    bg_bottom = _hls(h + 0.06, 0.07, s_bg)
    accent = color
    # lift a dark/dull brand colour until it stands out on the background
    while contrast(accent, bg_bottom) < 3.0 and lig < 0.9:
        lig += 0.05
        accent = _hls(h, lig, max(s, 0.55))
    on_accent = (12, 12, 20) if luminance(accent) > 0.35 else (255, 255, 255)
    return Palette(bg_top, bg_bottom, accent, on_accent, (255, 255, 255), (214, 220, 235),
                   _hls(h, 0.45, s_bg), name="brand")


#: Tone words → (name, bg_top, bg_bottom, accent, glow). Checked in order; first hit wins.
TONE_PALETTES: tuple[tuple[str, tuple[str, ...], RGB, RGB, RGB, RGB], ...] = (
    ("calm", ("calm", "soothing", "relax", "gentle", "mindful", "serene", "quiet", "soft"),
     (22, 52, 74), (8, 22, 38), (126, 224, 205), (60, 140, 160)),
    ("warm", ("warm", "cozy", "cosy", "homey", "nostalg", "friendly", "heartfelt", "comfort", "rustic"),
     (92, 40, 22), (34, 14, 10), (255, 184, 76), (190, 90, 40)),
    ("fresh", ("fresh", "green", "eco", "sustainab", "natural", "organic", "healthy", "outdoor"),
     (18, 78, 58), (6, 30, 26), (186, 246, 92), (40, 160, 110)),
    ("bold", ("inspir", "epic", "bold", "powerful", "triumph", "confident", "heroic", "proud", "uplift"),
     (28, 30, 96), (8, 8, 34), (255, 200, 61), (80, 70, 200)),
    ("trust", ("professional", "trust", "corporate", "clear", "informative", "serious", "premium", "elegant"),
     (18, 36, 72), (6, 12, 28), (88, 196, 255), (40, 90, 170)),
    ("playful", ("upbeat", "playful", "fun", "energetic", "exciting", "hype", "party", "gen-z", "vibrant", "bright"),
     (92, 26, 132), (30, 8, 56), (255, 221, 64), (220, 60, 170)),
)
DEFAULT_TONE = ("default", (), (30, 27, 84), (10, 9, 32), (255, 206, 84), (110, 80, 220))


def from_tone(tone: str | None) -> Palette:
    """Palette for a free-text tone ("upbeat, playful"); a deep indigo default otherwise."""
    t = (tone or "").lower()
    name, _, top, bottom, accent, glow = next(
        (p for p in TONE_PALETTES if any(w in t for w in p[1])), DEFAULT_TONE
    )
    return Palette(top, bottom, accent, (20, 14, 30), (255, 255, 255), (222, 222, 240), glow, name=name)


def palette_for(brand_color: str | None, tone: str | None) -> Palette:
    """The video's palette: :func:`from_brand` when ``brand_color`` is set, else :func:`from_tone`.

    Raises:
        InputError: ``brand_color`` is not a colour.
    """
    if brand_color:
        return from_brand(parse_color(brand_color))
    return from_tone(tone)
