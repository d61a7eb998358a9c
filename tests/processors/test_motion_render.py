"""Motion-design frames: scene specs derived from narration, palette/layout rules, and real frames
drawn with Pillow (moving on every second, inside the safe zone)."""

from __future__ import annotations

import numpy as np
import pytest

from reelflow.core.errors import InputError
from reelflow.core.models import Scene, VisualSpec, WordTiming
from reelflow.processors.motion.design import AssetChoice, SceneDesign, derive_visual
from reelflow.processors.motion.layout import layout_for
from reelflow.processors.motion.palette import contrast, palette_for, parse_color
from reelflow.processors.motion.render import MotionScene, MotionSpec, iter_frames, scene_frame_counts, yuv420p_to_rgb

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MEDAL = REPO / "reelflow" / "assets" / "emoji3d" / "images" / "1f947.webp"


def scene(text: str, on_screen: str = "", beat: str = "story") -> Scene:
    return Scene(index=0, narration=text, visual_prompt=text, on_screen_text=on_screen, beat=beat, duration_s=4)


@pytest.mark.parametrize(
    ("text", "kind", "check"),
    [
        ("She won eight gold medals in four Games.", "stat", lambda v: v.stat_value == "8" and "gold" in v.stat_label),
        ("Every $10 feeds thirty families.", "stat", lambda v: v.stat_value == "$10"),
        ("Grip, speed and comfort on every trail.", "list", lambda v: v.items[:2] == ["Grip", "speed"]),
        ("Fresh sourdough baked every morning.", "hero", lambda v: v.headline and "sourdough" in v.keywords),
        ("Two bears raid a cabin fridge.", "hero", lambda v: not v.stat_value),  # a story, not a figure
        ("He buys a goat from a 'Goat 4 Sale' sign.", "hero", lambda v: not v.stat_value),  # a name
        ("Free delivery to your door on orders over 20 dollars.", "stat",
         lambda v: v.stat_value == "$20" and v.stat_label.startswith("Free delivery")),
    ],
)
def test_derived_visual_kinds(text, kind, check):
    v = derive_visual(scene(text), last=False)
    assert v.kind == kind and check(v)
    assert len(v.headline) <= 40 and len(v.headline.split()) <= 6


def test_last_scene_is_the_end_card_and_planner_specs_are_kept():
    assert derive_visual(scene("Order today at bloom.com"), last=True).kind == "end_card"
    given = scene("anything")
    given.visual = VisualSpec(kind="list", headline="Why us", items=["Fast", "Fair"])
    assert derive_visual(given, last=False) is given.visual


def test_palette_from_brand_colour_and_tone():
    assert parse_color("1e90ff") == (30, 144, 255) and parse_color("teal") == (0, 128, 128)
    with pytest.raises(InputError) as exc:
        parse_color("blurple", "--brand-color")
    assert "--brand-color" in str(exc.value)
    for brand in ("#000080", "#ffff00", "#1e90ff", "#222222"):
        p = palette_for(brand, None)
        assert contrast(p.accent, p.bg_bottom) >= 3.0 and contrast(p.text, p.bg_top) >= 4.5
    assert palette_for(None, "calm").name == "calm" and palette_for(None, "upbeat, playful").name == "playful"


@pytest.mark.parametrize(("w", "h", "platform"), [(1080, 1920, "tiktok"), (1920, 1080, "youtube"), (1080, 1080, "reels")])
def test_layout_keeps_content_above_the_caption_band_inside_the_safe_zone(w, h, platform):
    lay = layout_for(w, h, platform)
    sx0, sy0, sx1, sy1 = lay.safe
    cx0, cy0, cx1, cy1 = lay.content
    assert 0 < sx0 <= cx0 < cx1 <= sx1 < w and 0 < sy0 <= cy0 < cy1 < lay.captions[1] <= lay.captions[3] <= sy1 < h
    if h > w:  # TikTok: right action rail and bottom description stay free
        assert w - sx1 >= 0.12 * w and h - sy1 >= 0.2 * h


def _design(i: int, kind: str, **vis) -> SceneDesign:
    medal = AssetChoice(id="emoji3d/1f947", label="1st place medal", score=0.8, via="embedding", licence="MIT",
                        source="@lobehub/fluent-emoji-3d@1.1.0", file=str(MEDAL))
    v = VisualSpec(kind=kind, **vis)
    return SceneDesign(index=i, kind=kind, visual=v, headline=vis.get("headline", ""), assets=[medal],
                       emphasis="gold")


