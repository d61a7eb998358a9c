"""``reelflow songs``: build the song index, search it by mood, find tracks like a track.

- ``reelflow songs index [--catalogue CSV] [--spotify-playlist ID ...] [--rebuild]`` runs the
  ``index-songs`` Prefect flow (:mod:`flows.index_songs`).
- ``reelflow songs search "QUERY" [-k 10] [--genre G] [--min-tempo X] [--max-tempo Y] [--json]``
- ``reelflow songs like TRACK_ID [-k 10] [--json]``

``--json`` prints a list of ``{track_id, track_name, track_artist, playlist_genre,
playlist_subgenre, tempo, energy, valence, score}`` sorted by score (best first). Bad input exits
with code 2 (:func:`reelflow._cli_common.handle_errors`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reelflow._cli_common import console, handle_errors, is_tty, out

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
ExplicitOpt = Annotated[
    bool | None, typer.Option("--explicit/--clean", help="Keep only explicit / only clean tracks (if known).")
]


def _open_index(index_dir: Path | None):  # noqa: ANN202 - SongIndex imported lazily
    from core.settings import load_settings
    from processors.song_index import SongIndex, load_or_build_default

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
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Ignore caches; embed and build everything.")] = False,
    index_dir: IndexDirOpt = None,
    no_cluster: Annotated[bool, typer.Option("--no-cluster", help="Skip mood clustering.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build or refresh the song index (Prefect flow ``index-songs``)."""
    from flows.index_songs import index_songs

    summary = index_songs(
        catalogue=str(catalogue) if catalogue else None,
        spotify_playlists=list(spotify_playlist or []),
        rebuild=rebuild,
        index_dir=str(index_dir) if index_dir else None,
        cluster=not no_cluster,
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


@app.command("search")
@handle_errors
def search_cmd(
    query: Annotated[str, typer.Argument(help='Mood/genre description, e.g. "sunny latin summer party".')],
    k: KOpt = 10,
    genre: GenreOpt = None,
    min_tempo: MinTempoOpt = None,
    max_tempo: MaxTempoOpt = None,
    explicit: ExplicitOpt = None,
    as_json: JsonOpt = False,
    index_dir: IndexDirOpt = None,
) -> None:
    """Songs whose descriptions best match QUERY (cosine similarity, best first)."""
    from processors.song_index import _check_k, _check_query

    _check_query(query)
    _check_k(k)
    idx = _open_index(index_dir)
    matches = idx.search(query, k=k, genre=genre, min_tempo=min_tempo, max_tempo=max_tempo, explicit=explicit)
    _print(matches, as_json, f"songs like “{query}”")


@app.command("like")
@handle_errors
def like_cmd(
    track_id: Annotated[str, typer.Argument(help="A track_id from the index.")],
    k: KOpt = 10,
    genre: GenreOpt = None,
    min_tempo: MinTempoOpt = None,
    max_tempo: MaxTempoOpt = None,
    explicit: ExplicitOpt = None,
    as_json: JsonOpt = False,
    index_dir: IndexDirOpt = None,
) -> None:
    """Nearest neighbours of a catalogue track (the track itself excluded)."""
    from processors.song_index import _check_k

    _check_k(k)
    idx = _open_index(index_dir)
    matches = idx.like(track_id, k=k, genre=genre, min_tempo=min_tempo, max_tempo=max_tempo, explicit=explicit)
    seed = idx.track(track_id)
    _print(matches, as_json, f"songs like {seed.track_name} — {seed.track_artist}" if seed else track_id)
