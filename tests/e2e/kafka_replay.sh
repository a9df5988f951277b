#!/usr/bin/env bash
# The Kafka stream's replay of a recorded-but-uncommitted range (stream/<job>-p<P>.offsets
# ahead of the checkpoint), black box, on the mock cluster:
#   - slow broker: a replay of 0-9999 whose records come in many slow fetches waits until
#     the whole range has arrived (past --trigger), then writes exactly part-0-0-9999;
#   - SIGTERM in the middle of such a replay: exit 0, nothing written, the offset log and
#     the missing checkpoint unchanged; the next run replays 0-9999 whole;
#   - a partition whose end is below the recorded range: the "topic ends before" error,
#     only once its end is reached;
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/kafka_lib.inc"
APP=apps/game.yaml
count() { "$SLUICE" sql --data-dir "$1" --format csv -e "$2" 2>>"$T/sql.err" | tail -n 1; }
offsets_file() { # DIR JOB FIRST LAST: the offset log of topic rp's partition 0 as a crash
  mkdir -p "$1/stream"        # between the offset log and the checkpoint leaves it
  printf 'sluice-offsets 1\ntopic rp\npartition 0\nfirst %s\nlast %s\n' "$3" "$4" \
    >"$1/stream/$2-p0.offsets"
}

kafka_mock_start --brokers 3 --partitions 4

# ---- a replay on a slow broker
# 10000 events in 20 produce batches; one batch per fetch (max.partition.fetch.bytes is
# below a batch) and 300 ms per answer: the range takes seconds to arrive, far past the
# 200 ms trigger
mock_cmd "topic rp 1 1"
mock_cmd "leader rp 0 1"
python3 -c '
for i in range(10000): print("{\"event_type\":\"default\",\"event_id\":\"r-%d\"}" % i)' >"$T/rp.ndjson"
"$SLUICE_RELEASE" produce --bus "kafka://$BOOT/rp" --kafka-opt batch.num.messages=500 \
  <"$T/rp.ndjson" 2>"$T/p.err" || fail "produce: $(cat "$T/p.err")"
mock_cmd "rtt 1 300"
S=("$SLUICE" stream --app "$APP" --bus "kafka://$BOOT/rp" --trigger 200ms
   --kafka-opt max.partition.fetch.bytes=1024)
D=$T/slow
offsets_file "$D" rp 0 9999
bg "${S[@]}" --data-dir "$D" --job rp 2>"$T/slow.err"; SP=$BG_PID
wait_until 120 grep -q "^stream: batch p0 0-9999 (replay): 10000 events in" "$T/slow.err" ||
  fail "the replay was not written whole: $(cat "$T/slow.err")"
grep -q "replay 0-9999 has [0-9]* of its records so far; waiting for the rest" "$T/slow.err" ||
  fail "the replay did not wait past the trigger (not slow enough?): $(cat "$T/slow.err")"
kill -TERM "$SP"; wait "$SP" || fail "stream exit status: $(tail -3 "$T/slow.err")"
expect_eq "rows after the slow replay" "$(count "$D" 'select count(*) from events')" 10000
expect_eq "distinct event_id" "$(count "$D" 'select count(distinct event_id) from events')" 10000
expect_eq "files" "$(cd "$D/warehouse/events" && ls -- */)" "part-0-0-9999.parquet"
grep -q "^next 10000$" "$D/stream/rp-p0.checkpoint" || fail "checkpoint: $(cat "$D/stream/rp-p0.checkpoint")"

# ---- SIGTERM in the middle of a replay
D=$T/term
offsets_file "$D" rp2 0 9999
cp "$D/stream/rp2-p0.offsets" "$T/offsets.before"
bg "${S[@]}" --data-dir "$D" --job rp2 2>"$T/term.err"; SP=$BG_PID
wait_until 120 grep -q "waiting for the rest" "$T/term.err" ||
  fail "no partial replay to interrupt: $(cat "$T/term.err")"
kill -TERM "$SP"
rc=0; wait "$SP" || rc=$?
expect_eq "exit status after SIGTERM during a replay" "$rc" 0
grep -q "stopping with [0-9]* records of the replay 0-9999; it is replayed at the next start" \
  "$T/term.err" || fail "stop message: $(cat "$T/term.err")"
grep -q "^stream: batch" "$T/term.err" && fail "wrote a batch of an incomplete replay: $(cat "$T/term.err")"
cmp -s "$D/stream/rp2-p0.offsets" "$T/offsets.before" || fail "the offset log changed"
[ -e "$D/stream/rp2-p0.checkpoint" ] && fail "a checkpoint was written: $(cat "$D/stream/rp2-p0.checkpoint")"
[ -n "$(find "$D/warehouse" -name '*.parquet' 2>/dev/null)" ] && fail "files written: $(find "$D/warehouse" -name '*.parquet')"
mock_cmd "rtt 1 0"
"${S[@]}" --data-dir "$D" --job rp2 --once 2>"$T/term2.err" || fail "restart: $(cat "$T/term2.err")"
grep -q "replaying batch 0-9999 recorded before an interruption" "$T/term2.err" ||
  fail "restart did not replay: $(cat "$T/term2.err")"
grep -q "^stream: batch p0 0-9999 (replay): 10000 events in" "$T/term2.err" ||
  fail "restart did not write the range: $(cat "$T/term2.err")"
expect_eq "rows after the restart" "$(count "$D" 'select count(distinct event_id) from events')" 10000

# ---- the partition really ends before the recorded range: an error, at its end only
D=$T/short
offsets_file "$D" rp3 0 10099
rc=0; "${S[@]}" --data-dir "$D" --job rp3 2>"$T/short.err" || rc=$?
expect_eq "exit status of a replay past the end" "$rc" 1
grep -q "replay 0-10099 but the topic ends before 10099, at 10000 (was it deleted?)" "$T/short.err" ||
  fail "message: $(cat "$T/short.err")"
[ -n "$(find "$D/warehouse" -name '*.parquet' 2>/dev/null)" ] && fail "files written for a short range"

echo "  slow replay of 0-9999 written whole; SIGTERM mid-replay kept it for the next run;" \
  "a range past the end refused at the end"
