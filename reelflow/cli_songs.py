"""``reelflow songs``: build the song index, search it by mood, find tracks like a track.

- ``reelflow songs index [--catalogue CSV] [--spotify-playlist ID ...] [--spotify-search Q ...]
  [--index-uri s3://bucket/prefix] [--rebuild]`` runs the ``index-songs`` Prefect flow
  (:mod:`flows.index_songs`); with ``--index-uri`` (or ``REELFLOW_SONG_INDEX_URI``) the saved
  index is published to S3.
- ``reelflow songs search "QUERY" [-k 10] [--genre G] [--min-tempo X] [--max-tempo Y] [--json]``
- ``reelflow songs like TRACK_ID [-k 10] [--json]``

``--json`` prints a list of ``{track_id, track_name, track_artist, playlist_genre,
playlist_subgenre, tempo, energy, valence, score}`` sorted by score (best first). Bad input exits
with code 2 (:func:`reelflow._cli_common.handle_errors`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from reelflow._cli_common import console, ensure_prefect_api, handle_errors, is_tty, out

app = typer.Typer(no_args_is_help=True, help="Song catalogue index: build, search, like.")

IndexDirOpt = Annotated[
    Path | None,
    typer.Option("--index-dir", help="Index folder (default: <cache>/song_index, the one `make` uses)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print results as a JSON list.")]
KOpt = Annotated[int, typer.Option("-k", "--k", help="Number of results (1-1000).")]
GenreOpt = Annotated[str | None, typer.Option("--genre", help="Keep only this playlist genre or subgenre.")]
MinTempoOpt = Annotated[float | None, typer.Option("--min-tempo", help="Minimum tempo in BPM.")]
MaxTempoOpt = Annotated[float | None, typer.Option("--max-tempo", help="Maximum tempo in BPM.")]
#: The filters dict passed to ``SongIndex.search``/``like`` (``processors.song_index.SearchFilters``).
SearchFiltersDict = dict[str, Any]
ExplicitOpt = Annotated[
    bool | None, typer.Option("--explicit/--clean", help="Keep only explicit / only clean tracks (if known).")
]


def _open_index(index_dir: Path | None):  # noqa: ANN202 - SongIndex imported lazily
    from reelflow.core.settings import load_settings
    from reelflow.processors.song_index import SongIndex, load_or_build_default

    if index_dir is not None:
        return SongIndex.load(index_dir)

    def notify(reason: str) -> None:
        console.print(f"[yellow]building the song index once[/] ({reason}); later runs load it in under a second")

    return load_or_build_default(load_settings(), progress=is_tty(), on_build=notify)


def _print(matches: list, as_json: bool, title: str) -> None:
    if as_json:
        out.print_json(json.dumps([m.model_dump() for m in matches]))
        return
    table = Table(title=title, show_lines=False)
    for col in ("score", "track", "artist", "genre", "subgenre", "tempo", "energy", "valence", "track_id"):
        table.add_column(col, overflow="fold")
    for m in matches:
        table.add_row(
            f"{m.score:.3f}", m.track_name, m.track_artist, m.playlist_genre, m.playlist_subgenre,
            "" if m.tempo is None else f"{m.tempo:.0f}",
            "" if m.energy is None else f"{m.energy:.2f}",
            "" if m.valence is None else f"{m.valence:.2f}",
            m.track_id,
        )
    out.print(table)


@app.command("index")
@handle_errors
def index_cmd(
    catalogue: Annotated[Path | None, typer.Option("--catalogue", help="Catalogue CSV (default: the bundled one).")] = None,
    spotify_playlist: Annotated[
        list[str] | None, typer.Option("--spotify-playlist", help="Spotify playlist id to add (repeatable).")
    ] = None,
    spotify_search: Annotated[
        list[str] | None,
        typer.Option("--spotify-search", help="Spotify search query whose top 50 tracks are added (repeatable)."),
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Ignore caches; embed and build everything.")] = False,
    index_dir: IndexDirOpt = None,
    index_uri: Annotated[
        str | None,
        typer.Option("--index-uri", help="Publish the index to s3://bucket/prefix (default: REELFLOW_SONG_INDEX_URI)."),
    ] = None,
    no_cluster: Annotated[bool, typer.Option("--no-cluster", help="Skip mood clustering.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build or refresh the song index (Prefect flow ``index-songs``)."""
    from reelflow.flows.index_songs import index_songs

    ensure_prefect_api()
    from reelflow.core.paths import trust_local, trust_local_uri

    for p in [catalogue, index_dir]:  # the user's own paths (deployment runs stay confined to the roots)
        if p:
            trust_local(p, tree=p == index_dir)
    if index_uri:
        trust_local_uri(index_uri)
    summary = index_songs(
        catalogue=str(catalogue) if catalogue else None,
        spotify_playlists=list(spotify_playlist or []),
        spotify_searches=list(spotify_search or []),
        rebuild=rebuild,
        index_dir=str(index_dir) if index_dir else None,
        cluster=not no_cluster,
        index_uri=index_uri,
    )
    if as_json:
        out.print_json(json.dumps(summary, default=str))
        return
    out.print(
        f"[bold green]{summary['action']}[/]: {summary['count']} tracks in {summary['index_dir']} "
        f"({summary['faiss']['type']}; {summary['added']} embedded/added, {summary['cached_batches']}/"
        f"{summary['batches']} batches from cache, {summary['skipped']} rows skipped, "
        f"{summary['duplicates']} duplicates, {summary['clusters']} clusters) in {summary['seconds']} s"
    )
    if summary.get("published"):
        pub = summary["published"]
        state = "published" if pub["published"] else "already published"
        out.print(f"{state}: version {pub['version']} at {pub['uri']}")


