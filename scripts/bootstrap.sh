#!/usr/bin/env bash
# One entry point for a fresh machine: installs everything, then runs one job.
#
#   bash scripts/bootstrap.sh demo [DIR]   install halfcost and run `halfcost demo`
#   bash scripts/bootstrap.sh test [ARGS]  install halfcost + test tools, start services, run pytest
#   bash scripts/bootstrap.sh bench        install the benchmark anchors (FLAML) and run bench/
#
# It creates .venv/ in the repository (re-used on later runs) and never needs
# anything installed by hand. Every install is held to constraints.txt, the versions CI
# tested (regenerate it with `bash scripts/lock.sh` after changing pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
export DO_NOT_TRACK=1 GX_ANALYTICS_ENABLED=false DVC_NO_ANALYTICS=1 \
       STREAMLIT_BROWSER_GATHER_USAGE_STATS=false PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\n== %s\n' "$*" >&2; }

python_env() {
    # $1: the extras to install beside halfcost ("" for none)
    local extras=$1 spec=.
    [ -n "$extras" ] && spec=".[$extras]"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    log "installing halfcost${extras:+[$extras]} (editable) at the versions in constraints.txt"
    "$VENV/bin/pip" install --quiet -c constraints.txt -e "$spec"
}

lint() {
    log "ruff check and ruff format --check"
    "$VENV/bin/ruff" check --quiet .
    "$VENV/bin/ruff" format --check --quiet .
}

need_root() {
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "bootstrap: $* needs root (or sudo); install it by hand and rerun." >&2
        exit 2
    fi
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

system_packages() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    command -v git >/dev/null || missing+=(git)
    if [ ${#missing[@]} -gt 0 ]; then
        need_root "installing ${missing[*]}"
        log "installing system packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

postgres_up() {
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        log "starting PostgreSQL"
        need_root "starting PostgreSQL"
        as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
    fi
    pg_isready -h 127.0.0.1 -p 5432
}

git_identity() {
    # DVC pipelines and the demo make git commits in temporary repositories.
    git config --global user.email >/dev/null 2>&1 || git config --global user.email "halfcost@localhost"
    git config --global user.name >/dev/null 2>&1 || git config --global user.name "halfcost"
}

cmd=${1:-}
shift || true
case "$cmd" in
    demo)
        python_env ""
        git_identity
        "$VENV/bin/halfcost" demo "$@"
        ;;
    test)
        system_packages
        postgres_up
        git_identity
        python_env test
        lint
        set +e
        # one worker per core (two on the CI machine); a file stays on one worker, so a
        # module's fixtures are built once
        "$VENV/bin/python" -m pytest -n "${HALFCOST_TEST_WORKERS:-auto}" --dist loadfile "$@"
        status=$?
        set -e
        if [ "$status" -eq 5 ]; then
            echo "bootstrap: pytest collected no tests; that is a failure." >&2
            exit 1
        fi
        exit "$status"
        ;;
    bench)
        python_env "test,bench"
        for script in bench/search.py bench/clean.py bench/drift.py bench/app.py; do
            "$VENV/bin/python" "$script"   # set -e: a failing benchmark fails the command
        done
        ;;
    *)
        echo "usage: bash scripts/bootstrap.sh demo [DIR] | test [PYTEST ARGS] | bench" >&2
        exit 2
        ;;
esac
