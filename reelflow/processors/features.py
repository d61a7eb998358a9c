"""Image features for keyframes and still images: colour, hash, sharpness, colours, motion.

Every feature is cheap, deterministic and computed on a ≤ 256-px copy of the image:

- **HSV histogram** — 8 hue × 4 saturation × 4 value bins (OpenCV ``calcHist``; hue 0-180),
  L1-normalised: ``float32 [128]``.
- **Perceptual hash** — DCT pHash, 64 bits as 16 hex digits (``imagehash.phash``,
  https://github.com/JohannesBuchner/imagehash; Zauner 2010). Hamming distance ≤
  :data:`NEAR_DUPLICATE_BITS` means near-duplicate footage (re-encodes, crops of a few %,
  colour grading).
- **Sharpness** — variance of the Laplacian of the grey image (Pech-Pacheco et al., 2000);
  blurred/defocused frames score low (< ~50 at 256 px).
- **Brightness** — mean grey level 0-255; **saturation** — mean HSV saturation 0-255.
- **Dominant colours** — k-means (k = 5, OpenCV ``kmeans``, fixed seed) on ≤ 4,096 pixels:
  ``[(hex, fraction)]`` largest first.
- **Motion energy** of a shot — mean ContentDetector score (mean absolute HSV difference of
  consecutive frames, 0-255) inside the shot, from :mod:`processors.shots`.
- **Semantic embedding** — through the :class:`ImageEmbedder` port. No image-embedding model
  (CLIP, SigLIP…) ships as a PyPI wheel with its weights, and ReelFlow never downloads weights
  at run time, so none is wired by default; a CLIP implementation (e.g. open_clip with weights
  installed locally, or on a lent GPU machine) plugs in by implementing ``embed`` and its
  vectors are appended to :func:`feature_vector`.

:func:`feature_vector` turns :class:`ImageFeatures` into the ``float32 [FEATURE_DIM]`` vector
the clustering uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
from pydantic import BaseModel, Field

from reelflow.core.errors import InputError

#: Histogram bins (hue, saturation, value).
HSV_BINS = (8, 4, 4)
#: Hamming distance (of 64 bits) at or below which two pHashes are near-duplicates.
NEAR_DUPLICATE_BITS = 8
#: Length of :func:`feature_vector` without an embedding: 128 histogram + 4 scalars + 15 colour.
FEATURE_DIM = int(np.prod(HSV_BINS)) + 4 + 15
#: Image file suffixes the analyser accepts.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


class ImageFeatures(BaseModel):
    """Features of one image or keyframe (JSON-friendly)."""

    path: str
    width: int
    height: int
    phash: str = Field(description="64-bit DCT perceptual hash, 16 hex digits.")
    sharpness: float = Field(description="Variance of the Laplacian at ≤256 px (higher = sharper).")
    brightness: float = Field(description="Mean grey level 0-255.")
    saturation: float = Field(description="Mean HSV saturation 0-255.")
    dominant_colours: list[tuple[str, float]] = Field(description="[(#rrggbb, fraction)], largest first.")
    hsv_hist: list[float] = Field(description="L1-normalised 8x4x4 HSV histogram (128 floats).")
    motion_energy: float | None = Field(default=None, description="Shot's mean frame-difference score (video).")
    embedding: list[float] | None = Field(default=None, description="From an ImageEmbedder, if one is wired.")


@runtime_checkable
class ImageEmbedder(Protocol):
    """Port for semantic image embeddings (e.g. CLIP ViT-B/32, 512-d).

    Implementations load their weights from local files only; ``embed`` returns
    ``float32 [n, dim]``, L2-normalised rows, for RGB ``uint8 [h, w, 3]`` images.
    """

    name: str
    dim: int

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Embed RGB images; returns ``float32 [len(images), dim]``, unit-norm rows."""
        ...


def load_image(path: Path | str, max_side: int | None = None) -> np.ndarray:
    """Read an image file as RGB ``uint8 [h, w, 3]`` (EXIF orientation applied), decoded once.

    JPEGs larger than ``max_side`` are decoded at reduced scale by libjpeg itself (Pillow
    ``Image.draft``), then downscaled the rest of the way.

    Args:
        path: jpg/png/webp/bmp/tiff file.
        max_side: downscale so the longer side is at most this many pixels.

    Raises:
        InputError: missing, empty or not a decodable image (message names the file).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}", hint="check the path")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is not a readable image (the file is empty)", hint="pass a jpg/png/webp image")
    try:
        with Image.open(path) as im:
            if max_side and im.format == "JPEG":
                # decode at 1/2, 1/4 or 1/8 scale in the DCT domain when that still covers max_side
                im.draft("RGB", (max_side, max_side))
            im = ImageOps.exif_transpose(im).convert("RGB")
            if max_side and max(im.size) > max_side:
                im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            return np.asarray(im)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:  # bomb: core/limits.py
        raise InputError(f"{path} is not a readable image ({exc})", hint="pass a jpg/png/webp image") from exc


def hsv_histogram(rgb: np.ndarray) -> np.ndarray:
    """L1-normalised 8×4×4 HSV histogram of an RGB image: ``float32 [128]``."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HSV_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    return (hist / max(hist.sum(), 1.0)).astype(np.float32)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian of a grey ``uint8 [h, w]`` image (focus measure)."""
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def phash(rgb: np.ndarray) -> str:
    """64-bit DCT perceptual hash (``imagehash.phash``) as 16 hex digits."""
    import imagehash
    from PIL import Image

    return str(imagehash.phash(Image.fromarray(rgb)))


