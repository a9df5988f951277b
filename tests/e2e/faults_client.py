#!/usr/bin/env python3
"""An honest client for the fault tests: sends POST /events with its own ids and records
which ids were acknowledged (2xx), so that an audit can check "a 2xx means stored, once".

usage: faults_client.py PORT SECONDS ACKED_FILE [PREFIX]

Until SECONDS have passed (or the file ACKED_FILE.stop exists), sends batches of 1..5
events {"event_type":"fault_probe","event_id":"PREFIX-N",...} on keep-alive connections,
reconnecting when the server is down (kill -9, restart). Each id is sent once: a request
that fails or times out is not retried with the same ids (a retry with the same id could
legitimately be stored twice, which would say nothing about the server). Ids answered
2xx are appended to ACKED_FILE (flushed per answer); "sent/acked/failed" counts go to
stdout at the end. A 2xx whose body does not say how many were stored is an error.
"""
import http.client
import json
import os
import random
import sys
import time

port, secs, acked_path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
prefix = sys.argv[4] if len(sys.argv) > 4 else "f"
deadline = time.time() + secs
rng = random.Random(os.getpid())
n = sent = acked = failed = 0
statuses = {}
conn = None
with open(acked_path, "a") as out:
    while time.time() < deadline and not os.path.exists(acked_path + ".stop"):
        k = rng.randint(1, 5)
        ids = ["%s-%d" % (prefix, n + i) for i in range(k)]
        n += k
        body = "\n".join(json.dumps({"event_type": "fault_probe", "event_id": i, "n": j})
                         for j, i in enumerate(ids)) + "\n"
        sent += k
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/events", body=body,
                         headers={"Content-Type": "application/x-ndjson"})
            r = conn.getresponse()
            data = r.read()
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if 200 <= r.status < 300:
                if json.loads(data).get("stored") != k:
                    raise SystemExit("2xx without all events stored: %r" % data)
                out.write("\n".join(ids) + "\n")
                out.flush()
                acked += k
            else:
                failed += k
                if r.status not in (503,):
                    raise SystemExit("unexpected status %d: %r" % (r.status, data))
        except (OSError, http.client.HTTPException):
            failed += k
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.02)  # the server is down: do not spin
print("sent %d acked %d failed %d statuses %s" % (sent, acked, failed, statuses))
