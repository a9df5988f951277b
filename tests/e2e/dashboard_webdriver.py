#!/usr/bin/env python3
"""dashboard_webdriver.py — drives the sluice dashboard in headless Chromium over the
W3C WebDriver protocol (chromedriver), with nothing but the Python 3 standard library.

Usage: dashboard_webdriver.py ADMIN_URL COLLECTOR_URL SCREENSHOT.png

Opens the dashboard, sends events to the collector, waits until the page shows the
counts rise (log, committed rows, the tables panel, the latest events), runs a query in
the SQL console and reads the result table, checks an error is shown for a bad query,
and saves a screenshot. Exits 0 on success, 1 with a message on the first failure.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        raise RuntimeError(f"{method} {url}: HTTP {e.code}: {detail[:500]}")


def wait_for(what, fn, secs=60):
    """Polls fn() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + secs
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # the page may be between renders
            last = e
        time.sleep(0.1)
    fail(f"timed out waiting for {what} (last: {last!r})")


class Browser:
    def __init__(self, driver_url, session):
        self.base = f"{driver_url}/session/{session}"

    def cmd(self, method, path, body=None):
        return http(method, self.base + path, body).get("value")

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        v = self.cmd("POST", "/element", {"using": "css selector", "value": css})
        if not isinstance(v, dict) or not (v.get(ELEMENT) or v.get("ELEMENT")):
            raise RuntimeError(f"no element {css}: {v!r}")
        return v.get(ELEMENT) or v.get("ELEMENT")

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)


def number(text):
    try:
        return int((text or "").replace(",", ""))
    except ValueError:
        return -1


def main():
    if len(sys.argv) != 4:
        fail("usage: dashboard_webdriver.py ADMIN_URL COLLECTOR_URL SCREENSHOT.png")
    admin, collector, shot = sys.argv[1:]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        fail("Chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver)")

    port = free_port()
    profile = tempfile.mkdtemp(prefix="sluice-chromium-")
    log = open(os.path.join(profile, "chromedriver.log"), "w")
    proc = subprocess.Popen([driver, f"--port={port}", "--allowed-ips=127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT)
    driver_url = f"http://127.0.0.1:{port}"
    session = None
    try:
        wait_for("chromedriver", lambda: http("GET", driver_url + "/status", timeout=2)["value"]["ready"], 30)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}/profile",
                "--window-size=1400,1700"]}}}}
        session = http("POST", driver_url + "/session", caps, timeout=60)["value"]["sessionId"]
        b = Browser(driver_url, session)
        b.cmd("POST", "/url", {"url": admin})
        wait_for("the page to go live", lambda: b.text("#conn") == "live", 30)
        hwm0 = number(b.text("#kpi-hwm"))
        if hwm0 < 0:
            fail(f"events counter unreadable: {b.text('#kpi-hwm')!r}")

        # Send events as a client would: 12 swords, 8 guild joins.
        sent = {"purchase_sword": 12, "join_guild": 8}
        for path, n in (("/purchase_a_sword", 12), ("/join_a_guild", 8)):
            for _ in range(n):
                with urllib.request.urlopen(collector + path, timeout=10) as r:
                    if r.status != 200:
                        fail(f"GET {path}: {r.status}")
        total = sum(sent.values())

        # The counts rise on the page.
        wait_for("the log counter to rise", lambda: number(b.text("#kpi-hwm")) >= hwm0 + total)
        wait_for("the committed counter to rise", lambda: number(b.text("#kpi-committed")) >= hwm0 + total)
        wait_for("the lag to reach 0", lambda: b.text("#kpi-lag") == "0")
        rows = wait_for("the tables panel", lambda: b.js(
            "return [...document.querySelectorAll('#tables-body tr')].map(r => [...r.children].map(c => c.textContent));"))
        tables = {r[0]: number(r[1]) for r in rows}
        if tables.get("events", -1) < total or tables.get("purchases", -1) < 12:
            fail(f"tables panel shows {tables}")
        wait_for("the requests by status", lambda: "200" in (b.text("#status-bars") or ""))
        wait_for("latest events", lambda: "join_guild" in (b.text("#latest") or ""))
        wait_for("the rate chart legend", lambda: "purchase_sword" in (b.text("#rate-legend") or ""))

        # The SQL console: type a query, run it, read the result table.
        box = b.find("#sql-input")
        b.cmd("POST", f"/element/{box}/clear", {})
        b.cmd("POST", f"/element/{box}/value",
              {"text": "select event_type, count(*) as n from events group by 1 order by 1"})
        b.cmd("POST", f"/element/{b.find('#sql-run')}/click", {})
        wait_for("the query result", lambda: "row" in (b.text("#sql-status") or ""), 30)
        result = b.js("return [...document.querySelectorAll('#sql-result tr')].map(r => [...r.children].map(c => c.textContent));")
        if result[0] != ["event_type", "n"]:
            fail(f"result header {result[0]}")
        got = {r[0]: number(r[1]) for r in result[1:]}
        for t, n in sent.items():
            if got.get(t, 0) < n:
                fail(f"console result {got}, expected at least {sent}")
        if b.js("return document.getElementById('sql-chart').dataset.kind;") != "bar":
            fail("no bar chart for a label + number result")
        # keep the result of the good query on the screenshot; check errors via a second run
        shot_dir = os.path.dirname(os.path.abspath(shot))
        os.makedirs(shot_dir, exist_ok=True)
        png = base64.b64decode(b.cmd("GET", "/screenshot"))
        if png[:8] != b"\x89PNG\r\n\x1a\n":
            fail("screenshot is not a PNG")
        with open(shot, "wb") as f:
            f.write(png)

        b.js("document.getElementById('sql-input').value = arguments[0];", "select * from no_such_table")
        b.cmd("POST", f"/element/{b.find('#sql-run')}/click", {})
        err = wait_for("the error message", lambda: b.text("#sql-error"), 30)
        if "no_such_table" not in err:
            fail(f"error shown: {err!r}")
        print(f"ok: dashboard counted {total} events, console returned {got}")
        print(f"screenshot: {shot}")
    finally:
        if session:
            try:
                http("DELETE", f"{driver_url}/session/{session}", timeout=30)
            except Exception:
                pass
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
