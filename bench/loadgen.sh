#!/usr/bin/env bash
# bench/loadgen.sh — how hard does `sluice bench` drive a server, next to wrk and ab?
#
# 1. nginx (Debian's, one worker) answering a fixed 200 "ok" on a free loopback port, and
#    against it, in the same run, wrk and `sluice bench` (release build) with the same
#    threads, connections and duration, both keep-alive; also ab -k, ab (a new connection
#    per request; ab has one thread) and `sluice bench --no-keepalive`, and
#    `sluice bench --sched normal`, which shows what the default SCHED_BATCH workers
#    (docs/bench.md) add over the engine alone. The load generator and nginx share the
#    machine's cores, and the machine may be shared with other work, so one run of each
#    says little: the tools run in BENCH_ROUNDS rounds, alternating, the order reversed
#    every other round (wrk, sluice, ..., then ..., sluice, wrk) so that a slow stretch of
#    the machine hits both. Every round is printed; the summary is the median req/s of
#    each tool, the ratio of medians, sluice/wrk round by round, and the CPU time each
#    client and nginx used per request (from the kernel's accounting: steadier than req/s,
#    and what decides who wins when the client and the server share cores).
#    Goal: sluice bench >= 1.0 x wrk.
# 2. The restaurant scenario end to end: `sluice serve` + `sluice stream`, then
#    `sluice bench --verify`: 42,452 requests until the last row is queryable. Goal: < 3 s.
#
# Usage: bash bench/loadgen.sh [SLUICE_BINARY]      (default build/sluice)
# Env: BENCH_SECONDS (per run, default 2), BENCH_ROUNDS (default 7), BENCH_CONNS
#      (default 64), BENCH_THREADS (default: cores), BENCH_AB=0 to skip ab and
#      --no-keepalive, BENCH_E2E=0 to skip part 2.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${SLUICE_RELEASE:-build/sluice}}
[ -x "$BIN" ] || { echo "no $BIN: run make first" >&2; exit 1; }
SLUICE=$BIN
source tests/lib.sh
source tests/e2e/bench_nginx.inc
secs=${BENCH_SECONDS:-2}
rounds=${BENCH_ROUNDS:-7}
conns=${BENCH_CONNS:-64}
threads=${BENCH_THREADS:-$(nproc)}
for tool in wrk ab nginx; do
  command -v $tool >/dev/null || { echo "missing $tool (apt-get install wrk apache2-utils nginx-light)" >&2; exit 1; }
done

NGINX_WORKERS=1 start_nginx
# the worker process is the one that serves; its CPU time is read from /proc
NGINX_WORKER=$(pgrep -P "$NGINX_PID" nginx | head -n 1 || true)
echo "nginx: 1 worker on 127.0.0.1:$NGINX_PORT; every client: $threads threads, $conns connections," \
     "${secs}s per run, $rounds rounds"
echo "1 GET /ok" > "$T/ok.txt"

python3 - "$BIN" "$NGINX_PORT" "${NGINX_WORKER:-0}" "$T" "$secs" "$rounds" "$conns" "$threads" \
  "${BENCH_AB:-1}" <<'PY'
import json, os, re, statistics, subprocess, sys
binary, port, ngx, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
secs, rounds, conns, threads, with_ab = (int(x) for x in sys.argv[5:10])
url = f"http://127.0.0.1:{port}"
tick = os.sysconf("SC_CLK_TCK")

