"""``index_songs``: build or refresh the song catalogue's FAISS index (Prefect 3 flow).

Steps (each a task; only paths and small dicts cross task boundaries):

1. ``load-catalogue``: read + normalise + de-duplicate the CSV (cached on the file's SHA-256);
   ``fetch-spotify-playlist`` per playlist id and ``fetch-spotify-search`` per query (Spotify Web
   API through ``clients.spotify``; no audio features, which Spotify closed to new apps, so
   descriptions use title, artist, album, artist genres, explicit and popularity), merged
   after the CSV (CSV wins on duplicates: same ``track_id`` or same title + artist).
2. ``embed-batch`` × ⌈n / 1,024⌉: descriptions of a fixed-size, in-order chunk of tracks →
   ``.npy`` of float32 ``[chunk, 384]``; cached on the chunk's texts and the encoder revision,
   so an unchanged catalogue is all cache hits (state ``Cached`` in the UI) and appending tracks
   embeds only the new tail chunk(s).
3. ``cluster-catalogue``: PCA → HDBSCAN mood clusters (cached on the embedding content key),
   a table artifact ``song-clusters``.
4. ``persist-index``: reuse the live index when its content key matches; append new tracks to it
   when the live index is a prefix of the new catalogue (incremental add); otherwise build a new
   one; save atomically (``processors.song_index.SongIndex.save``); the manifest records the
   tracks per source.
5. ``publish-index`` (when ``index_uri``/``REELFLOW_SONG_INDEX_URI`` is set): upload the saved
   version to S3 through the storage layer, files then manifest then ``CURRENT`` last
   (``processors.song_index.publish_index``).

The skipped-row report (count + first examples) is a markdown artifact ``song-catalogue-report``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE

from reelflow.core.errors import InputError
from reelflow.core.paths import confine, confine_uri
from reelflow.core.settings import load_settings
from reelflow.core.storage import atomic_write_json, atomic_write_text, sha256_file
from reelflow.flows._policies import SERVICE_RETRIES, outputs_present

#: Tracks per ``embed-batch`` task (fixed so chunk boundaries, and cache keys, are stable when
#: tracks are appended). 32,833 tracks → 29 tasks (env-notes: keep fan-out to tens of tasks).
CHUNK = 1024


#: Same inputs and task code, and the output folder still there (the token keeps existing keys).
CONTENT = INPUTS + TASK_SOURCE + outputs_present("present")


@task(name="load-catalogue", cache_policy=CONTENT, persist_result=True, tags=["songs"],
      task_run_name="load-catalogue-{csv_sha256:.12}")
def load_catalogue(csv_path: str, csv_sha256: str, work_dir: str) -> dict[str, Any]:
    """Normalise a catalogue CSV into ``work_dir/tracks-<sha>.json``; returns counts and report."""
    from reelflow.processors.song_index import read_catalogue_csv

    cat = read_catalogue_csv(csv_path)
    return _write_catalogue(cat, Path(work_dir), csv_sha256)


#: Tracks taken from each ``--spotify-search`` query (pages of 10 in Spotify's dev mode).
SEARCH_LIMIT = 50


async def _spotify_rows(playlist_id: str | None = None, query: str | None = None,
                        limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Flattened Spotify track rows of a playlist or a search, with artist genres when known.

    ``/audio-features`` is closed to new apps, so a row carries title, artist, album, explicit,
    popularity (None in dev mode) and, from ``/artists/{id}``, the first artist's first two
    genres as ``genre``/``subgenre`` (dev mode may return none). A failed genre lookup leaves
    the genre unknown; it never fails the ingest. The client retries 429/5xx itself
    (``Retry-After`` honoured), so the task's own retries only cover a whole failed listing.
    """
    from reelflow.clients._http import policy_from_settings
    from reelflow.clients.errors import ServiceError
    from reelflow.clients.spotify.client import client_from_settings

    settings = load_settings()
    async with client_from_settings(settings, policy=policy_from_settings(settings)) as client:
        if playlist_id is not None:
            rows = [row async for row in client.iter_playlist_tracks(playlist_id)]
        else:
            rows = await client.search_tracks(query or "", limit)
        artist_ids = sorted({r["artist_ids"][0] for r in rows if r.get("artist_ids") and r["artist_ids"][0]})
        gate = asyncio.Semaphore(4)

        async def genres(aid: str) -> tuple[str, list[str]]:
            async with gate:
                try:
                    return aid, list((await client.artist(aid)).get("genres") or [])
                except ServiceError:
                    return aid, []

        known = dict(await asyncio.gather(*(genres(a) for a in artist_ids)))
    for r in rows:
        g = known.get((r.get("artist_ids") or [None])[0]) or []
        r["genre"], r["subgenre"] = (g[0] if g else ""), (g[1] if len(g) > 1 else "")
    return rows


