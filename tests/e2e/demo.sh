# make demo's output, checked: the seeds' workload lands in the tables and the seeds'
# queries give the answers the workload implies (three distinct purchase event types,
# per-type counts equal to what bench/scenarios/game.txt sent to each route, an average
# strength inside the clipped normal's range), and sluice up stops cleanly.
source tests/lib.sh

export DEMO_DATA_DIR=$T/data
out=$T/demo.out
bash scripts/demo.sh "$SLUICE" > "$out" 2>&1 || { cat "$out" >&2; fail "make demo's script failed"; }

# What the scenario sends, per event type (routes of apps/game.yaml; the two 404 routes
# store nothing). The demo also sends one purchase_sword with curl first.
declare -A want
while read -r count method path rest; do
  case "$path" in
    /) t=default ;; /purchase_a_sword) t=purchase_sword ;; /purchase_an_axe) t=purchase_axe ;;
    /purchase_a_shield) t=purchase_shield ;; /join_a_guild) t=join_guild ;;
    /declare_peace) t=declare_peace ;; /declare_a_war) t=declare_war ;; *) continue ;;
  esac
  want[$t]=$(( ${want[$t]:-0} + count ))
done < <(grep -Ev '^\s*(#|$)' bench/scenarios/game.txt)
want[purchase_sword]=$(( want[purchase_sword] + 1 ))
total=0; for t in "${!want[@]}"; do total=$(( total + want[$t] )); done

grep -q "status     200: $(( total - 1 )) 404: 20" "$out" || fail "bench status line: $(grep '^status' "$out")"

# The distinct purchase types: exactly three rows.
distinct=$(sed -n '/^sluice> select distinct event_type from purchases;/,/rows)/p' "$out")
echo "$distinct" | grep -q '(3 rows)' || fail "distinct event types: $distinct"
for t in purchase_sword purchase_axe purchase_shield; do
  echo "$distinct" | grep -qw "$t" || fail "distinct event types lack $t"
done

# Per-type counts from the demo's own query, against the scenario.
for t in "${!want[@]}"; do
  got=$(sed -n '/^sluice> select event_type, count(\*) as events from events/,/rows)/p' "$out" |
        awk -v t="$t" '$1 == t { print $3 }')
  expect_eq "events of type $t" "$got" "${want[$t]}"
done

avg=$(sed -n '/^sluice> select avg(cast(strength as integer)) from purchases;/,/rows)/p' "$out" |
      awk 'NR == 4 { print $1 }')
awk -v a="$avg" 'BEGIN { exit !(a > 4.0 && a < 6.0) }' || fail "average strength $avg outside 4..6"

grep -q "stopped cleanly" "$out" || fail "sluice up did not report a clean stop"
grep -q "CREATE EXTERNAL TABLE IF NOT EXISTS \`purchases\`" "$out" || fail "ddl missing"

# Nothing lost or doubled: every event once in the events table.
counts=$("$SLUICE" sql --data-dir "$DEMO_DATA_DIR" --format csv -e \
  "select count(*) as n, count(distinct event_id) as d from events" | tail -n 1)
expect_eq "events rows,distinct ids" "$counts" "$total,$total"
echo ok
