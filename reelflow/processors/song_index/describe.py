"""Text descriptions of catalogue tracks: the English sentence each track is embedded as.

Title, artist, genre, subgenre and words derived from the track's audio features (tempo →
"slow/upbeat/fast", energy and valence → mood words, danceability, acousticness,
instrumentalness, speechiness, liveness; thresholds on Spotify's 0–1 scales, per the Web API
documentation). Part of :mod:`reelflow.processors.song_index`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelflow.processors.song_index.catalogue import Track




def feature_words(t: Track) -> list[str]:
    """Mood/tempo words for a track's audio features (thresholds on Spotify's 0–1 scales).

    Returns:
        Words/phrases in a fixed order; empty when no feature is known.
    """
    words: list[str] = []
    if t.tempo is not None and t.tempo > 0:
        if t.tempo < 85:
            words.append("slow tempo")
        elif t.tempo < 110:
            words.append("mid-tempo")
        elif t.tempo < 135:
            words.append("upbeat tempo")
        else:
            words.append("fast tempo")
    e, v = t.energy, t.valence
    if e is not None:
        if e >= 0.8:
            words.append("high energy, intense, powerful")
        elif e >= 0.6:
            words.append("energetic")
        elif e >= 0.4:
            words.append("moderate energy")
        else:
            words.append("calm, soft, mellow")
    if v is not None:
        if v >= 0.7:
            words.append("happy, cheerful, sunny, positive")
        elif v >= 0.45:
            words.append("warm, feel-good")
        elif v >= 0.25:
            words.append("bittersweet, moody")
        else:
            words.append("sad, dark, melancholic")
    if e is not None and v is not None:
        if e >= 0.7 and v < 0.35:
            words.append("aggressive, angry")
        elif e < 0.45 and v >= 0.5:
            words.append("relaxed, peaceful, chill")
        elif e >= 0.7 and v >= 0.6:
            words.append("euphoric, party")
    d = t.danceability
    if d is not None:
        if d >= 0.75:
            words.append("very danceable, groovy")
        elif d >= 0.6:
            words.append("danceable")
        elif d < 0.4:
            words.append("not for dancing")
    if t.acousticness is not None and t.acousticness >= 0.6:
        words.append("acoustic")
    if t.instrumentalness is not None and t.instrumentalness >= 0.5:
        words.append("instrumental, no vocals")
    if t.speechiness is not None:
        if t.speechiness >= 0.66:
            words.append("spoken word")
        elif t.speechiness >= 0.25:
            words.append("rap vocals, lots of lyrics")
    if t.liveness is not None and t.liveness >= 0.8:
        words.append("live recording")
    return words


def metadata_words(t: Track) -> list[str]:
    """Words for what a Spotify ingest knows when audio features are missing.

    Spotify closed ``/audio-features`` to new apps (November 2024), so playlist/search tracks
    carry only the explicit flag and, outside dev mode, ``popularity`` (0–100, Web API docs).

    Returns:
        Words/phrases in a fixed order; empty when neither is known (the bundled CSV).
    """
    words: list[str] = []
    if t.explicit is True:
        words.append("explicit lyrics")
    elif t.explicit is False:
        words.append("clean lyrics")
    if t.popularity is not None:
        if t.popularity >= 70:
            words.append("popular hit")
        elif t.popularity >= 40:
            words.append("well-known")
        else:
            words.append("deep cut")
    return words


def describe(t: Track) -> str:
    """Description embedded for a track.

    ``"<title> by <artist>. From the album <album>. Genre: <genre>, <subgenre>. <words>."``;
    the album, genre and words parts appear only when known (a Spotify track without audio
    features still gets title, artist, album, genre, explicit and popularity words).
    """
    parts = [f"{t.track_name} by {t.track_artist}."]
    if t.album:
        parts.append(f"From the album {t.album}.")
    genres = ", ".join(g for g in (t.playlist_genre, t.playlist_subgenre) if g)
    if genres:
        parts.append(f"Genre: {genres}.")
    words = feature_words(t) + metadata_words(t)
    if words:
        parts.append(", ".join(words) + ".")
    return " ".join(parts)
