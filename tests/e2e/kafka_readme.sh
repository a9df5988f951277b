#!/usr/bin/env bash
# README.md's "Kafka mode" commands, typed one by one into an interactive bash with job
# control in a pseudo-terminal (script -qc), as a reader would run them:
#   build/sluice kafka-mock > bootstrap.txt &     must keep running in the background (a
#                                                  background job that reads the terminal
#                                                  is "Stopped (tty input)")
#   serve & / curl / kcat / tail / stream --once   each does what the README says
# The block is read from README.md, so the test follows it. Two changes only: build/sluice
# is this test's binary ($SLUICE, through a symlink in a scratch directory), and the
# collector's port is a free one (./sluice.conf's [serve] listen, and the curl URL)
# instead of 5000.
source "$(dirname "$0")/../lib.sh"
command -v script >/dev/null || fail "script is not installed (Debian package bsdutils)"
command -v kcat >/dev/null || fail "kcat is not installed (Debian package kcat)"
REPO=$PWD

block=$(awk '/^## Kafka mode/ {k = 1} k && /^```sh$/ {b = 1; next} b && /^```$/ {exit} b' README.md)
expect_eq "README Kafka block starts with the mock" "$(echo "$block" | head -1)" \
  "build/sluice kafka-mock > bootstrap.txt &"
echo "$block" | grep -q "127.0.0.1:5000" || fail "README Kafka block: no 127.0.0.1:5000 to replace"

W=$T/w
mkdir -p "$W/build"
ln -s "$SLUICE" "$W/build/sluice"
ln -s "$REPO/apps" "$W/apps"
PORT=$(free_port)
printf '[serve]\nlisten = 127.0.0.1:%s\n' "$PORT" >"$W/sluice.conf"
mkfifo "$T/in"
exec 4<>"$T/in"
(cd "$W" && unset SLUICE_CONFIG && TERM=dumb exec script -qfc "bash --norc --noprofile -i" /dev/null) \
  <&4 >"$T/tty.out" 2>&1 &
SH=$!
_pids+=("$SH")

prompts() { grep -o 'README> ' "$T/tty.out" | wc -l; }
n_prompts=0
# type LINE: sends it to the shell and waits for the next prompt
type_line() {
  n_prompts=$(prompts)
  printf '%s\n' "$1" >&4
  wait_until 120 more_prompts || fail "no prompt after '$1': $(tail -20 "$T/tty.out")"
}
more_prompts() { [ "$(prompts)" -gt "$n_prompts" ]; }
printf "PS1='README> '\n" >&4
wait_until 30 grep -q 'README> ' "$T/tty.out" || fail "no interactive shell: $(cat "$T/tty.out")"
type_line "set -m; echo job control: \$-"
grep -q "job control: .*m" "$T/tty.out" || fail "the shell has no job control: $(cat "$T/tty.out")"

boot_ready() { grep -q ':' "$W/bootstrap.txt"; }
serve_ready() { http_ok "http://127.0.0.1:$PORT/healthz"; }
i=0
while IFS= read -r line; do
  i=$((i + 1))
  line=${line//127.0.0.1:5000/127.0.0.1:$PORT}
  type_line "$line"
  case "$line" in
    *"kafka-mock > bootstrap.txt &") wait_until 60 boot_ready || fail "no bootstrap.txt: $(tail -20 "$T/tty.out")" ;;
    *"sluice serve "*"&") wait_until 60 serve_ready || fail "serve did not start: $(tail -20 "$T/tty.out")" ;;
  esac
done <<<"$block"
expect_eq "README commands typed" "$i" 6
type_line "jobs -l"
grep -q "Stopped" "$T/tty.out" && fail "a background job was stopped: $(grep Stopped "$T/tty.out")"
[ "$(grep -c 'Running' "$T/tty.out")" -ge 2 ] || fail "mock and serve are not both running: $(tail -20 "$T/tty.out")"
grep -q "Sword Purchased!" "$T/tty.out" || fail "curl got no answer: $(cat "$T/tty.out")"
expect_eq "the event printed by kcat and by tail" "$(grep -c '^{"event_type":"purchase_sword"' "$T/tty.out")" 2
grep -q "Reached end of topic events \[[0-3]\] at offset [01]: exiting" "$T/tty.out" || fail "kcat -e: $(cat "$T/tty.out")"
grep -q "Reached end of topic events (every partition)" "$T/tty.out" || fail "tail --exit did not end: $(cat "$T/tty.out")"
grep -q "done: 1 events" "$T/tty.out" || fail "stream --once: $(cat "$T/tty.out")"
expect_eq "the purchase in its table" \
  "$("$SLUICE" sql --data-dir "$W/sluice-data" --format csv -e 'select count(*) from purchases' | tail -n 1)" 1
type_line 'kill %1 %2; wait'
printf 'exit\n' >&4
wait "$SH" || true
echo "  README Kafka mode: 6 commands in an interactive shell, mock and serve ran in the background"
