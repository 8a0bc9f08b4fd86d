#!/usr/bin/env bash
# One command: set up .venv with the dev tools, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
export PATH="$PWD/.venv/bin:$PATH"
echo "== lint (the pre-commit hooks)"
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
    pre-commit run --all-files --show-diff-on-failure
else
    ruff format --check . && ruff check .
fi
echo "== tests"
pytest -q -p no:cacheprovider "$@"
