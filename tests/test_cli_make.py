"""``reelflow make`` bad-input handling, run as a real subprocess: exit 2, clear message, no output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).parent / "reelflow"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=120, cwd=cwd or REPO)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["make", ""], "text"),
        (["make", "x" * 2001], "text"),
        (["make", "A launch video for our trail shoe", "--duration", "200"], "duration_s"),
        (["make", "A launch video for our trail shoe", "--platform", "myspace"], "platform"),
        (["make", "A launch video for our trail shoe", "--aspect", "4:3"], "aspect"),
        (["make"], "either a brief TEXT or --brief-file"),
        (["make", "--brief-file", "/nonexistent/briefs.jsonl"], "not found"),
        # no OPENAI_API_KEY here: the offline copywriter writes English only, said before any work
        (["make", "Anuncio de 15 segundos para Sol, la crema solar con SPF 50.", "--language", "es", "--brand", "Sol"],
         "English only"),
    ],
)
def test_bad_input_exits_2(args, needle):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr


def test_jsonl_needs_id_or_all(tmp_path):
    path = tmp_path / "b.jsonl"
    rows = [{"id": "a", "text": "A product video for a shoe"}, {"id": "b", "text": "A product video for a coffee"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    proc = run_cli("make", "--brief-file", str(path))
    assert proc.returncode == 2 and "--id" in proc.stderr and "--all" in proc.stderr
    proc = run_cli("make", "--brief-file", str(path), "--id", "zzz")
    assert proc.returncode == 2 and "available ids: a, b" in proc.stderr


def test_non_utf8_brief_file(tmp_path):
    path = tmp_path / "b.json"
    path.write_bytes(b'{"text": "Caf\xe9 culture video for a new espresso"}')
    proc = run_cli("make", "--brief-file", str(path))
    assert proc.returncode == 2 and "not UTF-8" in proc.stderr


def test_unwritable_out_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("make", "A launch video for our trail shoe", "--out", str(blocker / "out"))
    assert proc.returncode == 2 and "not writable" in " ".join(proc.stderr.split())  # rich wraps lines
    assert not (blocker.parent / "out").exists()


@pytest.mark.parametrize("command", [
    ["make", "A launch video for our trail shoe", "--duration", "6"],
    ["analyze", "reelflow/assets/footage/videos/squirrel.mp4"],
    ["campaign", "run", "reelflow/assets/campaigns/example.yaml"],
    ["songs", "index", "--no-cluster"],
])
def test_unreachable_prefect_server_is_named_with_how_to_start_one(command, tmp_path):
    """PREFECT_API_URL pointing at nothing: exit 2 within seconds, naming the URL and `reelflow server`,
    before any work (no outputs, no Prefect retry storm)."""
    import os
    import socket
    import time

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "REELFLOW_PATHS__OUTPUTS_DIR": str(tmp_path / "outputs")}
    t0 = time.monotonic()
    proc = subprocess.run([str(EXE), *command], capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert f"127.0.0.1:{port}" in proc.stderr and "reelflow server" in proc.stderr and "PREFECT_API_URL" in proc.stderr
    assert time.monotonic() - t0 < 60
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--logo", "/nonexistent/logo.png"], "--logo"),
        (["--brand-color", "blurple"], "--brand-color"),
        (["--footage", "/nonexistent/footage"], "--footage"),
    ],
)
def test_bad_look_options_exit_2_before_any_work(tmp_path, extra, needle):
    out = tmp_path / "out"
    proc = run_cli("make", "A launch video for our trail shoe", "--out", str(out), *extra)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "hint" in proc.stderr
    assert not out.exists()


def test_unreadable_logo_exits_2(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"not an image")
    proc = run_cli("make", "A launch video for our trail shoe", "--logo", str(logo))
    assert proc.returncode == 2 and "not a readable image" in " ".join(proc.stderr.split())
