"""Shot detection on real media with known answers, side by side with PySceneDetect.

Ground truth per shared video (``../shared/data/videos/cuts.json``), decided as follows:

- **Hard cuts** (what a fast-cut detector must find): ``testvideo.mp4`` → frames 30 and 180.
  cuts.json's ContentDetector golden also lists 394, but frame 394 is the first frame of a
  fade-in from black (mean level 1 → 3 → 7 → 11 …); cuts.json's own independent check says
  "testvideo fires at frames 30 and 180 only (fades are not hard cuts)", so 394 (and
  AdaptiveDetector's 691, the last frames of a fade-out) are false positives of HSV noise near
  black. ``goldeneye-vfr-drop3.mp4`` → 90 and 210 (nominal-rate frame numbers).
  ``fades.mp4``, ``counter.mp4`` (AdaptiveDetector's [20] is a documented artefact) and
  ``delayed_start.mp4`` → no cuts.
- **Fades** (ThresholdDetector defaults): ``testvideo.mp4`` → 15, 198, 377; ``fades.mp4`` → 84, 167.
- **Dissolve**: ``testvideo.mp4`` cross-dissolves from the leaf shot to the grille shot over
  frames ~535-560 (checked by eye); no PySceneDetect detector reports it.

Scores use a ±1-frame tolerance; both lists empty counts as F1 = 1. Every accuracy test runs
in the default ``fast`` mode (two-pass); the ``fast`` vs ``precise`` tests below check that both
modes give the same boundaries on every shared video and on generated clips whose cuts fall on
non-reference B-frames (x264 with scene-cut key frames off), the case the second pass exists for.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from reelflow.core.errors import InputError
from reelflow.processors.media import ffmpeg_exe
from reelflow.processors.shots import detect_shots
from tests.shot_metrics import prf1

HARD_CUTS = {
    "testvideo.mp4": [30, 180],
    "goldeneye-vfr-drop3.mp4": [90, 210],
    "fades.mp4": [],
    "counter.mp4": [],
    "delayed_start.mp4": [],
}
FADES = {"testvideo.mp4": [15, 198, 377], "fades.mp4": [84, 167]}


def make_cut_video(
    path: Path,
    segments: list[tuple[str, int]],
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 30,
    preset: str = "ultrafast",
    crf: int = 23,
    x264_params: str | None = None,
) -> list[int]:
    """Write an H.264 video made of ``segments`` joined by hard cuts; return the cut frames.

    Each segment is ``(source, n_frames)``: a lavfi source (``"testsrc2"``, ``"mandelbrot"``,
    ``"color=c=red"``...), an image path (animated with a slow zoompan, i.e. Ken Burns) or a
    video path (its first frames). Cuts are at the cumulative frame counts. ``x264_params``
    (e.g. ``"scenecut=0:keyint=60"``) goes to libx264 as ``-x264-params``.
    """
    args: list[str] = []
    chains: list[str] = []
    for i, (src, n) in enumerate(segments):
        dur = n / fps + 0.5
        p = Path(src)
        if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp"}:
            args += ["-loop", "1", "-framerate", str(fps), "-t", f"{dur:.3f}", "-i", str(p)]
            pre = (f"scale={width * 2}:{height * 2}:force_original_aspect_ratio=increase,crop={width * 2}:{height * 2},"
                   f"zoompan=z='1+0.0015*on':d=1:s={width}x{height}:fps={fps},")
        elif p.suffix.lower() in {".mp4", ".mov", ".mkv", ".webm"}:
            args += ["-t", f"{dur:.3f}", "-i", str(p)]
            pre = f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
        else:
            sep = ":" if "=" in src else "="
            args += ["-f", "lavfi", "-t", f"{dur:.3f}", "-i", f"{src}{sep}size={width}x{height}:rate={fps}"]
            pre = ""
        chains.append(f"[{i}:v]{pre}fps={fps},scale={width}:{height},setsar=1,format=yuv420p,"
                      f"trim=end_frame={n},setpts=PTS-STARTPTS[v{i}]")
    graph = ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(len(segments)))
    graph += f"concat=n={len(segments)}:v=1:a=0[out]"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", *args, "-filter_complex", graph, "-map", "[out]",
         "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
         *(["-x264-params", x264_params] if x264_params else []), str(path)],
        check=True,
    )
    cuts, acc = [], 0
    for _, n in segments[:-1]:
        acc += n
        cuts.append(acc)
    return cuts


def _pyscenedetect_cuts(path: Path, detector) -> list[int]:
    from scenedetect import detect

    scenes = detect(str(path), detector)
    return [start.frame_num for start, _ in scenes[1:]]


@pytest.fixture(scope="session")
def videos(shared_data: Path) -> Path:
    return shared_data / "videos"


@pytest.mark.parametrize("name", sorted(HARD_CUTS))
def test_hard_cuts_at_least_as_good_as_pyscenedetect(videos: Path, name: str) -> None:
    from scenedetect import AdaptiveDetector, ContentDetector

    path = videos / name
    truth = HARD_CUTS[name]
    ours = detect_shots(path).cuts
    content = _pyscenedetect_cuts(path, ContentDetector())
    adaptive = _pyscenedetect_cuts(path, AdaptiveDetector())
    scores = {k: prf1(v, truth, 1) for k, v in {"ours": ours, "content": content, "adaptive": adaptive}.items()}
    print(f"\n{name}: truth={truth} ours={ours} content={content} adaptive={adaptive}")
    for k, (p, r, f) in scores.items():
        print(f"  {k:9s} P={p:.2f} R={r:.2f} F1={f:.2f}")
    assert scores["ours"][2] >= max(scores["content"][2], scores["adaptive"][2])
    assert scores["ours"][2] == 1.0


@pytest.mark.parametrize("name", sorted(FADES))
def test_fades_match_threshold_detector(videos: Path, name: str) -> None:
    det = detect_shots(videos / name)
    assert prf1(det.fade_frames, FADES[name], 1)[2] == 1.0, det.fade_frames
    assert {t.kind for t in det.transitions if t.frame in det.fade_frames} == {"fade"}


def test_testvideo_dissolve_and_contiguous_shots(videos: Path) -> None:
    det = detect_shots(videos / "testvideo.mp4")
    assert len(det.dissolve_frames) == 1 and 535 <= det.dissolve_frames[0] <= 560
    assert det.frame_count == 720
    assert det.shots[0].start_frame == 0 and det.shots[-1].end_frame == 719
    for a, b in zip(det.shots, det.shots[1:], strict=False):
        assert b.start_frame == a.end_frame + 1
        assert b.start_s == pytest.approx(a.end_s)
    assert det.shots[-1].end_s == pytest.approx(24.024, abs=0.01)


def test_dissolve_correlations_equal_row_wise_ncc(videos: Path) -> None:
    """The lagged-dot-product correlations of the dissolve test equal NCCs taken pair by pair
    (the definition) on real thumbnails, for both default spans."""
    from reelflow.processors.shots.dissolves import centred_values, ncc, window_correlations

    tiny = detect_shots(videos / "testvideo.mp4", mode="precise").tiny
    v = tiny[:, :, :, 2].reshape(len(tiny), -1).astype(np.float32)
    for k in (4, 12):
        idx = np.arange(2 * k, len(v) - 2 * k)
        a, z, mid = v[idx - k], v[idx + k], v[idx]
        far, stable, blend = window_correlations(centred_values(tiny), k)
        assert far == pytest.approx(ncc(a, z), abs=1e-4)
        assert stable == pytest.approx(np.minimum(ncc(v[idx - 2 * k], a), ncc(z, v[idx + 2 * k])), abs=1e-4)
        want = ncc(mid, 0.5 * (a + z)) - np.maximum(ncc(mid, a), ncc(mid, z))
        assert blend == pytest.approx(want, abs=1e-4)
        assert far.min() < 0.5 < far.max()  # the clip has both unlike and like ends


def test_drift_and_tiny_thumbnails_follow_their_definition(videos: Path) -> None:
    """``drift`` (mean |grey(i) - grey(i - lag)|) and the tiny HSV thumbnails, computed per block,
    equal a frame-by-frame computation from the decoder's own thumbnails."""
    import cv2

    from reelflow.processors.shots.decoder import open_video, thumb_size, thumbnail

    path = videos / "testvideo.mp4"
    det = detect_shots(path, mode="precise")
    container, stream = open_video(path)
    with container:
        hsv = []
        for frame in container.decode(stream):
            tw, th = thumb_size(frame.width, frame.height, 128)
            hsv.append(cv2.cvtColor(thumbnail(frame, tw, th), cv2.COLOR_BGR2HSV))
    lag = det.drift_lag
    assert len(hsv) == det.frame_count and lag == 15
    grey = [x[:, :, 2] for x in hsv]
    want = [cv2.absdiff(grey[i], grey[i - lag]).mean() for i in range(lag, len(grey))]
    assert np.isnan(det.drift[:lag]).all()
    assert det.drift[lag:] == pytest.approx(want, abs=1e-4)
    tiny_h = det.tiny.shape[1]
    for i in (0, 31, 32, 400, len(hsv) - 1):  # inside and across the 32-frame blocks
        assert np.array_equal(det.tiny[i], cv2.resize(hsv[i], (32, tiny_h), interpolation=cv2.INTER_AREA))


