#!/usr/bin/env bash
# One command: set up .venv and run the seed walkthrough end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PATH="$PWD/.venv/bin:$PATH" example_registry/walkthrough.sh
