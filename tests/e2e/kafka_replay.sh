#!/usr/bin/env bash
# The Kafka stream's replay of a recorded-but-uncommitted range (stream/<job>-p<P>.offsets
# ahead of the checkpoint), black box, on the mock cluster:
#   - slow broker: a replay of 0-9999 whose records come in many slow fetches waits until
#     the whole range has arrived (past --trigger), then writes exactly part-0-0-9999;
#   - SIGTERM in the middle of such a replay: exit 0, nothing written, the offset log and
#     the missing checkpoint unchanged; the next run replays 0-9999 whole;
#   - a partition whose end is below the recorded range: the "topic ends before" error,
#     only once its end is reached;
#   - takeover: stream A is killed -9 in the middle of a batch (its checkpoint write is
#     held on a fifo, after the offset log and the renames), more events arrive, and
#     stream B of the same group takes A's partition: it replays exactly A's recorded
#     range ("replaying F-L", the same file name), counts exact, no duplicate event_id.
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
expect_eq "files" "$(find "$D/warehouse/events" -name '*.parquet' -printf '%f\n')" "part-0-0-9999.parquet"
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

# ---- takeover: A dies in the middle of a batch, B replays A's range
mock_cmd "topic tk 4 3"
D=$T/take
N1=2000 N2=1000
python3 - $((N1 + N2)) >"$T/tk.ndjson" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    k = i % 3
    t = "purchase_axe" if k == 0 else "join_guild" if k == 1 else "default"
    print('{"event_type":"%s","event_id":"t-%d","strength":%d}' % (t, i, i % 11))
PY
S=("$SLUICE" stream --app "$APP" --data-dir "$D" --bus "kafka://$BOOT/tk" --job tk
   --trigger 200ms --max-batch 400)
bg "${S[@]}" 2>"$T/a.err"; A=$BG_PID
bg "${S[@]}" 2>"$T/b.err"; B=$BG_PID
wait_until 60 group_settled 4 "$T/a.err" "$T/b.err" || fail "the group did not settle: A $(owned "$T/a.err"), B $(owned "$T/b.err")"
X=$(owned "$T/a.err" | cut -d' ' -f1)
# A's checkpoint write for partition X blocks (opening a fifo for writing waits for a
# reader): A stops after the offset log and the renames of its first batch of X
mkfifo "$D/stream/tk-p$X.checkpoint.tmp"
head -n "$N1" "$T/tk.ndjson" | "$SLUICE_RELEASE" produce --bus "kafka://$BOOT/tk" 2>"$T/p1.err" ||
  fail "produce: $(cat "$T/p1.err")"
wait_until 60 test -s "$D/stream/tk-p$X.offsets" || fail "A recorded no batch of p$X: $(cat "$T/a.err")"
F=$(awk '$1 == "first" {print $2}' "$D/stream/tk-p$X.offsets")
L=$(awk '$1 == "last" {print $2}' "$D/stream/tk-p$X.offsets")
published() { compgen -G "$D/warehouse/events/*/part-$X-$F-$L.parquet"; }
wait_until 60 published ||
  fail "A did not publish part-$X-$F-$L: $(cat "$T/a.err")"
[ -e "$D/stream/tk-p$X.checkpoint" ] && fail "A wrote the checkpoint of p$X despite the fifo"
kill -9 "$A"
wait "$A" 2>/dev/null || true
rm "$D/stream/tk-p$X.checkpoint.tmp"
# more events, so that a run that did not replay would cut a different batch
tail -n +"$((N1 + 1))" "$T/tk.ndjson" | "$SLUICE_RELEASE" produce --bus "kafka://$BOOT/tk" 2>"$T/p2.err" ||
  fail "produce 2: $(cat "$T/p2.err")"
wait_until 60 grep -q "^stream: partition $X: replaying batch $F-$L recorded before an interruption" "$T/b.err" ||
  fail "B did not replay A's range $F-$L of p$X: $(cat "$T/b.err")"
wait_until 60 grep -q "^stream: batch p$X $F-$L (replay): $((L - F + 1)) events in" "$T/b.err" ||
  fail "B did not write the range whole: $(cat "$T/b.err")"
total() { [ "$(count "$D" 'select count(*) from events')" = "$((N1 + N2))" ]; }
wait_until 60 total || fail "B did not catch up: $(count "$D" 'select count(*) from events') of $((N1 + N2))"
expect_eq "distinct event_id" "$(count "$D" 'select count(distinct event_id) from events')" $((N1 + N2))
expect_eq "purchases" "$(count "$D" 'select count(*) from purchases')" $(( (N1 + N2 + 2) / 3 ))
expect_eq "joins" "$(count "$D" 'select count(*) from joins')" $(( (N1 + N2 + 1) / 3 ))
# partition X's files: A's range once, then B's own batches right after it, no overlap
ranges=$(find "$D/warehouse/events" -name "part-$X-*.parquet" -printf '%f\n' | sed 's/^part-[0-9]*-//; s/\.parquet$//' | sort -t- -k1,1n)
expect_eq "first file of p$X" "$(echo "$ranges" | head -1)" "$F-$L"
prev=-1
for r in $ranges; do
  [ "${r%-*}" = $((prev + 1)) ] || fail "p$X files overlap or leave a gap: $(echo $ranges)"
  prev=${r#*-}
done
kill -TERM "$B"; wait "$B" || fail "B exit status: $(tail -3 "$T/b.err")"
echo "  slow replay of 0-9999 written whole; SIGTERM mid-replay kept it for the next run;" \
  "B replayed A's p$X $F-$L after kill -9"
