"""``deployments/prefect.yaml`` and the ``Dockerfile``: schema checks plus a real ``prefect deploy``."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
PREFECT_YAML = REPO / "reelflow" / "deployments" / "prefect.yaml"


def _config() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


def test_prefect_yaml_schema_and_entrypoints() -> None:
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.flows import Flow

    cfg = _config()
    assert cfg["name"] == "reelflow" and cfg["prefect-version"] == "3.8.8"
    pools = {d["work_pool"]["name"] for d in cfg["deployments"]}
    assert pools == {"reelflow-process", "reelflow-docker"}
    seen = set()
    for dep in cfg["deployments"]:
        assert {"name", "entrypoint", "work_pool", "description", "tags", "version"} <= set(dep), dep
        path, attr = dep["entrypoint"].split(":")
        assert (REPO / path).is_file(), path
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, attr), Flow), dep["entrypoint"]
        key = (getattr(module, attr).name, dep["name"])
        assert key not in seen, f"duplicate deployment {key}"
        seen.add(key)
        for sched in dep.get("schedules") or []:
            CronSchedule(cron=sched["cron"], timezone=sched.get("timezone"))
        if dep["work_pool"]["name"] == "reelflow-docker":
            assert dep["work_pool"]["job_variables"]["image"].startswith("reelflow:")
            assert dep["pull"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == "/opt/reelflow"
    params = [d.get("parameters", {}).get("campaign_file") for d in cfg["deployments"]]
    for p in filter(None, params):
        assert (REPO / p).is_file(), p


def test_prefect_deploy_registers_process_deployment(prefect_server) -> None:
    api = prefect_server.api_url
    r = httpx.post(f"{api}/work_pools/", json={"name": "reelflow-process", "type": "process"}, timeout=30)
    assert r.status_code in (201, 409), r.text
    env = dict(prefect_server.env, REELFLOW_REPO=str(REPO), PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "prefect"), "--no-prompt", "deploy", "--prefect-file", str(PREFECT_YAML),
         "--name", "create_video/reelflow-process", "--name", "campaign/weekly-example-campaign"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    dep = httpx.get(f"{api}/deployments/name/create_video/reelflow-process", timeout=30).json()
    assert dep["work_pool_name"] == "reelflow-process"
    assert dep["entrypoint"] == "reelflow/flows/create_video.py:create_video"
    assert dep["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == str(REPO)
    assert "brief" in dep["parameter_openapi_schema"]["properties"]
    weekly = httpx.get(f"{api}/deployments/name/campaign/weekly-example-campaign", timeout=30).json()
    assert weekly["schedules"][0]["schedule"]["cron"] == "0 9 * * MON"
    assert weekly["schedules"][0]["schedule"]["timezone"] == "Europe/Berlin"
    assert weekly["parameters"] == {"campaign_file": "reelflow/assets/campaigns/example.yaml"}


def test_dockerfile_installs_like_setup_script() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh" in text
    setup = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "torch==2.13.0" in setup and "install -e" in setup
    for src in re.findall(r"^COPY\s+(\S+(?:\s+\S+)*?)\s+\S+$", text, flags=re.M):
        for part in src.split():
            assert (REPO / part).exists(), f"Dockerfile copies missing {part}"
