#!/usr/bin/env bash
# The progress line, on a real terminal (a pty from script(1)): about once a second
# "\r  N s: A / TOTAL answered, F failed, R req/s", then erased ("\r\e[K") before the
# report. Not with --no-progress, and not when stderr is not a terminal.
source tests/lib.sh
source tests/e2e/bench_nginx.inc
start_nginx
URL=http://127.0.0.1:$NGINX_PORT
printf '150 GET /ok\n' > "$T/s.txt"
# 150 requests at 100/s: 1.5 s, long enough for one progress tick
run_tty() { # extra bench options... -> transcript on stdout
  script -qec "'$SLUICE' bench --scenario '$T/s.txt' --url '$URL' -c 2 --rate 100 $*" /dev/null \
    < /dev/null
}

run_tty > "$T/tty.out" || fail "bench on a terminal exited $?"
python3 - "$T/tty.out" <<'PY' || fail "progress line on a terminal"
import re, sys
out = open(sys.argv[1], "rb").read().decode()
ticks = re.findall(r"\r  (\d+) s: (\d+) / 150 answered, (\d+) failed, (\d+) req/s   ", out)
print(f"  progress ticks: {ticks}")
assert ticks, repr(out)
s, answered, failed, rps = map(int, ticks[0])
assert s == 1 and 60 <= answered <= 140 and failed == 0 and 60 <= rps <= 140, ticks
erase = out.rfind("\r\x1b[K")
assert erase > out.rfind(" req/s   "), repr(out)            # erased after the last tick
assert out.find("sluice bench: ", erase) > erase, repr(out)  # before the report
assert re.search(r"requests   150 sent, 150 answered, 0 failed", out), repr(out)
PY

run_tty --no-progress > "$T/tty.out" || fail "bench --no-progress exited $?"
grep -q " s: [0-9]* / 150 answered" "$T/tty.out" && fail "progress shown with --no-progress: $(cat -v "$T/tty.out")"
grep -q $'\e\[K' "$T/tty.out" && fail "line erased with --no-progress"
grep -q "requests   150 sent, 150 answered" "$T/tty.out" || fail "no report with --no-progress"

"$SLUICE" bench --scenario "$T/s.txt" --url "$URL" -c 2 --rate 100 > "$T/out" 2> "$T/err" \
  || fail "bench without a terminal exited $?"
[ -s "$T/err" ] && fail "stderr not a terminal, yet: $(cat -v "$T/err")"
grep -q "requests   150 sent, 150 answered" "$T/out" || fail "no report without a terminal"
echo ok
