#!/usr/bin/env bash
# sql_sandbox — every way out of the warehouse fails with a clear message and exit 1;
# errors carry DuckDB's message with the position; usage errors exit 2; a table and a file
# that appear while a session is open are visible to its next statement.
source tests/lib.sh
check "build the fixture" "${BUILD:-build}/asan/tests/test_query_fixture" "$T/data"
D=$T/data
W=$D/warehouse
echo secret > "$T/outside.csv"

# denied "SQL" "expected text in the error"
denied() {
  local out rc=0
  out=$("$SLUICE" sql -d "$D" -e "$1" 2>&1) || rc=$?
  [ $rc -eq 1 ] || fail "'$1' exited $rc, expected 1: $out"
  grep -qF -- "$2" <<<"$out" || fail "'$1': message lacks '$2': $out"
}
denied "select * from read_csv('/etc/passwd')" 'Cannot access file "/etc/passwd"'
denied "select * from read_csv('$T/outside.csv')" "file system operations are disabled"
denied "select * from read_parquet('$W/../catalog/purchases.json')" "file system operations are disabled"
denied "select * from glob('/etc/*')" "file system operations are disabled"
denied "copy (select 1) to '$T/out.csv'" "Permission Error"
denied "copy (select 1) to '$W/purchases/evil.csv'" "COPY statements are not allowed"
denied "attach '$T/x.db' as x" "ATTACH statements are not allowed"
denied "install httpfs" "not allowed"
denied "load httpfs" "not allowed"
denied "set enable_external_access=true" "SET statements are not allowed"
denied "reset allowed_directories" "not allowed"
denied "pragma enable_profiling" "PRAGMA statements are not allowed"
denied "create table t as select 1" "CREATE statements are not allowed"
denied "export database '$W/x'" "EXPORT statements are not allowed"
[ ! -e "$T/out.csv" ] && [ ! -e "$W/purchases/evil.csv" ] && [ ! -e "$W/x" ] || fail "a file was written"

# Errors: DuckDB's message with the position (one LINE block, not two).
denied "select * from nosuch" "Table with name nosuch does not exist"
out=$("$SLUICE" sql -d "$D" -e "selec 1" 2>&1) && fail "syntax error accepted"
grep -q 'syntax error at or near "selec"' <<<"$out" || fail "syntax message: $out"
expect_eq "one position block" "$(grep -c '^LINE 1:' <<<"$out")" 1
# The first statement's result is printed, then the error stops the run.
out=$("$SLUICE" sql -d "$D" --no-timing -e "select 41+1 as x; select * from nosuch; select 7" 2>&1) &&
  fail "error not reported"
grep -q ' 42' <<<"$out" || fail "first result missing: $out"
grep -q ' 7$' <<<"$out" && fail "ran past the error: $out"

# Timeout: a long statement is interrupted.
out=$("$SLUICE" sql -d "$D" --timeout 300ms -e "select count(*) from range(10000000000000) a, range(10) b" 2>&1) &&
  fail "timeout did not fire"
grep -q "timeout" <<<"$out" || fail "timeout message: $out"

# Usage errors exit 2, --help exits 0.
for args in "--bogus" "--format xml -e x" "--max-rows many -e x" "extra" "-e x -f y"; do
  rc=0; "$SLUICE" sql -d "$D" $args >/dev/null 2>&1 || rc=$?
  expect_eq "sql $args" "$rc" 2
done
for cmd in sql tables ddl export; do
  "$SLUICE" $cmd --help | grep -q "Usage: sluice $cmd" || fail "$cmd --help"
  rc=0; "$SLUICE" $cmd --nope >/dev/null 2>&1 || rc=$?; expect_eq "$cmd --nope" "$rc" 2
done
rc=0; "$SLUICE" ddl -d "$D" --dialect oracle >/dev/null 2>&1 || rc=$?; expect_eq "ddl oracle" $rc 2
rc=0; "$SLUICE" sql -d "$T/missing" -e "select 1" >/dev/null 2>&1 || rc=$?; expect_eq "missing dir" $rc 1

# Long results are cut with a note, never silently.
out=$("$SLUICE" sql -d "$D" --no-timing --max-rows 5 -e "select * from range(100)")
expect_eq "rows shown" "$(grep -cE '^ +[0-9]+$' <<<"$out")" 5
grep -q "showing the first 5 of 100 rows" <<<"$out" || fail "no cut note: $out"
err=$("$SLUICE" sql -d "$D" --format csv --max-rows 5 -e "select * from range(100)" 2>&1 >/dev/null)
grep -q "first 5 of 100" <<<"$err" || fail "no cut note for csv: $err"

# export: only the named file is writable; filters work; injection through --where fails.
check "export csv" "$SLUICE" export -d "$D" -t menu_app_orders --where "description = 'Lebanese'" -o "$T/leb.csv"
expect_eq "exported rows" "$(tail -n +2 "$T/leb.csv" | grep -c Lebanese)" 3
check "export parquet" "$SLUICE" export -d "$D" -t purchases -o "$T/p.parquet"
check "export json" "$SLUICE" export -d "$D" -t purchases --format json -o "$T/p.out"
expect_eq "json lines" "$(wc -l < "$T/p.out")" 24
rc=0; "$SLUICE" export -d "$D" -t purchases -o "$T/x.csv" \
  --where "true) TO '$T/evil.csv' (FORMAT csv); select (1" >/dev/null 2>&1 || rc=$?
expect_eq "where injection" $rc 1
[ ! -e "$T/evil.csv" ] || fail "injection wrote a file"

# A table and a file that appear during a session are visible to the next statement:
# statements are fed one at a time through a pipe; the second is sent only after the
# first answered and the new table/file exist.
mkfifo "$T/in"
"$SLUICE" sql -d "$D" --no-timing --format csv < "$T/in" > "$T/session.out" 2>&1 &
pid=$!; _pids+=("$pid")
exec 3>"$T/in"
echo "select count(*) as n from purchases;" >&3
wait_until 30 grep -qx 24 "$T/session.out" || fail "first answer missing: $(cat "$T/session.out")"
mkdir -p "$W/purchases/dt=2026-11-23" "$W/guilds/dt=2026-11-21"
cp "$W/purchases/dt=2026-11-21/part-0-10-15.parquet" "$W/purchases/dt=2026-11-23/part-0-100-105.parquet"
cp "$W/joins/dt=2026-11-21/part-0-0-5.parquet" "$W/guilds/dt=2026-11-21/part-0-0-5.parquet"
sed 's/"joins"/"guilds"/; s#warehouse/joins#warehouse/guilds#' "$D/catalog/joins.json" > "$D/catalog/.tmp"
mv "$D/catalog/.tmp" "$D/catalog/guilds.json"
echo "select count(*) as n from purchases where dt = '2026-11-23';" >&3
echo "select count(*) as m from guilds;" >&3
exec 3>&-
wait "$pid" || fail "session failed: $(cat "$T/session.out")"
expect_eq "session output" "$(tr '\n' ' ' < "$T/session.out")" "n 24 n 6 m 6 "
echo ok
