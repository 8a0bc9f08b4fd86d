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
    # pip's and setuptools' chatter goes to a log, shown only when the install fails
    if ! { .venv/bin/python -m pip install -q --upgrade pip &&
           .venv/bin/python -m pip install -q -e ".${extra:+[$extra]}"; } > .venv/install.log 2>&1; then
        cat .venv/install.log
        echo "Installing into .venv failed; the log above says why." >&2
        exit 1
    fi
    touch "$stamp"
fi
