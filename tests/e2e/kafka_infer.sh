#!/usr/bin/env bash
# Two stream processes of one Kafka group in one --data-dir, an `infer: true` table: each
# infers columns from its own partition and writes the table's catalog file; neither may
# drop the other's columns (the catalog merges by name under a lock, warehouse/catalog.c):
#   {"xa":1} to p0 (stream A or B) and {"yb":"hello"} to p1 (the other) → catalog/misc.json
#   has both, schema_version 2, and `select xa, yb from misc` reads both files; a third
#   column later adds a third version.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/kafka_lib.inc"
command -v kcat >/dev/null || fail "kcat is not installed (Debian package kcat)"
q() { "$SLUICE" sql --data-dir "$D" --format csv -e "$1" 2>"$T/sql.err" | tail -n +2; }

kafka_mock_start --brokers 1 --partitions 2 --topic misc
cat >"$T/app.yaml" <<'EOF'
app: inferred
topic: misc
tables:
  - name: misc
    events: ["*"]
    infer: true
EOF
D=$T/data
S=("$SLUICE" stream --app "$T/app.yaml" --data-dir "$D" --bus "kafka://$BOOT/misc" --job inf
   --trigger 100ms)
bg "${S[@]}" 2>"$T/a.err"; A=$BG_PID
bg "${S[@]}" 2>"$T/b.err"; B=$BG_PID
wait_until 60 group_settled 2 "$T/a.err" "$T/b.err" || fail "not one partition each: A $(owned "$T/a.err"), B $(owned "$T/b.err")"

send() { # PARTITION JSON
  echo "$2" | kcat -P -b "$BOOT" -t misc -p "$1" 2>"$T/kcat.err" || fail "kcat -P: $(cat "$T/kcat.err")"
}
has_file() { compgen -G "$D/warehouse/misc/*/part-$1-$2-$2.parquet" >/dev/null; }
send 0 '{"event_type":"a","event_id":"e1","xa":1}'
wait_until 30 has_file 0 0 || fail "no file for p0: $(cat "$T/a.err" "$T/b.err")"
send 1 '{"event_type":"b","event_id":"e2","yb":"hello"}'
wait_until 30 has_file 1 0 || fail "no file for p1: $(cat "$T/a.err" "$T/b.err")"
cols() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(" ".join(c["name"] for c in t["columns"]), t["schema_version"])' "$D/catalog/misc.json"; }
expect_eq "catalog columns and version" "$(cols | tr ' ' '\n' | grep -E '^(xa|yb|[0-9]+)$' | paste -sd' ')" "xa yb 2"
expect_eq "both inferred columns read back" "$(q 'select event_id, xa, yb from misc order by event_id' | paste -sd' ')" \
  "e1,1, e2,,hello"
send 0 '{"event_type":"a","event_id":"e3","zc":true}'
wait_until 30 has_file 0 1 || fail "no second file for p0: $(cat "$T/a.err" "$T/b.err")"
expect_eq "catalog after a third column" "$(cols | tr ' ' '\n' | grep -E '^(xa|yb|zc|[0-9]+)$' | paste -sd' ')" "xa yb zc 3"
expect_eq "three columns read back" "$(q 'select event_id, xa, yb, zc from misc order by event_id' | paste -sd' ')" \
  "e1,1,, e2,,hello, e3,,,true"
kill -TERM "$A" "$B"
wait "$A" || fail "A exit status: $(tail -3 "$T/a.err")"
wait "$B" || fail "B exit status: $(tail -3 "$T/b.err")"
echo "  catalog of misc: $(cols)"
