#!/usr/bin/env bash
# Kafka interop, black box, on librdkafka's mock cluster (sluice kafka-mock, 3 brokers):
#   - sluice serve --bus kafka: every 200 answer's events are in the topic exactly once,
#     read back by kcat (a client nobody here wrote), keyed by event_id, spread over
#     the partitions; a multi-event POST is one message per event
#   - sluice tail --bus kafka reads the same; sluice produce --bus kafka -> kcat
#   - kcat -P (events without event_id / received_at) -> sluice tail
#   - --kafka-key user_id: a user's events share a partition
#   - usage errors for bad --bus / --kafka-opt, and for --kafka-opt / --kafka-key on the
#     embedded log; kafka-mock's control channel
#   - a warning at start for --kafka-opt acks=1 / enable.idempotence=false (not silent),
#     none with the defaults
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/kafka_lib.inc"
command -v kcat >/dev/null || fail "kcat is not installed (Debian package kcat)"

# usage errors: exit 2 with the expected form in the message
rc=0; "$SLUICE" serve --app apps/game.yaml --bus kafka://nohost 2>"$T/err" || rc=$?
expect_eq "bad --bus exit" "$rc" 2
grep -q "kafka://HOST:PORT" "$T/err" || fail "bad --bus message: $(cat "$T/err")"
rc=0; "$SLUICE" tail --bus kafka://h:1/t --kafka-opt novalue 2>"$T/err" || rc=$?
expect_eq "bad --kafka-opt exit" "$rc" 2
# Kafka options with the embedded log would be ignored: refused
for args in "tail --topic t --kafka-opt acks=all" "produce --topic t --kafka-opt linger.ms=5" \
            "produce --topic t --kafka-key user_id" "tail --kafka-opt a=b --bus log --topic t" \
            "serve --app apps/game.yaml --kafka-opt acks=all" \
            "up --app apps/game.yaml --kafka-key user_id"; do
  rc=0; $SLUICE $args --data-dir "$T/nolog" </dev/null 2>"$T/err" || rc=$?
  expect_eq "$args: exit" "$rc" 2
  grep -q "only for --bus kafka://HOST:PORT/TOPIC (the bus is the embedded log)" "$T/err" ||
    fail "$args: message: $(cat "$T/err")"
done
[ -e "$T/nolog" ] && fail "a refused command created its data dir"
"$SLUICE" tail --help | grep -q "required with the embedded log, with --bus" ||
  fail "tail --help: --topic is required only on the embedded log"
rc=0; "$SLUICE" kafka-mock --brokers 0 2>/dev/null || rc=$?
expect_eq "bad --brokers exit" "$rc" 2
"$SLUICE" kafka-mock --help | grep -q "Fault injection" || fail "kafka-mock --help"

kafka_mock_start --brokers 3 --partitions 4
mock_cmd "rtt 1 0"
echo "bogus" >&3; _mock_answers=$((_mock_answers + 1))
wait_until 10 grep -q "^error: unknown command 'bogus'" "$T/mock.out" || fail "bad control command not refused"

# a bad librdkafka property is refused at start, with librdkafka's message
rc=0; "$SLUICE" serve --app apps/game.yaml --bus "kafka://$BOOT/events" \
  --kafka-opt no.such.property=1 --listen "127.0.0.1:$(free_port)" 2>"$T/err" || rc=$?
expect_eq "unknown kafka property exit" "$rc" 1
grep -q "no.such.property" "$T/err" || fail "kafka property message: $(cat "$T/err")"

PORT=$(free_port)
serve_kafka "$PORT"
grep -q "bus kafka://$BOOT/events" "$T/serve.out" || fail "banner: $(cat "$T/serve.out")"
URL=http://127.0.0.1:$PORT
ok=0
for i in $(seq 1 20); do
  expect_eq "route answer" "$(curl -s "$URL/purchase_a_sword?i=$i")" "Sword Purchased!"
  ok=$((ok + 1))
done
body='[{"event_type":"batch","n":1},{"event_type":"batch","n":2},{"event_type":"batch","n":3}]'
for i in $(seq 1 10); do
  expect_eq "POST /events" "$(curl -s -XPOST -H 'Content-Type: application/json' -d "$body" "$URL/events")" '{"stored":3}'
done
want=$((ok + 30))

