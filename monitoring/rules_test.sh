#!/usr/bin/env bash
# The monitoring files are checked by Prometheus' own tool: every rule file parses
# (promtool check rules), every alert fires and stays quiet where its unit test says
# (promtool test rules), and every dashboard query is valid PromQL (each is checked as a
# recording rule).
# Usage: rules_test.sh [PATH/TO/pmbench]   (the CLI is not needed)
set -eu
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v promtool >/dev/null || { echo "promtool not found (apt-get install prometheus)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

promtool check rules "$here"/rules/*.yml
(cd "$here/tests" && promtool test rules ./*.test.yml)

python3 - "$here/grafana/dashboards/pmbench.json" "$tmp/panels.yml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = ["groups:", "  - name: dashboard-queries", "    rules:"]
n = 0
def walk(panels):
    global n
    for p in panels:
        if p.get("type") == "row":
            walk(p.get("panels", []))
            continue
        assert p.get("targets"), f"panel {p.get('title')!r} has no query"
        for t in p["targets"]:
            n += 1
            out.append(f"      - record: dashboard:query_{n}")
            out.append("        expr: " + json.dumps(t["expr"]))
walk(d["panels"])
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print(f"{n} dashboard queries")
PY
promtool check rules "$tmp/panels.yml"

# A rule that cannot fire is noise: the unit tests must fail when a threshold moves.
mkdir -p "$tmp/mutant/rules" "$tmp/mutant/tests"
sed 's/pmbench:db_request_duration_seconds:p95_30s > 0.1$/pmbench:db_request_duration_seconds:p95_30s > 0.3/' \
  "$here/rules/pmbench-alerts.yml" >"$tmp/mutant/rules/pmbench-alerts.yml"
cp "$here/rules/pmbench-recording.yml" "$tmp/mutant/rules/"
cp "$here"/tests/*.test.yml "$tmp/mutant/tests/"
if (cd "$tmp/mutant/tests" && promtool test rules ./*.test.yml >/dev/null 2>&1); then
  echo "FAIL: the alert tests pass with the DB p95 threshold at 300 ms" >&2
  exit 1
fi
echo "ok: rules, rule tests, dashboard queries"
