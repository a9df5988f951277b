#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS FUZZER... — runs each libFuzzer target for SECONDS on its seed
# corpus (tests/fuzz/corpus/<name>/, read-only; new inputs go to a scratch folder), with
# tests/fuzz/<name>.dict and the flags of tests/fuzz/<name>.options when they exist.
set -euo pipefail
secs=$1; shift
for f in "$@"; do
  name=$(basename "$f")
  seeds=tests/fuzz/corpus/$name
  work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz-$name-XXXXXX")
  mkdir -p tests/fuzz/artifacts
  args=(-max_total_time="$secs" -print_final_stats=1 -artifact_prefix=tests/fuzz/artifacts/"$name"-)
  [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
  # tests/fuzz/<name>.options: extra libFuzzer flags, one a line, '#' comments
  [ -f "tests/fuzz/$name.options" ] && args+=($(grep -v '^#' "tests/fuzz/$name.options"))
  echo "fuzz: $name for ${secs}s"
  ASAN_OPTIONS=detect_leaks=1 "$f" "${args[@]}" "$work" $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -n 12
  rm -rf "$work"
done
