#!/usr/bin/env bash
# Build the book: install, execute every figure notebook (default: the paper's parameters), then a strict
# jupyter-book build into _build/html/.  Usage: bash scripts/build.sh [--profile paper|quick] [-j N] [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
invlearn run --all "$@"
invlearn scorecard
rm -rf _build book/library/api  # API pages are generated afresh from the docstrings
jupyter-book build . -W -n --keep-going
echo "book: $PWD/_build/html/index.html"