def ngx_cpu():
    """CPU seconds the nginx worker has used so far (0 if unknown)."""
    try:
        f = open(f"/proc/{ngx}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tick
    except (OSError, IndexError, ValueError):
        return 0.0

def run(argv):
    """Runs a client; returns its stdout, its CPU seconds (user + sys, all threads) and
    nginx's CPU seconds meanwhile."""
    n0 = ngx_cpu()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{argv[0]} exited {p.returncode}")
    return out, ru.ru_utime + ru.ru_stime, ngx_cpu() - n0

def grab(pattern, text):
    m = re.search(pattern, text, re.M)
    if not m:
        sys.exit(f"cannot read the result of a client run:\n{text}")
    return float(m.group(1))

def wrk():
    out, cpu, ncpu = run(["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{secs}s",
                          f"{url}/ok"])
    reqs = grab(r"^\s*(\d+) requests in", out)
    m = re.search(r"^\s*(Socket errors:.*)$", out, re.M)
    return grab(r"^Requests/sec:\s*([\d.]+)", out), reqs, cpu, ncpu, m.group(1) if m else ""

def ab(keep):
    out, cpu, ncpu = run(["ab", "-q"] + (["-k"] if keep else []) +
                         ["-c", str(conns), "-t", str(secs), "-n", "100000000", f"{url}/ok"])
    failed = int(grab(r"^Failed requests:\s*(\d+)", out))
    return (grab(r"^Requests per second:\s*([\d.]+)", out),
            grab(r"^Complete requests:\s*(\d+)", out), cpu, ncpu,
            f"failed {failed}" if failed else "")

def sluice(*extra):
    out, cpu, ncpu = run([binary, "bench", "--scenario", f"{tmp}/ok.txt", "--url", url,
                          "-c", str(conns), "--threads", str(threads), "--duration", f"{secs}s",
                          "--json", "--no-progress", *extra])
    r = json.loads(out)
    lat, err = r["latency_us"], r["errors"]["total"]
    note = f"p50 {lat['p50']} us, p99 {lat['p99']} us" + (f", errors {err}" if err else "")
    if "--no-keepalive" not in extra and r["connections_opened"] != conns:
        note += f", {r['connections_opened']} connections opened (not kept alive?)"
    return r["req_per_s"], r["answered"], cpu, ncpu, note

tools = [("wrk", wrk), ("sluice bench", sluice),
         ("sluice bench --sched normal", lambda: sluice("--sched", "normal"))]
if with_ab:
    tools += [("ab -k", lambda: ab(True)), ("ab", lambda: ab(False)),
              ("sluice bench --no-keepalive", lambda: sluice("--no-keepalive"))]
W = 29
run(["wrk", "-t", str(threads), "-c", str(conns), "-d", "1s", f"{url}/ok"])  # warm up
res = {name: [] for name, _ in tools}
for k in range(rounds):
    order = tools if k % 2 == 0 else tools[::-1]
    print(f"round {k + 1}:")
    for name, fn in order:
        rps, n, cpu, ncpu, note = fn()
        res[name].append((rps, cpu / n * 1e6 if n else 0, ncpu / n * 1e6 if n else 0))
        print(f"  {name:<{W}}{rps:>10,.0f} req/s   client {res[name][-1][1]:5.2f} us/req, "
              f"nginx {res[name][-1][2]:5.2f} us/req" + (f"   {note}" if note else ""),
              flush=True)

med = {name: [statistics.median(x[i] for x in v) for i in range(3)] for name, v in res.items()}
print(f"median of {rounds} rounds (client and nginx: CPU time per request):")
for name, (rps, cpu, ncpu) in med.items():
    lo, hi = min(x[0] for x in res[name]), max(x[0] for x in res[name])
    print(f"  {name:<{W}}{rps:>10,.0f} req/s   client {cpu:5.2f} us/req, nginx {ncpu:5.2f} us/req"
          f"   (runs {lo:,.0f} .. {hi:,.0f})")
def ratio(a, b): return f"{med[a][0] / med[b][0]:.2f}x" if a in med and med[b][0] else "n/a"
pairs = [s[0] / w[0] for s, w in zip(res["sluice bench"], res["wrk"]) if w[0]]
wins = sum(r >= 1 for r in pairs)
line = (f"ratios of medians: sluice/wrk {ratio('sluice bench', 'wrk')}"
        f"   sluice --sched normal/wrk {ratio('sluice bench --sched normal', 'wrk')}")
if with_ab:
    line += (f"\n                   sluice/ab -k {ratio('sluice bench', 'ab -k')}"
             f"   sluice --no-keepalive/ab {ratio('sluice bench --no-keepalive', 'ab')}")
print(line)
print(f"sluice/wrk round by round: {' '.join(f'{r:.2f}' for r in pairs)}; "
      f"median {statistics.median(pairs):.2f}x, sluice >= wrk in {wins} of {len(pairs)} rounds")
cpu = {k: med[k][1] + med[k][2] for k in ("wrk", "sluice bench")}
print(f"CPU per request, client + nginx (medians; steadier than req/s on a busy machine): "
      f"wrk {cpu['wrk']:.2f} us, sluice {cpu['sluice bench']:.2f} us")
print("goal: sluice/wrk >= 1.00")
PY
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true

[ "${BENCH_E2E:-1}" = 1 ] || exit 0
echo
echo "restaurant scenario end to end (serve + stream + bench --verify), 42,452 requests:"
port=$(free_port)
D=$T/data
bg "$BIN" serve --app apps/restaurant.yaml --listen "127.0.0.1:$port" --data-dir "$D"
wait_until 20 http_ok "http://127.0.0.1:$port/healthz" || fail "serve did not start"
bg "$BIN" stream --app apps/restaurant.yaml --data-dir "$D" --trigger 100ms --quiet
"$BIN" bench --scenario bench/scenarios/restaurant.txt --url "http://127.0.0.1:$port" \
  -c "$conns" --verify --data-dir "$D" --json --no-progress > "$T/e2e.json"
python3 - "$T/e2e.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); v = r["verify"]
print(f"  sent {r['requests']}, 2xx {r['status_2xx']}, {r['req_per_s']:,.0f} req/s; "
      f"rows {v['rows_seen']} (expected {v['rows_expected']}), ok={v['ok']}")
print(f"  first request -> last row queryable: {v['end_to_end_s']:.3f} s "
      f"(goal < 3 s; the seeds' stack: about 5 minutes)")
PY
