# ReelFlow worker image: installs exactly like scripts/setup.sh (venv at .venv, torch 2.13.0 CPU
# build first, then `pip install -e .`). Used by the `reelflow-docker` work pool
# (reelflow/deployments/prefect.yaml). Build: docker build -t reelflow:0.1.0 .
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    PREFECT_SERVER_ANALYTICS_ENABLED=false

# libgl1/libglib2.0-0: opencv-python (via scenedetect); fonts are bundled in reelflow/assets/fonts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/reelflow
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY reelflow ./reelflow

# Same steps as scripts/setup.sh: venv, torch first (CPU build), then the project.
RUN bash scripts/setup.sh \
 && .venv/bin/python -c "import reelflow.core.settings, reelflow.flows.create_video" \
 && rm -rf /root/.cache/pip

ENV PATH="/opt/reelflow/.venv/bin:${PATH}" \
    VIRTUAL_ENV=/opt/reelflow/.venv

# Default: a process-pool worker inside the container. The docker pool's worker (on the host)
# starts flow-run containers from this image with its own command.
CMD ["prefect", "worker", "start", "--pool", "reelflow-process"]
