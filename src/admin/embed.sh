#!/bin/sh
# embed.sh — regenerates assets.c from dashboard.html (run after editing the page):
#     sh src/admin/embed.sh
# The dashboard is built into the binary as one C string; tests/e2e/dashboard_api.sh
# checks that GET / serves exactly dashboard.html, so a forgotten run fails the tests.
set -eu
cd "$(dirname "$0")"
python3 - <<'PY'
src = open("dashboard.html", encoding="utf-8").read()
out = ["/* assets.c — GENERATED from dashboard.html by embed.sh; do not edit by hand. */",
       '#include "admin/admin.h"', "", "const char admin_dashboard_html[] ="]
for line in src.splitlines(keepends=True):
    esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    esc = esc.replace("??", "?\\?")  # no trigraphs
    out.append('    "' + esc + '"')
out[-1] += ";"
open("assets.c", "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
