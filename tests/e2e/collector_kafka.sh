#!/usr/bin/env bash
# The collector on Kafka (the mock cluster) when Kafka refuses part of a request:
#   - an event over message.max.bytes: 413 naming its index, and no event of the request
#     in the topic (it is checked before any is produced);
#   - the producer queue has no room for the whole request: 503 + Retry-After at once,
#     none of it in the topic; a request larger than the whole queue: 413;
#   - some messages delivered and others not (one partition's leader down past
#     message.timeout.ms): 503 whose body lists the indices stored and not stored, the
#     topic holds exactly the stored ones, and resending only the others completes the
#     request without a duplicate.
source tests/lib.sh
source tests/e2e/kafka_lib.inc
command -v kcat >/dev/null || fail "kcat is not installed"

post() { # PORT BODY -> "STATUS RETRY-AFTER BODY"
  local h b; h=$(mktemp "$T/h.XXXXXX"); b=$(mktemp "$T/b.XXXXXX")
  curl -s --max-time 30 -D "$h" -o "$b" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "$2" "http://127.0.0.1:$1/events"
  echo " $(grep -i '^retry-after:' "$h" | tr -d '\r' | awk '{print $2}') $(cat "$b")"
}
tags() { timeout 60 kcat -C -b "$BOOT" -t events -e -q -f '%s\n' 2>"$T/kcat.err" | python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["tag"] for l in sys.stdin)))'; }

kafka_mock_start --brokers 2 --partitions 2
mock_cmd "leader events 0 1"
mock_cmd "leader events 1 2"

# ---- an event too large for Kafka: the whole request refused, 413 with its index
PORT=$(free_port)
serve_kafka "$PORT" --kafka-opt message.max.bytes=2000
pad=$(head -c 3000 /dev/zero | tr '\0' x)
out=$(post "$PORT" "[{\"event_type\":\"small\",\"tag\":\"A1\"},{\"event_type\":\"big\",\"tag\":\"A2\",\"pad\":\"$pad\"}]")
[[ "$out" == '413  {"error":"event too large for kafka ('*'message.max.bytes=2000)","index":1}' ]] ||
  fail "event over message.max.bytes: $out"
out=$(post "$PORT" '[{"event_type":"small","tag":"A3"}]')
[[ "$out" == '200  {"stored":1}' ]] || fail "small event: $out"
expect_eq "topic after the 413" "$(tags)" "A3"
kill "$SERVE_PID"; wait "$SERVE_PID" || fail "serve exit status"

# ---- no room in the producer queue (5 messages): the second request is refused whole
PORT=$(free_port)
serve_kafka "$PORT" --kafka-opt queue.buffering.max.messages=5
out=$(post "$PORT" '[{"event_type":"q","tag":"B0"},{"event_type":"q","tag":"B0"},{"event_type":"q","tag":"B0"},{"event_type":"q","tag":"B0"},{"event_type":"q","tag":"B0"},{"event_type":"q","tag":"B0"}]')
[[ "$out" == '413  {"error":"6 events of '*'do not fit in the kafka producer queue'* ]] ||
  fail "more events than the queue holds: $out"
mock_cmd "down -1"
post "$PORT" '[{"event_type":"q","tag":"B1"},{"event_type":"q","tag":"B2"},{"event_type":"q","tag":"B3"}]' >"$T/first.out" &
FIRST=$!
pending() { curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^sluice_requests_pending 1$'; }
wait_until 10 pending || fail "the first request is not pending"
out=$(post "$PORT" '[{"event_type":"q","tag":"B4"},{"event_type":"q","tag":"B5"},{"event_type":"q","tag":"B6"}]')
[[ "$out" == '503 1 {"error":"kafka producer queue is full; retry","stored":[],"not_stored":[0,1,2]}' ]] ||
  fail "no room for the second request: $out"
mock_cmd "up -1"
wait "$FIRST"
[[ "$(cat "$T/first.out")" == '200  {"stored":3}' ]] || fail "first request: $(cat "$T/first.out")"
expect_eq "topic after the refusal" "$(tags)" "A3 B1 B2 B3"
kill "$SERVE_PID"; wait "$SERVE_PID" || fail "serve exit status"

# ---- partial delivery: partition 1's leader (broker 2) is down past message.timeout.ms.
# Keys pick the partitions: librdkafka's default partitioner is CRC-32 of the key modulo
# the partition count (checked below against where the messages really went).
PORT=$(free_port)
serve_kafka "$PORT" --kafka-key k --kafka-opt message.timeout.ms=2000 \
  --kafka-opt max.in.flight.requests.per.connection=1 \
  --kafka-opt reconnect.backoff.ms=50 --kafka-opt reconnect.backoff.max.ms=200
read -r K0 K1 < <(python3 -c '
import zlib
ks = ["key%d" % i for i in range(100)]
p = lambda k: zlib.crc32(k.encode()) % 2
print(next(k for k in ks if p(k) == 0), next(k for k in ks if p(k) == 1))')
mock_cmd "down 2"
out=$(post "$PORT" "[{\"event_type\":\"c\",\"tag\":\"C0\",\"k\":\"$K0\"},{\"event_type\":\"c\",\"tag\":\"C1\",\"k\":\"$K1\"},{\"event_type\":\"c\",\"tag\":\"C2\",\"k\":\"$K0\"}]")
[[ "$out" == '503 1 {"error":"kafka stored only some of the events; resend the ones in not_stored","stored":[0,2],"not_stored":[1]}' ]] ||
  fail "partial delivery: $out"
mock_cmd "up 2"   # (a consumer would wait for the partition whose leader is down)
expect_eq "topic after the partial delivery" "$(tags)" "A3 B1 B2 B3 C0 C2"
# resend what not_stored lists, as a client would, until it is stored (the producer
# reconnects to broker 2 first: a few hundred ms)
for try in 1 2 3 4 5; do
  out=$(post "$PORT" "[{\"event_type\":\"c\",\"tag\":\"C1\",\"k\":\"$K1\"}]")
  [[ "$out" == '503 1 '*'"stored":[],"not_stored":[0]}' ]] || break
done
[[ "$out" == '200  {"stored":1}' ]] || fail "resending the event not stored: $out"
expect_eq "topic after the resend: each once" "$(tags)" "A3 B1 B2 B3 C0 C1 C2"
timeout 60 kcat -C -b "$BOOT" -t events -e -q -f '%p %s\n' 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    part, ev = line.split(" ", 1)
    e = json.loads(ev)
    if e["tag"].startswith("C"):
        assert int(part) == {"C0": 0, "C1": 1, "C2": 0}[e["tag"]], (part, e)
' || fail "the keys did not land on the partitions the test expects"
kill "$SERVE_PID"; wait "$SERVE_PID" || fail "serve exit status"
echo ok