def _query_command(name: str, metavar: str, arg_help: str,
                   run: Callable[[str, int, SearchFiltersDict, Path | None], tuple[list, str]], doc: str) -> None:
    """Register ``reelflow songs <name>``: one argument, ``-k``, the metadata filters, ``--json``.

    ``run(argument, k, filters, index_dir)`` returns ``(matches, table title)``; ``search`` and
    ``like`` differ only there.
    """

    def command(
        argument: str,
        k: KOpt = 10,
        genre: GenreOpt = None,
        min_tempo: MinTempoOpt = None,
        max_tempo: MaxTempoOpt = None,
        explicit: ExplicitOpt = None,
        as_json: JsonOpt = False,
        index_dir: IndexDirOpt = None,
    ) -> None:
        from reelflow.processors.song_index import _check_k

        _check_k(k)
        filters: SearchFiltersDict = {"genre": genre, "min_tempo": min_tempo, "max_tempo": max_tempo,
                                      "explicit": explicit}
        matches, title = run(argument, k, filters, index_dir)
        _print(matches, as_json, title)

    # set here, not in the signature: string annotations (PEP 563) cannot see this closure
    command.__annotations__["argument"] = Annotated[str, typer.Argument(metavar=metavar, help=arg_help)]
    command.__doc__ = doc
    command.__name__ = f"{name}_cmd"
    app.command(name)(handle_errors(command))


def _run_search(query: str, k: int, filters: SearchFiltersDict, index_dir: Path | None) -> tuple[list, str]:
    from reelflow.processors.song_index import _check_query

    _check_query(query)  # before opening (maybe building) the index
    return _open_index(index_dir).search(query, k=k, **filters), f"songs like “{query}”"


def _run_like(track_id: str, k: int, filters: SearchFiltersDict, index_dir: Path | None) -> tuple[list, str]:
    idx = _open_index(index_dir)
    matches = idx.like(track_id, k=k, **filters)
    seed = idx.track(track_id)
    return matches, (f"songs like {seed.track_name} — {seed.track_artist}" if seed else track_id)


_query_command("search", "query", 'Mood/genre description, e.g. "sunny latin summer party".', _run_search,
               "Songs whose descriptions best match QUERY (cosine similarity, best first).")
_query_command("like", "track_id", "A track_id from the index.", _run_like,
               "Nearest neighbours of a catalogue track (the track itself excluded).")
