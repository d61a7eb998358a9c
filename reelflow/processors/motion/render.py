"""Frame drawing of the motion-design scenes (Pillow + numpy), one yuv420p frame at a time.

Every scene is drawn over a background prepared once per scene (a two-stop gradient in the
video's palette with soft glows, a little taller than the frame) that pans slowly, so no stretch
of the video is static. On top of it each :class:`SceneDesign` kind places sprites prepared once
(text with a soft shadow, the matched 3D emoji scaled once per size) and animates them per frame
with cheap operations only (integer placement, alpha-masked paste, small resizes during the
first few frames of a pop-in):

- ``kinetic``: the headline's words pop in as they are spoken (TTS word timings), the emphasis
  word on an accent box; a matched asset floats above when there is one.
- ``hero``: the matched 3D emoji pops in (overshoot) and floats, up to two supporting assets
  orbit it, sparkle particles rise; the headline slides in under it.
- ``stat``: the number counts up (ease-out), its label below, a row of matched icons pops in
  one by one and bobs.
- ``list``: up to four item cards (icon + text) appear one by one, each when it is spoken.
- ``photo``: footage (still: slow pan; video: decoded and fitted) under the headline.
- ``end_card``: logo (``--logo``) or the matched asset, brand name, call-to-action pill pulsing.

A scene that comes from a generated clip (Runware) shows the clip's frames with the same stat
overlay and end card. Measured frame cost is reported by ``bench/bench_make.py``.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pydantic import BaseModel, Field

from reelflow.core.errors import InputError, ProcessingError
from reelflow.core.models import WordTiming
from reelflow.processors.motion.design import SceneDesign
from reelflow.processors.motion.layout import Layout, layout_for
from reelflow.processors.motion.palette import Palette, parse_color

FONTS_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "fonts"
DISPLAY_FONT = "LeagueSpartan-Black.otf"
BODY_FONT = "Inter-ExtraBold.otf"
PAN_PX = 120  # vertical travel of the background over a scene's cycle
#: The items of a scene (words, heroes, cards) run this far ahead of the scene clock, so the cut's
#: first frame already shows them mid-entrance (a scene never opens on its bare background — an
#: empty frame at every cut reads as a flicker) and a word lands just before it is spoken.
ENTRY_LEAD_S = 0.3


class MotionScene(BaseModel):
    """One scene to draw: its design, length and word timings (seconds from the scene start)."""

    design: SceneDesign
    duration_s: float = Field(gt=0)
    words: list[WordTiming] = Field(default_factory=list)
    clip_path: str | None = Field(default=None, description="A generated clip to show under the overlays.")


class MotionSpec(BaseModel):
    """Everything the frame renderer needs for one video."""

    scenes: list[MotionScene] = Field(min_length=1)
    width: int
    height: int
    fps: int = 30
    platform: str = "tiktok"
    palette: dict[str, str]
    brand: str = ""
    call_to_action: str = ""
    logo_path: str | None = None


def palette_from_json(d: dict[str, str]) -> Palette:
    """Inverse of :meth:`Palette.to_json`."""
    keys = ("bg_top", "bg_bottom", "accent", "on_accent", "text", "muted", "glow")
    return Palette(*(parse_color(d[k], f"palette.{k}") for k in keys), name=d.get("name", "custom"))


# --------------------------------------------------------------------------- easing
def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


def ease_out_cubic(x: float) -> float:
    x = clamp(x)
    return 1 - (1 - x) ** 3


def ease_out_back(x: float, s: float = 1.9) -> float:
    x = clamp(x) - 1
    return 1 + (s + 1) * x**3 + s * x**2


# --------------------------------------------------------------------------- fonts and sprites
@lru_cache(maxsize=64)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A shipped font at ``size`` px (cached)."""
    return ImageFont.truetype(str(FONTS_DIR / name), max(8, int(size)))


def text_sprite(text: str, fnt: ImageFont.FreeTypeFont, fill: tuple[int, int, int], *, shadow: bool = True,
                box: tuple[int, int, int] | None = None, pad: float = 0.22, radius: float = 0.22) -> Image.Image:
    """RGBA image of ``text`` with a soft drop shadow, optionally on a rounded ``box`` colour."""
    size = fnt.size
    l, t, r, b = fnt.getbbox(text)
    asc, desc = fnt.getmetrics()
    tw, th = int(r - l), asc + desc
    px = int(size * pad) if box else 0
    py = int(size * pad * 0.6) if box else 0
    m = int(size * 0.22) if shadow else 2
    w, h = tw + 2 * px + 2 * m, th + 2 * py + 2 * m
    out = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    if shadow:
        sh = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(sh)
        off = int(size * 0.05)
        if box:
            d.rounded_rectangle((m, m + off, w - m, h - m + off), radius=int(size * radius), fill=150)
        else:
            d.text((m + px - l, m + py + off), text, font=fnt, fill=170)
        sh = sh.filter(ImageFilter.GaussianBlur(max(2, size * 0.07)))
        out.putalpha(sh)
        out = Image.composite(Image.new("RGBA", (w, h), (0, 0, 0, 255)), out, sh)
        out.putalpha(sh)
    d = ImageDraw.Draw(out)
    if box:
        d.rounded_rectangle((m, m, w - m, h - m), radius=int(size * radius), fill=(*box, 255))
    d.text((m + px - l, m + py), text, font=fnt, fill=(*fill, 255))
    return out


# BT.601 limited range ("tv"), the conversion libswscale applied to the RGB frames before they
# were drawn in YUV (so colours are unchanged): Y 16..235, Cb/Cr 16..240 (ITU-R BT.601-7, 2.5.3).
# Pillow's matrix conversion rounds to the nearest integer.
_Y_MATRIX = (0.299 * 219 / 255, 0.587 * 219 / 255, 0.114 * 219 / 255, 16.0)
_CB_MATRIX = (-0.168736 * 224 / 255, -0.331264 * 224 / 255, 0.5 * 224 / 255, 128.0)
_CR_MATRIX = (0.5 * 224 / 255, -0.418688 * 224 / 255, -0.081312 * 224 / 255, 128.0)