kcat -C -b "$BOOT" -t events -e -q -f '%p %k %s\n' >"$T/k.txt" 2>"$T/kcat.err" || fail "kcat -C: $(cat "$T/kcat.err")"
expect_eq "messages read by kcat" "$(wc -l <"$T/k.txt")" "$want"
expect_eq "purchase_sword events" "$(grep -c '"event_type":"purchase_sword"' "$T/k.txt")" 20
expect_eq "batch events" "$(grep -c '"event_type":"batch"' "$T/k.txt")" 30
# the key is the event_id, each event_id once
python3 - "$T/k.txt" <<'PY' || fail "keys / event ids"
import json, sys
ids, parts = [], set()
for line in open(sys.argv[1]):
    p, k, s = line.rstrip("\n").split(" ", 2)
    ev = json.loads(s)
    assert ev["event_id"] == k, (k, ev["event_id"])
    assert ev["received_at"].endswith("Z")
    ids.append(k); parts.add(p)
assert len(ids) == len(set(ids)), "duplicate event_id"
assert len(parts) >= 2, f"all messages in partitions {parts}"
PY

# sluice tail --bus kafka sees the same records
"$SLUICE" tail --bus "kafka://$BOOT/events" --exit >"$T/tail.txt" 2>"$T/err" || fail "tail: $(cat "$T/err")"
expect_eq "tail count" "$(wc -l <"$T/tail.txt")" "$want"
grep -q "Reached end of topic events" "$T/err" || fail "tail --exit message: $(cat "$T/err")"
expect_eq "tail --count" "$("$SLUICE" tail --bus "kafka://$BOOT/events" --count 5 2>/dev/null | wc -l)" 5

# sluice produce --bus kafka -> kcat, on another topic (--topic overrides the URL's)
mock_cmd "topic other 2 3"
seq 1 200 | sed 's/.*/{"event_type":"p","n":&}/' |
  "$SLUICE" produce --bus "kafka://$BOOT/events" --topic other 2>"$T/err" || fail "produce: $(cat "$T/err")"
grep -q "^produced 200 records to kafka://.*/other, 0 failed$" "$T/err" || fail "produce summary: $(cat "$T/err")"
grep -q "warning" "$T/err" && fail "a warning with the default settings: $(cat "$T/err")"
# weaker settings work, but not silently
echo '{"event_type":"p","n":0}' | "$SLUICE" produce --bus "kafka://$BOOT/other" \
  --kafka-opt enable.idempotence=false --kafka-opt acks=1 2>"$T/err" || fail "produce acks=1: $(cat "$T/err")"
grep -q "^sluice: warning: kafka acks=1: an event is reported stored (2xx) once the partition leader has it" "$T/err" ||
  fail "no warning for acks=1: $(cat "$T/err")"
grep -q "^sluice: warning: kafka enable.idempotence=false" "$T/err" || fail "no warning for idempotence: $(cat "$T/err")"
kcat_all other >"$T/other.txt" || fail "kcat other"
expect_eq "kcat reads what sluice produced" "$(wc -l <"$T/other.txt")" 201
expect_eq "distinct n" "$(grep -o '"n":[0-9]*' "$T/other.txt" | sort -u | wc -l)" 201

# kcat -P: foreign events without event_id / received_at -> sluice tail reads them as sent
mock_cmd "topic foreign 3 3"
seq 1 50 | sed 's/.*/{"event_type":"from_kcat","n":&}/' | kcat -P -b "$BOOT" -t foreign 2>"$T/err" || fail "kcat -P"
"$SLUICE" tail --bus "kafka://$BOOT/foreign" --exit >"$T/f.txt" 2>/dev/null || fail "tail foreign"
expect_eq "foreign count" "$(wc -l <"$T/f.txt")" 50
expect_eq "foreign sum" "$(grep -o '"n":[0-9]*' "$T/f.txt" | cut -d: -f2 | paste -sd+ | bc)" 1275

# --kafka-key user_id: the same user always lands on the same partition
kill "$SERVE_PID"; wait "$SERVE_PID" || fail "serve exit status"
mock_cmd "topic keyed 4 3"
PORT=$(free_port)
bg "$SLUICE" serve --app apps/game.yaml --listen "127.0.0.1:$PORT" --threads 1 \
  --bus "kafka://$BOOT/keyed" --kafka-key user_id >"$T/serve2.out" 2>"$T/serve2.err"
wait_until 30 http_ok "http://127.0.0.1:$PORT/healthz" || fail "serve 2: $(cat "$T/serve2.err")"
for u in a b c d e f; do
  for i in 1 2 3; do
    curl -s -XPOST -d "{\"event_type\":\"k\",\"user_id\":\"$u\"}" "http://127.0.0.1:$PORT/events" >/dev/null
  done
done
kcat -C -b "$BOOT" -t keyed -e -q -f '%p %k\n' >"$T/keyed.txt" 2>/dev/null || fail "kcat keyed"
expect_eq "keyed count" "$(wc -l <"$T/keyed.txt")" 18
expect_eq "one partition per user" "$(sort -u "$T/keyed.txt" | wc -l)" 6
echo "  $want events through serve, 200 produced, 50 from kcat"
