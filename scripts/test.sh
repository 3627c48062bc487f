#!/usr/bin/env bash
# The test suite: unit tests of lib/, every notebook under the quick profile, the strict book build.
# Paper-fidelity tests are marked slow: run them with  bash scripts/test.sh -m slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
# Slow tests are excluded unless the arguments choose markers themselves (-m ...).
for arg in "$@"; do
  if [ "$arg" = "-m" ]; then exec python -m pytest "$@"; fi
done
exec python -m pytest -m "not slow" "$@"