def test_frames_move_every_second_and_count_matches_the_timeline():
    words = [WordTiming(text=w, start_s=0.2 + 0.3 * k, end_s=0.45 + 0.3 * k) for k, w in enumerate("Eight gold medals".split())]
    spec = MotionSpec(
        scenes=[
            MotionScene(design=_design(0, "hero", headline="Eight gold medals"), duration_s=2.5, words=words),
            MotionScene(design=_design(1, "stat", headline="Gold", stat_value="8", stat_label="gold medals"), duration_s=2.0),
            MotionScene(design=_design(2, "end_card", headline="Cheer her on"), duration_s=2.0),
        ],
        width=360, height=640, fps=30, palette=palette_for(None, "inspiring").to_json(), brand="Northwind",
        call_to_action="Cheer her on",
    )
    frames = [yuv420p_to_rgb(b, 360, 640) for b in iter_frames(spec)]
    assert len(frames) == sum(scene_frame_counts(spec)) == round(6.5 * 30)
    for k in range(0, len(frames) - 30, 15):  # no static stretch over 1 s
        diffs = [np.abs(frames[k].astype(int) - frames[j].astype(int)).mean() for j in range(k + 1, k + 31)]
        assert max(diffs) > 0.5, f"static from frame {k}"
    # the hero (gold medal: warm, saturated pixels) is on screen mid-scene, above the caption band
    mid = frames[45].astype(int)
    warm = (mid[..., 0] > 200) & (mid[..., 1] > 120) & (mid[..., 2] < 90)
    ys = np.nonzero(warm)[0]
    assert warm.sum() > 500 and ys.max() < layout_for(360, 640, "tiktok").captions[1]
    # no scene opens on its bare background (an empty frame at each cut reads as a flicker): the
    # hero is already popping in on the scene's first frame, the stat's number on its first
    first = frames[0].astype(int)
    assert ((first[..., 0] > 200) & (first[..., 1] > 120) & (first[..., 2] < 90)).sum() > 100
    accent = np.array(parse_color(spec.palette["accent"], "accent"))
    stat0 = frames[75].astype(int)
    assert (np.abs(stat0 - accent).sum(axis=2) < 40).sum() > 200


def test_frames_are_drawn_in_the_colours_swscale_gave_the_rgb_frames():
    """The planes drawn in YUV match ffmpeg's own rgb24 → yuv420p conversion (BT.601 limited), so
    drawing in YUV changes no colour: luma equal up to rounding, chroma means within half a step."""
    import subprocess

    from PIL import Image

    from reelflow.processors.media import ffmpeg_exe
    from reelflow.processors.motion.render import rgb_planes

    W, H = 320, 240
    yy, xx = np.mgrid[0:H, 0:W]
    rgb = np.stack([xx * 255 / W, yy * 255 / H, (xx + yy) * 127 / (W + H) + 60], -1).astype(np.uint8)
    rgb[50:120, 40:200] = (230, 40, 90)
    out = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-i", "-",
                          "-vf", "format=yuv420p", "-f", "rawvideo", "-"], input=rgb.tobytes(), capture_output=True,
                         check=True).stdout
    n = W * H
    ref = [np.frombuffer(out, np.uint8, n).reshape(H, W), np.frombuffer(out, np.uint8, n // 4, n).reshape(H // 2, W // 2),
           np.frombuffer(out, np.uint8, n // 4, n + n // 4).reshape(H // 2, W // 2)]
    ours = [np.asarray(p) for p in rgb_planes(Image.fromarray(rgb))]
    dy = ours[0].astype(int) - ref[0]
    assert np.abs(dy).max() <= 1 and (dy == 0).mean() > 0.98
    for a, b in zip(ours[1:], ref[1:], strict=True):
        assert abs((a.astype(int) - b).mean()) < 0.5
    # and back: a drawn frame reads as the RGB it was drawn from (chroma at half resolution)
    back = yuv420p_to_rgb(b"".join(p.tobytes() for p in rgb_planes(Image.fromarray(rgb))), W, H).astype(int)
    assert np.abs(back[60:110, 50:190] - np.array([230, 40, 90])).max() <= 3
