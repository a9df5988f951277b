# tests/lib.sh — helpers for black-box tests (sourced by tests/e2e/*.sh).
#
# A test script runs the real binary ($SLUICE, the ASan build by default), talks to it as
# a client would, and exits 0 on success. It never sleeps to wait: wait_until polls a
# condition with a deadline. Servers bind 127.0.0.1 on a free port (free_port).
set -euo pipefail

: "${SLUICE:=build/asan/sluice}"
SLUICE=$(readlink -f "$SLUICE")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(readlink -f tests/lsan.supp):print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$TEST_NAME-XXXXXX")
_pids=()

cleanup() {
  local rc=$?
  for p in "${_pids[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${_pids[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "  (files kept in $T)" >&2; fi
}
trap cleanup EXIT

fail() { echo "  FAIL: $*" >&2; exit 1; }

# check "description" command...   — runs the command, fails the test if it fails.
check() { local what=$1; shift; "$@" || fail "$what"; }

# expect_eq "description" actual expected
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race is acceptable in tests).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_until SECONDS command... — polls the command every 20 ms until it succeeds.
wait_until() {
  local secs=$1; shift
  local deadline=$(( $(date +%s%N) + secs * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s%N)" -gt "$deadline" ]; then return 1; fi
    sleep 0.02
  done
}

# bg command... — starts a background process that is killed at exit; sets $BG_PID.
bg() { "$@" & BG_PID=$!; _pids+=("$BG_PID"); }

# http_ok URL — true when the URL answers 2xx.
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }
