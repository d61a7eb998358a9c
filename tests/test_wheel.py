"""A plain (non-editable) wheel installs only ``reelflow`` and runs ``reelflow demo`` from it.

The wheel is built from this checkout, installed with ``--no-deps`` into a fresh venv that sees
the test venv's dependencies through a ``.pth`` line (the dependencies are not what is under test;
the package layout and its bundled assets are). The demo then runs with the working directory
outside the checkout, so nothing can be found through the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
                   check=True, capture_output=True, text=True, timeout=600)
    (whl,) = dist.glob("reelflow-*.whl")
    return whl


def test_wheel_exposes_only_the_reelflow_namespace_and_ships_assets(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"reelflow"}, top
    for needed in ("reelflow/assets/fonts/NotoSans-Bold.ttf", "reelflow/assets/briefs/examples.jsonl",
                   "reelflow/assets/catalogue/spotify_songs.csv", "reelflow/assets/music/music.json",
                   "reelflow/deployments/prefect.yaml"):
        assert needed in names, needed


@pytest.mark.slow
def test_installed_wheel_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # dependencies from the test venv (appended after the new venv's own site-packages)
    Path(site, "_reelflow_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=600)
    where = subprocess.run([str(py), "-c", "import reelflow.core.settings as s; print(s.ASSETS_DIR)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert where.startswith(site), f"reelflow imported from {where}, not from the installed wheel"

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "REELFLOW_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"),
               REELFLOW_PATHS__CACHE_DIR=str(REPO / ".reelflow" / "test-cache"))  # reuse the built song index
    out = work / "out"
    proc = subprocess.run([str(env_dir / "bin" / "reelflow"), "demo", "--duration", "8", "--out", str(out)],
                          cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    meta = json.loads((out / "metadata.json").read_text())
    assert (out / "video.mp4").stat().st_size > 10_000
    assert abs(meta["duration_s"] - 8) < 0.5
    assert not Path(site, "reelflow", ".reelflow").exists() and not Path(site, ".reelflow").exists()
