#!/usr/bin/env bash
# sql_golden — the seeds' queries over the fixed data set (tests/unit/test_query_fixture.h)
# in every output format, and `sluice ddl` for every dialect, compared with the files in
# tests/golden/. UPDATE_GOLDEN=1 rewrites the golden files instead (review the diff!).
source tests/lib.sh
G=tests/golden
FIXTURE=${BUILD:-build}/asan/tests/test_query_fixture
check "build the fixture" "$FIXTURE" "$T/data"

QUERIES="select * from purchases limit 10;
select distinct event_type from purchases;
select avg(cast(strength as integer)) from purchases;
select count(*) from menu_app_events;
select event_type, description from menu_app_orders group by event_type, description
;
select event_type, event_timestamp, description, coupon, price from menu_app_orders where description = 'Lebanese';
show tables;
describe menu_app_orders;
select * from reviews;"

compare() { # name, actual file
  if [ -n "${UPDATE_GOLDEN:-}" ]; then cp "$2" "$G/$1"; return; fi
  diff -u "$G/$1" "$2" || fail "$1 differs from the golden file"
}

for fmt in table csv tsv json markdown; do
  "$SLUICE" sql -d "$T/data" --no-timing --threads 1 --format "$fmt" -e "$QUERIES" > "$T/out.$fmt" ||
    fail "sql --format $fmt failed"
  compare "sql_seeds.$fmt" "$T/out.$fmt"
done

# -f runs the same statements from a file, --output writes them to a file.
printf '%s\n' "$QUERIES" > "$T/q.sql"
check "sql -f -o" "$SLUICE" sql -d "$T/data" --no-timing --threads 1 -f "$T/q.sql" -o "$T/out.f"
diff -u "$T/out.table" "$T/out.f" || fail "-f/-o output differs from -e output"

# The timing line is there by default, and only the time differs.
"$SLUICE" sql -d "$T/data" -e "select count(*) from purchases" > "$T/timed"
grep -Eq '^Query took [0-9]+\.[0-9]{3} s$' "$T/timed" || fail "no timing line: $(cat "$T/timed")"

for d in hive spark trino; do
  "$SLUICE" ddl -d "$T/data" --dialect "$d" --location-prefix hdfs://namenode:8020/warehouse \
    > "$T/ddl.$d" || fail "ddl $d failed"
  compare "ddl.$d" "$T/ddl.$d"
done
# Default location: the local warehouse as a file:// URL.
"$SLUICE" ddl -d "$T/data" --dialect hive -t purchases > "$T/ddl.local"
grep -q "LOCATION 'file://$(readlink -f "$T/data")/warehouse/purchases';" "$T/ddl.local" ||
  fail "default location wrong: $(cat "$T/ddl.local")"

# sluice tables: counts from the Parquet footers (the hidden file is not counted).
"$SLUICE" tables -d "$T/data" --format csv | cut -d, -f1-5 > "$T/tables"
compare "tables.csv" "$T/tables"
echo ok