def rgb_planes(rgb: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """``(Y, Cb, Cr)`` planes ("L" images) of an opaque RGB image: Y full size, Cb/Cr half size
    (rounded up), each the mean of a 2×2 block (4:2:0), BT.601 limited range."""
    rgb = rgb if rgb.mode == "RGB" else rgb.convert("RGB")
    half = rgb.reduce(2)
    return rgb.convert("L", _Y_MATRIX), half.convert("L", _CB_MATRIX), half.convert("L", _CR_MATRIX)


@dataclass
class YuvFrame:
    """A frame being drawn, as yuv420p planes: ``y`` W×H, ``u`` (Cb) and ``v`` (Cr) W/2×H/2
    (Pillow "L" images, BT.601 limited range). Drawing in YUV spares the encode a colour
    conversion of every frame and halves the bytes piped to it."""

    y: Image.Image
    u: Image.Image
    v: Image.Image

    def planes(self) -> tuple[bytes, bytes, bytes]:
        """The raw Y, Cb and Cr planes (written one after another they are the ``yuv420p`` frame)."""
        return self.y.tobytes(), self.u.tobytes(), self.v.tobytes()

    @classmethod
    def from_planes(cls, y: Image.Image, u: Image.Image, v: Image.Image, top: int = 0, left: int = 0,
                    size: tuple[int, int] | None = None) -> YuvFrame:
        """A ``size`` (W, H; default the planes' own) window of larger planes at luma ``(left, top)``
        (copied: drawing on the frame leaves the planes untouched). Odd offsets place the chroma
        window at ``(left // 2, top // 2)``."""
        W, H = size or y.size
        cl, ct = left // 2, top // 2
        return cls(y.crop((left, top, left + W, top + H)), u.crop((cl, ct, cl + W // 2, ct + H // 2)),
                   v.crop((cl, ct, cl + W // 2, ct + H // 2)))


def yuv420p_to_rgb(buf: bytes, width: int, height: int) -> np.ndarray:
    """uint8 ``[height, width, 3]`` RGB of one raw ``yuv420p`` frame (BT.601 limited range,
    chroma repeated 2×2): to look at or test drawn frames."""
    n = width * height
    y = np.frombuffer(buf, np.uint8, n).reshape(height, width).astype(np.float32) - 16
    c = np.frombuffer(buf, np.uint8, n // 2, n).reshape(2, height // 2, width // 2).astype(np.float32) - 128
    cb, cr = (np.repeat(np.repeat(p, 2, axis=0), 2, axis=1) for p in c)
    y *= 255 / 219
    cb *= 255 / 224
    cr *= 255 / 224
    rgb = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


class _Fifo(dict):
    """A dict that forgets its oldest entries past ``limit`` (first in, first out: a lookup does not
    refresh an entry)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key, value):
        if len(self) >= self.limit:
            del self[next(iter(self))]
        self[key] = value
        return value


class Sprite:
    """An RGBA image with cached scaled copies (scale quantised to 1 %) and their yuv420p planes."""

    def __init__(self, img: Image.Image) -> None:
        self.img = img if img.mode == "RGBA" else img.convert("RGBA")
        self._cache = _Fifo(160)  # scale key → RGBA
        self._luma = _Fifo(160)  # scale key → (Y, A)
        self._chroma = _Fifo(240)  # (scale key, x parity, y parity) → (Cb, Cr, A at half size)
        # (plane key, fade step) → faded alpha: small sprites (particles: many sizes × fades ×
        # parities) keep more entries, within ~4 M pixels
        w, h = self.img.size
        self._alpha = _Fifo(max(240, min(4000, 4_000_000 // max(1, w * h))))

    @property
    def size(self) -> tuple[int, int]:
        return self.img.size

    def scaled(self, s: float) -> Image.Image:
        """The sprite at scale ``s`` (BILINEAR; cached per 1 %)."""
        return self._scaled(max(1, int(round(s * 100))))

    def _scaled(self, key: int) -> Image.Image:
        im = self._cache.get(key)
        if im is None:
            if key == 100:
                im = self.img
            else:
                w, h = self.img.size
                im = self.img.resize((max(1, round(w * key / 100)), max(1, round(h * key / 100))),
                                     Image.Resampling.BILINEAR)
            self._cache.put(key, im)
        return im

    def luma(self, key: int) -> tuple[Image.Image, Image.Image]:
        """(Y, alpha) of the sprite at scale ``key`` %."""
        got = self._luma.get(key)
        if got is None:
            im = self._scaled(key)
            got = self._luma.put(key, (im.convert("RGB").convert("L", _Y_MATRIX), im.getchannel("A")))
        return got

    def chroma(self, key: int, px: int, py: int) -> tuple[Image.Image, Image.Image, Image.Image]:
        """(Cb, Cr, alpha) at half size of the sprite at scale ``key`` % placed ``px``, ``py`` (0/1)
        luma pixels right of / below an even position: each 2×2 block's colour is its alpha-weighted
        mean and its alpha the block mean, so the 4:2:0 composite equals the subsampled RGB one."""
        ck = (key, px, py)
        got = self._chroma.get(ck)
        if got is None:
            im = self._scaled(key)
            w, h = im.size
            if px or py or w % 2 or h % 2:
                pad = Image.new("RGBA", (w + px + (w + px) % 2, h + py + (h + py) % 2), (0, 0, 0, 0))
                pad.paste(im, (px, py))
                im = pad
            half = im.convert("RGBa").reduce(2).convert("RGBA")
            rgb = half.convert("RGB")
            got = self._chroma.put(ck, (rgb.convert("L", _CB_MATRIX), rgb.convert("L", _CR_MATRIX),
                                        half.getchannel("A")))
        return got

    def faded(self, plane_key: tuple, alpha_plane: Image.Image, alpha: float) -> Image.Image:
        """``alpha_plane`` scaled by ``alpha`` (quantised to 5 % steps; cached)."""
        a = int(round(clamp(alpha) * 20))
        if a >= 20:
            return alpha_plane
        key = (plane_key, a)
        m = self._alpha.get(key)
        if m is None:
            m = self._alpha.put(key, alpha_plane.point(_FADE_LUTS[a]))
        return m


_FADE_LUTS = [[v * a // 20 for v in range(256)] for a in range(21)]  # alpha × a/20, per fade step


def paste(frame: YuvFrame, sprite: Sprite, cx: float, cy: float, scale: float = 1.0, alpha: float = 1.0) -> None:
    """Paste ``sprite`` centred at ``(cx, cy)``, scaled and faded; no-op when invisible."""
    if alpha <= 0.02 or scale <= 0.02:
        return
    key = max(1, int(round(scale * 100)))
    y, a = sprite.luma(key)
    w, h = y.size
    x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
    frame.y.paste(y, (x0, y0), sprite.faded((key,), a, alpha))
    px, py = x0 & 1, y0 & 1
    cb, cr, a2 = sprite.chroma(key, px, py)
    m2 = sprite.faded((key, px, py), a2, alpha)
    frame.u.paste(cb, (x0 >> 1, y0 >> 1), m2)
    frame.v.paste(cr, (x0 >> 1, y0 >> 1), m2)


@lru_cache(maxsize=256)
def load_asset(path: str, px: int) -> Image.Image:
    """A vendored asset image fitted in ``px``×``px`` (LANCZOS), RGBA."""
    im = Image.open(path).convert("RGBA")
    w, h = im.size
    s = px / max(w, h)
    return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.LANCZOS)


def load_logo(path: str | Path, max_w: int, max_h: int) -> Image.Image:
    """The user's logo fitted in ``max_w``×``max_h`` (RGBA).

    Raises:
        InputError: the file is missing or not an image Pillow can read.
    """
    try:
        im = Image.open(path)
        im.load()
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the logo file {path}: {exc}",
                         hint="pass a PNG/JPEG/WebP image with --logo FILE (PNG with transparency looks best)") from exc
    im = im.convert("RGBA")
    s = min(max_w / im.width, max_h / im.height)
    return im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.LANCZOS)


# --------------------------------------------------------------------------- background
def make_background(width: int, height: int, pal: Palette, variant: int) -> np.ndarray:
    """uint8 ``[height + PAN_PX, width, 3]`` gradient with two soft glows (variant moves them)."""
    H = height + PAN_PX
    sw, sh = max(8, width // 8), max(8, H // 8)
    y = np.linspace(0, 1, sh, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, sw, dtype=np.float32)[None, :]
    diag = clamp(0.75)
    t = np.clip(y * diag + x * (1 - diag) * (1 if variant % 2 else -1) + (0 if variant % 2 else (1 - diag)), 0, 1)
    # each scene gets its own shade of the palette (hue ±0.05, lightness): cuts read as cuts
    import colorsys

    def shade(c: tuple[int, int, int]) -> np.ndarray:
        h, l, s_ = colorsys.rgb_to_hls(*(v / 255 for v in c))
        dh, dl = ((0.0, 0.0), (0.07, 0.045), (-0.07, -0.02))[variant % 3]
        return np.array(colorsys.hls_to_rgb((h + dh) % 1, min(1, max(0, l + dl)), s_), np.float32) * 255

    top = shade(pal.bg_top)
    bot = shade(pal.bg_bottom)
    img = top[None, None, :] * (1 - t[..., None]) + bot[None, None, :] * t[..., None]
    glow = np.array(pal.glow, np.float32)
    rng = np.random.default_rng(1000 + variant)
    aspect = width / H
    for k in range(2):
        gx, gy = rng.uniform(0.1, 0.9), (0.15 + 0.55 * k) + rng.uniform(-0.08, 0.08)
        r = rng.uniform(0.28, 0.42)
        d2 = ((x - gx) * aspect) ** 2 + (y - gy) ** 2
        a = np.exp(-d2 / (2 * (r * 0.55) ** 2))[..., None] * (0.55 - 0.15 * k)
        img = img * (1 - a) + glow[None, None, :] * a
    # vignette
    v = 1 - 0.35 * (((x - 0.5) * 1.3) ** 2 + ((y - 0.5) * 1.1) ** 2)
    img = np.clip(img * v[..., None], 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(img, "RGB").resize((width, H), Image.Resampling.BICUBIC))


def soft_dot(radius: int, color: tuple[int, int, int], strength: int = 200) -> Sprite:
    """A blurred dot (particles)."""
    s = radius * 4
    m = Image.new("L", (s, s), 0)
    ImageDraw.Draw(m).ellipse((radius, radius, 3 * radius, 3 * radius), fill=strength)
    m = m.filter(ImageFilter.GaussianBlur(radius * 0.6))
    im = Image.new("RGBA", (s, s), (*color, 0))
    im.putalpha(m)
    return Sprite(im)


# --------------------------------------------------------------------------- text layout
def wrap_words(words: list[str], fnt: ImageFont.FreeTypeFont, max_w: float) -> list[list[str]]:
    """Greedy line wrap of ``words`` to ``max_w`` pixels."""
    lines: list[list[str]] = []
    space = fnt.getlength(" ")
    cur: list[str] = []
    cur_w = 0.0
    for w in words:
        ww = fnt.getlength(w)
        if cur and cur_w + space + ww > max_w:
            lines.append(cur)
            cur, cur_w = [w], ww
        else:
            cur_w = cur_w + (space if cur else 0) + ww
            cur.append(w)
    if cur:
        lines.append(cur)
    return lines


def fit_lines(words: list[str], font_name: str, size: int, max_w: float, max_lines: int) -> tuple[ImageFont.FreeTypeFont, list[list[str]]]:
    """Largest font ≤ ``size`` at which ``words`` wrap into ≤ ``max_lines`` lines of ``max_w``."""
    s = size
    while True:
        f = font(font_name, s)
        lines = wrap_words(words, f, max_w)
        if (len(lines) <= max_lines and all(sum(f.getlength(w) for w in ln) + f.getlength(" ") * (len(ln) - 1) <= max_w
                                            for ln in lines)) or s <= 24:
            return f, lines
        s = int(s * 0.92)


def _norm(w: str) -> str:
    return "".join(ch for ch in w.lower() if ch.isalnum())


def word_times(headline: list[str], words: list[WordTiming], duration_s: float, start: float = 0.15) -> list[float]:
    """When each headline word appears: when it is spoken (at or after ``start``), else spread over
    the scene's first half; never later than ``start + 0.3 s`` per word position."""
    out: list[float | None] = []
    j = 0
    spoken = [(_norm(w.text), w.start_s) for w in words if w.start_s >= start - 0.2]
    for hw in headline:
        n = _norm(hw)
        hit = None
        for k in range(j, len(spoken)):
            if spoken[k][0] == n and n:
                hit = k
                break
        if hit is None:
            out.append(None)
        else:
            out.append(spoken[hit][1])
            j = hit + 1
    span = max(0.6, min(duration_s * 0.5, 2.4))
    n = len(headline)
    res: list[float] = []
    last = start - 0.12
    for i, t in enumerate(out):
        if t is None:
            t = start + span * i / max(1, n)
        # on-screen words spoken late in the line still arrive within the first seconds: the
        # scene never opens on an empty frame
        t = min(t, start + 0.3 * (i + 1))
        t = max(t, last + 0.06)
        res.append(min(t, duration_s * 0.8))
        last = t
    return res


@dataclass
class _Word:
    sprite: Sprite
    cx: float
    cy: float
    t: float
    t_end: float = math.inf  # leaves (fades out) here: the next phrase of a long line takes over


@dataclass
class _Ctx:
    W: int
    H: int
    fps: int
    lay: Layout
    pal: Palette
    spec: MotionSpec
    logo: Image.Image | None = None
    dot: Sprite | None = None
    spark: Sprite | None = None
    cache: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- scene renderers
class SceneRenderer:
    """Draws one scene; :meth:`frame` returns the frame (:class:`YuvFrame`) at scene time ``t`` (seconds)."""

    def __init__(self, ctx: _Ctx, scene: MotionScene, index: int) -> None:
        self.ctx, self.scene, self.index = ctx, scene, index
        self.d = scene.design
        self.dur = scene.duration_s
        self.bg = rgb_planes(Image.fromarray(make_background(ctx.W, ctx.H, ctx.pal, index), "RGB"))
        self.items: list = []  # (kind, data)
        self.video: _VideoSource | None = None
        self.still: tuple[Image.Image, Image.Image, Image.Image] | None = None  # yuv planes
        rng = np.random.default_rng(7 + index)
        self.particles = [(rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.04, 0.09), rng.uniform(0.5, 1.2))
                          for _ in range(14)]
        kind = self.d.kind
        if scene.clip_path and kind != "end_card":
            self.video = _VideoSource(scene.clip_path, ctx.W, ctx.H, ctx.fps, self.dur)
            kind = "stat" if kind == "stat" else "clip"
        elif kind == "photo" and self.d.footage:
            path = Path(self.d.footage)
            if path.suffix.lower() in (".mp4", ".mov", ".webm", ".mkv", ".m4v"):
                self.video = _VideoSource(str(path), ctx.W, ctx.H, ctx.fps, self.dur)
            else:
                self.still = rgb_planes(Image.fromarray(_cover(path, ctx.W, ctx.H, 1.12), "RGB"))
        self.kind = kind
        getattr(self, f"_prep_{kind}", self._prep_kinetic)()

    # ---------------------------------------------------------------- helpers
    def _headline_words(self, text: str, font_name: str, size: int, max_w: float, max_lines: int,
                        cx: float, top: float, t0: float = 0.15, emphasis: str | None = None) -> float:
        """Lay out ``text`` as per-word sprites centred on ``cx`` from ``top``; returns the bottom y."""
        words = text.split()
        if not words:
            return top
        fnt, lines = fit_lines(words, font_name, size, max_w, max_lines)
        times = word_times(words, self.scene.words, self.dur, t0)
        emph = _norm(self.d.emphasis if emphasis is None else emphasis)
        space = fnt.getlength(" ") * 1.1
        line_h = fnt.size * 1.08
        y = top
        k = 0
        for ln in lines:
            sprites = []
            for w in ln:
                is_emph = emph and _norm(w) == emph
                pal = self.ctx.pal
                sp = Sprite(text_sprite(w, fnt, pal.on_accent if is_emph else pal.text,
                                        box=pal.accent if is_emph else None))
                sprites.append((sp, fnt.getlength(w) + (2 * int(fnt.size * 0.22) if is_emph else 0)))
            total = sum(wd for _, wd in sprites) + space * (len(sprites) - 1)
            x = cx - total / 2
            for sp, wd in sprites:
                self.items.append(("word", _Word(sp, x + wd / 2, y + line_h / 2, times[k])))
                x += wd + space
                k += 1
            y += line_h
        return y

    def _asset(self, i: int, px: int) -> Sprite | None:
        if i < len(self.d.assets):
            return Sprite(load_asset(self.d.assets[i].file, px))
        return None

    # ---------------------------------------------------------------- preparation per kind
    def _prep_kinetic(self) -> None:
        lay = self.ctx.lay
        x0, y0, x1, y1 = lay.content
        cw, ch = x1 - x0, y1 - y0
        icon_px = int(min(cw, ch) * (0.36 if not lay.landscape else 0.42))
        icon = self._asset(0, icon_px)
        text = self.d.headline or self.scene.design.visual.headline
        size = int(lay.display_size * 1.3)
        fnt, lines = fit_lines(text.split(), DISPLAY_FONT, size, cw * 0.92, 4)
        text_h = len(lines) * fnt.size * 1.08
        total = text_h + (icon_px + ch * 0.05 if icon else 0)
        top = y0 + (ch - total) / 2
        if icon:
            self.items.append(("hero", (icon, x0 + cw / 2, top + icon_px / 2, 0.05, 0.7)))
            top += icon_px + ch * 0.05
        first = len(self.items)
        self._headline_words(text, DISPLAY_FONT, size, cw * 0.92, 4, x0 + cw / 2, top)
        self._cycle_phrases(first, text, size, cw * 0.92, 4, x0 + cw / 2, top + text_h / 2, centre=True)

    def _cycle_phrases(self, first: int, text: str, size: int, max_w: float, max_lines: int, cx: float,
                       anchor: float, *, centre: bool) -> None:
        """A long line keeps moving: each later sentence's key words replace the headline (the word
        items from ``self.items[first:]``) as they are spoken, laid out at the same place
        (centred on ``anchor`` when ``centre``, else from ``anchor`` down)."""
        phrases = later_phrases(self.scene.words, text, self.dur)
        if not phrases:
            return
        for kind, w in self.items[first:]:
            if kind == "word":
                w.t_end = phrases[0][1]
        for k, (phrase, t0) in enumerate(phrases):
            t_end = phrases[k + 1][1] if k + 1 < len(phrases) else math.inf
            f2, l2 = fit_lines(phrase.split(), DISPLAY_FONT, size, max_w, max_lines)
            n0 = len(self.items)
            longest = max((w for w in phrase.split() if len(_norm(w)) >= 4), key=len, default="")
            top = anchor - len(l2) * f2.size * 1.08 / 2 if centre else anchor
            self._headline_words(phrase, DISPLAY_FONT, size, max_w, max_lines, cx, top, t0, emphasis=longest)
            for kind, w in self.items[n0:]:
                if kind == "word":
                    w.t_end = t_end

    def _prep_hero(self) -> None:
        lay = self.ctx.lay
        x0, y0, x1, y1 = lay.content
        cw, ch = x1 - x0, y1 - y0
        text = self.d.headline
        if lay.landscape:
            hero_px = int(min(ch * 0.78, cw * 0.4))
            hcx, hcy = x0 + cw * 0.27, y0 + ch / 2
            tx, tw = x0 + cw * 0.72, cw * 0.5
            fnt, lines = fit_lines(text.split(), DISPLAY_FONT, lay.display_size, tw, 3)
            top = y0 + (ch - len(lines) * fnt.size * 1.08) / 2
            first = len(self.items)
            self._headline_words(text, DISPLAY_FONT, lay.display_size, tw, 3, tx, top, 0.3)
            self._cycle_phrases(first, text, lay.display_size, tw, 3, tx, y0 + ch / 2, centre=True)
        else:
            hero_px = int(min(cw * 0.62, ch * 0.5))
            fnt, lines = fit_lines(text.split(), DISPLAY_FONT, lay.display_size, cw * 0.94, 2)
            text_h = len(lines) * fnt.size * 1.08 if text else 0
            total = hero_px + ch * 0.06 + text_h
            top = y0 + max(0, (ch - total) / 2)
            hcx, hcy = x0 + cw / 2, top + hero_px / 2
            first = len(self.items)
            self._headline_words(text, DISPLAY_FONT, lay.display_size, cw * 0.94, 2, x0 + cw / 2,
                                 top + hero_px + ch * 0.06, 0.3)
            self._cycle_phrases(first, text, lay.display_size, cw * 0.94, 2, x0 + cw / 2,
                                top + hero_px + ch * 0.06, centre=False)
        hero = self._asset(0, hero_px)
        if hero:
            self.items.append(("shadow", (hcx, hcy + hero_px * 0.5, hero_px)))
            self.items.append(("hero", (hero, hcx, hcy, 0.0, 1.0)))
        for k, (dx, dy) in enumerate(((-0.55, -0.42), (0.55, 0.3))):
            sup = self._asset(k + 1, int(hero_px * 0.36))
            if sup:
                self.items.append(("orbit", (sup, hcx + dx * hero_px, hcy + dy * hero_px, 0.35 + 0.15 * k, k)))
        self.items.append(("sparkles", (hcx, hcy, hero_px)))

    def _prep_stat(self) -> None:
        lay = self.ctx.lay
        x0, y0, x1, y1 = lay.content
        cw, ch = x1 - x0, y1 - y0
        v = self.d.visual
        value = v.stat_value or "1"
        self.stat_pre, self.stat_num, self.stat_suf, self.stat_dec = _split_number(value)
        size = int(lay.display_size * (2.6 if not lay.landscape else 2.2))
        big = font(DISPLAY_FONT, size)
        while big.getlength(value) > cw * 0.9 and size > 40:
            size = int(size * 0.9)
            big = font(DISPLAY_FONT, size)
        self.stat_font = big
        label = v.stat_label
        lab_f, lab_lines = fit_lines(label.split(), BODY_FONT, int(lay.body_size * 1.45), cw * 0.9, 2) if label else (None, [])
        n_icons = 0
        icon = self.d.assets[0] if self.d.assets else None
        if icon is not None and self.kind == "stat":
            try:
                n = float(self.stat_num.replace(",", ""))
            except ValueError:
                n = 0
            n_icons = int(n) if 1 <= n <= 10 and float(n).is_integer() else 5
        per_row = n_icons if n_icons <= 5 else math.ceil(n_icons / 2)
        rows = math.ceil(n_icons / per_row) if n_icons else 0
        icon_px = int(min(cw / max(per_row, 1) * 0.82, lay.display_size * 1.7)) if n_icons else 0
        lab_h = (len(lab_lines) * lab_f.size * 1.2) if lab_f else 0
        total = big.size * 1.02 + ch * 0.02 + lab_h + ch * 0.03 + rows * icon_px * 1.1
        top = y0 + (ch - total) / 2
        if self.video is not None:  # stat overlay on a clip: a translucent card behind it
            self.items.append(("card", (x0 + cw * 0.04, top - ch * 0.03, x1 - cw * 0.04, top + total + ch * 0.02)))
        self.stat_center = (x0 + cw / 2, top + big.size * 0.5)
        self.items.append(("stat", None))
        y = top + big.size * 1.02 + ch * 0.02
        if lab_f:
            for ln in lab_lines:
                sp = Sprite(text_sprite(" ".join(ln), lab_f, self.ctx.pal.text))
                self.items.append(("word", _Word(sp, x0 + cw / 2, y + lab_f.size * 0.6, 0.45)))
                y += lab_f.size * 1.2
        y += ch * 0.03
        if n_icons and icon is not None:
            sp = Sprite(load_asset(icon.file, icon_px))
            for k in range(n_icons):
                r, c = divmod(k, per_row)
                in_row = min(per_row, n_icons - r * per_row)
                gap = min(cw / per_row, icon_px * 1.15)
                cx = x0 + cw / 2 + (c - (in_row - 1) / 2) * gap
                self.items.append(("icon", (sp, cx, y + icon_px * (0.55 + 1.1 * r), 0.9 + 0.09 * k, k)))

    def _prep_list(self) -> None:
        lay = self.ctx.lay
        x0, y0, x1, y1 = lay.content
        cw, ch = x1 - x0, y1 - y0
        items = list(self.d.visual.items)[:4]
        head = self.d.visual.headline
        head_h = 0.0
        body = font(BODY_FONT, int(lay.body_size * 1.3))
        row_h = body.size * 2.2
        if head:
            hf, hl = fit_lines(head.split(), DISPLAY_FONT, int(lay.display_size * 0.9), cw * 0.94, 2)
            head_h = len(hl) * hf.size * 1.08 + ch * 0.04
        total = head_h + len(items) * row_h * 1.15
        top = y0 + (ch - total) / 2
        if head:
            self._headline_words(head, DISPLAY_FONT, int(lay.display_size * 0.9), cw * 0.94, 2, x0 + cw / 2, top)
        y = top + head_h
        times = _item_times(items, self.scene.words, self.dur)
        for k, it in enumerate(items):
            card_w = cw * 0.96
            card = Image.new("RGBA", (int(card_w), int(row_h)), (0, 0, 0, 0))
            dr = ImageDraw.Draw(card)
            dr.rounded_rectangle((0, 0, card_w - 1, row_h - 1), radius=int(row_h * 0.3), fill=(255, 255, 255, 38))
            ic = self.d.item_assets[k] if k < len(self.d.item_assets) else None
            ip = int(row_h * 0.78)
            if ic is not None:
                a = load_asset(ic.file, ip)
                card.alpha_composite(a, (int(row_h * 0.16), int((row_h - a.height) / 2)))
            else:
                r = int(row_h * 0.16)
                cxx, cyy = int(row_h * 0.55), int(row_h / 2)
                dr.ellipse((cxx - r, cyy - r, cxx + r, cyy + r), fill=(*self.ctx.pal.accent, 255))
            f, lines = fit_lines(it.split(), BODY_FONT, body.size, card_w - row_h * 1.3, 1)
            dr.text((row_h * 1.12, row_h / 2), " ".join(lines[0]) if lines else it, font=f,
                    fill=(*self.ctx.pal.text, 255), anchor="lm")
            self.items.append(("row", (Sprite(card), x0 + cw / 2, y + row_h / 2, times[k])))
            y += row_h * 1.15

    def _prep_photo(self) -> None:
        lay = self.ctx.lay
        x0, y0, x1, y1 = lay.content
        cw, ch = x1 - x0, y1 - y0
        text = self.d.headline
        fnt, lines = fit_lines(text.split(), DISPLAY_FONT, lay.display_size, cw * 0.94, 2)
        top = y1 - len(lines) * fnt.size * 1.08
        self._headline_words(text, DISPLAY_FONT, lay.display_size, cw * 0.94, 2, x0 + cw / 2, top, 0.3)

    def _prep_clip(self) -> None:
        """A generated clip: the clip itself is the visual; captions come from the encode."""

    def _prep_end_card(self) -> None:
        ctx = self.ctx
        lay = ctx.lay
        x0, y0, x1, y1 = lay.content
        cw, ch = x1 - x0, y1 - y0
        brand = ctx.spec.brand or ""
        cands = [ctx.spec.call_to_action, self.d.headline, self.d.visual.headline]
        cta = next((c for c in (_without_brand(c, brand) for c in cands) if c), "")
        if len(cta) > 32:
            cta = " ".join(cta.split()[:5])
        top_px = int(min(cw * 0.5, ch * 0.32))
        if ctx.logo is not None:
            top_sprite: Sprite | None = Sprite(ctx.logo)
        else:
            top_sprite = self._asset(0, top_px)
        bf, bl = fit_lines(brand.split(), DISPLAY_FONT, int(lay.display_size * 1.25), cw * 0.94, 2) if brand else (None, [])
        cf, cl = fit_lines(cta.split(), BODY_FONT, int(lay.body_size * 1.3), cw * 0.86, 1) if cta else (None, [])
        h_top = (top_sprite.size[1] + ch * 0.05) if top_sprite else 0
        h_brand = len(bl) * bf.size * 1.05 + ch * 0.04 if bf else 0
        h_cta = cf.size * 2.0 if cf else 0
        top = y0 + (ch - h_top - h_brand - h_cta) / 2
        cx = x0 + cw / 2
        if top_sprite:
            self.items.append(("hero", (top_sprite, cx, top + top_sprite.size[1] / 2, 0.0, 0.6)))
            top += h_top
        if bf:
            emph, self.d = self.d, self.d.model_copy(update={"emphasis": ""})  # the brand name stands alone
            self._headline_words(brand, DISPLAY_FONT, int(lay.display_size * 1.25), cw * 0.94, 2, cx, top, 0.25)
            self.d = emph
            top += h_brand
        if cf:
            pill = text_sprite(" ".join(w for ln in cl for w in ln), cf, ctx.pal.on_accent, box=ctx.pal.accent,
                               pad=0.7, radius=0.9)
            self.items.append(("pill", (Sprite(pill), cx, top + h_cta / 2, 0.55)))

    # ---------------------------------------------------------------- drawing
    def frame(self, t: float, fi: int) -> YuvFrame:
        ctx = self.ctx
        W, H = ctx.W, ctx.H
        if self.video is not None:
            frame = self.video.next_frame()
        elif self.still is not None:
            sw, sh = self.still[0].size
            p = t / self.dur
            ox = int((sw - W) * (0.5 + 0.5 * math.sin(p * math.pi - math.pi / 2) * (1 if self.index % 2 else -1)) )
            oy = int((sh - H) * (0.35 + 0.3 * p))
            frame = YuvFrame.from_planes(*self.still, oy, ox, (W, H))
        else:
            off = int(PAN_PX / 2 + PAN_PX / 2 * math.sin(2 * math.pi * (t / 9.0) + self.index))
            frame = YuvFrame.from_planes(*self.bg, off, 0, (W, H))
            self._particles(frame, t)
        ta = t + ENTRY_LEAD_S
        for kind, data in self.items:
            getattr(self, f"_draw_{kind}")(frame, ta, data)
        return frame

    def _particles(self, frame: YuvFrame, t: float) -> None:
        ctx = self.ctx
        dot = ctx.dot
        if dot is None:
            return
        for px, py, speed, size in self.particles:
            y = ((py - speed * t) % 1.0) * ctx.H
            x = px * ctx.W + 12 * math.sin(t * 1.3 + px * 9)
            paste(frame, dot, x, y, size, 0.35 + 0.25 * math.sin(t * 2 + py * 7))

    def _draw_word(self, frame: YuvFrame, t: float, w: _Word) -> None:
        dt = t - w.t
        if dt < 0 or t >= w.t_end:
            return
        if w.t_end - t < 0.15:
            paste(frame, w.sprite, w.cx, w.cy - (0.15 - (w.t_end - t)) * 200, 1.0, (w.t_end - t) / 0.15)
            return
        p = dt / 0.28
        s = 0.55 + 0.45 * ease_out_back(p) if p < 1 else 1.0
        drift = -4 * math.sin(t * 1.6 + w.cx * 0.01)
        paste(frame, w.sprite, w.cx, w.cy + (1 - ease_out_cubic(p)) * 30 + drift, s, clamp(p * 1.8))

    def _draw_hero(self, frame: YuvFrame, t: float, data) -> None:
        sprite, cx, cy, t0, amp = data
        dt = t - t0
        if dt < 0:
            return
        p = dt / 0.45
        s = ease_out_back(p, 2.2) if p < 1 else 1.0 + 0.025 * math.sin(t * 2.2)
        y = cy + amp * 16 * math.sin(t * 2.4)
        paste(frame, sprite, cx, y, max(0.05, s), clamp(p * 2.5))

    def _draw_shadow(self, frame: YuvFrame, t: float, data) -> None:
        cx, cy, px = data
        key = ("shadow", px)
        sp = self.ctx.cache.get(key)
        if sp is None:
            w, h = int(px * 0.7), int(px * 0.12)
            m = Image.new("L", (w + 40, h + 40), 0)
            ImageDraw.Draw(m).ellipse((20, 20, 20 + w, 20 + h), fill=110)
            m = m.filter(ImageFilter.GaussianBlur(12))
            im = Image.new("RGBA", m.size, (0, 0, 0, 0))
            im.putalpha(m)
            sp = self.ctx.cache[key] = Sprite(im)
        k = 0.92 - 0.06 * math.sin(t * 2.4)
        paste(frame, sp, cx, cy, k, clamp(t / 0.45))

    def _draw_orbit(self, frame: YuvFrame, t: float, data) -> None:
        sprite, cx, cy, t0, k = data
        dt = t - t0
        if dt < 0:
            return
        p = dt / 0.4
        s = ease_out_back(p) if p < 1 else 1.0
        ph = t * 1.7 + k * 2.1
        paste(frame, sprite, cx + 14 * math.cos(ph), cy + 18 * math.sin(ph), max(0.05, s), clamp(p * 2))

    def _draw_sparkles(self, frame: YuvFrame, t: float, data) -> None:
        cx, cy, px = data
        sp = self.ctx.spark
        if sp is None or t < 0.3:
            return
        for k in range(6):
            ph = (t * 0.35 + k / 6) % 1.0
            ang = k * 1.047 + 0.4
            r = px * (0.45 + 0.35 * ph)
            paste(frame, sp, cx + r * math.cos(ang), cy + r * math.sin(ang) * 0.8 - ph * 40, 0.5 + 0.6 * (1 - ph),
                  math.sin(ph * math.pi))

    def _draw_icon(self, frame: YuvFrame, t: float, data) -> None:
        sprite, cx, cy, t0, k = data
        dt = t - t0
        if dt < 0:
            return
        p = dt / 0.3
        s = ease_out_back(p, 2.4) if p < 1 else 1.0
        paste(frame, sprite, cx, cy - 8 * math.sin(t * 3 + k * 0.7), max(0.05, s), clamp(p * 3))

    def _draw_row(self, frame: YuvFrame, t: float, data) -> None:
        sprite, cx, cy, t0 = data
        dt = t - t0
        if dt < 0:
            return
        p = ease_out_cubic(dt / 0.35)
        paste(frame, sprite, cx + (1 - p) * 120 + 3 * math.sin(t * 2 + cy), cy, 1.0, p)

    def _draw_pill(self, frame: YuvFrame, t: float, data) -> None:
        sprite, cx, cy, t0 = data
        dt = t - t0
        if dt < 0:
            return
        p = dt / 0.4
        s = ease_out_back(p) if p < 1 else 1.0 + 0.04 * math.sin((dt - 0.4) * 4.2)
        paste(frame, sprite, cx, cy, max(0.05, s), clamp(p * 2))

    def _draw_card(self, frame: YuvFrame, t: float, data) -> None:
        x0, y0, x1, y1 = (int(v) for v in data)
        key = ("card", x0, y0, x1, y1)
        sp = self.ctx.cache.get(key)
        if sp is None:
            im = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
            ImageDraw.Draw(im).rounded_rectangle((0, 0, x1 - x0 - 1, y1 - y0 - 1), radius=40,
                                                 fill=(*self.ctx.pal.bg_bottom, 200))
            sp = self.ctx.cache[key] = Sprite(im)
        paste(frame, sp, (x0 + x1) / 2, (y0 + y1) / 2, 1.0, clamp(t / 0.3))

    def _draw_stat(self, frame: YuvFrame, t: float, _data) -> None:
        p = ease_out_cubic((t - 0.1) / 0.9)
        try:
            target = float(self.stat_num.replace(",", ""))
        except ValueError:
            target = None
        if target is None:
            text = self.stat_pre + self.stat_num + self.stat_suf
        else:
            cur = target * p
            if self.stat_dec:
                num = f"{cur:,.{self.stat_dec}f}" if "," in self.stat_num else f"{cur:.{self.stat_dec}f}"
            else:
                num = f"{int(round(cur)):,}" if "," in self.stat_num else str(int(round(cur)))
            text = self.stat_pre + num + self.stat_suf
        key = ("stat", self.index, text)
        sp = self.ctx.cache.get(key)
        if sp is None:
            sp = Sprite(text_sprite(text, self.stat_font, self.ctx.pal.accent))
            if len(self.ctx.cache) > 400:
                self.ctx.cache.clear()
            self.ctx.cache[key] = sp
        cx, cy = self.stat_center
        s = 0.7 + 0.3 * ease_out_back(t / 0.35) if t < 0.35 else 1.0 + 0.015 * math.sin(t * 3)
        paste(frame, sp, cx, cy, s, clamp(t / 0.2))

    def close(self) -> None:
        if self.video is not None:
            self.video.close()


def _without_brand(text: str, brand: str) -> str:
    """``text`` without sentences that only name the brand ("Budweiser. Best Buds." → "Best Buds.")."""
    import re

    if not text:
        return ""
    parts = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p]
    keep = [p for p in parts if _norm(p) != _norm(brand)] if brand else parts
    return " ".join(keep)


def later_phrases(words: list[WordTiming], headline: str, duration_s: float, min_gap_s: float = 2.2) -> list[tuple[str, float]]:
    """Key phrases (≤ 6 words) of the sentences spoken after the headline's, with their start times.

    Only for lines long enough to need them: a phrase starts at least ``min_gap_s`` after the
    previous one and 1.2 s before the scene ends; the headline's own sentence is skipped.
    """
    from reelflow.processors.motion.design import _short

    sentences: list[tuple[list[str], float]] = []
    cur: list[str] = []
    t0 = 0.0
    for w in words:
        if not cur:
            t0 = w.start_s
        cur.append(w.text)
        if w.text[-1:] in ".!?":
            sentences.append((cur, t0))
            cur = []
    if cur:
        sentences.append((cur, t0))
    head = {_norm(x) for x in headline.split()}
    out: list[tuple[str, float]] = []
    last = 0.0
    for toks, start in sentences:
        if head and len(head & {_norm(x) for x in toks}) >= max(1, math.ceil(len(head) * 0.6)):
            last = max(last, start)
            continue
        phrase = _short(" ".join(toks), 6, 40)
        if phrase and start - last >= min_gap_s and start <= duration_s - 1.2:
            out.append((phrase, start))
            last = start
    return out


def _split_number(value: str) -> tuple[str, str, str, int]:
    """``"$1,200.50+"`` → ``("$", "1,200.50", "+", 2)``."""
    import re

    m = re.search(r"\d[\d,]*(?:\.(\d+))?", value)
    if not m:
        return "", value, "", 0
    return value[: m.start()], m.group(0), value[m.end():], len(m.group(1) or "")


def _item_times(items: list[str], words: list[WordTiming], duration_s: float) -> list[float]:
    """When each list item appears: when its first word is spoken, else evenly over 70 % of the scene."""
    out = []
    spoken = [(_norm(w.text), w.start_s) for w in words]
    j = 0
    for k, it in enumerate(items):
        first = _norm(it.split()[0]) if it.split() else ""
        hit = next((i for i in range(j, len(spoken)) if spoken[i][0] == first and first), None)
        if hit is not None:
            out.append(spoken[hit][1])
            j = hit + 1
        else:
            out.append(0.2 + duration_s * 0.7 * k / max(1, len(items)))
    for k in range(1, len(out)):
        out[k] = max(out[k], out[k - 1] + 0.15)
    return out


def _cover(path: Path, W: int, H: int, zoom: float) -> np.ndarray:
    """Image scaled to cover ``zoom``×(W, H), centre-cropped, uint8 RGB."""
    im = Image.open(path).convert("RGB")
    tw, th = int(W * zoom), int(H * zoom)
    s = max(tw / im.width, th / im.height)
    im = im.resize((max(tw, round(im.width * s)), max(th, round(im.height * s))), Image.Resampling.BICUBIC)
    l, t = (im.width - tw) // 2, (im.height - th) // 2
    im = im.crop((l, t, l + tw, t + th))
    # darken the lower part so the headline reads on any photo
    arr = np.asarray(im).astype(np.float32)
    ramp = np.clip((np.linspace(0, 1, th) - 0.45) / 0.55, 0, 1)[:, None, None] * 0.6
    return (arr * (1 - ramp)).astype(np.uint8)


class _VideoSource:
    """Frames of a video file fitted to W×H at ``fps`` (looped), decoded by ffmpeg into yuv420p
    (BT.601 limited range, as the frames are drawn)."""

    def __init__(self, path: str, W: int, H: int, fps: int, duration_s: float) -> None:
        from reelflow.processors.media import ffmpeg_exe

        self.W, self.H = W, H
        self.frame_bytes = W * H * 3 // 2
        n = math.ceil(duration_s * fps) + 2
        vf = (f"crop=w='min(iw,ih*{W}/{H})':h='min(ih,iw*{H}/{W})',scale={W}:{H}:flags=bicubic:"
              f"out_color_matrix=bt601:out_range=tv,fps={fps},format=yuv420p")
        self.proc = subprocess.Popen(
            [ffmpeg_exe(), "-loglevel", "error", "-stream_loop", "-1", "-i", path, "-vf", vf, "-frames:v", str(n),
             "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.last: bytes | None = None

    def next_frame(self) -> YuvFrame:
        """The next frame (a fresh copy to draw on); the last one again once the clip has ended."""
        assert self.proc.stdout is not None
        buf = self.proc.stdout.read(self.frame_bytes)
        if buf is None or len(buf) < self.frame_bytes:
            if self.last is None:
                err = self.proc.stderr.read().decode(errors="replace")[-400:] if self.proc.stderr else ""
                raise ProcessingError(f"could not decode video frames: {err}", hint="check the clip/footage file")
            buf = self.last
        self.last = buf
        W, H, n = self.W, self.H, self.W * self.H
        return YuvFrame(Image.frombytes("L", (W, H), buf[:n]), Image.frombytes("L", (W // 2, H // 2), buf[n:n + n // 4]),
                        Image.frombytes("L", (W // 2, H // 2), buf[n + n // 4:]))

    def close(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass


def make_context(spec: MotionSpec) -> _Ctx:
    """Shared drawing state of a video (layout, palette, logo, particle sprites)."""
    pal = palette_from_json(spec.palette)
    lay = layout_for(spec.width, spec.height, spec.platform)
    ctx = _Ctx(spec.width, spec.height, spec.fps, lay, pal, spec)
    if spec.logo_path:
        cw = lay.content[2] - lay.content[0]
        ch = lay.content[3] - lay.content[1]
        ctx.logo = load_logo(spec.logo_path, int(cw * 0.55), int(ch * 0.28))
    ctx.dot = soft_dot(max(6, spec.width // 120), pal.glow, 170)
    ctx.spark = soft_dot(max(5, spec.width // 160), (255, 244, 214), 230)
    return ctx


def scene_frame_counts(spec: MotionSpec) -> list[int]:
    """Frames per scene so that the cumulative count tracks ``round(cumulative seconds · fps)``."""
    out, acc, done = [], 0.0, 0
    for sc in spec.scenes:
        acc += sc.duration_s
        n = int(math.floor(acc * spec.fps + 0.5)) - done
        out.append(max(1, n))
        done += out[-1]
    return out


def iter_frames(spec: MotionSpec, scene_range: range | None = None) -> Iterator[bytes]:
    """Raw ``yuv420p`` frames (``width·height·3/2`` bytes each: Y, Cb, Cr planes; BT.601 limited
    range) of the scenes in ``scene_range`` (default all); :func:`yuv420p_to_rgb` converts one.

    Raises:
        ValueError: ``spec.width`` or ``spec.height`` is odd (4:2:0 needs even sizes).
    """
    for planes in iter_frame_planes(spec, scene_range):
        yield b"".join(planes)


def iter_frame_planes(spec: MotionSpec, scene_range: range | None = None) -> Iterator[tuple[bytes, bytes, bytes]]:
    """As :func:`iter_frames`, each frame as its three planes (Y, Cb, Cr), not joined: a pipe
    writer sends them one after another without a copy of the whole frame."""
    if spec.width % 2 or spec.height % 2:
        raise ValueError(f"frame size {spec.width}x{spec.height}: yuv420p needs an even width and height")
    ctx = make_context(spec)
    counts = scene_frame_counts(spec)
    for i in scene_range if scene_range is not None else range(len(spec.scenes)):
        r = SceneRenderer(ctx, spec.scenes[i], i)
        try:
            for f in range(counts[i]):
                yield r.frame(f / spec.fps, f).planes()
        finally:
            r.close()