def test_vfr_cuts_use_timestamps(videos: Path) -> None:
    det = detect_shots(videos / "goldeneye-vfr-drop3.mp4")
    truth = json.loads((videos / "cuts.json").read_text())["videos"]["goldeneye-vfr-drop3.mp4"]
    assert det.frame_count == 160
    assert det.fps == pytest.approx(24000 / 1001)
    assert det.cuts == truth["goldens_cuts"]["ContentDetector.default"]  # [90, 210] nominal
    assert det.cut_times_s == pytest.approx(truth["cuts_pts_s"], abs=1e-4)
    assert [det.index_of_frame(f) for f in det.cuts] == truth["cuts_decoded_frame_index"]
    assert [s.start_s for s in det.shots[1:]] == pytest.approx([3.754, 8.759], abs=1e-3)


def test_delayed_start_first_frame_at_zero(videos: Path) -> None:
    det = detect_shots(videos / "delayed_start.mp4")
    assert det.frame_times_s[0] == 0.0
    assert det.shots[0].start_frame == 0 and det.shots[0].start_s == 0.0
    assert det.frame_count == 24


def test_counter_timestamps(videos: Path) -> None:
    det = detect_shots(videos / "counter.mp4")
    assert det.frame_count == 30 and det.cuts == []
    assert det.frame_times_s.tolist() == pytest.approx([i / 10 for i in range(30)])


