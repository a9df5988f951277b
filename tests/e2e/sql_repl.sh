# The interactive `sluice sql`, on a real terminal (a pty from script(1)): statements span
# lines with a continuation prompt, an error names the position and the session goes on,
# history is saved, and quit / Ctrl-D leave with status 0.
source tests/lib.sh

D=$T/data
printf '%s\n' '{"event_type":"default","Host":"a"}' '{"event_type":"default","Host":"b"}' \
  '{"event_type":"purchase_sword","strength":7,"description":"x"}' |
  "$SLUICE" produce --topic events --data-dir "$D" 2>/dev/null
"$SLUICE" stream --app apps/game.yaml --data-dir "$D" --once --quiet

repl() { # input-file → transcript (CRs removed); the exit status of sluice sql is kept
  HOME=$T script -qec "'$SLUICE' sql --data-dir '$D'; echo \"[exit \$?]\"" /dev/null < "$1" | tr -d '\r'
}

printf 'select count(*) as n\n  from default_hits;\nselect nope from nowhere;\nselect max(strength) as s from purchases;\nquit\n' > "$T/in1"
out=$(repl "$T/in1")
grep -q '^sluice> select count(\*) as n$' <<< "$out" || fail "no prompt: $out"
grep -q '^     ->   from default_hits;$' <<< "$out" || fail "no continuation prompt: $out"
grep -A3 '^     ->   from default_hits;$' <<< "$out" | grep -Eq '^ +2$' || fail "count over two lines: $out"
grep -q 'Table with name nowhere does not exist' <<< "$out" || fail "engine error missing: $out"
grep -q '^LINE 1: select nope from nowhere;' <<< "$out" || fail "error position missing: $out"
grep -A3 'select max(strength) as s from purchases;' <<< "$out" | grep -Eq '^ +7$' ||
  fail "session did not go on after the error: $out"
grep -q '^\[exit 0\]$' <<< "$out" || fail "quit did not exit 0: $out"
grep -q 'from\\040default_hits;' "$T/.sluice_history" || fail "history not saved"  # libedit escapes blanks

# Ctrl-D on an empty line leaves as quit does: typed as a person would, in tmux.
command -v tmux >/dev/null || fail "tmux is missing (scripts/deps.sh installs it)"
sock=$T/tmux.sock
tmux -S "$sock" new-session -d -x 120 -y 30 \
  "HOME='$T' '$SLUICE' sql --data-dir '$D'; echo \"[exit \$?]\"; sleep 30"
screen() { tmux -S "$sock" capture-pane -p -t 0; }
wait_until 20 bash -c "$(declare -f screen); sock='$sock'; screen | grep -q '^sluice>'" ||
  fail "no prompt in tmux: $(screen)"
tmux -S "$sock" send-keys -t 0 'select 41 + 1 as answer\;' Enter
wait_until 20 bash -c "$(declare -f screen); sock='$sock'; screen | grep -Eq '^ +42$'" ||
  fail "no answer in tmux: $(screen)"
tmux -S "$sock" send-keys -t 0 C-d
wait_until 20 bash -c "$(declare -f screen); sock='$sock'; screen | grep -q '^\[exit 0\]'" ||
  fail "Ctrl-D did not exit 0: $(screen)"
tmux -S "$sock" kill-server
echo ok
