#!/usr/bin/env bash
# bench/stream.sh — `sluice stream --once` over N game events (default 1,000,000) against
# DuckDB's own read_json → Parquet conversion of the same events, in the same run.
#
#   bash bench/stream.sh            (BUILD=build N=1000000 COMPRESSION=snappy RUNS=3 SAME_TABLES=1)
#
# Prints events/s of both (each run, then the median of RUNS runs; the machine is shared and
# noisy), the CPU seconds each process used (user + sys: less noisy than the wall time on
# a loaded machine), the bytes each wrote, and the ratio of the medians sluice / duckdb
# (goal >= 1.0).
# sluice does more work: it validates, routes every event to `events` (with raw_event) and to its own table
# (purchases, joins, ...), i.e. writes about two rows per event, with fsync + rename.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-1000000}
COMPRESSION=${COMPRESSION:-snappy}
RUNS=${RUNS:-3}
SAME_TABLES=${SAME_TABLES:-1}   # also time DuckDB writing the same tables as sluice (stream_ref tables)
make -s BUILD="$BUILD" "$BUILD/sluice" "$BUILD/bench/stream_ref" >/dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-stream-XXXXXX")
trap 'rm -rf "$W"' EXIT

# The game workload's mix (bench/scenarios/game.txt), with the collector's envelope.
python3 - "$N" > "$W/events.ndjson" <<'PY'
import random, sys, uuid
n = int(sys.argv[1]); rnd = random.Random(7)
kinds = [("default", 20, None), ("purchase_sword", 510, "large sword"),
         ("purchase_axe", 200, "big axe"), ("purchase_shield", 500, "strong shield"),
         ("join_guild", 500, "very fun guild"), ("declare_war", 1, "epic war"),
         ("declare_peace", 1, "lastful peace")]
weights = [k[1] for k in kinds]
hosts = ["user1.comcast.com", "knight1.comcast.com", "knight3.yahoo.com", "user2.att.com"]
guilds = ["knights_of_ni"] * 5 + ["round_table"] * 3 + ["black_knights"] * 2
out = sys.stdout; base = 1795255200000
for i in range(n):
    et, _, desc = rnd.choices(kinds, weights)[0]
    ms = base + i // 10
    ts = "2026-11-21T%02d:%02d:%02d.%03dZ" % ((ms // 3600000) % 24, (ms // 60000) % 60, (ms // 1000) % 60, ms % 1000)
    s = '{"event_type":"%s","event_id":"%s","received_at":"%s","Host":"%s","User-Agent":"ApacheBench/2.3","Accept":"*/*"' % (
        et, uuid.UUID(int=rnd.getrandbits(128)), ts, rnd.choice(hosts))
    if desc: s += ',"description":"%s"' % desc
    if et.startswith("purchase_"): s += ',"strength":%d' % max(0, min(10, round(rnd.gauss(5, 4))))
    if et == "join_guild": s += ',"guild_name":"%s"' % rnd.choice(guilds)
    out.write(s + "}\n")
PY
"$BUILD/sluice" produce --topic events --data-dir "$W/data" --fsync never < "$W/events.ndjson" 2>/dev/null
echo "events: $N ($(du -h "$W/events.ndjson" | cut -f1) of NDJSON), compression $COMPRESSION, $(nproc) cores, $RUNS run(s) each, median reported"

# What each side writes, so that the ratio is read honestly: the reference writes one
# file with the columns read_json infers (event_id as UUID, received_at as TIMESTAMP, no
# raw text); sluice writes `events` (common columns + raw_event, i.e. every byte of every
# event once more) plus each event's routed table, fsyncs and renames every file and
# commits its checkpoint.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
cpu() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }   # bash `time` output "user sys"
TIMEFORMAT='%U %S'
s_list=() r_list=() t_list=()
for run in $(seq 1 "$RUNS"); do
    rm -rf "$W/run"
    cp -r "$W/data" "$W/run"
    # The copy (and the previous run's files) leave hundreds of MB of dirty pages: written
    # back now, not by the kernel's flusher in the middle of the next timed run.
    sync
    t0=$(date +%s%N)
    { time "$BUILD/sluice" stream --app apps/game.yaml --data-dir "$W/run" --once --quiet \
        --compression "$COMPRESSION" 2>"$W/stream.err"; } 2>"$W/cpu.s" ||
        { cat "$W/stream.err"; exit 1; }
    t1=$(date +%s%N)
    s_ms=$(( (t1 - t0) / 1000000 ))
    s_eps=$(( N * 1000 / (s_ms > 0 ? s_ms : 1) ))
    s_list+=("$s_eps")
    s_bytes=$(du -sb "$W/run/warehouse" | cut -f1)
    s_files=$(find "$W/run/warehouse" -name '*.parquet' | wc -l)
    echo "run $run: sluice stream --once: $N events in $s_ms ms = $s_eps events/s, $(cpu "$W/cpu.s") CPU s ($s_bytes bytes of Parquet in $s_files files)"
    rm -f "$W/ref.parquet"
    sync
    { time "$BUILD/bench/stream_ref" "$W/events.ndjson" "$W/ref.parquet" "$N" "$COMPRESSION" \
        >"$W/ref.out"; } 2>"$W/cpu.r"
    ref=$(cat "$W/ref.out")
    r_eps=$(echo "$ref" | sed -n 's/.*= \([0-9]*\) events\/s/\1/p')
    r_list+=("$r_eps")
    echo "run $run: $ref, $(cpu "$W/cpu.r") CPU s ($(stat -c %s "$W/ref.parquet") bytes of Parquet in 1 file)"
    if [ "$SAME_TABLES" = 1 ]; then
        rm -f "$W"/same.*
        same=$("$BUILD/bench/stream_ref" "$W/events.ndjson" "$W/same" "$N" "$COMPRESSION" tables)
        t_list+=("$(echo "$same" | sed -n 's/.*= \([0-9]*\) events\/s/\1/p')")
        echo "run $run: $same ($(cat "$W"/same.*.parquet | wc -c) bytes of Parquet in 5 files)"
    fi
done
s_med=$(printf '%s\n' "${s_list[@]}" | median)
r_med=$(printf '%s\n' "${r_list[@]}" | median)
echo "median: sluice $s_med events/s, duckdb read_json $r_med events/s"
awk -v a="$s_med" -v b="$r_med" 'BEGIN { printf "ratio sluice/duckdb: %.2f (goal >= 1.0)\n", a / b }'
if [ "$SAME_TABLES" = 1 ]; then
    t_med=$(printf '%s\n' "${t_list[@]}" | median)
    awk -v a="$s_med" -v b="$t_med" 'BEGIN { printf "ratio sluice/duckdb producing the same tables: %.2f (duckdb %d events/s)\n", a / b, b }'
fi
