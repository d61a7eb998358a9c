"""Fixtures of the operations tests: a real Prefect server (the SeaweedFS S3 server is in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    """A real ``prefect server start`` on a free loopback port, own PREFECT_HOME (session-wide)."""
    from reelflow.deployments.local_server import start_server

    server = start_server(tmp_path_factory.mktemp("prefect-server-home"), port=None, timeout_s=180)
    try:
        yield server
    finally:
        server.stop()
