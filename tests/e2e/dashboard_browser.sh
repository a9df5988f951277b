#!/usr/bin/env bash
# The dashboard end to end in headless Chromium (tests/e2e/dashboard_webdriver.py over
# chromedriver): open it, send events, see the counts rise, run a query in the SQL
# console and read the result table. Saves a screenshot in the test's temp dir (path
# printed) and copies it to $BUILD/screenshots/dashboard.png when that build dir exists.
# Chromium missing is a failure with a message, never a silent pass.
source "$(dirname "$0")/../lib.sh"
# h2o 2.2 keeps per-thread recycled chunks and the context's message queue past
# h2o_context_dispose(); until tests/lsan.supp has them (asked), suppress them here as
# collector_lib.inc does.
sed '/^#/d' tests/lsan.supp > "$T/lsan.supp"
printf 'leak:h2o_mem_alloc_recycle\nleak:h2o_multithread_create_queue\n' >> "$T/lsan.supp"
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0"
command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
  fail "chromium and chromedriver are required (apt-get install -y chromium chromium-driver; scripts/deps.sh installs them)"
D=$T/data
P=$(free_port); A=$(free_port)
bg "$SLUICE" up --app apps/game.yaml --listen 127.0.0.1:$P --admin 127.0.0.1:$A --data-dir "$D" \
  --trigger 200ms --threads 1 --stream-threads 1 >"$T/up.out" 2>"$T/up.err"
UP_PID=$BG_PID
wait_until 60 http_ok "http://127.0.0.1:$A/healthz" || { cat "$T/up.err"; fail "dashboard not up"; }
wait_until 60 http_ok "http://127.0.0.1:$P/healthz" || { cat "$T/up.err"; fail "collector not up"; }

python3 "$(dirname "$0")/dashboard_webdriver.py" "http://127.0.0.1:$A/" "http://127.0.0.1:$P" \
  "$T/dashboard.png" || { tail -n 20 "$T/up.err"; fail "browser test failed"; }
if [ -d "${BUILD:-build}" ]; then
  mkdir -p "${BUILD:-build}/screenshots"
  cp "$T/dashboard.png" "${BUILD:-build}/screenshots/dashboard.png"
  echo "screenshot copied to ${BUILD:-build}/screenshots/dashboard.png"
fi

kill -TERM "$UP_PID"
rc=0; wait "$UP_PID" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/up.err"; fail "sluice up exited $rc"; }