@pytest.fixture(scope="session")
def generated_1080p(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, list[int]]:
    imgs = shared_data / "footage" / "images"
    segs = [
        ("testsrc2", 24),
        (str(imgs / "coffee.png"), 31),
        ("mandelbrot", 20),
        (str(shared_data / "footage" / "videos" / "squirrel.mp4"), 40),
        (str(imgs / "rocket.jpg"), 17),
        ("smptehdbars", 25),
        (str(imgs / "chelsea.png"), 30),
    ]
    path = tmp_path_factory.mktemp("gen") / "cuts_1080p.mp4"
    return path, make_cut_video(path, segs, width=1920, height=1080, fps=30)


def test_generated_1080p_cuts_exact(generated_1080p: tuple[Path, list[int]]) -> None:
    path, truth = generated_1080p
    det = detect_shots(path)
    assert det.width == 1920 and det.height == 1080
    assert det.cuts == truth
    assert [s.start_frame for s in det.shots] == [0, *truth]
    assert det.fade_frames == [] and det.dissolve_frames == []


def test_generated_dissolve_and_fade(tmp_path: Path, shared_data: Path) -> None:
    """A 0.5 s cross-dissolve (xfade) and a fade through black between stills."""
    imgs = shared_data / "footage" / "images"
    a, b, c = (str(imgs / n) for n in ("coffee.png", "astronaut.png", "rocket.jpg"))
    out = tmp_path / "trans.mp4"
    graph = (
        "[0:v]scale=640:360,setsar=1,fps=30,format=yuv420p[a];[1:v]scale=640:360,setsar=1,fps=30,format=yuv420p[b];"
        "[2:v]scale=640:360,setsar=1,fps=30,format=yuv420p[c];"
        "[a][b]xfade=transition=fade:duration=0.5:offset=1.5[ab];"
        "[ab][c]xfade=transition=fadeblack:duration=1.0:offset=3.0[out]"
    )
    args = []
    for p in (a, b, c):
        args += ["-loop", "1", "-framerate", "30", "-t", "2.5", "-i", p]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, "-filter_complex", graph, "-map", "[out]",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)], check=True)
    det = detect_shots(out)
    assert det.cuts == []
    kinds = [(t.kind, t.time_s) for t in det.transitions]
    assert len(kinds) == 2, kinds
    assert kinds[0][0] == "dissolve" and kinds[0][1] == pytest.approx(1.75, abs=0.2)
    assert kinds[1][0] in {"fade", "dissolve"} and kinds[1][1] == pytest.approx(3.5, abs=0.25)


