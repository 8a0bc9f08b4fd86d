#!/usr/bin/env bash
# One command: set up .venv and run the seed walkthrough end to end.
# Stops at the first command that fails (set -e). Serves on PORT (default 5001):
# `make demo PORT=5002` (or PORT=5002 scripts/demo.sh) when 5001 is taken.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT="${PORT:-5001}"

# Something already listening on PORT would make the serving step fail after
# everything else ran: say so now, with what to change.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "Port $PORT is already in use; run the demo on another one: make demo PORT=$((PORT + 1))" >&2
    exit 1
fi

# Measured on 2 CPUs: installing .venv about 4 minutes (network-bound), the walkthrough 25-40 seconds.
if [ -f .venv/.installed-all ]; then
    echo "Running the walkthrough (about half a minute)."
else
    echo "Setting up .venv (about 4 minutes the first time), then running the walkthrough (about half a minute)."
fi
scripts/setup.sh
trap 'echo "make demo stopped: the step above failed (exit $?)." >&2' ERR
PATH="$PWD/.venv/bin:$PATH" example_registry/walkthrough.sh
