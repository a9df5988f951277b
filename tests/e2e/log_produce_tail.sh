#!/usr/bin/env bash
# sluice produce / sluice tail against the real binary: counts, offsets, the bad-line
# message, the --exit message, follow mode (a record produced later shows up), usage
# errors, a second writer refused, and SLUICE_* environment variables.
source "$(dirname "$0")/../lib.sh"
D=$T/data

# produce: empty lines skipped, CRLF accepted, last line without newline kept
printf '{"n":1}\n\n{"n":2}\r\n{"n":3}' | "$SLUICE" produce --topic events --data-dir "$D" \
  2>"$T/err" || fail "produce failed: $(cat "$T/err")"
expect_eq "produce summary" "$(cat "$T/err")" "appended 3 records (offsets 0..2)"

"$SLUICE" tail --topic events --data-dir "$D" --exit >"$T/out" 2>"$T/err" || fail "tail --exit"
expect_eq "tail output" "$(cat "$T/out")" $'{"n":1}\n{"n":2}\n{"n":3}'
expect_eq "tail --exit message" "$(cat "$T/err")" "% Reached end of topic events at offset 3"

# a bad line: refused with its number, the good lines before it are kept, exit 1
rc=0
printf '{"n":4}\n{"n":5}\n\n[6]\n{"n":7}\n' | SLUICE_DATA_DIR="$D" SLUICE_FSYNC=always \
  "$SLUICE" produce --topic events 2>"$T/err" || rc=$?
expect_eq "bad line exit status" "$rc" 1
grep -q '^stdin:4: not a JSON object: got an array$' "$T/err" || fail "bad-line message: $(cat "$T/err")"
grep -q '^appended 2 records (offsets 3..4)$' "$T/err" || fail "partial summary: $(cat "$T/err")"
rc=0
printf '{"n":8\n' | "$SLUICE" produce --topic events --data-dir "$D" 2>"$T/err" || rc=$?
expect_eq "invalid JSON exit status" "$rc" 1
grep -q '^stdin:1: not a JSON object: ' "$T/err" || fail "invalid JSON message: $(cat "$T/err")"

"$SLUICE" tail --topic events --data-dir "$D" --from 3 --exit >"$T/out" 2>"$T/err"
expect_eq "tail --from 3" "$(cat "$T/out")" $'{"n":4}\n{"n":5}'
expect_eq "end offset" "$(cat "$T/err")" "% Reached end of topic events at offset 5"
expect_eq "tail --count" "$("$SLUICE" tail --topic events --data-dir "$D" --count 2 2>/dev/null)" \
  $'{"n":1}\n{"n":2}'
"$SLUICE" tail --topic events --data-dir "$D" --from end --exit >"$T/out" 2>"$T/err"
expect_eq "tail --from end prints nothing" "$(cat "$T/out")" ""

# a record longer than --max-record-bytes
rc=0
printf '{"long":"%0200d"}\n' 0 | "$SLUICE" produce --topic events --data-dir "$D" \
  --max-record-bytes 100 2>"$T/err" || rc=$?
expect_eq "too long exit status" "$rc" 1
grep -q '^stdin:1: line of 211 bytes is longer than the maximum record size of 100 bytes' "$T/err" \
  || fail "too-long message: $(cat "$T/err")"

# follow mode: a tail started first sees a record produced later (woken, not polling)
bg sh -c "exec '$SLUICE' tail --topic events --data-dir '$D' --from end >'$T/follow'"
TAIL_PID=$BG_PID
# wait until the tail has opened the topic (it holds the segment open)
wait_until 20 sh -c "ls -l /proc/$TAIL_PID/fd 2>/dev/null | grep -q 'events/0'" \
  || fail "tail did not start"
echo '{"later":true}' | "$SLUICE" produce --topic events --data-dir "$D" --fsync never 2>/dev/null
wait_until 20 grep -q '{"later":true}' "$T/follow" || fail "follow mode did not print the new record"
echo '{"later":2}' | "$SLUICE" produce --topic events --data-dir "$D" 2>/dev/null
wait_until 20 grep -q '{"later":2}' "$T/follow" || fail "follow mode did not print the second record"
expect_eq "follow output" "$(cat "$T/follow")" $'{"later":true}\n{"later":2}'

# usage errors exit 2; runtime errors exit 1
rc=0; "$SLUICE" tail --topic events --data-dir "$D" --bogus 2>/dev/null || rc=$?
expect_eq "unknown flag" "$rc" 2
rc=0; "$SLUICE" produce --data-dir "$D" </dev/null 2>/dev/null || rc=$?
expect_eq "missing --topic" "$rc" 2
rc=0; "$SLUICE" produce --topic events --fsync sometimes </dev/null 2>"$T/err" || rc=$?
expect_eq "bad --fsync" "$rc" 2
grep -q "sometimes" "$T/err" || fail "bad --fsync message: $(cat "$T/err")"
rc=0; "$SLUICE" tail --topic events --from yesterday 2>/dev/null || rc=$?
expect_eq "bad --from" "$rc" 2
rc=0; "$SLUICE" tail --topic nope --data-dir "$D" --exit 2>"$T/err" || rc=$?
expect_eq "unknown topic" "$rc" 1
grep -q "topic nope does not exist" "$T/err" || fail "unknown topic message: $(cat "$T/err")"
"$SLUICE" produce --help | grep -q -- "--fsync" || fail "produce --help"
"$SLUICE" tail --help | grep -q -- "--from" || fail "tail --help"

# one writer per topic: a second producer is refused while the first runs
mkfifo "$T/fifo"
bg sh -c "exec '$SLUICE' produce --topic events --data-dir '$D' <'$T/fifo' 2>/dev/null"
PROD_PID=$BG_PID
exec 4>"$T/fifo"
wait_until 20 sh -c "grep -q . '$D/log/events/.writer.lock' && ls -l /proc/$PROD_PID/fd | grep -q writer.lock" \
  || fail "first producer did not start"
rc=0
echo '{}' | "$SLUICE" produce --topic events --data-dir "$D" 2>"$T/err" || rc=$?
expect_eq "second writer exit status" "$rc" 1
grep -q "topic events is already open for writing by pid $PROD_PID" "$T/err" \
  || fail "second writer message: $(cat "$T/err")"
echo '{"from":"first"}' >&4
exec 4>&-
wait "$PROD_PID" || fail "first producer failed"
"$SLUICE" tail --topic events --data-dir "$D" --exit 2>/dev/null | tail -n 1 | grep -q '"first"' \
  || fail "first producer's record missing"
echo "ok"
