"""Per-file analysis of a media library (what each ``analyze_library`` task runs).

- :func:`analyze_video` — shots (:mod:`processors.shots`), one keyframe per shot and a contact
  sheet (:mod:`processors.keyframes`), keyframe features (:mod:`processors.features`), QA
  (black/frozen stretches, :mod:`processors.qa`), container facts (:func:`processors.media.probe`)
  and audio loudness (ITU-R BS.1770 via ``pyloudnorm``). Writes ``<out>/shots.json``,
  ``<out>/keyframes/shot_NNNN.jpg``, ``<out>/contact_sheet.jpg``, ``<out>/features.json`` and
  ``<out>/metadata.json``, each atomically.
- :func:`analyze_image_file` — features of one still image, written to ``<out>.json``.
- :func:`collect_inputs` — expand files/folders into the media files to analyse.

Only the small :class:`FileAnalysis` record is returned; arrays stay on disk.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from reelflow.core.errors import InputError, ReelFlowError
from reelflow.core.storage import atomic_write_json
from reelflow.processors.features import (
    IMAGE_SUFFIXES,
    ImageFeatures,
    analyze_image,
    image_features,
    motion_energy,
)

#: Video file suffixes the analyser looks for in folders.
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"}


class FileAnalysis(BaseModel):
    """Outcome of analysing one file (crosses the Prefect task boundary)."""

    path: str
    kind: Literal["video", "image", "unknown"]
    name: str = Field(description="Output name (video stem, de-duplicated).")
    sha256: str = ""
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    out_dir: str | None = None
    features_path: str | None = Field(default=None, description="JSON list of ImageFeatures.")
    n_shots: int = 0
    duration_s: float | None = None


def collect_inputs(paths: list[str]) -> list[Path]:
    """Expand files and folders (recursively) into media files, sorted, de-duplicated.

    Explicit files are kept whatever their suffix (a bad one becomes an error entry later);
    folders contribute files with a video or image suffix.

    Raises:
        InputError: a path does not exist (names it), or nothing is given.
    """
    if not paths:
        raise InputError("no input paths given", hint="pass files or folders, e.g. `reelflow analyze footage/`")
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise InputError(f"path does not exist: {', '.join(missing)}", hint="check the spelling or mount the drive")
    out: list[Path] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        items = [p] if p.is_file() else sorted(
            f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES
            and not any(part.startswith(".") for part in f.relative_to(p).parts)
        )
        for f in items:
            r = f.resolve()
            if r not in seen:
                seen.add(r)
                out.append(f)
    return out


def kind_of(path: Path) -> Literal["video", "image", "unknown"]:
    """Classify by suffix: image suffixes → image, video suffixes → video, else unknown."""
    suf = path.suffix.lower()
    if suf in IMAGE_SUFFIXES:
        return "image"
    if suf in VIDEO_SUFFIXES:
        return "video"
    return "unknown"


def audio_loudness(path: Path | str, max_s: float = 600.0) -> float | None:
    """Integrated loudness (LUFS, ITU-R BS.1770-4 via ``pyloudnorm``) of the first audio stream.

    Decodes at most ``max_s`` seconds. Returns ``None`` when there is no audio stream, it is
    too short (< 0.4 s) or silent.
    """
    import av
    import pyloudnorm

    try:
        with av.open(str(path)) as c:
            if not c.streams.audio:
                return None
            stream = c.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="stereo", rate=48000)
            chunks: list[np.ndarray] = []
            total = 0
            for frame in c.decode(stream):
                for rf in resampler.resample(frame):
                    arr = rf.to_ndarray().reshape(-1, 2)
                    chunks.append(arr)
                    total += len(arr)
                if total >= max_s * 48000:
                    break
    except av.FFmpegError:
        return None
    if not chunks or total < 0.4 * 48000:
        return None
    data = np.concatenate(chunks).astype(np.float64)
    value = pyloudnorm.Meter(48000).integrated_loudness(data)
    return round(float(value), 2) if np.isfinite(value) else None


def _truncated(path: Path, decoded: int, listed: int, detail: str) -> InputError:
    return InputError(
        f"{path} is truncated or corrupt: only {decoded} of the {listed} frames its index lists could be "
        f"decoded ({detail})",
        hint="copy or download the file again, or re-export it",
    )


def analyze_video(path: Path | str, out_dir: Path | str, name: str | None = None, threads: int = 0) -> FileAnalysis:
    """Analyse one video into ``out_dir`` (see the module docstring for the files).

    One decode of the video: :func:`processors.shots.detect_shots` keeps every per-frame
    statistic the rest needs (tiny thumbnails for keyframe choice, brightness, sharpness,
    motion scores, drift for QA); only the chosen keyframes are decoded again, by seeking to
    them (:func:`processors.keyframes.extract_keyframes`), and features are computed on those
    pictures in memory.

    Args:
        path: the video.
        out_dir: its output folder.
        name: output name (default the file stem).
        threads: decoder threads (0 = one per core; pass ``cores // files in parallel`` when
            several files are analysed at once).

    Raises:
        InputError: the file is missing, empty, not a video, has no video stream, is corrupt, or
            is truncated (fewer frames decode than its container's index lists).
    """
    from reelflow.processors.keyframes import (
        PictureSampler,
        contact_sheet,
        extract_keyframes,
    )
    from reelflow.processors.media import probe
    from reelflow.processors.qa import black_segments, frozen_segments
    from reelflow.processors.shots import detect_shots
    from reelflow.processors.shots.decoder import DecodeFailed

    path = Path(path)
    out = Path(out_dir)
    pictures = PictureSampler(max_width=640)
    try:
        det = detect_shots(path, threads=threads, sink=pictures)
    except DecodeFailed as exc:
        info = probe(path)
        if info.frame_count and exc.frames < info.frame_count:
            raise _truncated(path, exc.frames, info.frame_count, f"decoding stopped at frame {exc.frames}") from exc
        raise
    info = probe(path)
    if info.frame_count and det.frame_count < 0.98 * info.frame_count - 1:
        # the container's index lists frames whose data is gone (a cut-off copy or download)
        raise _truncated(path, det.frame_count, info.frame_count,
                         f"{det.duration_s:.2f} of {info.duration_s:.2f} s")
    kfs, imgs = extract_keyframes(det, out / "keyframes", 640, threads=1, pictures=pictures)
    feats: list[ImageFeatures] = []
    for shot, kf, rgb in zip(det.shots, kfs, imgs, strict=True):
        a, z = det.index_of_frame(shot.start_frame), det.index_of_frame(shot.end_frame)
        feats.append(image_features(rgb, kf.path, motion_energy=round(motion_energy(det.scores, a, z), 3)))
    contact_sheet(imgs, out / "contact_sheet.jpg",
                  labels=[f"#{k.shot_index}  {k.time_s:.2f}s" for k in kfs])
    shots_doc = {
        "video": str(path),
        "fps": det.fps,
        "frame_count": det.frame_count,
        "shots": [
            {**s.model_dump(), "keyframe": str(Path(kf.path).relative_to(out)), "keyframe_time_s": kf.time_s,
             "black": bool(np.median(det.brightness[det.index_of_frame(s.start_frame):
                                                    det.index_of_frame(s.end_frame) + 1]) < 12)}
            for s, kf in zip(det.shots, kfs, strict=True)
        ],
        "transitions": [t.model_dump() for t in det.transitions],
    }
    atomic_write_json(out / "shots.json", shots_doc)
    atomic_write_json(out / "features.json", [f.model_dump() for f in feats])
    lengths = [s.end_s - s.start_s for s in det.shots]
    black = black_segments(det)
    frozen = frozen_segments(det)
    avg_fps = (det.frame_count - 1) / det.frame_times_s[-1] if det.frame_count > 1 and det.frame_times_s[-1] > 0 \
        else det.fps
    meta = {
        "video": str(path),
        "duration_s": round(det.duration_s, 3),
        "width": det.width,
        "height": det.height,
        "codec": info.video_codec,
        "profile": info.profile,
        "pix_fmt": info.pix_fmt,
        "fps": round(det.fps, 4),
        "fps_average": round(float(avg_fps), 4),
        "vfr": bool(abs(avg_fps - det.fps) > 0.01 * det.fps),
        "rotation": det.rotation or info.rotation,
        "frame_count": det.frame_count,
        "size_bytes": info.size_bytes,
        "audio": {
            "codec": info.audio_codec,
            "sample_rate": info.sample_rate,
            "channels": info.channels,
            "loudness_lufs": audio_loudness(path) if info.has_audio else None,
        } if info.has_audio else None,
        "shots": {
            "count": len(det.shots),
            "cuts": len(det.cuts),
            "fades": len(det.fade_frames),
            "dissolves": len(det.dissolve_frames),
            "mean_s": round(statistics.fmean(lengths), 3),
            "median_s": round(statistics.median(lengths), 3),
            "min_s": round(min(lengths), 3),
            "max_s": round(max(lengths), 3),
        },
        "qa": {
            "black_segments": black,
            "frozen_segments": frozen,
            "flags": [f"black {a:.2f}-{z:.2f} s" for a, z in black] + [f"frozen {a:.2f}-{z:.2f} s" for a, z in frozen],
        },
        "analysed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic_write_json(out / "metadata.json", meta)
    return FileAnalysis(path=str(path), kind="video", name=name or path.stem, out_dir=str(out),
                        features_path=str(out / "features.json"), n_shots=len(det.shots),
                        duration_s=round(det.duration_s, 3))


def analyze_image_file(path: Path | str, out_json: Path | str, name: str | None = None) -> FileAnalysis:
    """Features of one image, written as a one-item JSON list to ``out_json``.

    Raises:
        InputError: missing or undecodable image.
    """
    path = Path(path)
    feats = analyze_image(path)
    atomic_write_json(out_json, [feats.model_dump()])
    return FileAnalysis(path=str(path), kind="image", name=name or path.stem, out_dir=str(Path(out_json).parent),
                        features_path=str(out_json))


def analyze_file(path: Path | str, out_root: Path | str, name: str, sha256: str, threads: int = 0) -> FileAnalysis:
    """Analyse one file of any kind; a ReelFlow error becomes an ``error`` record, never raised.

    ``threads``: decoder threads for a video (see :func:`analyze_video`)."""
    path = Path(path)
    kind = kind_of(path)
    try:
        if kind == "image":
            rec = analyze_image_file(path, Path(out_root) / "images" / f"{name}.json", name)
        elif kind == "video":
            rec = analyze_video(path, Path(out_root) / name, name, threads=threads)
        else:
            raise InputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}",
                             hint="analyse mp4/mov/mkv/webm videos or jpg/png/webp images")
    except ReelFlowError as exc:
        return FileAnalysis(path=str(path), kind=kind, name=name, sha256=sha256, status="error", error=exc.message)
    rec.sha256 = sha256
    return rec


def load_features(path: Path | str) -> list[ImageFeatures]:
    """Read a ``features.json`` written by this module."""
    return [ImageFeatures(**d) for d in json.loads(Path(path).read_text())]


def build_library_clusters(records: list[FileAnalysis], out_root: Path) -> tuple[dict, str, list[dict]]:
    """Cluster every keyframe and image of ``records``; return (clusters.json doc, markdown, table rows).

    Items are the keyframes of analysed videos (one per shot) and analysed images. Vectors are
    :func:`processors.features.feature_vector`; clustering is
    :func:`processors.image_clustering.cluster_features`; near-duplicates are pHash groups
    (:func:`processors.features.group_near_duplicates`). Paths in the outputs are relative to
    ``out_root`` when inside it.
    """
    from reelflow.processors.features import feature_vector, group_near_duplicates
    from reelflow.processors.image_clustering import cluster_features

    def rel(p: str) -> str:
        try:
            return str(Path(p).resolve().relative_to(out_root.resolve()))
        except ValueError:
            return p

    items: list[dict] = []
    vecs: list[np.ndarray] = []
    hashes: list[str] = []
    for r in records:
        if r.status != "ok" or not r.features_path:
            continue
        for k, f in enumerate(load_features(r.features_path)):
            if f.brightness < 12:  # black leader/gap "shots" say nothing about the content
                continue
            items.append({"id": f"{r.name}#{k}" if r.kind == "video" else r.name, "kind": r.kind, "source": r.path,
                          "image": rel(f.path), "phash": f.phash})
            vecs.append(feature_vector(f))
            hashes.append(f.phash)
    if vecs:
        res = cluster_features(np.stack(vecs))
        labels, probs, exemplars, k, backend = res.labels, res.probabilities, res.exemplars, res.n_clusters, res.backend
    else:
        labels, probs, exemplars, k, backend = np.zeros(0, int), np.zeros(0), {}, 0, "none"
    for i, it in enumerate(items):
        it["cluster"] = int(labels[i])
        it["probability"] = round(float(probs[i]), 4)
    dups = group_near_duplicates(hashes)
    clusters = [
        {"id": c, "size": int((labels == c).sum()), "exemplars": [items[i]["image"] for i in exemplars.get(c, [])],
         "members": [items[i]["id"] for i in np.flatnonzero(labels == c).tolist()]}
        for c in range(k)
    ]
    doc = {
        "n_items": len(items), "n_clusters": k, "n_noise": int((labels < 0).sum()), "backend": backend,
        "clusters": clusters, "items": items,
        "near_duplicates": [[items[i]["id"] for i in g] for g in dups],
    }
    lines = [
        "# Library clusters", "",
        f"{len(items)} keyframes/images, **{k} clusters**, {doc['n_noise']} noise items, "
        f"{len(dups)} near-duplicate groups (pHash ≤ 8 bits). Backend: {backend}.", "",
        "| cluster | size | exemplars |", "|---|---|---|",
    ]
    rows: list[dict] = []
    for c in clusters:
        lines.append(f"| {c['id']} | {c['size']} | " + "<br>".join(f"`{p}`" for p in c["exemplars"]) + " |")
        rows.append({"cluster": c["id"], "size": c["size"], "exemplars": ", ".join(c["exemplars"])})
    if doc["n_noise"]:
        lines.append(f"| noise | {doc['n_noise']} | |")
    if dups:
        lines += ["", "## Near-duplicates", ""] + [f"- {', '.join(g)}" for g in doc["near_duplicates"]]
    return doc, "\n".join(lines) + "\n", rows