def dominant_colours(rgb: np.ndarray, k: int = 5, seed: int = 0) -> list[tuple[str, float]]:
    """The ``k`` dominant colours by k-means on ≤ 4,096 pixels: ``[(#rrggbb, fraction)]``.

    Deterministic (fixed seed, k-means++ init with OpenCV's RNG seeded).
    """
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA).reshape(-1, 3).astype(np.float32)
    k = min(k, len(np.unique(small, axis=0)))
    if k <= 1:
        c = small.mean(axis=0)
        return [("#%02x%02x%02x" % tuple(int(round(v)) for v in c), 1.0)]
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    _, labels, centres = cv2.kmeans(small, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k).astype(np.float64)
    order = np.argsort(-counts, kind="stable")
    total = counts.sum()
    return [("#%02x%02x%02x" % tuple(int(round(v)) for v in np.clip(centres[i], 0, 255)), float(counts[i] / total))
            for i in order]


def image_features(rgb: np.ndarray, path: str = "", *, motion_energy: float | None = None,
                   embedder: ImageEmbedder | None = None) -> ImageFeatures:
    """All features of one RGB ``uint8 [h, w, 3]`` image.

    Args:
        rgb: the image (any size; features are computed at ≤ 256 px on the long side).
        path: where it came from (recorded, not read).
        motion_energy: the shot's motion energy when ``rgb`` is a keyframe.
        embedder: optional :class:`ImageEmbedder`.
    """
    h, w = rgb.shape[:2]
    scale = 256 / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale < 1 else rgb
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sat = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[:, :, 1]
    emb = None
    if embedder is not None:
        emb = [float(x) for x in np.asarray(embedder.embed([rgb]), dtype=np.float32)[0]]
    return ImageFeatures(
        path=path, width=w, height=h, phash=phash(small), sharpness=sharpness(grey),
        brightness=float(grey.mean()), saturation=float(sat.mean()), dominant_colours=dominant_colours(small),
        hsv_hist=[float(x) for x in hsv_histogram(small)], motion_energy=motion_energy, embedding=emb,
    )


def analyze_image(path: Path | str, embedder: ImageEmbedder | None = None) -> ImageFeatures:
    """Features of an image file (see :func:`image_features`).

    Raises:
        InputError: the file is missing or not a decodable image.
    """
    return image_features(load_image(path, max_side=1024), str(path), embedder=embedder)


def feature_vector(f: ImageFeatures) -> np.ndarray:
    """Clustering vector of one image: ``float32 [FEATURE_DIM (+ embedding dim)]``.

    Layout: sqrt of the 128-bin HSV histogram (Hellinger embedding, so Euclidean distance ≈
    Hellinger distance between histograms), brightness/255, saturation/255,
    log1p(sharpness)/10, motion energy/50 (0 for stills), then the 5 dominant colours as
    fraction-weighted RGB/255 (15 values), then the embedding if present.
    """
    parts = [
        np.sqrt(np.asarray(f.hsv_hist, dtype=np.float32)),
        np.array([f.brightness / 255, f.saturation / 255, np.log1p(max(f.sharpness, 0.0)) / 10,
                  (f.motion_energy or 0.0) / 50], dtype=np.float32),
    ]
    col = np.zeros(15, dtype=np.float32)
    for i, (hx, frac) in enumerate(f.dominant_colours[:5]):
        rgb = np.array([int(hx[j:j + 2], 16) for j in (1, 3, 5)], dtype=np.float32) / 255
        col[3 * i:3 * i + 3] = rgb * np.sqrt(frac)
    parts.append(col)
    if f.embedding:
        parts.append(np.asarray(f.embedding, dtype=np.float32))
    return np.concatenate(parts)


def hamming_matrix(hashes: Sequence[str]) -> np.ndarray:
    """Pairwise Hamming distances of 64-bit hex hashes: ``uint8 [n, n]``."""
    if not hashes:
        return np.zeros((0, 0), dtype=np.uint8)
    vals = np.array([int(h, 16) for h in hashes], dtype=np.uint64)
    bits = np.unpackbits(vals.view(np.uint8).reshape(-1, 8), axis=1).astype(np.uint8)  # [n, 64]
    # Hamming = a.(1-b) + (1-a).b, via two matrix products (exact in int32).
    a = bits.astype(np.int32)
    return (a @ (1 - a).T + (1 - a) @ a.T).astype(np.uint8)


def group_near_duplicates(hashes: Sequence[str], max_distance: int = NEAR_DUPLICATE_BITS) -> list[list[int]]:
    """Groups of near-duplicate items by pHash Hamming distance (single linkage).

    Args:
        hashes: 16-hex-digit pHashes.
        max_distance: largest Hamming distance (bits of 64) that links two items.

    Returns:
        Groups of ≥ 2 indices into ``hashes`` (each sorted; groups ordered by first index).
        O(n²) memory: intended for libraries up to ~20k items.
    """
    n = len(hashes)
    if n < 2:
        return []
    d = hamming_matrix(hashes)
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    ii, jj = np.nonzero(np.triu(d <= max_distance, k=1))
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def motion_energy(scores: np.ndarray, start: int, end: int) -> float:
    """Mean frame-difference score over decoded frames ``start+1 .. end`` (inclusive) of a shot."""
    seg = np.asarray(scores[start + 1:end + 1], dtype=np.float64)
    return float(seg.mean()) if seg.size else 0.0