def test_bad_inputs(tmp_path: Path, shared_data: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    audio_only = shared_data / "music" / "kevin_macleod_freepd_30s.mp3"
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes((shared_data / "videos" / "testvideo.mp4").read_bytes()[:20_000])
    for bad, why in [(empty, "empty"), (text, "not a readable video"), (audio_only, "no video stream"),
                     (truncated, "not a readable video"), (tmp_path / "missing.mp4", "not found")]:
        with pytest.raises(InputError, match=why):
            detect_shots(bad)


def _same_result(fast, precise) -> None:
    assert fast.frame_count == precise.frame_count
    assert fast.frame_times_s == pytest.approx(precise.frame_times_s)
    assert fast.frame_numbers.tolist() == precise.frame_numbers.tolist()
    assert fast.cuts == precise.cuts
    assert fast.fade_frames == precise.fade_frames
    assert fast.dissolve_frames == precise.dissolve_frames
    assert [(s.start_frame, s.end_frame) for s in fast.shots] == [(s.start_frame, s.end_frame) for s in precise.shots]
    assert [t for s in fast.shots for t in (s.start_s, s.end_s)] == pytest.approx(
        [t for s in precise.shots for t in (s.start_s, s.end_s)])
    assert fast.duration_s == pytest.approx(precise.duration_s)
    for name in ("scores", "brightness", "sharpness", "drift", "tiny"):
        assert getattr(fast, name).shape == getattr(precise, name).shape, name


@pytest.mark.parametrize("name", sorted(HARD_CUTS))
def test_fast_mode_equals_precise_on_shared_videos(videos: Path, name: str) -> None:
    fast = detect_shots(videos / name)
    precise = detect_shots(videos / name, mode="precise")
    assert fast.mode == "fast" and precise.mode == "precise"
    _same_result(fast, precise)
    assert prf1(fast.cuts, HARD_CUTS[name], 1)[2] == prf1(precise.cuts, HARD_CUTS[name], 1)[2] == 1.0
    m = fast.decoded
    # decoded frames carry the precise values; H.264 with B-frames decodes well under all frames
    assert fast.brightness[m] == pytest.approx(precise.brightness[m], abs=1e-3)
    if name in ("testvideo.mp4", "goldeneye-vfr-drop3.mp4"):
        assert m.mean() < 0.6, m.mean()


@pytest.fixture(scope="session")
def generated_cuts_on_b_frames(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    """Cuts that x264 does not turn into key frames: most land on non-reference B-frames."""
    imgs = shared_data / "footage" / "images"
    segs = [
        ("testsrc2", 23), (str(imgs / "coffee.png"), 31), ("mandelbrot", 21),
        (str(shared_data / "footage" / "videos" / "squirrel.mp4"), 41), (str(imgs / "rocket.jpg"), 17),
        ("smptehdbars", 26), (str(imgs / "chelsea.png"), 30), (str(imgs / "astronaut.png"), 22),
    ]
    out = {}
    for w, h in ((640, 360), (1920, 1080)):
        path = tmp_path_factory.mktemp("gen") / f"cuts_b_{h}p.mp4"
        out[h] = path, make_cut_video(path, segs, width=w, height=h, fps=30, crf=20,
                                      x264_params="scenecut=0:keyint=60:bframes=5:b-adapt=0")
    return out


@pytest.mark.parametrize("height", [360, 1080])
def test_fast_mode_finds_cuts_on_non_reference_frames(generated_cuts_on_b_frames, height: int) -> None:
    import av

    path, truth = generated_cuts_on_b_frames[height]
    with av.open(str(path)) as c:  # the clip really has its cuts off the key frames
        keys = sum(pk.is_keyframe for pk in c.demux(c.streams.video[0]) if pk.size)
    assert keys <= 4
    fast = detect_shots(path)
    assert fast.cuts == truth
    assert [s.start_frame for s in fast.shots] == [0, *truth]
    assert fast.decoded.mean() < 0.75  # pass 1 skipped the non-reference frames
    assert all(fast.decoded[c - 1: c + 1].all() for c in truth)  # each cut was located on decoded frames
    _same_result(fast, detect_shots(path, mode="precise"))
    # the raw trick without the second pass loses cuts that fall on skipped frames
    assert prf1(detect_shots(path, skip_nonref=True).cuts, truth, 1)[2] < 1.0


def test_fast_mode_vfr_is_frame_accurate(videos: Path) -> None:
    det = detect_shots(videos / "goldeneye-vfr-drop3.mp4", mode="fast")
    assert det.decoded.sum() < det.frame_count
    assert det.cuts == [90, 210]
    assert det.cut_times_s == pytest.approx([3.75375, 8.75875], abs=1e-4)
    assert [det.index_of_frame(f) for f in det.cuts] == [60, 140]


def test_generated_1080p_fast_equals_precise(generated_1080p: tuple[Path, list[int]]) -> None:
    path, truth = generated_1080p
    _same_result(detect_shots(path), detect_shots(path, mode="precise"))


def test_unknown_mode_is_an_input_error(videos: Path) -> None:
    with pytest.raises(InputError, match="mode"):
        detect_shots(videos / "counter.mp4", mode="turbo")


def test_detector_params_are_per_detector_and_accept_flat_overrides() -> None:
    from reelflow.processors.shots import DetectorParams

    p = DetectorParams().with_overrides(threshold=30, fade_threshold=10, min_scene_len=20, mode="precise",
                                        dissolve_spans=(6,), detect_fades=False)
    assert p.cuts.threshold == 30 and p.fades.threshold == 10 and not p.fades.enabled
    assert p.cuts.min_scene_len == p.fades.min_scene_len == p.dissolves.min_scene_len == 20
    assert p.decoder.mode == "precise" and p.dissolves.spans == (6,)
    assert DetectorParams().cuts.threshold == 27.0  # the defaults are untouched
    with pytest.raises(InputError, match="unknown shot detection parameter 'treshold'"):
        DetectorParams().with_overrides(treshold=30)


@pytest.fixture(scope="session")
def mpeg_versions(generated_cuts_on_b_frames, tmp_path_factory: pytest.TempPathFactory):
    """The 360p cut clip as MPEG-4 Part 2 (2 B-frames, AVI) and interlaced MPEG-2 (MPEG-TS)."""
    src, truth = generated_cuts_on_b_frames[360]
    d = tmp_path_factory.mktemp("mpeg")
    out = {"mpeg4": d / "cuts.avi", "mpeg2": d / "cuts.ts"}
    run = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-an"]
    subprocess.run([*run, "-c:v", "mpeg4", "-q:v", "4", "-bf", "2", str(out["mpeg4"])], check=True)
    subprocess.run([*run, "-vf", "setfield=tff", "-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-b:v", "4M",
                    "-g", "15", "-bf", "2", str(out["mpeg2"])], check=True)
    return out, truth


def test_mpeg4_two_pass_at_reduced_resolution_equals_precise(mpeg_versions) -> None:
    files, truth = mpeg_versions
    fast = detect_shots(files["mpeg4"])
    assert fast.mode == "fast" and fast.decoded.mean() < 0.6  # B-frames skipped in pass 1
    assert (fast.width, fast.height) == (640, 360)  # coded size, though decoded at 160x90 (lowres=2)
    assert fast.cuts == truth
    _same_result(fast, detect_shots(files["mpeg4"], mode="precise"))
    assert detect_shots(files["mpeg4"], lowres=False).cuts == truth


def test_interlaced_mpeg2_takes_the_precise_path(mpeg_versions) -> None:
    files, truth = mpeg_versions
    det = detect_shots(files["mpeg2"])
    assert det.decoded.all() and (det.width, det.height) == (640, 360)
    assert det.cuts == truth
    assert detect_shots(files["mpeg2"], lowres=False).cuts == truth  # the 1/4-size decode costs no cut


def test_lowres_decodes_at_quarter_or_eighth_size_never_half(mpeg_versions, videos: Path) -> None:
    """MPEG-1/2/4 decode at 1/4 or 1/8 size when the picture stays at least as wide as the
    thumbnail; half size (FFmpeg's slow lowres=1) is never chosen: a picture too narrow for
    1/4 size decodes at full size. Other codecs always decode at full size."""
    from reelflow.processors.shots.decoder import open_video

    def first_width(path: Path) -> int:
        container, stream = open_video(path, lowres_width=128)
        with container:
            return next(container.decode(stream)).width

    files, _ = mpeg_versions
    assert first_width(files["mpeg2"]) == 160  # 640 wide -> 1/4
    assert first_width(files["mpeg4"]) == 160
    assert first_width(videos / "fades.mp4") == 480  # MPEG-4 480 wide: 1/4 would be 120 < 128
    assert first_width(videos / "testvideo.mp4") == 1280  # H.264: no lowres
