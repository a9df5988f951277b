#!/usr/bin/env bash
# kill -9 of the real `sluice stream` process at random moments during a backlog, then a
# final run: every event_id of the log is in `events` exactly once, every routed table
# holds exactly its expected count, no temporary file is left.
# Sizes: SLUICE_CRASH_EVENTS (default 50000; the issue's full run: 200000) and
# SLUICE_CRASH_KILLS (default 8; the runs stop early when the backlog is done). (tests/unit/
# test_stream_crash.c does the same in-process with more kills.)
source "$(dirname "$0")/../lib.sh"
N=${SLUICE_CRASH_EVENTS:-50000}
K=${SLUICE_CRASH_KILLS:-8}
D=$T/data
python3 - "$N" > "$T/e.ndjson" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    k = i % 5
    if k in (0, 1):
        print('{"event_type":"purchase_%s","event_id":"id-%d","received_at":"2026-11-21T10:00:00.000Z","description":"x","strength":%d}' % ("sword" if k else "axe", i, i % 11))
    elif k == 2:
        print('{"event_type":"join_guild","event_id":"id-%d","received_at":"2026-11-21T10:00:00.000Z","guild_name":"ni"}' % i)
    elif k == 3:
        print('{"event_type":"declare_peace","event_id":"id-%d","received_at":"2026-11-21T23:59:59.999Z"}' % i)
    else:
        print('{"event_type":"default","event_id":"id-%d","received_at":"2026-11-22T00:00:00.000Z"}' % i)
PY
"$SLUICE" produce --topic events --data-dir "$D" < "$T/e.ndjson" 2>/dev/null
B=$(( N / 40 > 100 ? N / 40 : 100 ))
killed=0 runs=0
# Each run is killed while it works: after its checkpoint has moved 0, 1 or 2 times
# (polled), plus a random 0-40 ms — that delay is the kill moment itself, so kills land
# in every step of a batch (routing, encoding, offset log, renames, checkpoint).
ckpt() { cat "$D/stream/stream.checkpoint" 2>/dev/null || true; }
for ((k = 0; k < K; k++)); do
  "$SLUICE" stream --app apps/game.yaml --data-dir "$D" --once --quiet --max-batch "$B" 2>>"$T/runs.err" &
  pid=$! runs=$((runs + 1))
  moves=$(( RANDOM % 3 )) last=$(ckpt)
  deadline=$(( $(date +%s) + 60 ))
  while (( moves > 0 )) && kill -0 "$pid" 2>/dev/null && (( $(date +%s) < deadline )); do
    now=$(ckpt)
    if [ "$now" != "$last" ]; then moves=$((moves - 1)); last=$now; fi
  done
  sleep "$(printf '0.%03d' $(( RANDOM % 40 )))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  grep -q "^next $N\$" "$D/stream/stream.checkpoint" 2>/dev/null && break   # backlog done
done
echo "killed $killed of $runs runs; checkpoint before the final run: $(grep '^next' "$D/stream/stream.checkpoint" 2>/dev/null || echo none)"
(( killed * 2 > runs )) || fail "only $killed of $runs runs were killed while working"
"$SLUICE" stream --app apps/game.yaml --data-dir "$D" --once 2>"$T/final.err" ||
  { cat "$T/final.err"; fail "final run failed"; }
ls -a "$D"/warehouse/*/dt=*/ | grep -q '^\.tmp-' && fail "temporary file left"
q() { # the result rows of one query, as CSV without the header
  "$SLUICE" sql --data-dir "$D" --format csv -e "$1" >"$T/q.out" 2>"$T/q.err" ||
    { cat "$T/q.err" >&2; echo "sql failed: $1"; return 0; }
  tail -n +2 "$T/q.out"
}
expect_eq "events" "$(q 'SELECT count(*), count(DISTINCT event_id) FROM events')" "$N,$N"
expect_eq "purchases" "$(q 'SELECT count(*), count(DISTINCT event_id) FROM purchases')" \
  "$(( (N + 4) / 5 + (N + 3) / 5 )),$(( (N + 4) / 5 + (N + 3) / 5 ))"
expect_eq "joins" "$(q 'SELECT count(*) FROM joins')" "$(( (N + 2) / 5 ))"
expect_eq "declarations" "$(q 'SELECT count(*) FROM declarations')" "$(( (N + 1) / 5 ))"
expect_eq "default_hits" "$(q 'SELECT count(*) FROM default_hits')" "$(( N / 5 ))"
grep -q "^next $N\$" "$D/stream/stream.checkpoint" || fail "checkpoint is not at $N"
echo ok
