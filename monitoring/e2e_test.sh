#!/usr/bin/env bash
# Monitoring end to end, on staging: Prometheus, Alertmanager and the exporters started by
# tools/staging up --monitoring; a short Scenario 1 with the markets table locked for 8 s
# in its middle; then every dashboard panel's query must return series over the run, the
# result must carry the range data and the server-side evidence, and the stall must have
# fired PmbenchDbReadP95High in Alertmanager (seen by a webhook receiver: firing, after the
# stall began; then resolved).
# Usage: e2e_test.sh PATH/TO/pmbench   (ctest sets PMBENCH_STAGING_STATE)
set -eu
PMBENCH=$1
export PMBENCH_CLI=$PMBENCH
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "${PMBENCH_STAGING_STATE:?set by ctest}"
tmp=$(mktemp -d)
receiver=""
was_running=0
[ -z "${PMBENCH_PROMETHEUS_URL:-}" ] || was_running=1
cleanup() {
  [ -z "$receiver" ] || kill "$receiver" 2>/dev/null || true
  "$root/tools/staging" down --monitoring >/dev/null 2>&1 || true
  # Monitoring someone else started comes back as it was (without this test's webhook).
  [ $was_running -eq 0 ] || "$root/tools/staging" up --monitoring >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Alertmanager's webhook lands here: one JSON notification per line.
python3 - "$tmp/port" "$tmp/notifications" <<'PY' &
import http.server, sys
port_file, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(log, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_port))
s.serve_forever()
PY
receiver=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
touch "$tmp/notifications"

"$root/tools/staging" down --monitoring >/dev/null
PMBENCH_ALERT_WEBHOOK="http://127.0.0.1:$(cat "$tmp/port")/" "$root/tools/staging" up --monitoring >/dev/null
source "$PMBENCH_STAGING_STATE"
[ -n "${PMBENCH_PROMETHEUS_URL:-}" ] || { echo "FAIL: no Prometheus in the state file after up --monitoring" >&2; exit 1; }

# The SLAs may or may not hold through the stall; the run must produce its result.
rc=0
"$PMBENCH" scenario run peak --profile smoke --duration 45s --stall 15s:8s --out "$tmp/scn.json" 2>"$tmp/scn.log" || rc=$?
[ $rc -le 1 ] && [ -s "$tmp/scn.json" ] || { tail -n 20 "$tmp/scn.log" >&2; echo "FAIL: scenario run exited $rc" >&2; exit 1; }
grep -q "dashboard queries' range data" "$tmp/scn.log" || { tail -n 5 "$tmp/scn.log" >&2; echo "FAIL: no range data stored" >&2; exit 1; }

# Every panel shows data for the run.
"$PMBENCH" monitoring panels --result "$tmp/scn.json" >"$tmp/panels.txt" \
  || { grep -B1 EMPTY "$tmp/panels.txt" >&2; echo "FAIL: dashboard panels without data" >&2; exit 1; }
tail -n 1 "$tmp/panels.txt"

python3 - "$tmp/scn.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
snap = r["pmbench_monitoring"]
empty = [p["expr"] for p in snap["panels"] if not p["series"]]
assert not empty, f"stored range data has empty queries: {empty}"
s = r["pmbench_server"][0]
assert s["top_statements"], "no top statements"
assert s["locks"]["waiting_max"] >= 1, f"the stall's lock wait was not sampled: {s['locks']}"
assert any(k.startswith("Lock:") for k in s["wait_events_backend_s"]), s["wait_events_backend_s"]
assert s["pgbouncer"]["transactions"] > 0, s["pgbouncer"]
print(f"stored: {len(snap['panels'])} queries; top statement {s['top_statements'][0]['total_ms']:.0f} ms; "
      f"lock waits up to {s['locks']['waiting_max']:.0f}; pool wait max {s['pgbouncer']['maxwait_max_s']:.2f} s")
PY

# The stall fired the read-latency alert and Alertmanager sent it on, after the stall
# began; it resolves once the 30 s window has passed the stall.
python3 - "$tmp/scn.json" "$tmp/notifications" <<'PY'
import datetime, json, re, sys, time
w = json.load(open(sys.argv[1]))["context"]["pmbench_window"]
stall = w["from"] + 15
def when(s):
    return datetime.datetime.fromisoformat(re.sub(r"\.\d+", "", s).replace("Z", "+00:00")).timestamp()
deadline = time.time() + 150
while True:
    seen = {}
    for line in open(sys.argv[2]):
        for a in json.loads(line)["alerts"]:
            if a["labels"]["alertname"] == "PmbenchDbReadP95High":
                seen.setdefault(a["status"], a)
    if ("firing" in seen and "resolved" in seen) or time.time() > deadline:
        break
    time.sleep(1)
assert "firing" in seen, f"Alertmanager sent no firing PmbenchDbReadP95High (got {list(seen)})"
assert "resolved" in seen, "PmbenchDbReadP95High never resolved"
start = when(seen["firing"]["startsAt"])
assert start >= stall, f"it fired {stall - start:.1f} s before the stall began"
print(f"PmbenchDbReadP95High fired {start - stall:.1f} s after the stall began; resolved at "
      f"{when(seen['resolved']['endsAt']) - stall:.1f} s")
PY
"$PMBENCH" monitoring alerts --wait PmbenchDbReadP95High --state resolved --timeout 10s
echo "ok: monitoring end to end"
