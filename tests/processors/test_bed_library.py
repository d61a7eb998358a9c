"""CC0 bed library: measured tempo/loudness on real and generated audio, mood → bed search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reelflow.core.errors import AssetError, InputError
from reelflow.processors.bed_library import BedLibrary, estimate_tempo


def _click_track(bpm: float, seconds: float = 20.0, rate: int = 44_100) -> np.ndarray:
    x = np.zeros(int(seconds * rate), np.float32)
    click = (np.sin(2 * np.pi * 1000 * np.arange(441) / rate) * np.hanning(441)).astype(np.float32)
    for t in np.arange(0, seconds - 0.02, 60.0 / bpm):
        i = int(t * rate)
        x[i : i + 441] += click
    return np.stack([x, x], axis=1) * 0.5


@pytest.mark.parametrize("bpm", [90.0, 128.0, 150.0])
def test_tempo_of_click_tracks(bpm):
    assert estimate_tempo(_click_track(bpm), 44_100) == pytest.approx(bpm, rel=0.02)


def test_tempo_of_silence_or_tiny_audio_is_zero():
    assert estimate_tempo(np.zeros((44_100 * 5, 2), np.float32), 44_100) == 0.0
    assert estimate_tempo(np.zeros(100, np.float32), 44_100) == 0.0


@pytest.fixture(scope="module")
def library(test_settings) -> BedLibrary:
    from reelflow.processors.embeddings import get_encoder

    return BedLibrary.load(test_settings, encoder=get_encoder(cache_dir=test_settings.cache / "models"))


def test_library_measures_and_caches(library, test_settings):
    assert len(library.beds) == 4 and not library.skipped
    for bed in library.beds:
        assert bed.path.is_absolute() and bed.path.is_file()
        assert bed.licence.startswith("CC0")
        assert 60 <= bed.tempo_bpm <= 200
        assert -60 < bed.loudness_lufs < -5
    cache = json.loads((Path(test_settings.cache) / "beds" / "measurements.json").read_text())
    assert len(cache) == 4
    # The energetic chiptune loop is measured faster than the lo-fi track.
    by_id = {b.id: b for b in library.beds}
    assert by_id["8bit_battle_loop"].tempo_bpm > by_id["happy_lofi_day"].tempo_bpm


@pytest.mark.parametrize(
    ("query", "bed_id"),
    [
        ("energetic fast gaming hype", "8bit_battle_loop"),
        ("calm reflective journey", "background_music_1"),
        ("happy chill cafe lifestyle", "happy_lofi_day"),
        ("epic triumphant sports", "kevin_macleod_freepd"),
        ("dramatic motivational", "kevin_macleod_freepd"),
    ],
)
def test_best_bed_for_mood(library, query, bed_id):
    bed = library.best(query)
    expected = next(b for b in library.beds if b.id == bed_id)
    assert bed.path == str(expected.path) and bed.title == expected.title
    assert bed.licence and bed.credit and 0 < bed.score <= 1


def test_bad_query_and_missing_assets(library, tmp_path, test_settings):
    with pytest.raises(InputError):
        library.best("")
    with pytest.raises(AssetError, match="missing"):
        BedLibrary.load(test_settings, music_dir=tmp_path)
    (tmp_path / "music.json").write_text(json.dumps({"items": [
        {"id": "gone", "path": "gone.mp3", "title": "Gone", "licence": "CC0 1.0"}]}))
    with pytest.raises(AssetError, match="no usable music bed"):
        BedLibrary.load(test_settings, music_dir=tmp_path)
