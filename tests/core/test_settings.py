"""Typed settings: one section per service, read from the services' own variable names, the
nested ``REELFLOW_<SECTION>__<FIELD>`` form, earlier flat ``REELFLOW_*`` names and arguments."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reelflow.core.settings import HttpSettings, HumeSettings, Settings


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("OPENAI_", "HUME_", "RUNWARE_", "SPOTIFY_", "REELFLOW_")):
            monkeypatch.delenv(name)


def test_conventional_names_fill_their_sections(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-4.1-mini")
    monkeypatch.setenv("HUME_VOICE", "Ava Song")
    monkeypatch.setenv("RUNWARE_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "cid")
    monkeypatch.setenv("REELFLOW_SERVICE_DEADLINE_S", "30")  # earlier flat name
    monkeypatch.setenv("REELFLOW_RUNWARE_POLL_INITIAL_S", "0.5")
    s = Settings()
    assert s.openai.api_key is not None and s.openai.api_key.get_secret_value() == "sk-test"
    assert s.openai.model == "gpt-4.1-mini" and s.hume.voice == "Ava Song" and s.hume.api_key is None
    assert s.runware.base_url == "http://127.0.0.1:9/v1" and s.runware.poll_initial_s == 0.5
    assert s.spotify.client_id == "cid" and s.http.deadline_s == 30.0
    assert "sk-test" not in repr(s) and "sk-test" not in s.model_dump_json()


def test_nested_form_wins_over_conventional_and_dotenv_is_read(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HUME_API_KEY=from-dotenv\nHUME_VOICE=Dotenv Voice\n")
    monkeypatch.setenv("HUME_VOICE", "Env Voice")
    monkeypatch.setenv("REELFLOW_HUME__REQUESTS_PER_MINUTE", "40")
    s = Settings()
    assert s.hume.api_key is not None and s.hume.api_key.get_secret_value() == "from-dotenv"
    assert s.hume.voice == "Env Voice" and s.hume.requests_per_minute == 40
    monkeypatch.setenv("REELFLOW_HUME__VOICE", "Nested Voice")
    assert Settings().hume.voice == "Nested Voice"


def test_arguments_win_in_either_form(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUME_API_KEY", "env-key")
    s = Settings(HUME_BASE_URL="http://127.0.0.1:1", runware={"api_key": "rw"})
    assert s.hume.base_url == "http://127.0.0.1:1" and s.hume.api_key.get_secret_value() == "env-key"
    assert s.runware.api_key is not None and s.runware.api_key.get_secret_value() == "rw"
    assert isinstance(s.hume, HumeSettings) and isinstance(s.http, HttpSettings)


def test_bad_value_names_the_field(monkeypatch, tmp_path):
    _clear(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELFLOW_SERVICE_MAX_ATTEMPTS", "0")
    with pytest.raises(ValidationError, match="max_attempts"):
        Settings()
