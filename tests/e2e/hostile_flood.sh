#!/usr/bin/env bash
# A connection flood past the collector's file-descriptor limit (ulimit -n 256, 600 idle
# connections): the server must not spin on accept() failing with EMFILE (it pauses
# accepting instead), idle connections are cut after --timeout, and new clients are
# served again as soon as descriptors are free. Knob: SLUICE_FLOOD_CONNS (default 600).
source tests/lib.sh
source tests/e2e/collector_lib.inc

N=${SLUICE_FLOOD_CONNS:-600}
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
bg bash -c 'ulimit -n 256 && exec "$0" "$@"' "$SLUICE" serve --app apps/game.yaml \
  --listen 127.0.0.1:"$PORT" --data-dir "$T/data" --threads 2 --timeout 3s \
  >"$T/serve.out" 2>"$T/serve.err"
PID=$BG_PID
wait_until 30 http_ok "$URL/healthz" || { cat "$T/serve.err"; fail "serve did not start"; }

python3 - "$PORT" "$N" "$PID" <<'PY' || fail "flood"
import os, resource, socket, sys, time, http.client
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def cpu():  # user + system seconds of the server
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
c0, t0 = cpu(), time.time()
time.sleep(1.5)  # the measuring window itself, while the flood holds every descriptor
used = cpu() - c0
assert used < 0.5, "the server burnt %.2f CPU seconds in %.1f s while out of descriptors" % (used, time.time() - t0)
# a new client is served once --timeout (3 s) has cut the idle ones
deadline = time.time() + 15
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/healthz")
        if c.getresponse().status == 200:
            break
    except OSError:
        pass
    assert time.time() < deadline, "no answer within 15 s of the flood"
    time.sleep(0.1)
took = time.time() - t0
for s in socks:
    s.close()
print("%d idle connections: %.2f CPU s in the window, served again after %.1f s" % (n, used, took))
PY
expect_eq "healthz after the flood" "$(status_of "$URL/healthz")" 200
expect_eq "an event after the flood" "$(status_of "$URL/events" -d '{"event_type":"after_flood"}')" 200
kill -TERM "$PID"; rc=0; wait "$PID" || rc=$?
expect_eq "clean stop" "$rc" 0
echo ok
