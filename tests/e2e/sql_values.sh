#!/usr/bin/env bash
# sql_values — what a user sees from `sluice sql` for values beyond plain columns: nested
# values (lists, structs, maps) in every format as the DuckDB CLI prints them and as real
# JSON, special floats as valid JSON, a column only the catalog knows, several -e texts,
# EXPLAIN, and error positions inside a multi-statement text. (The type-by-type rules are
# in tests/unit/test_query_format.c.)
source tests/lib.sh
check "build the fixture" "${BUILD:-build}/asan/tests/test_query_fixture" "$T/data"
D=$T/data
sql() { "$SLUICE" sql -d "$D" --no-timing --threads 1 "$@"; }

# Nested values: what the DuckDB CLI prints, in table, csv, tsv and markdown.
Q="select list(guild order by event_id) as guilds, {'n': count(*), 'first': min(guild)} as s,
   map(['k'], [max(event_id)]) as m from joins"
out=$(sql -e "$Q")
grep -qF "[knights, wizards, knights, wizards, knights, wizards] | {'n': 6, 'first': knights} | {k=e-0005}" <<<"$out" ||
  fail "table: $out"
expect_eq "csv" "$(sql --format csv -e "$Q" | tail -n 1)" \
  "\"[knights, wizards, knights, wizards, knights, wizards]\",\"{'n': 6, 'first': knights}\",{k=e-0005}"
expect_eq "tsv" "$(sql --format tsv -e "$Q" | tail -n 1)" \
  "$(printf "[knights, wizards, knights, wizards, knights, wizards]\t{'n': 6, 'first': knights}\t{k=e-0005}")"
grep -qF "| [knights, wizards, knights, wizards, knights, wizards] | {'n': 6, 'first': knights} | {k=e-0005} |" \
  <<<"$(sql --format markdown -e "$Q")" || fail "markdown"
! grep -q '?' <<<"$(sql --format csv -e "$Q")" || fail "a value printed as '?'"

# JSON: nested values are arrays and objects, NaN and infinities strings; python parses it.
sql --format json -e "$Q; select 'nan'::double as n, ['-inf'::double, 1.5] as l, NULL::int[] as e" > "$T/out.json"
python3 - "$T/out.json" <<'EOF' || fail "json: $(cat "$T/out.json")"
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
docs, i = [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    doc, i = dec.raw_decode(text, i)
    docs.append(doc)
# strict JSON: NaN/Infinity literals would be accepted by python, so check the text too
assert "NaN" not in text and "Infinity" not in text, text
assert docs[0] == [{"guilds": ["knights", "wizards"] * 3, "s": {"n": 6, "first": "knights"},
                    "m": {"k": "e-0005"}}], docs[0]
assert docs[1] == [{"n": "nan", "l": ["-inf", 1.5], "e": None}], docs[1]
EOF

# A column the catalog declares but no file has yet is selectable (NULL) and described.
python3 - "$D/catalog/joins.json" <<'EOF'
import json, sys
p = sys.argv[1]
t = json.load(open(p))
t["columns"].append({"name": "level", "type": "bigint"})
t["schema_version"] += 1
open(p + ".tmp", "w").write(json.dumps(t))
EOF
mv "$D/catalog/joins.json.tmp" "$D/catalog/joins.json"
expect_eq "catalog-only column" "$(sql --format csv -e "select count(*) as n, count(level) as l from joins" | tail -n 1)" "6,0"
sql --format csv -e "describe joins" | grep -qx "level,bigint,false" || fail "describe lacks level"
"$SLUICE" ddl -d "$D" --dialect hive -t joins | grep -q '`level` BIGINT' || fail "ddl lacks level"

# Several -e: a trailing -- comment in one does not swallow the next.
out=$(sql --format csv -e "select 1 as a -- one" -e "select 2 as b") || fail "two -e failed: $out"
expect_eq "two -e" "$(tr '\n' ' ' <<<"$out")" "a 1 b 2 "

# An error in the second statement points into that statement (LINE 1), after the first
# statement's result.
rc=0; out=$(sql -e "select 1 as x;
selec 2" 2>&1) || rc=$?
expect_eq "error exit" $rc 1
grep -q "^LINE 1: selec 2" <<<"$out" || fail "error position: $out"

# EXPLAIN in the table format: the plan's lines, not one line of \n escapes.
out=$(sql -e "explain select guild, count(*) from joins where dt > '2000' group by guild")
[ "$(wc -l <<<"$out")" -gt 5 ] && ! grep -qF '\n' <<<"$out" || fail "explain: $out"
echo ok
