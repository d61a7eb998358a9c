"""Composition root: local defaults without keys, remote adapters with keys, keys from Prefect Secret blocks."""

from __future__ import annotations

from reelflow.core.settings import Settings
from reelflow.flows._wiring import apply_prefect_secrets, get_runtime


def test_no_keys_means_local_defaults(test_settings):
    rt = get_runtime(test_settings)
    assert rt.providers() == {"plan": "local-template", "narration": "local-piper", "clips": "local-motion"}
    assert get_runtime(test_settings) is rt  # one runtime per process and settings


def test_keys_select_remote_adapters(test_settings):
    s = Settings(
        paths=test_settings.paths, _env_file=None,
        OPENAI_API_KEY="sk-test", HUME_API_KEY="hk-test", RUNWARE_API_KEY="rw-test",
    )
    rt = get_runtime(s)
    assert rt.providers() == {"plan": "openai", "narration": "hume", "clips": "runware"}


def test_keys_from_prefect_secret_blocks(prefect_harness, test_settings):
    from prefect.blocks.system import Secret

    Secret(value="sk-from-block").save("openai-api-key", overwrite=True)
    s = Settings(paths=test_settings.paths, _env_file=None, prefect_secrets=True)
    filled = apply_prefect_secrets(s)
    assert filled.openai_api_key is not None and filled.openai_api_key.get_secret_value() == "sk-from-block"
    assert filled.hume_api_key is None  # no block → stays local
    assert "sk-from-block" not in repr(filled)
    env_wins = Settings(paths=test_settings.paths, _env_file=None, prefect_secrets=True,
                        OPENAI_API_KEY="sk-env")
    assert apply_prefect_secrets(env_wins).openai_api_key.get_secret_value() == "sk-env"
    off = Settings(paths=test_settings.paths, _env_file=None)
    assert apply_prefect_secrets(off).openai_api_key is None