def _spotify_catalogue(rows: list[dict[str, Any]], source: str, work_dir: str) -> dict[str, Any]:
    """Normalise Spotify rows of one source into a catalogue file; no rows → an empty one.

    A playlist or search with no tracks adds nothing and is reported; it never fails the other
    sources of the ingest.
    """
    from reelflow.processors.song_index import Catalogue, catalogue_from_records

    if not rows:
        get_run_logger().warning("%s has no tracks; nothing added from it", source)
        sha = hashlib.sha256(source.encode()).hexdigest()
        return _write_catalogue(Catalogue(tracks=[], source_sha256=sha), Path(work_dir), sha)
    cat = catalogue_from_records(rows, source=source)
    return _write_catalogue(cat, Path(work_dir), cat.source_sha256)


@task(name="fetch-spotify-playlist", cache_policy=NO_CACHE, **SERVICE_RETRIES,
      tags=["spotify"], task_run_name="spotify-playlist-{playlist_id}")
def fetch_spotify_playlist(playlist_id: str, work_dir: str) -> dict[str, Any]:
    """Every track of a Spotify playlist, normalised (Spotify Web API ``/playlists/{id}/items``)."""
    rows = asyncio.run(_spotify_rows(playlist_id=playlist_id))
    return _spotify_catalogue(rows, f"spotify:playlist:{playlist_id}", work_dir)


@task(name="fetch-spotify-search", cache_policy=NO_CACHE, **SERVICE_RETRIES,
      tags=["spotify"], task_run_name="spotify-search-{query:.40}")
