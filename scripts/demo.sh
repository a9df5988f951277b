#!/usr/bin/env bash
# make demo: the whole pipeline on the example game app, start to finish.
#   1. `sluice up` on free loopback ports with a fresh data dir;
#   2. the seeds' game workload (their `ab` commands) with `sluice bench`, which waits
#      until every stored event is queryable in its table (--verify);
#   3. the seeds' queries, with their answers; then a clean stop.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE=${1:-build/sluice}
DATA=${DEMO_DATA_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo-XXXXXX")}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
ADMIN=$(free_port)
up_pid=
stop() { [ -n "$up_pid" ] && kill "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null; return 0; }
trap stop EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
started=$(date +%s%N)

step "sluice up --app apps/game.yaml --listen 127.0.0.1:$PORT --admin 127.0.0.1:$ADMIN --data-dir $DATA"
"$SLUICE" up --app apps/game.yaml --listen "127.0.0.1:$PORT" --admin "127.0.0.1:$ADMIN" \
  --data-dir "$DATA" --trigger 200ms --quiet &
up_pid=$!
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; do
  kill -0 "$up_pid" 2>/dev/null || { echo "sluice up exited" >&2; exit 1; }
  [ $SECONDS -lt $deadline ] || { echo "sluice up did not start within 30 s" >&2; exit 1; }
  sleep 0.05
done

step "curl http://127.0.0.1:$PORT/purchase_a_sword"
curl -sS -H "Host: user1.comcast.com" "http://127.0.0.1:$PORT/purchase_a_sword"

step "sluice bench --scenario bench/scenarios/game.txt  (the seeds' ab commands, 1,752 requests)"
"$SLUICE" bench --scenario bench/scenarios/game.txt --url "http://127.0.0.1:$PORT" -c 8 \
  --verify --data-dir "$DATA"

step "the seeds' queries (Presto in the original stack), with sluice sql"
q() { printf '\nsluice> %s;\n' "$1"; "$SLUICE" sql --data-dir "$DATA" -e "$1"; }
q "show tables"
q "describe purchases"
q "select * from purchases limit 10"
q "select distinct event_type from purchases"
q "select avg(cast(strength as integer)) from purchases"
q "select event_type, count(*) as events from events group by event_type order by events desc"

step "sluice ddl --dialect hive --table purchases (the same files for Hive, Trino, Spark)"
"$SLUICE" ddl --data-dir "$DATA" --dialect hive --table purchases

stop
up_pid=
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
step "done in $((elapsed / 1000)).$(( (elapsed % 1000) / 100 )) s — dashboard was at http://127.0.0.1:$ADMIN/, data kept in $DATA"
