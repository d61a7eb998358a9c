"""``analyze_library`` Prefect flow: shots, keyframes, features, QA and clusters for a library.

``analyze_library(paths, out_dir)``:

1. Expand files/folders (:func:`processors.library.collect_inputs`); a path that does not exist
   raises :class:`core.errors.InputError` before any work.
2. One ``analyze-file`` task per file (one decode of the file: shots, keyframes, features,
   motion and QA all come from it), submitted to a thread pool bounded by
   ``settings.runner.max_concurrency`` (default 2 = the cores here), each file's decoder given
   ``cores // files in parallel`` threads (:func:`decoder_threads`). Each task is cached by the
   file's **content hash** (SHA-256) + its output folder/name + the task source; when a file's
   outputs are no longer on disk the task runs with ``refresh_cache`` — re-analysing an
   unchanged library is a cache hit per file.
   A bad file (empty, truncated, not media, no video stream, unsupported) returns an ``error``
   record; the other files are still analysed.
3. ``cluster-library``: HDBSCAN over all keyframe and image feature vectors
   (:mod:`processors.image_clustering`), near-duplicate groups by pHash, written to
   ``DIR/clusters.json`` and ``DIR/cluster_report.md``, and published as Prefect artifacts (a
   markdown report with exemplar thumbnail paths and a table of clusters).
4. ``DIR/report.json``: every file's record and the error count (written before clustering
   too, so a clustering failure never loses the per-file results).

The task runner: by default a thread pool bounded by ``settings.runner.max_concurrency``; a
deployment given another runner (``REELFLOW_RUNNER__TASK_RUNNER=dask``, see
:mod:`flows.runners`) fans the ``analyze-file`` tasks out on it instead.

Only :class:`processors.library.FileAnalysis` records and paths cross task boundaries.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE, TASK_SOURCE, CacheKeyFnPolicy
from prefect.context import FlowRunContext, TaskRunContext
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel

from reelflow.core.paths import confine, confine_all, safe_component
from reelflow.core.settings import load_settings
from reelflow.core.storage import atomic_write_json, atomic_write_text, ensure_writable_dir, sha256_file
from reelflow.flows._cache import code_version
from reelflow.flows._policies import refresh_if_missing
from reelflow.processors.library import FileAnalysis, analyze_file, build_library_clusters, collect_inputs, kind_of


class LibraryReport(BaseModel):
    """What ``analyze_library`` returns."""

    out_dir: str
    n_files: int
    n_videos: int
    n_images: int
    n_errors: int
    n_clusters: int
    clusters: str
    report: str
    files: list[FileAnalysis]


def _marker(path: Path, out_root: Path, name: str) -> Path:
    """The file whose presence means this input's outputs are on disk."""
    kind = kind_of(path)
    return out_root / "images" / f"{name}.json" if kind == "image" else out_root / name / "metadata.json"


def _content_key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    """Cache key: the file's content hash + where its outputs go (not its path or mtime)."""
    return f"{inputs['sha256']}:{Path(inputs['out_root']).resolve()}:{inputs['name']}"


#: Also keyed on the analysis code (detector, keyframes, features, QA, clustering inputs), so a
#: fixed processor re-analyses instead of serving old results.
FILE_CACHE = CacheKeyFnPolicy(cache_key_fn=_content_key) + TASK_SOURCE + code_version(
    "reelflow.processors.library", "reelflow.processors.shots", "reelflow.processors.keyframes", "reelflow.processors.features", "reelflow.processors.qa")


@task(name="analyze-file", cache_policy=FILE_CACHE, persist_result=True, retries=1, retry_delay_seconds=1,
      task_run_name="analyze-{name}", tags=["analysis"])
def analyze_file_task(path: str, out_root: str, name: str, sha256: str, threads: int = 0) -> FileAnalysis:
    """Shots/keyframes/features/QA of one file (one decode); a bad file gives an error record, not a failure."""
    return analyze_file(Path(path), Path(out_root), name, sha256, threads=threads)


