"""Composition root: local defaults without keys, remote adapters with keys, keys from Prefect Secret blocks."""

from __future__ import annotations

from reelflow.core.settings import Settings
from reelflow.flows._wiring import apply_prefect_secrets, get_runtime


def test_no_keys_means_local_defaults(test_settings):
    rt = get_runtime(test_settings)
    assert rt.providers() == {"plan": "local-template", "narration": "local-piper", "clips": "local-motion"}
    assert get_runtime(test_settings) is rt  # one runtime per process and settings
    assert rt.remote == frozenset()  # nothing paid: no key check, clips drawn in the final encode


def test_keys_select_remote_adapters(test_settings):
    s = Settings(
        paths=test_settings.paths, _env_file=None,
        OPENAI_API_KEY="sk-test", HUME_API_KEY="hk-test", RUNWARE_API_KEY="rw-test",
    )
    rt = get_runtime(s)
    assert rt.providers() == {"plan": "openai", "narration": "hume", "clips": "runware"}
    assert rt.remote == {"plan", "narration", "clips"}


async def test_only_the_keyed_service_is_remote_and_only_it_is_checked(test_settings, monkeypatch):
    """One key set: that part alone is remote (paid), and the preflight checks that service alone."""
    from tests.emulators import EmulatorServer, base_urls, combined_app

    with EmulatorServer(combined_app()) as server:
        s = Settings(paths=test_settings.paths, _env_file=None, HUME_API_KEY="hume-test-key",
                     HUME_BASE_URL=base_urls(server.url)["HUME_BASE_URL"])
        rt = get_runtime(s)
        assert rt.remote == {"narration"}
        assert rt.providers() == {"plan": "local-template", "narration": "hume", "clips": "local-motion"}
        assert await rt.check_access() == ["hume"]
        assert await rt.check_access() == []  # checked once per runtime


def test_keys_from_prefect_secret_blocks(prefect_harness, test_settings):
    from prefect.blocks.system import Secret

    Secret(value="sk-from-block").save("openai-api-key", overwrite=True)
    s = Settings(paths=test_settings.paths, _env_file=None, prefect_secrets=True)
    filled = apply_prefect_secrets(s)
    assert filled.openai.api_key is not None and filled.openai.api_key.get_secret_value() == "sk-from-block"
    assert filled.hume.api_key is None  # no block → stays local
    assert "sk-from-block" not in repr(filled)
    env_wins = Settings(paths=test_settings.paths, _env_file=None, prefect_secrets=True,
                        OPENAI_API_KEY="sk-env")
    assert apply_prefect_secrets(env_wins).openai.api_key.get_secret_value() == "sk-env"
    off = Settings(paths=test_settings.paths, _env_file=None)
    assert apply_prefect_secrets(off).openai.api_key is None
