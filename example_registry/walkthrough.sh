#!/usr/bin/env bash
# The seed tutorial (MLflow Model Registry) end to end on gitreg, with no server:
# train and register two versions, register two other ways, promote, load by
# URI and predict, then serve version 1 over HTTP and score the tutorial's request.
set -euo pipefail
cd "$(dirname "$0")"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf registry gitreg-runs
step "gitreg init registry"
gitreg init registry
export GITREG_REGISTRY="$PWD/registry"

step "python train.py   (version 1)"
python train.py
step "python train.py   (version 2)"
python train.py

step "python register_other_ways.py"
python register_other_ways.py

step "gitreg versions LogisticRegression"
gitreg versions LogisticRegression
step "gitreg promote LogisticRegression 2 Production; gitreg promote LogisticRegression 1 Staging"
gitreg promote LogisticRegression 2 Production
gitreg promote LogisticRegression 1 Staging
gitreg models

step "python load_registered_model.py"
python load_registered_model.py

if gitreg serve --help >/dev/null 2>&1; then
    port=${PORT:-5001}
    step "gitreg serve -m \"models:/LogisticRegression/1\" --port $port"
    gitreg serve -m "models:/LogisticRegression/1" --port "$port" > serve.log 2>&1 &
    server=$!
    trap 'kill $server 2>/dev/null || true' EXIT
    for _ in $(seq 100); do
        python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/ping', timeout=1)" 2>/dev/null && break
        sleep 0.1
    done
    grep -m1 "^Serving" serve.log || head -n 5 serve.log
    step "curl -d '{\"columns\":[\"x\"], \"data\":[[1], [-1]]}' -H 'Content-Type: application/json; format=pandas-split' -X POST localhost:$port/invocations"
    if command -v curl >/dev/null; then
        curl -s -d '{"columns":["x"], "data":[[1], [-1]]}' -H 'Content-Type: application/json; format=pandas-split' -X POST "localhost:$port/invocations"
    else
        python -c "import urllib.request as u; r=u.Request('http://127.0.0.1:$port/invocations', data=b'{\"columns\":[\"x\"], \"data\":[[1], [-1]]}', headers={'Content-Type': 'application/json; format=pandas-split'}); print(u.urlopen(r).read().decode(), end='')"
    fi
    echo
    kill "$server"; wait "$server" 2>/dev/null || true
    trap - EXIT
fi

step "git log --oneline --all --decorate   (the registry is a plain git repository)"
git -C registry log --oneline --all --decorate | head -20
printf '\nDone: the registry is in %s\n' "$GITREG_REGISTRY"
