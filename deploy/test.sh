#!/usr/bin/env bash
# `make test`: unit tests, then end-to-end tests against a throwaway stack
# (its own PostgreSQL cluster and nginx on free ports), removed afterwards
# whether the tests pass or not.
#
#   test.sh BUILD_DIR [pytest args...]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
cd "$ROOT"

sanitize=()
[[ ${SANITIZE:-0} == 1 ]] && sanitize=(--sanitize)

# fontconfig's process-long allocations are not leaks of ours (lsan.supp)
export LSAN_OPTIONS="suppressions=$ROOT/deploy/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

echo "== unit tests"
failed=0
for t in "$build"/unit/test_*; do
    "$t" || failed=1
done
[[ $failed -eq 0 ]] || { echo "unit tests failed" >&2; exit 1; }

state=$(mktemp -d /var/tmp/msp-test.XXXXXX)
cleanup() {
    local rc=$?
    if [[ $rc -ne 0 && -f $state/nginx/error.log ]]; then
        echo "== last lines of the nginx error log" >&2
        tail -30 "$state/nginx/error.log" >&2 || true
    fi
    "$ROOT/deploy/stack.sh" down "$state" || true
    rm -rf "$state"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One nginx worker: the end-to-end tests show that a request waiting in
# PostgreSQL does not hold up the others on the same worker.
export MSP_WORKERS=1

# The SLA sweep every second: the tests see warnings and breaches soon
# after they are due.  No settling of report headlines: the tests that
# need it settle their own tenants (test_report_settle.py).  No pack
# schedule: test_packs.py runs its own on two more nginx instances.
echo "== starting a throwaway stack in $state"
"$ROOT/deploy/stack.sh" up "$state" --http-port "$(free_port)" --pg-port "$(free_port)" \
    --build "$build" --sweep-interval 1s --settle-interval 0 --pack-interval 0 "${sanitize[@]}"

echo "== end-to-end tests"
set -a
# shellcheck source=/dev/null
. "$state/env"
set +a
# Debian's python3 has pytest, requests and psycopg; a python3 earlier on
# PATH (pyenv, a virtualenv) may not.
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@"

# A sanitizer report from an nginx worker fails the run even if every
# request happened to get its answer.
if compgen -G "$state/nginx/sanitizer/report.*" >/dev/null; then
    echo "== sanitizer reports from nginx" >&2
    cat "$state"/nginx/sanitizer/report.* >&2
    exit 1
fi
