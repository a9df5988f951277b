#!/usr/bin/env bash
# The config file, black box, on the Kafka mock cluster:
#   - ./sluice.conf is read by default: a global `bus` (used by serve and tail), a global
#     key tail does not have (ignored), and a [serve] section with `listen` and a
#     `kafka-opt` (message.max.bytes=2000: a bigger event is answered 413, so the option
#     reached librdkafka);
#   - precedence: SLUICE_LISTEN beats the file, --listen beats SLUICE_LISTEN, and a later
#     --kafka-opt for the same property beats the file's;
#   - --config FILE and SLUICE_CONFIG pick another file (SLUICE_CONFIG=/dev/null: none);
#   - trailing comments (after a blank) on values and section headers;
#   - errors: a missing explicit file, an unknown key in the command's section, a bad line,
#     a value the command refuses (a bad bus URL, for serve, stream and tail): exit 2 with
#     FILE:LINE; a bad SLUICE_BUS names the variable.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/kafka_lib.inc"
command -v kcat >/dev/null || fail "kcat is not installed (Debian package kcat)"
APP=$(readlink -f apps/game.yaml)

kafka_mock_start --brokers 3 --partitions 2
P1=$(free_port); P2=$(free_port); P3=$(free_port)
W=$T/work
mkdir "$W"
cat >"$W/sluice.conf" <<EOF
# what every command with these options gets
bus = kafka://$BOOT/events      # serve, tail
threads = 2

[serve]                         # only sluice serve
listen = 127.0.0.1:$P1   # a trailing comment is not part of the value
kafka-opt = message.max.bytes=2000
EOF
big=$(python3 -c 'print("[{\"event_type\":\"big\",\"pad\":\"%s\"}]" % ("x" * 3000))')

