#!/usr/bin/env bash
# Create .venv from requirements.txt and install the invlearn library in editable mode.
# Idempotent: reinstalls only when requirements.txt or lib/pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.invlearn-installed
digest=$(cat requirements.txt lib/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "setup: installing requirements.txt and lib/ into .venv (log: .venv/install.log)"
  if ! .venv/bin/python -m pip install -r requirements.txt -e ./lib > .venv/install.log 2>&1; then
    tail -n 30 .venv/install.log >&2
    echo "setup: pip install failed" >&2
    exit 1
  fi
  echo "$digest" > "$stamp"
fi
# JupyterLab in .venv opens the jupytext scripts notebooks/*.py as notebooks on a double click (jupytext.toml pairs
# each with runs/jupyter/<name>.ipynb, which keeps the outputs of a Jupyter session out of notebooks/).
settings=.venv/share/jupyter/lab/settings
mkdir -p "$settings"
cat > "$settings/overrides.json" <<'JSON'
{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}
JSON
# Kernels talk to their clients over loopback.
if command -v ip >/dev/null 2>&1 && ! ip link show lo 2>/dev/null | grep -q UP; then
  ip link set lo up 2>/dev/null || true
fi
