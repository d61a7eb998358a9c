"""Keyframes, features, clustering and QA on real and generated media."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelflow.core.errors import InputError
from reelflow.processors.features import (
    FEATURE_DIM,
    ImageEmbedder,
    analyze_image,
    feature_vector,
    group_near_duplicates,
    hamming_matrix,
    load_image,
)
from reelflow.processors.image_clustering import cluster_features
from reelflow.processors.keyframes import best_frame_index, contact_sheet, extract_frames_at, extract_keyframes, grab_frames
from reelflow.processors.media import ffmpeg_exe
from reelflow.processors.qa import qa_clip, qa_video
from reelflow.processors.shots import detect_shots


@pytest.fixture(scope="session")
def images(shared_data: Path) -> Path:
    return shared_data / "footage" / "images"


def test_keyframes_of_testvideo_are_representative(shared_data: Path, tmp_path: Path) -> None:
    det = detect_shots(shared_data / "videos" / "testvideo.mp4")
    kfs, imgs = extract_keyframes(det, tmp_path / "kf")
    assert len(kfs) == len(det.shots)
    for shot, kf, rgb in zip(det.shots, kfs, imgs, strict=True):
        assert shot.start_s <= kf.time_s < shot.end_s
        assert Path(kf.path).is_file() and Image.open(kf.path).format == "JPEG"
        assert rgb.shape[1] <= 640
    # the content shots (not the black leader/gaps) get bright, sharp keyframes
    content = [rgb for s, rgb in zip(det.shots, imgs, strict=True) if s.end_s - s.start_s > 3]
    assert content and all(rgb.mean() > 40 for rgb in content)
    sheet = contact_sheet([k.path for k in kfs], tmp_path / "sheet.jpg", labels=[f"#{k.shot_index}" for k in kfs])
    with Image.open(sheet) as im:
        assert im.width == 4 * 326 + 6 and im.format == "JPEG"


def test_extract_frames_at_is_frame_accurate(shared_data: Path, tmp_path: Path) -> None:
    counter = shared_data / "videos" / "counter.mp4"  # frame n shows n+1, PTS n/10 s
    got = grab_frames(counter, [0.0, 1.0, 2.9, 0.45, 99.0])
    assert [round(t, 3) for t, _ in got] == [0.0, 1.0, 2.9, 0.4, 2.9]
    a, b = got[0][1].astype(int), got[1][1].astype(int)
    assert np.abs(a - b).mean() > 0.5  # different numbers drawn
    assert np.array_equal(got[2][1], got[4][1])
    paths = extract_frames_at(counter, [0.5, 1.5], tmp_path / "f", max_width=320)
    assert [p.name for p in paths] == ["frame_000.jpg", "frame_001.jpg"]
    assert Image.open(paths[0]).width == 320
    vfr = grab_frames(shared_data / "videos" / "goldeneye-vfr-drop3.mp4", [3.75375, 3.7])
    assert vfr[0][0] == pytest.approx(3.75375, abs=1e-4) and vfr[1][0] < 3.7 + 1e-6


def test_best_frame_prefers_sharp_exposed_image(images: Path, tmp_path: Path) -> None:
    rgb = load_image(images / "coffee.png")
    Image.fromarray((rgb * 0.05).astype(np.uint8)).save(tmp_path / "dark.jpg")
    Image.fromarray(rgb).resize((60, 40)).resize((600, 400)).save(tmp_path / "blur.jpg")
    Image.fromarray(rgb).save(tmp_path / "good.jpg")
    assert best_frame_index([tmp_path / "dark.jpg", tmp_path / "blur.jpg", tmp_path / "good.jpg"]) == 2


def test_image_features_and_near_duplicates(images: Path, tmp_path: Path) -> None:
    coffee = analyze_image(images / "coffee.png")
    assert coffee.width == 600 and coffee.height == 400 and len(coffee.phash) == 16
    assert len(coffee.hsv_hist) == 128 and sum(coffee.hsv_hist) == pytest.approx(1.0, abs=1e-4)
    assert abs(sum(f for _, f in coffee.dominant_colours) - 1.0) < 1e-6
    assert feature_vector(coffee).shape == (FEATURE_DIM,)
    # a re-encoded, slightly cropped and brightened copy is a near-duplicate; other photos are not
    im = Image.open(images / "coffee.png").convert("RGB")
    im.crop((8, 6, 592, 394)).point(lambda v: min(255, int(v * 1.08))).save(tmp_path / "copy.jpg", quality=70)
    copy = analyze_image(tmp_path / "copy.jpg")
    others = [analyze_image(images / n) for n in ("rocket.jpg", "astronaut.png", "chelsea.png", "brick.png")]
    hashes = [coffee.phash, copy.phash] + [o.phash for o in others]
    assert hamming_matrix(hashes)[0, 1] <= 8
    assert group_near_duplicates(hashes) == [[0, 1]]
    # blur lowers sharpness; brightness follows the pixels
    Image.open(images / "coffee.png").convert("RGB").resize((75, 50)).resize((600, 400)).save(tmp_path / "b.png")
    assert analyze_image(tmp_path / "b.png").sharpness < coffee.sharpness / 3
    with pytest.raises(InputError, match="not a readable image"):
        (tmp_path / "x.png").write_text("nope")
        analyze_image(tmp_path / "x.png")


def test_embedder_protocol_plugs_into_features(images: Path) -> None:
    class MeanColour:
        name, dim = "mean-colour", 3

        def embed(self, imgs):
            v = np.stack([i.reshape(-1, 3).mean(axis=0) for i in imgs]).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    emb = MeanColour()
    assert isinstance(emb, ImageEmbedder)
    f = analyze_image(images / "rocket.jpg", embedder=emb)
    assert len(f.embedding) == 3 and feature_vector(f).shape == (FEATURE_DIM + 3,)


def test_hdbscan_finds_textures_vs_photos_and_is_stable(images: Path, tmp_path: Path) -> None:
    """Augmented copies of 3 photos form 3 clusters; labels identical across runs."""
    rng = np.random.default_rng(0)
    feats, truth = [], []
    for k, name in enumerate(("coffee.png", "rocket.jpg", "brick.png")):
        base = Image.open(images / name).convert("RGB")
        for j in range(8):
            w, h = base.size
            dx, dy = rng.integers(0, w // 10), rng.integers(0, h // 10)
            im = base.crop((dx, dy, dx + int(w * 0.85), dy + int(h * 0.85)))
            im = im.point(lambda v, g=rng.uniform(0.9, 1.1): min(255, int(v * g)))
            p = tmp_path / f"{k}_{j}.jpg"
            im.save(p, quality=int(rng.integers(60, 95)))
            feats.append(feature_vector(analyze_image(p)))
            truth.append(k)
    x = np.stack(feats)
    a = cluster_features(x)
    b = cluster_features(x)
    assert np.array_equal(a.labels, b.labels)
    assert a.n_clusters == 3
    from sklearn.metrics import adjusted_rand_score

    keep = a.labels >= 0
    assert keep.mean() >= 0.8
    assert adjusted_rand_score(np.array(truth)[keep], a.labels[keep]) == 1.0
    assert all(len(v) >= 1 and all(a.labels[i] == c for i in v) for c, v in a.exemplars.items())
    s = cluster_features(x, backend="sklearn")
    assert s.n_clusters == 3
    assert cluster_features(x[:2]).labels.tolist() == [-1, -1]


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def test_qa_slow_ken_burns_is_not_frozen_but_a_still_is(images: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb.mp4"
    # 1 % zoom over 4 s at 1080x1920: ~0.1 px per frame at the edges.
    _ffmpeg("-loop", "1", "-framerate", "30", "-t", "4", "-i", str(images / "coffee.png"), "-vf",
            "scale=2160:3840:force_original_aspect_ratio=increase,crop=2160:3840,"
            "zoompan=z='1+0.01*on/120':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=1080x1920:fps=30,format=yuv420p",
            "-frames:v", "120", "-c:v", "libx264", "-preset", "veryfast", str(kb))
    rep = qa_clip(kb, 4.0)
    assert rep.passed, rep.flags
    # A clip longer than the scene is fine (assembly trims it; providers have minimum lengths) ...
    assert qa_clip(kb, 3.0).passed
    # ... a clip too short for the scene is flagged.
    short = qa_clip(kb, 5.0)
    assert not short.passed and "shorter" in short.flags[0]
    still = tmp_path / "still.mp4"
    _ffmpeg("-loop", "1", "-framerate", "30", "-t", "3", "-i", str(images / "rocket.jpg"), "-vf",
            "scale=640:428,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", str(still))
    rep = qa_clip(still, 3.0)
    assert not rep.passed and rep.frozen_segments and rep.frozen_segments[0][1] - rep.frozen_segments[0][0] > 2.5


def test_qa_video_crossfades_and_black(images: Path, tmp_path: Path) -> None:
    """Scenes joined by 0.25 s cross-fades match the plan; a 1.5 s black gap is flagged."""
    ins = []
    for n in ("coffee.png", "astronaut.png", "rocket.jpg"):
        ins += ["-loop", "1", "-framerate", "30", "-t", "3", "-i", str(images / n)]
    zoom = "zoompan=z='1+0.001*on':d=1:s=640x360:fps=30,format=yuv420p"
    graph = (f"[0:v]scale=1280:720,setsar=1,{zoom}[a];[1:v]scale=1280:720,setsar=1,{zoom}[b];"
             f"[2:v]scale=1280:720,setsar=1,{zoom}[c];"
             "[a][b]xfade=transition=fade:duration=0.25:offset=2.75[ab];[ab][c]xfade=transition=fade:duration=0.25:offset=5.5[o]")
    good = tmp_path / "good.mp4"
    _ffmpeg(*ins, "-filter_complex", graph, "-map", "[o]", "-c:v", "libx264", "-preset", "veryfast", str(good))
    rep = qa_video(good, [2.875, 5.625])
    assert rep.passed, rep.flags
    assert rep.cuts_matched == 2
    # an unplanned cut (expected list says one boundary only) fails QA
    assert not qa_video(good, [2.875]).passed
    black = tmp_path / "black.mp4"
    _ffmpeg("-loop", "1", "-framerate", "30", "-t", "2", "-i", str(images / "coffee.png"),
            "-f", "lavfi", "-t", "1.5", "-i", "color=c=black:size=640x360:rate=30",
            "-filter_complex", f"[0:v]scale=1280:720,setsar=1,{zoom}[a];[1:v]setsar=1,format=yuv420p[b];"
                               "[a][b]concat=n=2:v=1[o]",
            "-map", "[o]", "-c:v", "libx264", "-preset", "veryfast", str(black))
    rep = qa_video(black, [2.0])
    assert not rep.passed and rep.black_segments and rep.black_segments[0][0] == pytest.approx(2.0, abs=0.05)


def test_keyframes_come_from_the_detection_pass_without_decoding_again(shared_data: Path, tmp_path: Path) -> None:
    """With a PictureSampler, the keyframe JPEGs are the pictures kept while detecting: the video
    can be gone by the time they are written (nothing decodes it a second time)."""
    from reelflow.processors.keyframes import PictureSampler

    video = tmp_path / "testvideo.mp4"
    video.write_bytes((shared_data / "videos" / "testvideo.mp4").read_bytes())
    pictures = PictureSampler(interval_s=0.25, max_width=640)  # every shot (≥ 0.5 s) gets candidates
    det = detect_shots(video, sink=pictures)
    assert 70 <= len(pictures.pictures) <= 97  # at most one per 0.25 s of the 24 s video (reference frames)
    kept = pictures.indices(det)
    video.unlink()
    kfs, imgs = extract_keyframes(det, tmp_path / "kf", 640, pictures=pictures)
    assert len(kfs) == len(det.shots) == 7
    for shot, kf, rgb in zip(det.shots, kfs, imgs, strict=True):
        assert shot.start_s <= kf.time_s < shot.end_s
        assert Path(kf.path).read_bytes() == kept[int(np.searchsorted(det.frame_times_s, kf.time_s))]
        assert rgb.shape == (360, 640, 3)
    content = [rgb for s, rgb in zip(det.shots, imgs, strict=True) if s.end_s - s.start_s > 3]
    assert len(content) == 4 and all(rgb.mean() > 40 for rgb in content)


def test_kept_pictures_match_a_fresh_full_quality_decode(shared_data: Path, tmp_path: Path) -> None:
    """A kept keyframe is the same picture a separate decode at that time gives (up to JPEG and
    the skipped deblocking filter), with the display rotation applied."""
    from reelflow.processors.keyframes import PictureSampler

    pictures = PictureSampler(interval_s=2.0, max_width=320)
    det = detect_shots(shared_data / "footage" / "videos" / "squirrel.mp4", sink=pictures)
    kfs, imgs = extract_keyframes(det, tmp_path / "kf", 320, pictures=pictures)
    assert len(kfs) == 1 and imgs[0].shape == (180, 320, 3)
    [(t, ref)] = grab_frames(det.path, [kfs[0].time_s])
    assert t == pytest.approx(kfs[0].time_s)
    small = np.asarray(Image.fromarray(ref).resize((320, 180), Image.Resampling.BOX), dtype=np.float32)
    assert np.abs(small - imgs[0].astype(np.float32)).mean() < 4.0