def decoder_threads(n_files: int, workers: int, cores: int | None = None) -> int:
    """Decoder threads per file so that the files analysed at once keep every core busy without
    oversubscribing them: ``cores // files in parallel`` (at least 1)."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, min(workers, n_files)))


@task(name="cluster-library", cache_policy=NO_CACHE, tags=["analysis"])
def cluster_task(records: list[FileAnalysis], out_root: str) -> tuple[str, int]:
    """Cluster every keyframe/image, write ``clusters.json`` + ``cluster_report.md``, publish artifacts."""
    doc, markdown, rows = build_library_clusters(records, Path(out_root))
    atomic_write_json(Path(out_root) / "clusters.json", doc)
    atomic_write_text(Path(out_root) / "cluster_report.md", markdown)
    create_markdown_artifact(markdown=markdown, key="library-clusters", description="Library cluster report")
    if rows:
        create_table_artifact(table=rows, key="library-cluster-table", description="Clusters and exemplars")
    return str(Path(out_root) / "clusters.json"), int(doc["n_clusters"])


def _names(files: list[Path], shas: list[str]) -> list[str]:
    """Output names: the stem, suffixed with a short hash when two files share a stem."""
    stems = [safe_component(f.stem) for f in files]  # a file named "...mp4" has the stem ".."
    return [s if stems.count(s) == 1 else f"{s}-{h[:8]}" for s, h in zip(stems, shas, strict=True)]


@flow(name="analyze-library", log_prints=False)
def analyze_library(paths: list[str], out_dir: str | None = None) -> LibraryReport:
    """Analyse videos and images: shots, keyframes, features, QA flags, clusters.

    Args:
        paths: files and/or folders (folders are searched recursively for mp4/mov/mkv/webm/
            m4v/avi and jpg/png/webp/bmp/tiff).
        out_dir: output folder (default ``<outputs_dir>/library``).

    Returns:
        :class:`LibraryReport` (``n_errors`` counts the files that could not be analysed).

    Raises:
        InputError: a path does not exist, nothing was given, or ``out_dir`` is not writable —
            raised before any file is analysed.
    """
    settings = load_settings()
    files = collect_inputs([str(p) for p in confine_all(paths, "paths", settings)])
    confine_all(files, "paths (a file inside)", settings)  # a symlink in a folder must not lead out either
    out_root = ensure_writable_dir(confine(out_dir, "out_dir", settings, "write") or settings.paths.outputs_dir / "library")
    logger = get_run_logger()
    logger.info("analysing %d files into %s", len(files), out_root)
    shas, unreadable = [], {}
    for f in files:
        try:
            shas.append(sha256_file(f))
        except OSError as exc:  # vanished or unreadable: an error entry, the rest goes on
            shas.append("")
            unreadable[f] = f"cannot read the file ({exc.strerror or exc}); check its permissions"
    names = _names(files, shas)
    ctx = FlowRunContext.get()
    flow_runner = ctx.task_runner if ctx else None
    # The default thread pool is replaced by one bounded by max_concurrency (one file per core);
    # any other runner the flow was given (Dask: REELFLOW_RUNNER__TASK_RUNNER) is used as is.
    workers = max(1, settings.runner.max_concurrency)
    own = ThreadPoolTaskRunner(max_workers=workers) \
        if flow_runner is None or isinstance(flow_runner, ThreadPoolTaskRunner) else None
    threads = decoder_threads(len(files), workers) if own else 0
    records: list[FileAnalysis] = []
    with own or contextlib.nullcontext():
        futures = []
        for f, n, h in zip(files, names, shas, strict=True):
            if f in unreadable:
                futures.append(None)
                continue
            # Outputs deleted (or never written, e.g. an error entry) → recompute and re-cache.
            t = refresh_if_missing(analyze_file_task, _marker(f, out_root, n)) if kind_of(f) != "unknown" \
                else analyze_file_task
            params = {"path": str(f), "out_root": str(out_root), "name": n, "sha256": h, "threads": threads}
            futures.append(own.submit(t, params) if own else t.submit(**params))
        for f, n, h, fut in zip(files, names, shas, futures, strict=True):
            if fut is None:
                records.append(FileAnalysis(path=str(f), kind=kind_of(f), name=n, sha256=h, status="error",
                                            error=f"InputError: {unreadable[f]}"))
                continue
            try:
                records.append(fut.result())
            except Exception as exc:  # noqa: BLE001 - one file's crash must not lose the others
                records.append(FileAnalysis(path=str(f), kind=kind_of(f), name=n, sha256=h, status="error",
                                            error=f"{type(exc).__name__}: {exc}"))
    errors = [r for r in records if r.status == "error"]
    for r in errors:
        logger.warning("could not analyse %s: %s", r.path, r.error)

    def write_report(clusters_path: str, n_clusters: int) -> LibraryReport:
        report = LibraryReport(
            out_dir=str(out_root), n_files=len(records),
            n_videos=sum(r.kind == "video" and r.status == "ok" for r in records),
            n_images=sum(r.kind == "image" and r.status == "ok" for r in records),
            n_errors=len(errors), n_clusters=n_clusters, clusters=clusters_path,
            report=str(out_root / "report.json"), files=records,
        )
        atomic_write_json(out_root / "report.json", json.loads(report.model_dump_json()))
        return report

    write_report("", 0)  # every file's record is on disk even if clustering fails
    return write_report(*cluster_task(records, str(out_root)))
