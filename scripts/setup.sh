#!/usr/bin/env bash
# Create .venv (once) and install gitreg into it; with "dev", the test tools too.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extra=${1:-}
stamp=".venv/.installed${extra:+-$extra}"
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing gitreg${extra:+ with [$extra]} into .venv (this takes a minute the first time)"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".${extra:+[$extra]}"
    touch "$stamp"
fi
