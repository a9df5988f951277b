#!/usr/bin/env bash
# sluice stream through its command line: usage errors, --once on the game app, the
# continuous mode (trigger, new events picked up without polling, SIGTERM = clean exit),
# reruns without duplicates, and the rejected table — checked with `sluice sql`.
source "$(dirname "$0")/../lib.sh"
D=$T/data

# Usage.
"$SLUICE" stream --help | grep -q -- '--once' || fail "--help lacks --once"
set +e
"$SLUICE" stream --bogus 2>"$T/err"; rc=$?
expect_eq "unknown flag exit" "$rc" 2
"$SLUICE" stream --data-dir "$D" 2>"$T/err"; rc=$?
expect_eq "missing --app exit" "$rc" 2
grep -q -- "--app FILE is required" "$T/err" || fail "no message for missing --app"
"$SLUICE" stream --app apps/game.yaml --trigger soon 2>"$T/err"; rc=$?
expect_eq "bad --trigger exit" "$rc" 2
"$SLUICE" stream --app apps/game.yaml --compression lz77 2>"$T/err"; rc=$?
expect_eq "bad --compression exit" "$rc" 2
"$SLUICE" stream --app apps/game.yaml --job ../x 2>"$T/err"; rc=$?
expect_eq "bad --job exit" "$rc" 2
"$SLUICE" stream --app "$T/nope.yaml" --data-dir "$D" --once 2>"$T/err"; rc=$?
[ "$rc" -ne 0 ] || fail "missing spec file accepted"
set -e

# A backlog of game events (two schemas and more on one topic), one of them unfit.
gen() { # first count
  local i
  for ((i = $1; i < $1 + $2; i++)); do
    case $((i % 4)) in
      0) echo "{\"event_type\":\"purchase_sword\",\"event_id\":\"e$i\",\"received_at\":\"2026-11-21T10:00:00.000Z\",\"Host\":\"knight1.comcast.com\",\"User-Agent\":\"ApacheBench/2.3\",\"Accept\":\"*/*\",\"description\":\"large sword\",\"strength\":$((i % 11))}" ;;
      1) echo "{\"event_type\":\"join_guild\",\"event_id\":\"e$i\",\"received_at\":\"2026-11-21T10:00:00.000Z\",\"description\":\"very fun guild\",\"guild_name\":\"round_table\"}" ;;
      2) echo "{\"event_type\":\"declare_war\",\"event_id\":\"e$i\",\"received_at\":\"2026-11-22T00:00:00.000Z\",\"description\":\"epic war\"}" ;;
      3) echo "{\"event_type\":\"default\",\"event_id\":\"e$i\",\"received_at\":\"2026-11-22T00:00:00.000Z\"}" ;;
    esac
  done
}
gen 0 400 > "$T/a.ndjson"
echo '{"event_type":"purchase_axe","event_id":"bad1","received_at":"2026-11-21T10:00:00.000Z","strength":"abc"}' >> "$T/a.ndjson"
"$SLUICE" produce --topic events --data-dir "$D" < "$T/a.ndjson" 2>/dev/null

"$SLUICE" stream --app apps/game.yaml --data-dir "$D" --once --max-batch 150 2>"$T/once.err" ||
  { cat "$T/once.err"; fail "stream --once failed"; }
grep -q "stream: batch 0-149: 150 events in;" "$T/once.err" || { cat "$T/once.err"; fail "no batch log line"; }
grep -q "rejected 1;" "$T/once.err" || fail "batch line lacks the rejected count"
[ -f "$D/warehouse/purchases/dt=2026-11-21/part-0-0-149.parquet" ] || fail "no part-0-0-149 file"
[ -f "$D/warehouse/events/dt=2026-11-22/part-0-300-400.parquet" ] || fail "no part-0-300-400 file"
ls -a "$D"/warehouse/*/dt=*/ | grep -q '^\.tmp-' && fail "temporary file left"
grep -q '^next 401$' "$D/stream/stream.checkpoint" || fail "checkpoint not at 401"

q() { # the result rows of one query, as CSV without the header
  "$SLUICE" sql --data-dir "$D" --format csv -e "$1" >"$T/q.out" 2>"$T/q.err" ||
    { cat "$T/q.err" >&2; echo "sql failed: $1"; return 0; }
  tail -n +2 "$T/q.out"
}
expect_eq "events" "$(q 'SELECT count(*), count(DISTINCT event_id) FROM events')" "400,400"
expect_eq "purchases" "$(q 'SELECT count(*), sum(strength) FROM purchases')" "100,$(( $(seq 0 4 399 | awk '{s += $1 % 11} END {print s}') ))"
expect_eq "joins" "$(q 'SELECT count(*) FROM joins')" "100"
expect_eq "declarations" "$(q 'SELECT count(*), min(dt) FROM declarations')" "100,2026-11-22"
expect_eq "default_hits" "$(q 'SELECT count(*) FROM default_hits')" "100"
expect_eq "rejected" "$(q "SELECT \"offset\", reason FROM _rejected")" \
  '400,"table purchases: column strength (bigint): ""abc"" is not an integer"'
expect_eq "user_agent column" "$(q "SELECT DISTINCT user_agent FROM purchases")" "ApacheBench/2.3"

# A rerun finds nothing to do and writes nothing.
"$SLUICE" stream --app apps/game.yaml --data-dir "$D" --once 2>"$T/rerun.err"
grep -q "done: 0 events" "$T/rerun.err" || { cat "$T/rerun.err"; fail "rerun did work"; }
expect_eq "events after rerun" "$(q 'SELECT count(*) FROM events')" "400"

# Continuous mode: new events become a file within the trigger; SIGTERM exits 0.
bg "$SLUICE" stream --app apps/game.yaml --data-dir "$D" --trigger 200ms 2>"$T/cont.err"
pid=$BG_PID
gen 1000 40 | "$SLUICE" produce --topic events --data-dir "$D" 2>/dev/null
wait_until 20 test -f "$D/warehouse/events/dt=2026-11-21/part-0-401-440.parquet" ||
  { cat "$T/cont.err"; fail "continuous stream did not write 401-440"; }
wait_until 10 grep -q '^next 441$' "$D/stream/stream.checkpoint" || fail "checkpoint not at 441"
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
expect_eq "exit after SIGTERM" "$rc" 0
expect_eq "events after continuous" "$(q 'SELECT count(*), count(DISTINCT event_id) FROM events')" "440,440"
# The consumer-group offset follows the checkpoint.
grep -q 441 "$D/log/events/groups/stream.offset" || fail "group offset not committed"
echo ok
