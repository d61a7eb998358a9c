"""Mood clusters of the song catalogue: PCA → HDBSCAN on the track embeddings.

The 384-d MiniLM vectors are reduced with PCA (``sklearn.decomposition.PCA``, whitening off) to
``n_components`` dimensions and re-normalised, then clustered with ``sklearn.cluster.HDBSCAN``
(Campello, Moulavi & Sander 2013; scikit-learn's implementation measured ~1.7× faster than the
``hdbscan`` package here with the same clusters — see ``docs/env-notes``). HDBSCAN leaves
outliers as noise (``-1``); with ``assign_noise=True`` each noise point joins the cluster whose
centroid is nearest (cosine in the reduced space), so every track gets a mood label, and the
noise fraction before assignment is reported.

:func:`summarise_clusters` turns labels into a table (size, top genres/subgenres, mean tempo,
energy, valence, danceability, mood words, example tracks) for a Prefect table artifact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Clustering:
    """Result of :func:`cluster_embeddings`.

    Attributes:
        labels: int ``[n]``, cluster per row (``-1`` = noise, only when ``assign_noise=False``).
        n_clusters: number of clusters found.
        noise_fraction: share of rows HDBSCAN called noise (before any assignment).
        params: the parameters used (for manifests/artifacts).
    """

    labels: np.ndarray
    n_clusters: int
    noise_fraction: float
    params: dict[str, Any] = field(default_factory=dict)


def cluster_embeddings(
    vectors: np.ndarray,
    *,
    n_components: int = 32,
    min_cluster_size: int | None = None,
    min_samples: int | None = None,
    assign_noise: bool = True,
    max_fit: int = 20_000,
    seed: int = 0,
) -> Clustering:
    """Cluster L2-normalised embeddings into mood groups.

    Args:
        vectors: float32 ``[n, d]`` (d = 384 for MiniLM), L2-normalised.
        n_components: PCA output dimensions (capped by ``n`` and ``d``).
        min_cluster_size: HDBSCAN's smallest cluster; default ``max(5, n // 150)``.
        min_samples: HDBSCAN's density parameter; default ``min(min_cluster_size, 10)``.
        assign_noise: give noise rows the label of the nearest cluster centroid.
        max_fit: HDBSCAN is fitted on at most this many rows (a seeded random sample, for time
            on large catalogues); the rest join their nearest centroid.
        seed: sample/PCA seed.

    Returns:
        :class:`Clustering`. With fewer than 3 rows (or no cluster found) every row gets label 0.
    """
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    if n < 3:
        return Clustering(np.zeros(n, dtype=np.int64), 1 if n else 0, 0.0, {"method": "trivial"})
    comps = max(2, min(n_components, n - 1, x.shape[1]))
    reduced = PCA(n_components=comps, random_state=seed).fit_transform(x).astype(np.float32)
    reduced /= np.clip(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12, None)
    mcs = min_cluster_size or max(5, n // 150)
    ms = min_samples or min(mcs, 10)
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, size=max_fit, replace=False)) if n > max_fit else np.arange(n)
    model = HDBSCAN(min_cluster_size=mcs, min_samples=ms, metric="euclidean", copy=True)
    fit_labels = model.fit_predict(reduced[fit_rows])
    labels = np.full(n, -1, dtype=np.int64)
    labels[fit_rows] = fit_labels
    noise_fraction = float(np.mean(fit_labels < 0))
    clusters = sorted(set(fit_labels.tolist()) - {-1})
    params = {
        "method": "PCA+sklearn.HDBSCAN",
        "n_components": comps,
        "min_cluster_size": mcs,
        "min_samples": ms,
        "fitted_rows": len(fit_rows),
    }
    if not clusters:
        return Clustering(np.zeros(n, dtype=np.int64), 1, noise_fraction, params)
    unassigned = labels < 0
    if n > max_fit:
        fitted_mask = np.zeros(n, bool)
        fitted_mask[fit_rows] = True
        unassigned = (~fitted_mask) | (labels < 0) if assign_noise else ~fitted_mask
    if unassigned.any():
        cents = np.stack([reduced[labels == c].mean(axis=0) for c in clusters])
        cents /= np.clip(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12, None)
        nearest = np.asarray(clusters)[np.argmax(reduced[unassigned] @ cents.T, axis=1)]
        labels[unassigned] = nearest
    return Clustering(labels, len(clusters), noise_fraction, params)


def summarise_clusters(tracks: Sequence[Any], labels: Sequence[int] | np.ndarray, examples: int = 3) -> list[dict[str, Any]]:
    """One row per cluster for a table artifact, largest first.

    Args:
        tracks: objects with ``playlist_genre``, ``playlist_subgenre``, ``track_name``,
            ``track_artist`` and optional ``tempo``/``energy``/``valence``/``danceability``.
        labels: cluster per track.
        examples: example tracks per cluster.

    Returns:
        Dicts with ``cluster``, ``size``, ``share``, ``top_genres``, ``top_subgenres``,
        ``mean_tempo_bpm``, ``mean_energy``, ``mean_valence``, ``mean_danceability``, ``mood``
        and ``examples``.
    """
    from reelflow.processors.song_index import Track, feature_words

    labels = np.asarray(labels)
    rows = []
    total = max(len(tracks), 1)
    for c in sorted(set(labels.tolist())):
        members = [tracks[i] for i in np.flatnonzero(labels == c)]

        def mean(attr: str, members: list[Any] = members) -> float | None:
            vals = [getattr(t, attr) for t in members if getattr(t, attr, None) is not None]
            return round(float(np.mean(vals)), 3) if vals else None

        genres = Counter(t.playlist_genre for t in members if t.playlist_genre)
        subs = Counter(t.playlist_subgenre for t in members if t.playlist_subgenre)
        centroid = Track(
            track_id="", track_name="", track_artist="", tempo=mean("tempo"), energy=mean("energy"),
            valence=mean("valence"), danceability=mean("danceability"),
        )
        rows.append(
            {
                "cluster": int(c),
                "size": len(members),
                "share": round(len(members) / total, 4),
                "top_genres": ", ".join(f"{g} {n / len(members):.0%}" for g, n in genres.most_common(3)),
                "top_subgenres": ", ".join(f"{g} {n / len(members):.0%}" for g, n in subs.most_common(3)),
                "mean_tempo_bpm": mean("tempo"),
                "mean_energy": mean("energy"),
                "mean_valence": mean("valence"),
                "mean_danceability": mean("danceability"),
                "mood": "; ".join(feature_words(centroid)),
                "examples": " | ".join(f"{t.track_name} — {t.track_artist}" for t in members[:examples]),
            }
        )
    rows.sort(key=lambda r: -r["size"])
    return rows
