#!/usr/bin/env bash
# Create .venv and install ReelFlow (and, with --dev, the test tools). Idempotent.
# torch 2.13.0 (CPU build) goes first: a plain `torch` requirement would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] in ((3,11),(3,12)) else 1)' \
  || { echo "ReelFlow needs Python 3.11 or 3.12 (found $("$PY" --version 2>&1)); set PYTHON=python3.11" >&2; exit 2; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip --disable-pip-version-check -q"
$PIP install --upgrade pip >/dev/null
.venv/bin/python -c 'import torch' 2>/dev/null || $PIP install "torch==2.13.0"
EXTRA=""
[ "${1:-}" = "--dev" ] && EXTRA="[dev]"
$PIP install -e ".${EXTRA}"
echo "ReelFlow installed in .venv ($(.venv/bin/reelflow --version 2>/dev/null || echo ok))" >&2
