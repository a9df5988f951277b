#!/usr/bin/env bash
# Runs every test: unit binaries (build/asan/tests/test_*), black-box scripts
# (tests/e2e/*.sh) and a brief run of each fuzz target (tests/fuzz/run.sh).
# Usage: tests/run.sh [BUILD] [unit|e2e|fuzz|NAME-PATTERN]
# Prints one line per test and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
only=${2:-}
export SLUICE=$BUILD/asan/sluice
export SLUICE_RELEASE=$BUILD/sluice
export BUILD
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
logs=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test-logs-XXXXXX")
mkdir -p "$logs/unit" "$logs/e2e" "$logs/fuzz"
passed=0 failed=0 failed_names=()

run_one() { # name, timeout seconds, command...
  local name=$1 secs=$2; shift 2
  local start=$(date +%s%N) rc
  timeout --kill-after=10 "$secs" "$@" >"$logs/$name.log" 2>&1
  rc=$?
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); printf 'ok   %-40s %6d ms\n' "$name" "$ms"
  else
    failed=$((failed + 1)); failed_names+=("$name")
    [ $rc -eq 124 ] && echo "  (timed out after ${secs}s)" >> "$logs/$name.log"
    printf 'FAIL %-40s %6d ms (exit %d)\n' "$name" "$ms" "$rc"
    sed 's/^/    | /' "$logs/$name.log" | tail -n 60
  fi
}

want() { [ -z "$only" ] || [ "$only" = "$1" ] || [[ "$2" == *$only* ]]; }

for t in "$BUILD"/asan/tests/test_*; do
  [ -x "$t" ] || continue
  name=unit/$(basename "$t")
  want unit "$name" && run_one "$name" 300 "$t"
done
for t in tests/e2e/*.sh; do
  [ -f "$t" ] || continue
  name=e2e/$(basename "$t" .sh)
  want e2e "$name" && run_one "$name" 600 bash "$t"
done
for f in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=fuzz/$(basename "$f")
  want fuzz "$name" && run_one "$name" 120 bash tests/fuzz/run.sh "${FUZZ_SMOKE_SECONDS:-10}" "$f"
done

echo
[ $failed -gt 0 ] && printf 'failed: %s\n' "${failed_names[*]}"
echo "$passed passed, $failed failed"
rm -rf "$logs"
[ $failed -eq 0 ]
