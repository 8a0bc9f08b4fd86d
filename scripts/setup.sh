#!/usr/bin/env bash
# Create .venv (once) and install gitreg into it with every extra ([all]: serving,
# the UI, scikit-learn, skops); with "dev", the test tools too ([all,dev]).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
case "${1:-}" in
    "") extras=all ;;
    dev) extras=all,dev ;;
    *) echo "usage: scripts/setup.sh [dev]" >&2; exit 2 ;;
esac
stamp=".venv/.installed-$extras"
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing gitreg with [$extras] into .venv (this takes a minute the first time)"
    # pip's and setuptools' chatter goes to a log, shown only when the install fails
    if ! { .venv/bin/python -m pip install -q --upgrade pip &&
           # a .venv made before the distribution was renamed holds it as "gitreg": drop that copy
           { ! .venv/bin/python -m pip show -q gitreg >/dev/null 2>&1 ||
             .venv/bin/python -m pip uninstall -y -q gitreg; } &&
           .venv/bin/python -m pip install -q -e ".[$extras]"; } > .venv/install.log 2>&1; then
        cat .venv/install.log
        echo "Installing into .venv failed; the log above says why." >&2
        exit 1
    fi
    touch "$stamp"
fi