def fetch_spotify_search(query: str, work_dir: str, limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """Up to ``limit`` tracks of a Spotify search, normalised (Spotify Web API ``/search``)."""
    rows = asyncio.run(_spotify_rows(query=query, limit=limit))
    return _spotify_catalogue(rows, f"spotify:search:{query}", work_dir)


@task(name="publish-index", cache_policy=NO_CACHE, **SERVICE_RETRIES,
      tags=["storage"], task_run_name="publish-index")
def publish_index_task(index_dir: str, index_uri: str) -> dict[str, Any]:
    """Publish the saved index to ``index_uri`` (S3; files, manifest, then ``CURRENT`` last)."""
    from reelflow.processors.song_index import publish_index

    return publish_index(index_dir, index_uri, load_settings())


def _write_catalogue(cat: Any, work_dir: Path, sha: str) -> dict[str, Any]:
    from dataclasses import asdict

    path = work_dir / f"tracks-{sha[:16]}.json"
    atomic_write_text(path, json.dumps([asdict(t) for t in cat.tracks], ensure_ascii=False))
    return {
        "tracks_path": str(path),
        "source_sha256": cat.source_sha256,
        "has_explicit": cat.has_explicit,
        **cat.skipped_report(),
    }


@task(name="embed-batch", cache_policy=CONTENT, persist_result=True, tags=["embeddings"],
      task_run_name="embed-batch-{start}")
def embed_batch(texts: list[str], start: int, revision: str, work_dir: str) -> str:
    """Embed one chunk of descriptions → ``work_dir/emb-<key>.npy`` (float32 ``[len, 384]``)."""
    from reelflow.processors.embeddings import get_encoder

    key = hashlib.sha256(json.dumps([revision, texts]).encode()).hexdigest()[:24]
    path = Path(work_dir) / f"emb-{key}.npy"
    if not path.is_file():
        from reelflow.core.storage import atomic_path

        vectors = get_encoder(revision.split("/")[-1]).encode(texts)
        with atomic_path(path) as tmp:
            np.save(tmp, vectors, allow_pickle=False)
    return str(path)


@task(name="cluster-catalogue", cache_policy=CONTENT, persist_result=True, tags=["songs"],
      task_run_name="cluster-catalogue")
def cluster_catalogue(content_key: str, tracks_path: str, batch_paths: list[str], work_dir: str) -> dict[str, Any]:
    """PCA → HDBSCAN mood clusters; labels to ``work_dir/clusters-<key>.npy`` plus a summary table."""
    from reelflow.processors.clustering import cluster_embeddings, summarise_clusters
    from reelflow.processors.song_index import Track

    vectors = np.vstack([np.load(p) for p in batch_paths])
    tracks = [Track(**r) for r in json.loads(Path(tracks_path).read_text(encoding="utf-8"))]
    result = cluster_embeddings(vectors)
    labels_path = Path(work_dir) / f"clusters-{content_key[:16]}.npy"
    from reelflow.core.storage import atomic_path

    with atomic_path(labels_path) as tmp:
        np.save(tmp, result.labels, allow_pickle=False)
    return {
        "labels_path": str(labels_path),
        "n_clusters": result.n_clusters,
        "noise_fraction": round(result.noise_fraction, 4),
        "params": result.params,
        "table": summarise_clusters(tracks, result.labels),
    }


@task(name="persist-index", cache_policy=NO_CACHE, tags=["songs"], task_run_name="persist-index")
def persist_index(
    tracks_path: str,
    batch_paths: list[str],
    labels_path: str | None,
    index_dir: str,
    content_key: str,
    catalogue_sha256: str,
    has_explicit: bool,
    source_kind: str,
    rebuild: bool,
    sources: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Reuse, extend (incremental add) or build the index, then save it atomically.

    ``sources`` (tracks contributed per source after de-duplication) is recorded in the manifest.
    Holds the index folder's lock (the one ``load_or_build_default`` takes) from load to save.
    """
    from reelflow.processors.song_index import index_lock

    with index_lock(index_dir):
        return _persist_index(tracks_path, batch_paths, labels_path, index_dir, content_key, catalogue_sha256,
                              has_explicit, source_kind, rebuild, sources)


def _persist_index(
    tracks_path: str, batch_paths: list[str], labels_path: str | None, index_dir: str, content_key: str,
    catalogue_sha256: str, has_explicit: bool, source_kind: str, rebuild: bool, sources: dict[str, int] | None,
) -> dict[str, Any]:
    from reelflow.processors.embeddings import get_encoder
    from reelflow.processors.song_index import IndexMismatchError, SongIndex, Track, describe

    tracks = [Track(**r) for r in json.loads(Path(tracks_path).read_text(encoding="utf-8"))]
    vectors = np.vstack([np.load(p) for p in batch_paths])
    labels = np.load(labels_path) if labels_path else None
    encoder = get_encoder()
    existing = None
    if not rebuild:
        try:
            existing = SongIndex.load(index_dir, encoder=encoder)
        except IndexMismatchError:
            existing = None
    if existing is not None and existing.manifest.get("content_key") == content_key:
        return {"action": "unchanged", "count": len(existing), "added": 0, "faiss": existing.manifest["faiss"],
                "version": existing.manifest.get("version")}
    n_old = len(existing) if existing is not None else 0
    prefix_ok = (
        existing is not None
        and 0 < n_old <= len(tracks)
        and [t.track_id for t in existing.tracks] == [t.track_id for t in tracks[:n_old]]
        and [describe(t) for t in existing.tracks] == [describe(t) for t in tracks[:n_old]]
    )
    if prefix_ok:
        added = existing.add(tracks[n_old:], vectors[n_old:])
        idx, action = existing, "incremental-add"
    else:
        idx = SongIndex.from_vectors(
            tracks, vectors, model_revision=encoder.revision, backend=encoder.backend,
            catalogue_sha256=catalogue_sha256, has_explicit=has_explicit, encoder=encoder,
        )
        added, action = len(tracks), "built"
    idx.manifest.update(content_key=content_key, catalogue_sha256=catalogue_sha256, source_kind=source_kind,
                        has_explicit=has_explicit, sources=sources or {})
    if labels is not None:
        idx.set_clusters(labels)
    final = idx.save(index_dir)
    return {"action": action, "count": len(idx), "added": added, "faiss": idx.manifest["faiss"],
            "version": final.name}


def _skipped_markdown(reports: list[dict[str, Any]]) -> str:
    lines = ["# Song catalogue ingest", "", "| source | indexed | skipped | duplicates |", "|---|---|---|---|"]
    for r in reports:
        lines.append(f"| {r['source']} | {r['indexed']} | {r['skipped']} | {r['duplicates']} |")
    examples = [(r["source"], s) for r in reports for s in r["first_skipped"]]
    if examples:
        lines += ["", "## First skipped rows", "", "| source | line | track_id | reason |", "|---|---|---|---|"]
        lines += [f"| {src} | {s['line']} | {s['track_id']} | {s['reason']} |" for src, s in examples[:20]]
    return "\n".join(lines) + "\n"


@flow(name="index-songs", log_prints=False)
def index_songs(
    catalogue: str | None = None,
    spotify_playlists: list[str] | None = None,
    rebuild: bool = False,
    index_dir: str | None = None,
    cluster: bool = True,
    spotify_searches: list[str] | None = None,
    index_uri: str | None = None,
) -> dict[str, Any]:
    """Build or refresh the song index from a CSV catalogue and/or Spotify playlists/searches.

    Args:
        catalogue: CSV path (default: the bundled ``assets/catalogue/spotify_songs.csv`` when no
            playlist is given).
        spotify_playlists: Spotify playlist ids whose tracks are added (needs
            ``SPOTIFY_CLIENT_ID``/``SPOTIFY_CLIENT_SECRET``).
        rebuild: ignore cached embeddings and the live index; embed and build everything again.
        index_dir: where the index lives (default ``<cache>/song_index``, the one ``create_video``
            and ``reelflow songs search`` use).
        cluster: compute mood clusters and their artifact.
        spotify_searches: Spotify search queries; up to :data:`SEARCH_LIMIT` tracks of each are
            added (same credentials). Sources merge in order CSV, playlists, searches; the first
            occurrence of a track (same id, or same title + artist) wins.
        index_uri: ``s3://bucket/prefix`` to publish the saved index to (default:
            ``REELFLOW_SONG_INDEX_URI``; empty = local only).

    Returns:
        Summary: ``index_dir``, ``action`` (built / incremental-add / unchanged), ``count``,
        ``added``, ``skipped``, ``duplicates``, ``batches``, ``cached_batches``, ``clusters``,
        ``faiss``, ``sources`` (tracks per source), ``published`` (``publish_index`` result or
        None), ``seconds``.

    Raises:
        InputError: bad CSV (missing columns, no valid rows), a non-S3 ``index_uri``, nothing
            to index, or a path/URI parameter outside the worker's roots (:mod:`core.paths`).
    """
    from reelflow.processors.embeddings import get_encoder
    from reelflow.processors.song_index import (
        Track,
        claim_index_dir,
        default_catalogue_path,
        default_index_dir,
        describe,
        merge_catalogues,
    )

    t0 = time.perf_counter()
    logger = get_run_logger()
    settings = load_settings()
    playlists = list(spotify_playlists or [])
    searches = [q.strip() for q in (spotify_searches or []) if q and q.strip()]
    remote = list(playlists) + searches
    if index_uri and index_uri.strip() and not index_uri.strip().startswith("s3://"):
        raise InputError(f"--index-uri {index_uri!r} is not an S3 URI", hint="pass s3://bucket/prefix")
    index_uri = confine_uri(index_uri, "index_uri", settings) or (settings.song_index_uri or "").strip() or None
    catalogue = str(confine(catalogue, "catalogue", settings, "read") or "") or None
    if catalogue is None and not remote:
        catalogue = str(default_catalogue_path(settings))
    out_dir = confine(index_dir, "index_dir", settings, "write") or default_index_dir(settings)
    claim_index_dir(out_dir)  # refuse a folder that is not ReelFlow's before any work
    work_dir = out_dir.parent / f".{out_dir.name}-work"
    work_dir.mkdir(parents=True, exist_ok=True)
    refresh = {"refresh_cache": True} if rebuild else {}

    loaded: list[tuple[str, dict[str, Any]]] = []
    if catalogue is not None:
        if not Path(catalogue).is_file():
            raise InputError(f"catalogue CSV not found: {catalogue}", hint="pass an existing CSV with --catalogue")
        sha = sha256_file(catalogue)
        loaded.append((f"csv:{Path(catalogue).name}",
                       load_catalogue.with_options(**refresh)(str(catalogue), sha, str(work_dir))))
    for pid in playlists:
        loaded.append((f"spotify:playlist:{pid}", fetch_spotify_playlist(pid, str(work_dir))))
    for query in searches:
        loaded.append((f"spotify:search:{query}", fetch_spotify_search(query, str(work_dir))))

    from reelflow.processors.song_index import Catalogue

    cats = [
        Catalogue(
            tracks=[Track(**r) for r in json.loads(Path(info["tracks_path"]).read_text(encoding="utf-8"))],
            duplicates=info["duplicates"], source_sha256=info["source_sha256"], has_explicit=info["has_explicit"],
        )
        for _, info in loaded
    ]
    merged = merge_catalogues(*cats)
    reports = [{"source": src, **{k: info[k] for k in ("indexed", "skipped", "duplicates", "first_skipped")}}
               for src, info in loaded]
    create_markdown_artifact(key="song-catalogue-report", markdown=_skipped_markdown(reports),
                             description="Tracks indexed, rows skipped (with reasons) and duplicates dropped")
    if not merged.tracks:
        raise InputError("nothing to index: the catalogue is empty", hint="pass a CSV or playlist with tracks")
    tracks_path = work_dir / f"merged-{merged.source_sha256[:16]}.json"
    if len(loaded) == 1:
        tracks_path = Path(loaded[0][1]["tracks_path"])
    else:
        from dataclasses import asdict

        atomic_write_json(tracks_path, [asdict(t) for t in merged.tracks])

    encoder = get_encoder()
    texts = [describe(t) for t in merged.tracks]
    futures = []
    for start in range(0, len(texts), CHUNK):
        futures.append(embed_batch.with_options(**refresh)(texts[start : start + CHUNK], start, encoder.revision,
                                                           str(work_dir), return_state=True))
    batch_paths = [s.result() for s in futures]
    cached = sum(1 for s in futures if s.name == "Cached")
    content_key = hashlib.sha256(json.dumps([encoder.revision, [Path(p).name for p in batch_paths]]).encode()).hexdigest()
    logger.info("embedded %d tracks in %d batches (%d cached)", len(texts), len(batch_paths), cached)

    clusters: dict[str, Any] | None = None
    if cluster:
        clusters = cluster_catalogue.with_options(**refresh)(content_key, str(tracks_path), batch_paths, str(work_dir))
        create_table_artifact(
            key="song-clusters",
            table=clusters["table"],
            description=f"{clusters['n_clusters']} mood clusters over {len(texts)} tracks "
            f"(noise before assignment {clusters['noise_fraction']:.0%}; {clusters['params'].get('method')})",
        )
    source_kind = "bundled" if catalogue and not remote and Path(catalogue).resolve() == default_catalogue_path(
        settings).resolve() else "custom"
    sources = dict(Counter(t.source for t in merged.tracks))
    persisted = persist_index(
        str(tracks_path), batch_paths, clusters["labels_path"] if clusters else None, str(out_dir), content_key,
        sha256_file(catalogue) if (catalogue and not remote) else merged.source_sha256, merged.has_explicit,
        source_kind, rebuild, sources,
    )
    published = publish_index_task(str(out_dir), index_uri) if index_uri else None
    return {
        "index_dir": str(out_dir),
        **persisted,
        "sources": sources,
        "published": published,
        "skipped": sum(r["skipped"] for r in reports),
        "duplicates": merged.duplicates,
        "batches": len(batch_paths),
        "cached_batches": cached,
        "clusters": clusters["n_clusters"] if clusters else None,
        "seconds": round(time.perf_counter() - t0, 2),
    }