# start_serve [env...] -- [args...]: serve in $W (where sluice.conf is); $SP is its pid
start_serve() {
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  (cd "$W" && exec env "${envs[@]}" "$SLUICE" serve --app "$APP" "$@") >"$T/serve.out" 2>"$T/serve.err" &
  SP=$!
  _pids+=("$SP")
}
stop_serve() { kill "$SP"; wait "$SP" || fail "serve exit status: $(cat "$T/serve.err")"; }
post() { curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' -d "$2" "$1/events"; }

# ---- defaults from ./sluice.conf
start_serve --
wait_until 30 http_ok "http://127.0.0.1:$P1/healthz" ||
  fail "serve did not listen on the file's port: $(cat "$T/serve.err")"
grep -q "kafka://$BOOT/events" "$T/serve.err" "$T/serve.out" || fail "serve is not on the file's bus: $(cat "$T/serve.err")"
expect_eq "small event" "$(post "http://127.0.0.1:$P1" '{"event_type":"cfg","n":1}')" 200
expect_eq "event over the file's message.max.bytes" "$(post "http://127.0.0.1:$P1" "$big")" 413
stop_serve
# tail has --bus but no --threads: the global bus applies, the global threads is ignored
(cd "$W" && "$SLUICE" tail --exit) >"$T/tail.out" 2>"$T/tail.err" || fail "tail: $(cat "$T/tail.err")"
grep -q '"event_type":"cfg"' "$T/tail.out" || fail "tail did not read the file's bus: $(cat "$T/tail.out")"

# ---- environment beats the file, flags beat the environment
start_serve SLUICE_LISTEN="127.0.0.1:$P2" --
wait_until 30 http_ok "http://127.0.0.1:$P2/healthz" || fail "SLUICE_LISTEN lost to the file: $(cat "$T/serve.err")"
http_ok "http://127.0.0.1:$P1/healthz" 2>/dev/null && fail "also listening on the file's port"
stop_serve
start_serve SLUICE_LISTEN="127.0.0.1:$P2" -- --listen "127.0.0.1:$P3" --kafka-opt message.max.bytes=1000000
wait_until 30 http_ok "http://127.0.0.1:$P3/healthz" || fail "--listen lost to SLUICE_LISTEN: $(cat "$T/serve.err")"
expect_eq "--kafka-opt beats the file's" "$(post "http://127.0.0.1:$P3" "$big")" 200
stop_serve

# ---- other files
printf '[serve]\nlisten = 127.0.0.1:%s\nbus = kafka://%s/events\n' "$P2" "$BOOT" >"$T/other.conf"
start_serve -- --config "$T/other.conf"
wait_until 30 http_ok "http://127.0.0.1:$P2/healthz" || fail "--config FILE not used: $(cat "$T/serve.err")"
stop_serve
start_serve SLUICE_CONFIG="$T/other.conf" --
wait_until 30 http_ok "http://127.0.0.1:$P2/healthz" || fail "SLUICE_CONFIG not used: $(cat "$T/serve.err")"
stop_serve
# no file at all: serve is back on its defaults (the embedded log in ./sluice-data)
rc=0; (cd "$W" && SLUICE_CONFIG=/dev/null "$SLUICE" tail --exit --topic nothing) >/dev/null 2>"$T/err" || rc=$?
grep -q "kafka" "$T/err" && fail "SLUICE_CONFIG=/dev/null still read sluice.conf: $(cat "$T/err")"

# ---- errors: exit 2, FILE:LINE
rc=0; "$SLUICE" serve --app "$APP" --config "$T/missing.conf" 2>"$T/err" || rc=$?
expect_eq "missing --config exit" "$rc" 2
grep -q "missing.conf: No such file" "$T/err" || fail "missing file message: $(cat "$T/err")"
printf 'bus = log\n\n[serve]\nlisten = :1\nlisen = :2\n' >"$T/typo.conf"
rc=0; "$SLUICE" serve --app "$APP" --config "$T/typo.conf" 2>"$T/err" || rc=$?
expect_eq "unknown key exit" "$rc" 2
grep -q "typo.conf:5: sluice serve does not take --lisen" "$T/err" || fail "unknown key message: $(cat "$T/err")"
# the same file is fine for a command whose section it is not
"$SLUICE" tail --config "$T/typo.conf" --topic nothing --data-dir "$T/none" --exit >/dev/null 2>"$T/err" &&
  fail "tail on a missing data dir should fail"
grep -q "typo.conf" "$T/err" && fail "tail complained about serve's section: $(cat "$T/err")"
printf '[serve]\nlisten: 127.0.0.1:1\n' >"$T/bad.conf"
rc=0; "$SLUICE" stream --app "$APP" --config "$T/bad.conf" 2>"$T/err" || rc=$?
expect_eq "bad line exit" "$rc" 2
grep -q "bad.conf:2: expected 'key = value'" "$T/err" || fail "bad line message: $(cat "$T/err")"
"$SLUICE" serve --config "$T/bad.conf" --help | grep -q Usage || fail "--help with a broken file"
printf '# a bus without a topic\n\nbus = kafka://%s   # oops\n' "$BOOT" >"$T/badbus.conf"
for cmd in serve stream tail; do
  rc=0; "$SLUICE" "$cmd" --app "$APP" --config "$T/badbus.conf" 2>"$T/err" || rc=$?
  [ "$cmd" = tail ] && { rc=0; "$SLUICE" tail --config "$T/badbus.conf" 2>"$T/err" || rc=$?; }
  expect_eq "$cmd: bad bus in the file: exit" "$rc" 2
  grep -q "^sluice $cmd: $T/badbus.conf:3: bad --bus 'kafka://$BOOT': no brokers or no /TOPIC" "$T/err" ||
    fail "$cmd: bad bus message: $(cat "$T/err")"
done
rc=0; SLUICE_CONFIG=/dev/null SLUICE_BUS=kafka://x "$SLUICE" stream --app "$APP" 2>"$T/err" || rc=$?
expect_eq "bad SLUICE_BUS: exit" "$rc" 2
grep -q "^sluice stream: SLUICE_BUS: bad --bus 'kafka://x'" "$T/err" || fail "bad SLUICE_BUS message: $(cat "$T/err")"
rc=0; "$SLUICE" stream --app "$APP" --config "$T/badbus.conf" --bus log --bus kafka://y 2>"$T/err" || rc=$?
grep -q "^sluice stream: bad --bus 'kafka://y'" "$T/err" || fail "a flag's error names a file: $(cat "$T/err")"
echo "  sluice.conf: listen, bus, kafka-opt applied, trailing comments; env > file, flag > env; --config, SLUICE_CONFIG; errors with file:line"
