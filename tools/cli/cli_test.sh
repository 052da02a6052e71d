#!/usr/bin/env bash
# End-to-end checks of the commands as users run them: help, usage errors, bad input,
# secrets, and seeding the embedded staging. ctest runs it with the staging fixture.
# Usage: cli_test.sh PATH/TO/pmbench
set -u
PMBENCH=$1
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "${PMBENCH_STAGING_STATE:?set by ctest}"
passed=0
failed=0
out=$(mktemp)
err=$(mktemp)
tmp=$(mktemp -d)
chmod 755 "$tmp"  # the postgres user must reach the staging folders made below
schema="t_cli_$$"
cleanup() {
  rm -rf "$out" "$err" "$tmp"
  for s in "$schema" "${schema}_load" "${schema}_foreign" "${schema}_insert" "${schema}_multirow" "${schema}_copy"; do
    psql -X -q "$PMBENCH_STAGING_DIRECT_URL" -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1
  done
}
trap cleanup EXIT

# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND, checks its exit status.
expect() {
  local want=$1 what=$2
  shift 3
  "$@" >"$out" 2>"$err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what: exit $got, want $want"
    sed 's/^/  | /' "$err" | head -5
  fi
}
# check DESCRIPTION CONDITION...: a test(1)-style or grep condition.
check() {
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

expect 0 "pmbench --help" -- "$PMBENCH" --help
check "help names the commands" grep -q "db migrate|seed|reset" "$out"
expect 0 "db --help" -- "$PMBENCH" db --help
check "db help documents --scale" grep -q -- "--scale" "$out"
expect 0 "results --help" -- "$PMBENCH" results --help
expect 2 "no command" -- "$PMBENCH"
expect 2 "unknown command" -- "$PMBENCH" frobnicate
expect 2 "unknown option" -- "$PMBENCH" db seed --bogus
expect 2 "bad number" -- "$PMBENCH" db seed --scale lots
expect 2 "scale out of range" -- "$PMBENCH" db seed --scale 0

expect 1 "unreachable database" -- "$PMBENCH" db migrate --schema "$schema" \
  --database "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2"
check "unreachable: one line" test "$(wc -l <"$err")" -eq 1
check "unreachable: no password" bash -c "! grep -q s3cret '$err'"
expect 1 "remote write without consent" -- "$PMBENCH" db seed \
  --database "postgresql://u:s3cret@db.example.com/x"
check "remote: says how to allow it" grep -q -- "--allow-remote-writes" "$err"
check "remote: no password" bash -c "! grep -q s3cret '$err'"
expect 1 "malformed URL" -- "$PMBENCH" db migrate --database "postgresql://u:s3cret@[::1/x"
check "malformed URL: no password" bash -c "! grep -q s3cret '$err'"
expect 1 "bad schema name" -- "$PMBENCH" db reset --schema "public"

expect 0 "seed staging" -- \
  "$PMBENCH" db seed --schema "$schema" --scale 0.01 --seed 3
check "seed reports rows/s" grep -q "rows/s" "$out"
check "seed prints progress" grep -q "bets .*100%" "$err"
check "seeded bets" test "$(psql -X -At "$PMBENCH_STAGING_DIRECT_URL" -c "SELECT count(*) FROM $schema.bets")" = 1000
expect 0 "reset" -- "$PMBENCH" db reset --schema "$schema" --database "$PMBENCH_STAGING_DIRECT_URL"
check "reset empties" test "$(psql -X -At "$PMBENCH_STAGING_DIRECT_URL" -c "SELECT count(*) FROM $schema.bets")" = 0

psql -X -q "$PMBENCH_STAGING_DIRECT_URL" -c "CREATE SCHEMA ${schema}_foreign; CREATE TABLE ${schema}_foreign.keep (x int); INSERT INTO ${schema}_foreign.keep VALUES (1)"
expect 1 "reset refuses a foreign schema" -- "$PMBENCH" db reset --schema "${schema}_foreign" --database "$PMBENCH_STAGING_DIRECT_URL"
expect 1 "seed refuses a foreign schema" -- "$PMBENCH" db seed --scale 0.01 --schema "${schema}_foreign" --database "$PMBENCH_STAGING_DIRECT_URL"
check "foreign schema untouched" test "$(psql -X -At "$PMBENCH_STAGING_DIRECT_URL" -c "SELECT count(*) FROM ${schema}_foreign.keep")" = 1

echo '{"context":{}, "benchmarks": [' >"$tmp/broken_bench.json"
expect 2 "merge of a malformed file" -- "$PMBENCH" results merge --out "$tmp/merged.json" "$tmp/broken_bench.json"
check "malformed file named" grep -q "broken_bench" "$err"
check "nothing half-written" test ! -e "$tmp/merged.json"
expect 2 "summary of a missing file" -- "$PMBENCH" results summary "$tmp/nope.json"

# votes: generate, tally a file (order-independent), load into staging, tally from it.
expect 0 "votes gen" -- "$PMBENCH" votes gen --proposal 7 --voters 30 --count 400 --seed 5 --bad 0.1 \
  --output "$tmp/ballots.jsonl" --stakes "$tmp/stakes.csv"
check "gen wrote 400 lines" test "$(wc -l <"$tmp/ballots.jsonl")" -eq 400
expect 0 "votes gen is deterministic" -- "$PMBENCH" votes gen --proposal 7 --voters 30 --count 400 --seed 5 --bad 0.1
check "same seed, same file" cmp -s "$out" "$tmp/ballots.jsonl"
expect 0 "votes tally" -- "$PMBENCH" votes tally --input "$tmp/ballots.jsonl" --proposal 7 --window 1000:99999999
cp "$out" "$tmp/tally.json"
check "tally is JSON with a root" grep -q '"ballots_root":"[0-9a-f]\{64\}"' "$tmp/tally.json"
check "tally saw every line" test "$(grep -o '"\(counted\|rejected\)":{[^}]*}' "$tmp/tally.json" | grep -o ':[0-9]\+' | tr -d : | awk '{s += $1} END {print s}')" -eq 400
shuf "$tmp/ballots.jsonl" >"$tmp/shuffled.jsonl"
expect 0 "tally of shuffled lines" -- "$PMBENCH" votes tally --input "$tmp/shuffled.jsonl" --proposal 7 --window 1000:99999999 --threads 1
check "order does not matter" cmp -s "$out" "$tmp/tally.json"
expect 0 "stake-weighted tally" -- "$PMBENCH" votes tally --input - --proposal 7 --weights stake --stakes "$tmp/stakes.csv" <"$tmp/ballots.jsonl"
check "no_stake counted" grep -q '"no_stake":[1-9]' "$out"
expect 2 "tally without --proposal" -- "$PMBENCH" votes tally --input "$tmp/ballots.jsonl"
expect 2 "tally of a missing file" -- "$PMBENCH" votes tally --input "$tmp/none.jsonl" --proposal 7
check "missing file: one line" test "$(wc -l <"$err")" -eq 1
echo "not,a,stake" >"$tmp/bad.csv"
expect 2 "bad stakes file" -- "$PMBENCH" votes tally --input "$tmp/ballots.jsonl" --proposal 7 --weights stake --stakes "$tmp/bad.csv"
check "bad stakes line named" grep -q "stakes line 1" "$err"
expect 2 "bad window" -- "$PMBENCH" votes tally --input "$tmp/ballots.jsonl" --proposal 7 --window 9:1
expect 2 "bad threshold" -- "$PMBENCH" votes tally --input "$tmp/ballots.jsonl" --proposal 7 --threshold 10001
expect 0 "votes load" -- "$PMBENCH" votes load --input "$tmp/ballots.jsonl" --schema "$schema"
check "load reports skipped lines" grep -q "malformed lines skipped" "$out"
expect 0 "tally from the database" -- "$PMBENCH" votes tally --database "$PMBENCH_STAGING_DIRECT_URL" --schema "$schema" --proposal 7 --window 1000:99999999
check "database tally counts the same votes" test "$(grep -o '"counted":{[^}]*}' "$out")" = "$(grep -o '"counted":{[^}]*}' "$tmp/tally.json")"
check "database tally has the same root" test "$(grep -o '"ballots_root":"[0-9a-f]*"' "$out")" = "$(grep -o '"ballots_root":"[0-9a-f]*"' "$tmp/tally.json")"

# events: generate, ingest with each sink, verify; tampering is caught; rejects are kept.
expect 0 "events gen --help names the default program" -- "$PMBENCH" events gen --help
check "default program id printed" grep -q "default [1-9A-HJ-NP-Za-km-z]\{32,44\})" "$out"
expect 0 "events gen" -- "$PMBENCH" events gen --count 1500 --markets 12 --seed 4 --dup-ratio 0.05 \
  --reorder-window 10 --malformed-ratio 0.02 --failed-tx-ratio 0.02 --foreign-ratio 0.05 --output "$tmp/events.jsonl"
for sink in insert multirow copy; do
  expect 0 "ingest --sink $sink" -- "$PMBENCH" ingest --input "$tmp/events.jsonl" --schema "${schema}_$sink" --sink $sink --batch-size 100
  check "$sink: summary read every line" grep -q '"read":1500' "$out"
  expect 0 "verify after $sink" -- "$PMBENCH" ingest verify --input "$tmp/events.jsonl" --schema "${schema}_$sink"
  check "$sink: sync_accuracy 1" grep -q '"sync_accuracy":1.000000' "$out"
done
check "rejects stored with reason and raw text" test "$(psql -X -At "$PMBENCH_STAGING_DIRECT_URL" -c "SELECT count(*) FROM ${schema}_copy.ingest_rejects WHERE reason <> '' AND raw <> ''")" -gt 0
expect 0 "re-ingest applies nothing" -- "$PMBENCH" ingest --input - --schema "${schema}_copy" --source "$tmp/events.jsonl" <"$tmp/events.jsonl"
check "re-ingest: applied 0" grep -q '"applied":0' "$out"
expect 0 "resume skips the checkpointed lines" -- "$PMBENCH" ingest --input "$tmp/events.jsonl" --schema "${schema}_copy" --resume
check "resume: skipped 1500" grep -q '"skipped":1500' "$out"
psql -X -q "$PMBENCH_STAGING_DIRECT_URL" -c "UPDATE ${schema}_copy.markets SET no_pool = no_pool + 1 WHERE id = 2"
expect 1 "verify catches a tampered market" -- "$PMBENCH" ingest verify --input "$tmp/events.jsonl" --schema "${schema}_copy"
check "verify names the market" grep -q 'market 2' "$out"
expect 2 "ingest: unknown sink" -- "$PMBENCH" ingest --input "$tmp/events.jsonl" --sink bulk
expect 2 "ingest: --max-batch below --batch-size" -- "$PMBENCH" ingest --input "$tmp/events.jsonl" --batch-size 500 --max-batch 100
expect 2 "ingest: missing input" -- "$PMBENCH" ingest --input "$tmp/none.jsonl"
expect 1 "ingest: unreachable database" -- "$PMBENCH" ingest --input "$tmp/events.jsonl" --give-up-after 1 \
  --database "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=1"
check "ingest unreachable: no password" bash -c "! grep -q s3cret '$err'"

# load db: a short real run through the pooler, thresholds deciding the exit status.
expect 0 "load --help" -- "$PMBENCH" load --help
check "load help documents --threshold" grep -q -- "--threshold" "$out"
expect 2 "load: unknown scenario" -- "$PMBENCH" load db --scenario nope
expect 2 "load: bad duration" -- "$PMBENCH" load db --duration 3x
expect 2 "load: rate and vus together" -- "$PMBENCH" load db --vus 3 --rate 5
expect 2 "load: bad threshold" -- "$PMBENCH" load db --threshold 'p(95)<<3'
# An unknown metric is refused at once, before any connection, naming the valid ones.
started=$(date +%s%N)
expect 2 "load: unknown threshold metric" -- "$PMBENCH" load db --threshold 'nosuch:p(95)<1ms'
check "unknown metric: refused within a second" test $(( ($(date +%s%N) - started) / 1000000 )) -lt 1000
check "unknown metric: valid ones listed" grep -q "unknown metric 'nosuch'.*valid: latency, service" "$err"
expect 2 "load ws: unknown threshold metric" -- "$PMBENCH" load ws --threshold 'nosuch:p(95)<1ms'
expect 2 "load chain: unknown threshold metric" -- "$PMBENCH" load chain --rpc http://127.0.0.1:1 --threshold 'nosuch:avg<1s'
expect 1 "load: unreachable" -- "$PMBENCH" load db --schema "$schema" --duration 1 \
  --database "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2"
check "load unreachable: one line, no password" bash -c "[ \$(grep -c . '$err') -le 2 ] && ! grep -q s3cret '$err'"
expect 1 "load: remote refused" -- "$PMBENCH" load db --database "postgresql://u:s3cret@192.0.2.1/x"
expect 0 "load: seed its schema" -- "$PMBENCH" db seed --schema "${schema}_load" --scale 0.05
expect 0 "load: markets at 200/s passes its threshold" -- "$PMBENCH" load db --schema "${schema}_load" \
  --database "$PMBENCH_STAGING_URL" --clients 50 --rate 200 --duration 1 --threshold 'p(95)<100ms' \
  --threshold 'success:rate>0.99' --out "$tmp/load.json"
check "load: JSON names the run and its kinds" \
  python3 -c "import json,sys; b=json.load(open('$tmp/load.json'))['benchmarks']; sys.exit(not (b[0]['name']=='load_db/markets' and b[0]['ok']==200 and b[1]['name']=='load_db/markets/list_markets'))"
check "load: offered and achieved rates named as such" \
  python3 -c "import json,sys; b=json.load(open('$tmp/load.json'))['benchmarks'][0]; sys.exit(not (b['offered_requests_per_s']==200 and 150 < b['achieved_requests_per_s'] <= 200))"
check "load: thresholds in the results" \
  python3 -c "import json,sys; bars=json.load(open('$tmp/load.json'))['pmbench_bars']; sys.exit(not (len(bars)==2 and all(b['pass'] for b in bars)))"
# Live metrics: a scrape during the run reads the engine's series, in a format promtool accepts.
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PMBENCH" load db --schema "${schema}_load" --database "$PMBENCH_STAGING_URL" --clients 10 --rate 100 --duration 4 \
  --metrics-listen "127.0.0.1:$mport" --out "$tmp/live.json" 2>"$tmp/live.err" &
live=$!
for _ in $(seq 30); do
  sleep 0.2
  python3 -c "import urllib.request; open('$tmp/scrape.txt','wb').write(urllib.request.urlopen('http://127.0.0.1:$mport/metrics').read())" 2>/dev/null \
    && grep -q 'outcome="ok"} [1-9]' "$tmp/scrape.txt" && break
done
wait "$live"
check "load: live metrics during the run" grep -q 'pmbench_load_requests_total{system="db",role="db",kind="list_markets",outcome="ok"} [1-9]' "$tmp/scrape.txt"
check "load: the latency histogram is scraped" grep -q 'pmbench_load_request_duration_seconds_bucket{system="db",role="db",kind="list_markets",le="0.1"}' "$tmp/scrape.txt"
if command -v promtool >/dev/null; then
  check "load: promtool accepts the exposition" bash -c "promtool check metrics <'$tmp/scrape.txt' >/dev/null 2>&1"
fi
expect 2 "load: bad --metrics-listen" -- "$PMBENCH" load db --metrics-listen nonsense
expect 1 "load: --metrics-listen on a port in use" -- "$PMBENCH" load db --schema "${schema}_load" \
  --database "$PMBENCH_STAGING_URL" --duration 1 --metrics-listen "127.0.0.1:$PMBENCH_STAGING_BOUNCER_PORT"
check "port in use: one line naming the address" bash -c "[ \$(grep -c . '$err') -eq 1 ] && grep -q '127.0.0.1:$PMBENCH_STAGING_BOUNCER_PORT' '$err'"
expect 2 "ingest verify takes no --metrics-listen" -- "$PMBENCH" ingest verify --input "$tmp/none" --metrics-listen 127.0.0.1:0
expect 1 "monitoring panels: Prometheus unreachable" -- "$PMBENCH" monitoring panels --prometheus http://127.0.0.1:1 \
  --dashboard "$ROOT/monitoring/grafana/dashboards/pmbench.json" --last 1m
check "unreachable Prometheus: one line naming it" bash -c "[ \$(grep -c . '$err') -eq 1 ] && grep -q 'http://127.0.0.1:1/' '$err'"
expect 2 "monitoring panels: a dashboard that is not there" -- "$PMBENCH" monitoring panels --prometheus http://127.0.0.1:1 \
  --dashboard "$tmp/nosuch.json"
expect 1 "exporter pgbouncer: unreachable pooler" -- "$PMBENCH" exporter pgbouncer --listen 127.0.0.1:0 \
  --pooler "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=1"
check "unreachable pooler: one line, no password" bash -c "[ \$(grep -c . '$err') -eq 1 ] && ! grep -q s3cret '$err'"
# Shards: two processes each take half of one run, start together, and merge exactly.
expect 2 "load: --shard out of range" -- "$PMBENCH" load db --shard 2/2
expect 2 "load: --shard malformed" -- "$PMBENCH" load db --shard half
expect 2 "load: --start-at malformed" -- "$PMBENCH" load db --start-at tomorrow
expect 1 "load: --start-at already past" -- "$PMBENCH" load db --schema "${schema}_load" --database "$PMBENCH_STAGING_URL" \
  --duration 1 --clients 4 --shard 0/2 --start-at 2020-01-01T00:00:00Z
check "past start: one line saying so" bash -c "[ \$(grep -c . '$err') -le 3 ] && grep -q 'start-at passed' '$err'"
at=$(python3 -c 'import time; print(f"{time.time() + 2:.3f}")')
for i in 0 1; do
  "$PMBENCH" load db --schema "${schema}_load" --database "$PMBENCH_STAGING_URL" --clients 10 --rate 200 --duration 2 \
    --threshold 'requests:count<300' --shard "$i/2" --start-at "$at" --out "$tmp/shard$i.json" 2>"$tmp/shard$i.err" &
  pids[$i]=$!
done
wait "${pids[0]}"; rc0=$?
wait "${pids[1]}"; rc1=$?
check "shards: each passes requests:count<300 alone" test "$rc0" -eq 0 -a "$rc1" -eq 0
# A shard failing a threshold alone still exits 0: the merge judges the run (a pod's exit 1
# would fail the Indexed Job before the merge could).
expect 0 "shard: its own failed threshold is not the run's verdict" -- "$PMBENCH" load db --schema "${schema}_load" \
  --database "$PMBENCH_STAGING_URL" --clients 4 --rate 100 --duration 1 --threshold 'requests:count<10' --shard 0/2 \
  --out "$tmp/alone.json"
check "shard: says what failed on it alone" bash -c "grep -q 'FAILED requests:count<10' '$err' && grep -q 'this shard alone failed' '$err'"
expect 1 "shards: the merged run fails it (400 requests)" -- "$PMBENCH" results merge --out "$tmp/merged.json" "$tmp/shard1.json" "$tmp/shard0.json"
check "merge: verdict first, each shard's beside it" bash -c "head -n 1 '$err' | grep -q '^FAIL: 2 shards merged' && grep -q 'each shard alone: pass pass' '$err'"
check "merge: the schedule's 400 requests, counted once" \
  python3 -c "import json,sys; b=json.load(open('$tmp/merged.json'))['benchmarks'][0]; s=[json.load(open('$tmp/shard%d.json' % i))['benchmarks'][0] for i in (0,1)]; sys.exit(not (b['ok']+b['dropped']+b['failed']+b['unfinished']==400 and b['ok']==s[0]['ok']+s[1]['ok'] and b['offered_requests_per_s']==200 and s[0]['offered_requests_per_s']==100))"
check "merge: started together, clocks read against the database" \
  python3 -c "import json,sys; m=json.load(open('$tmp/merged.json'))['context']['pmbench_merge']; sys.exit(not (m['shards']==2 and m['start_spread_ms'] < 50 and m['clock_skew_ms'] is not None and m['clock_skew_ms'] < 5))"
check "merge: no password in the plan" bash -c "! grep -q \"$(python3 -c "import urllib.parse,os; print(urllib.parse.urlparse(os.environ.get('PMBENCH_STAGING_URL','')).password or 'no-password-here-xyz')")\" '$tmp/merged.json'"
expect 2 "merge: a missing shard" -- "$PMBENCH" results merge "$tmp/shard0.json"
check "missing shard: named" grep -q "shard(s) 1 of 2 missing" "$err"
expect 2 "merge: a shard twice" -- "$PMBENCH" results merge "$tmp/shard0.json" "$tmp/shard0.json"
expect 2 "scenario run: --shard without a platform" -- "$PMBENCH" scenario run peak --shard 0/2
check "scenario shard: says how to start one" grep -q "pmbench scenario platform NAME --state FILE" "$err"
expect 2 "scenario platform: no --state" -- "$PMBENCH" scenario platform peak
echo '{not json' > "$tmp/notstate.json"
expect 2 "scenario run: a platform file that is not one" -- "$PMBENCH" scenario run peak --platform "$tmp/notstate.json" --shard 0/2
expect 1 "scenario platform: never overwrites a file that is not its state" -- "$PMBENCH" scenario platform peak --state "$tmp/notstate.json"
check "scenario platform: the file is kept" grep -q "not json" "$tmp/notstate.json"
# A state whose process is gone (this machine, a pid that cannot exist), and one of another scenario.
python3 -c "
import json, socket
st = {'scenario': 'peak', 'schema': 'scenario_peak_1', 'fanout': {'host': '127.0.0.1', 'port': 1}, 'hot_markets': 50,
      'pools_before': [[i, 100, 100] for i in range(1, 51)], 'max_bet_id': 0, 'max_market_id': 0,
      'host': socket.gethostname(), 'pid': 4194305}
json.dump(st, open('$tmp/stale.json', 'w')); st['scenario'] = 'creation'; json.dump(st, open('$tmp/other.json', 'w'))"
expect 1 "scenario run: a stale platform" -- "$PMBENCH" scenario run peak --profile smoke --platform "$tmp/stale.json" --shard 0/2
check "stale platform: named" grep -q "process 4194305 is gone" "$err"
expect 2 "scenario run: another scenario's platform" -- "$PMBENCH" scenario run peak --platform "$tmp/other.json" --shard 0/2
expect 2 "scenario run: a sharded stall" -- "$PMBENCH" scenario run peak --platform "$tmp/stale.json" --shard 0/2 --stall 1s:1s
expect 2 "scenario run: more shards than a role's users" -- "$PMBENCH" scenario run peak --profile smoke --platform "$tmp/stale.json" --shard 0/6
check "too many shards: the role named" grep -q "role create has 5 users or wallets: too few for 6 shards" "$err"
expect 2 "load chain: fewer wallets than shards" -- "$PMBENCH" load chain --rpc http://127.0.0.1:1 --wallets 2 --shard 0/4

# A platform's own schema is checked, never migrated: what is missing is named in one line.
expect 1 "load db: a schema without the suite's tables" -- "$PMBENCH" load db --schema public --database "$PMBENCH_STAGING_URL" --duration 1
check "schema check: one line naming what is missing" bash -c "grep -c . '$err' | grep -q 2 && grep -q \"schema 'public' lacks what load db --scenario markets needs: table markets, table users\" '$err'"
# load http and api serve: usage errors before anything connects, then a real round trip.
expect 0 "load http --help" -- "$PMBENCH" load http --help
check "load http help documents request files" grep -q -- "--requests FILE" "$out"
expect 2 "load http: no URL" -- "$PMBENCH" load http
expect 2 "load http: not http" -- "$PMBENCH" load http ftp://127.0.0.1/x
expect 2 "load http: password in the URL" -- "$PMBENCH" load http http://u:s3cret@127.0.0.1:1/
check "load http: the password is not echoed" bash -c "! grep -q s3cret '$err'"
expect 2 "load http: remote without consent" -- "$PMBENCH" load http http://192.0.2.1/
check "load http: says how to allow it" grep -q -- "--allow-remote" "$err"
printf '{"url": "http://127.0.0.1:1/a"}\n{"url": 7}\n' >"$tmp/bad.jsonl"
expect 2 "load http: a bad request line" -- "$PMBENCH" load http --requests "$tmp/bad.jsonl"
check "load http: names the file and line" grep -q "bad.jsonl:2: " "$err"
expect 2 "load http: a missing request file" -- "$PMBENCH" load http --requests "$tmp/nosuch.jsonl"
expect 1 "load http: nothing listening" -- "$PMBENCH" load http http://127.0.0.1:1/ --rate 10 --duration 1
check "load http: refused in one line" bash -c "[ \$(grep -c . '$err') -ge 1 ] && grep -q 'connect: Connection refused' '$err'"
expect 0 "api serve --help" -- "$PMBENCH" api serve --help
expect 2 "api serve: unknown cache" -- "$PMBENCH" api serve --cache memcached://x --listen 127.0.0.1:0 --feed-database none
expect 1 "api serve: port in use" -- "$PMBENCH" api serve --listen "127.0.0.1:$PMBENCH_STAGING_BOUNCER_PORT" --feed-database none
check "api serve: names the address" bash -c "[ \$(grep -c . '$err') -eq 1 ] && grep -q '127.0.0.1:$PMBENCH_STAGING_BOUNCER_PORT' '$err'"
aport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PMBENCH" api serve --listen "127.0.0.1:$aport" --schema "${schema}_load" --cache memory 2>"$tmp/api.err" &
api=$!
for _ in $(seq 50); do grep -q serving "$tmp/api.err" 2>/dev/null && break; sleep 0.1; done
printf '{"name": "list", "url": "http://127.0.0.1:%s/api/markets?limit=5", "expect_status": 200, "expect_body": "{\\"markets\\":[{"}\n{"name": "nope", "url": "http://127.0.0.1:%s/api/markets/999999999", "expect_status": 404}\n' "$aport" "$aport" >"$tmp/api.jsonl"
expect 0 "load http drives api serve" -- "$PMBENCH" load http --requests "$tmp/api.jsonl" --rate 100 --connections 10 \
  --duration 1 --threshold 'success:rate>=1' --threshold 'list:p(95)<100ms' --out "$tmp/http.json"
check "load http: JSON per request name with status classes" \
  python3 -c "import json,sys; b=json.load(open('$tmp/http.json'))['benchmarks']; sys.exit(not (b[0]['name']=='load_http' and b[0]['ok']==100 and b[1]['name']=='load_http/list' and b[2]['status_4xx']==b[2]['ok']>0))"
kill -TERM "$api"
wait "$api"
check "api serve: stops on SIGTERM and counts what it served" grep -q "100 requests: 2xx" "$tmp/api.err"
expect 0 "results summary of a load run" -- "$PMBENCH" results summary "$tmp/load.json"
check "summary gives the verdict first" bash -c "head -n 2 '$out' | grep -q 'pmbench: PASS'"
expect 1 "load: a failing threshold exits 1" -- "$PMBENCH" load db --schema "${schema}_load" \
  --database "$PMBENCH_STAGING_URL" --scenario mix --vus 20 --duration 1 --threshold 'place_bet:p(99)<1us'
check "load: the failure is named" grep -q "FAILED place_bet:p(99)<1us" "$err"
check "load: the mix's bets verified" bash -c "! grep -q 'pools' '$err'"

# load ws and realtime serve: usage errors and refusals (the protocol runs in realtime tests).
expect 0 "load ws --help" -- "$PMBENCH" load ws --help
expect 0 "realtime --help" -- "$PMBENCH" realtime --help
expect 2 "load ws: not loopback" -- "$PMBENCH" load ws --url ws://192.0.2.1:80
check "load ws: says how to permit it" grep -q "add --allow-remote" "$err"
expect 2 "load ws: a name, not an address" -- "$PMBENCH" load ws --url ws://fanout.example:80 --allow-remote
expect 1 "load ws: IPv6 loopback" -- "$PMBENCH" load ws --url 'ws://[::1]:1' --connections 2 --duration 1
check "load ws: connected to ::1" grep -q "cannot connect to ::1:1" "$err"
expect 2 "load ws: bad channel" -- "$PMBENCH" load ws --channels bets
expect 2 "load ws: bad url" -- "$PMBENCH" load ws --url http://127.0.0.1:80
expect 1 "load ws: nobody listening" -- "$PMBENCH" load ws --url ws://127.0.0.1:1 --connections 2 --duration 1
check "load ws: the failure is named" grep -q "cannot connect to 127.0.0.1:1" "$err"
expect 2 "realtime serve: bad port" -- "$PMBENCH" realtime serve --listen 127.0.0.1:99999
expect 1 "realtime serve: unreachable database" -- "$PMBENCH" realtime serve \
  --database "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2"
check "realtime serve: no password" bash -c "! grep -q s3cret '$err'"
# The pooler's URL where a LISTEN is needed: refused at start, not a server that never sends.
expect 1 "realtime serve: a pooled URL" -- timeout 30 "$PMBENCH" realtime serve --listen 127.0.0.1:0 \
  --database "$PMBENCH_STAGING_URL"
check "pooled URL: one line naming the direct URL" bash -c "[ \$(wc -l <'$err') -eq 1 ] && grep -q 'give the direct URL' '$err'"

# load chain and live ingest: usage errors, refusals, and a short real run on the local ledger.
expect 0 "load chain --help" -- "$PMBENCH" load chain --help
check "chain help documents --rpc" grep -q -- "--rpc URL" "$out"
expect 2 "load chain: bad rate" -- "$PMBENCH" load chain --rate fast
expect 2 "load chain: bad mix" -- "$PMBENCH" load chain --mix bets:8,swaps:1
expect 2 "load chain: bad commitment" -- "$PMBENCH" load chain --commitment rooted
expect 2 "load chain: --ws not a WebSocket URL" -- "$PMBENCH" load chain --rpc http://127.0.0.1:1 \
  --ws "https://127.0.0.1:2/?api-key=s3cret"
check "--ws: named, no key" bash -c "grep -q 'ws:// or wss://' '$err' && ! grep -q s3cret '$err'"
expect 2 "load chain: --ws not loopback" -- "$PMBENCH" load chain --rpc http://127.0.0.1:1 --ws wss://api.devnet.solana.com
expect 2 "load chain: --ws without subscribe" -- "$PMBENCH" load chain --rpc http://127.0.0.1:1 --confirm poll \
  --ws ws://127.0.0.1:2
expect 2 "load chain: not loopback" -- "$PMBENCH" load chain --rpc https://api.devnet.solana.com
check "not loopback: named" grep -q "not on loopback; pass --allow-remote" "$err"
expect 1 "load chain: unreachable RPC" -- "$PMBENCH" load chain --rpc "http://127.0.0.1:1/?api-key=s3cret" --duration 1
check "unreachable RPC: one line" test "$(wc -l <"$err")" -le 2
check "unreachable RPC: named" grep -q "RPC unreachable" "$err"
check "unreachable RPC: no API key" bash -c "! grep -q s3cret '$err'"
echo '[1,2,3]' >"$tmp/key.json"
expect 1 "load chain: malformed keypair" -- "$PMBENCH" load chain --keypair "$tmp/key.json" --duration 1
check "malformed keypair: named" grep -q "not a keypair" "$err"
expect 2 "ingest: bad ws url" -- "$PMBENCH" ingest --input ws://127.0.0.1:99999 --schema "$schema"
expect 2 "ingest: bad carrier" -- "$PMBENCH" ingest --input - --carrier smoke --schema "$schema"
expect 2 "ingest: verify of a live input" -- "$PMBENCH" ingest verify --input ws://127.0.0.1:1
if [ -n "${PMBENCH_LEDGER_URL:-}" ]; then
  expect 0 "load chain: 2 s at 120/min passes its thresholds" -- "$PMBENCH" load chain --rate 120/min --duration 2s \
    --threshold 'success:rate>0.99' --threshold 'avg<5s' --out "$tmp/chain.json"
  check "chain result is benchmark JSON" grep -q '"name": "load_chain/bets"' "$tmp/chain.json"
  check "chain: every transaction confirmed" grep -q '"success_ratio": 1' "$tmp/chain.json"
  expect 1 "load chain: a failing threshold exits 1" -- "$PMBENCH" load chain --rate 120/min --duration 1s \
    --threshold 'confirm:p(50)<1us'
  check "chain: the failure is named" grep -q "FAILED confirm:p(50)<1us" "$err"

  # A sharded scenario end to end: one process serves the platform, two shards load it,
  # the merge times every bet on both shards' screens, SIGTERM stops it and cleans up.
  cat >"$tmp/tiny.json" <<'JSON'
{"name": "tiny", "seconds": 4, "hot_markets": 4, "roles": [
  {"name": "browse", "action": "browse", "users": 8, "think_s": 0.2},
  {"name": "bet", "action": "bets", "users": 4, "think_s": 0.5}]}
JSON
  "$PMBENCH" scenario platform "$tmp/tiny.json" --state "$tmp/platform.json" 2>"$tmp/platform.err" &
  platform_pid=$!
  for _ in $(seq 90); do [ -s "$tmp/platform.json" ] && break; sleep 1; done
  check "scenario platform: writes its state once it serves" test -s "$tmp/platform.json"
  pschema=$(python3 -c "import json; print(json.load(open('$tmp/platform.json'))['schema'])" 2>/dev/null)
  at=$(python3 -c 'import time; print(f"{time.time() + 8:.3f}")')
  for i in 0 1; do
    "$PMBENCH" scenario run "$tmp/tiny.json" --platform "$tmp/platform.json" --shard "$i/2" --start-at "$at" \
      --out "$tmp/scn$i.json" 2>"$tmp/scn$i.err" &
    spids[$i]=$!
  done
  wait "${spids[0]}"; s0=$?
  wait "${spids[1]}"; s1=$?
  check "scenario shards: both ran" test "$s0" -eq 0 -a "$s1" -eq 0
  expect 0 "scenario shards: merged" -- "$PMBENCH" results merge --out "$tmp/scn.json" "$tmp/scn0.json" "$tmp/scn1.json"
  # Subscriber i watches market 1 + i % 4: each shard watches two of the four markets, so
  # only the merge can put every bet on every screen.
  check "scenario merge: every confirmed bet stored and on every screen" python3 -c "
import json, sys
w = json.load(open('$tmp/scn.json'))['benchmarks'][0]
own = sum(json.load(open('$tmp/scn%d.json' % i))['benchmarks'][0]['click_complete'] for i in (0, 1))
sys.exit(not (w['bets_confirmed'] > 0 and w['bets_stored'] == w['bets_confirmed'] and
              w['click_complete'] == w['bets_confirmed'] and w['click_incomplete'] == 0 and own < w['bets_confirmed']))"
  kill -TERM "$platform_pid"
  wait "$platform_pid"
  check "scenario platform: SIGTERM stops it, exit 0" test $? -eq 0
  check "scenario platform: its state removed" test ! -e "$tmp/platform.json"
  check "scenario platform: its schema dropped" test -n "$pschema" -a \
    "$(psql -X -At "$PMBENCH_STAGING_DIRECT_URL" -c "SELECT count(*) FROM pg_namespace WHERE nspname = '$pschema'")" = 0
elif command -v node >/dev/null; then
  failed=$((failed + 1))
  echo "FAIL: node is here but staging has no local ledger: $(cat "$(dirname "$PMBENCH_STAGING_STATE")/ledger.error" 2>/dev/null)"
else
  echo "note: no node, so no local ledger in staging; the real chain runs were not made"
fi

# compare and report: exit codes, and a page with no scripts or network.
runs() {  # runs NAME TIME...: a Google Benchmark file with one repetition per time
  local name=$1 sep="" t
  shift
  printf '{"context":{"host_name":"h"},"benchmarks":['
  for t in "$@"; do
    printf '%s{"name":"%s","run_name":"%s","run_type":"iteration","real_time":%s,"cpu_time":%s,"time_unit":"ns"}' "$sep" "$name" "$name" "$t" "$t"
    sep=,
  done
  printf ']}'
}
runs BM_Q 100 101 99 98 102 >"$tmp/base.json"
runs BM_Q 120 121 119 122 123 >"$tmp/slow.json"
runs BM_Q 99 100 101 102 98 >"$tmp/same.json"
expect 1 "compare flags a regression" -- "$PMBENCH" compare "$tmp/base.json" "$tmp/slow.json"
check "regression row" grep -q "regressed" "$out"
expect 0 "compare of noise" -- "$PMBENCH" compare "$tmp/base.json" "$tmp/same.json"
expect 0 "compare --format json" -- "$PMBENCH" compare "$tmp/base.json" "$tmp/same.json" --format json
check "json verdict counts" grep -q '"unchanged": 2' "$out"
# The default profile's 3 repetitions: +20%, no overlap, must be flagged (one-sided U).
runs BM_Q 100 102 101 >"$tmp/base3.json"
runs BM_Q 120 122 121 >"$tmp/slow3.json"
expect 1 "compare: 3 vs 3, +20%, no overlap" -- "$PMBENCH" compare "$tmp/base3.json" "$tmp/slow3.json"
# Broken (3): a benchmark that errored in one repetition of NEW, or vanished from it.
printf '{"context":{},"benchmarks":[{"name":"BM_Q","run_name":"BM_Q","run_type":"iteration","real_time":100,"cpu_time":100,"time_unit":"ns"},{"name":"BM_Q","run_name":"BM_Q","run_type":"iteration","error_occurred":true,"error_message":"threshold failed: boom","real_time":0,"cpu_time":0,"time_unit":"ns"}]}' >"$tmp/errored.json"
expect 3 "compare: errored in NEW" -- "$PMBENCH" compare "$tmp/base3.json" "$tmp/errored.json"
check "errored: named with its message" grep -q "errored in 1 of 2 NEW repetitions: threshold failed: boom" "$out"
runs BM_Other 100 101 99 >"$tmp/other.json"
expect 3 "compare: vanished in NEW" -- "$PMBENCH" compare "$tmp/base3.json" "$tmp/other.json"
check "vanished: named" grep -q "BM_Q .*removed" "$out"
expect 1 "results summary: an errored repetition fails" -- "$PMBENCH" results summary "$tmp/errored.json"
check "summary names the errored repetition" grep -q "BM_Q in 1 of 2 repetitions: threshold failed: boom" "$out"
expect 0 "results history" -- "$PMBENCH" results history "$tmp/base3.json"
check "history line" grep -q '"metrics":{"BM_Q":{"real_time":101' "$out"
expect 0 "report --markdown" -- "$PMBENCH" report --markdown "$tmp/base3.json" -o "$tmp/BASELINE.md"
check "markdown table" grep -q '| `BM_Q` | 101ns (100ns–102ns) |' "$tmp/BASELINE.md"
expect 2 "compare of a missing file" -- "$PMBENCH" compare "$tmp/base.json" "$tmp/none.json"
echo '{"benchmarks": 3}' >"$tmp/bad.json"
expect 2 "compare of a non-benchmark file" -- "$PMBENCH" compare "$tmp/bad.json" "$tmp/base.json"
check "bad file: one line" test "$(wc -l <"$err")" -eq 1
expect 0 "report" -- "$PMBENCH" report "$tmp/slow.json" --baseline "$tmp/base.json" -o "$tmp/report.html"
check "report draws SVG" grep -q "<svg" "$tmp/report.html"
check "report has no scripts" bash -c "! grep -qi '<script' '$tmp/report.html'"
external_urls() { grep -o "https\?://[^' \"]*" "$1" | grep -v '^http://www.w3.org/2000/svg$' | wc -l; }
check "report loads nothing" test "$(external_urls "$tmp/report.html")" -eq 0

# Every tool from any directory, and through a symlink to it or to the checkout.
ln -s "$ROOT/tools/pmbench" "$tmp/pmbench-link"
ln -s "$ROOT" "$tmp/checkout-link"
expect 0 "tools/pmbench through a symlink, from /" -- env -C / PMBENCH_CLI="$PMBENCH" "$tmp/pmbench-link" --help
check "symlinked pmbench: its help" grep -q "db migrate|seed|reset" "$out"
for tool in bench compare pmbench pr-check report staging test; do
  expect 0 "tools/$tool --help through a symlinked checkout, from /" -- \
    env -C / PMBENCH_CLI="$PMBENCH" "$tmp/checkout-link/tools/$tool" --help
  check "tools/$tool --help: no CMake error" bash -c "! grep -qi 'cmake' '$err'"
done
expect 0 "tools/compare from /: relative paths are the caller's" -- \
  env -C "$tmp" PMBENCH_CLI="$PMBENCH" "$tmp/checkout-link/tools/compare" base.json same.json
expect 2 "PMBENCH_CLI that is not a binary" -- env PMBENCH_CLI=/nonexistent "$ROOT/tools/pmbench" --help
check "bad PMBENCH_CLI: named" grep -q "PMBENCH_CLI: /nonexistent is not an executable" "$err"

# tools/staging's own refusals: a port in use, a data directory it cannot own.
staging="$ROOT/tools/staging"
expect 2 "staging: unknown command" -- "$staging" launch
expect 0 "staging --help" -- "$staging" --help
expect 4 "staging: port in use" -- env PMBENCH_STAGING_CONTROL="$tmp/ctl" PMBENCH_STAGING_DIR="$tmp/data" \
  PMBENCH_STAGING_PORT="$PMBENCH_STAGING_PG_PORT" "$staging" up
check "port in use: named" grep -q "port $PMBENCH_STAGING_PG_PORT .* in use" "$err"
check "port in use: no cluster left behind" test ! -e "$tmp/data/pgdata"
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$tmp/private/data" && chmod 700 "$tmp/private" && chown postgres "$tmp/private/data"
  expect 4 "staging: data dir out of the postgres user's reach" -- env PMBENCH_STAGING_CONTROL="$tmp/ctl" \
    PMBENCH_STAGING_DIR="$tmp/private/data" "$staging" up
  check "reach problem named" grep -q "cannot write $tmp/private/data" "$err"
  mkdir -p "$tmp/rootowned"
  expect 4 "staging: data dir owned by another user" -- env PMBENCH_STAGING_CONTROL="$tmp/ctl" \
    PMBENCH_STAGING_DIR="$tmp/rootowned" "$staging" up
  check "owner named" grep -q "owned by root" "$err"
fi
# A ledger that cannot start: the database side still comes up, and the reason is kept for
# the commands that need the ledger. (A second small cluster: root only, like the above.)
if [ "$(id -u)" -eq 0 ] && command -v node >/dev/null && [ -n "${PMBENCH_LEDGER_URL:-}" ]; then
  broken=(env PMBENCH_STAGING_CONTROL="$tmp/ctl2" PMBENCH_STAGING_DIR="$tmp/data2" PMBENCH_LEDGER_SLOT_MS=abc)
  expect 0 "staging: up with a ledger that cannot start" -- "${broken[@]}" "$staging" up
  check "broken ledger: warned with its reason" grep -q "ledger failed to start: .*--slot-ms" "$err"
  check "broken ledger: reason kept" grep -q -- "--slot-ms" "$tmp/ctl2/ledger.error"
  check "broken ledger: no URL recorded" grep -qx "PMBENCH_LEDGER_URL=" "$tmp/ctl2/state.env"
  expect 1 "load chain: no ledger in staging" -- env PMBENCH_STAGING_STATE="$tmp/ctl2/state.env" "$PMBENCH" load chain --duration 1
  check "no ledger: the reason is passed on" grep -q "no local ledger in staging (the local Solana ledger failed to start: .*--slot-ms" "$err"
  # Its state file lost while both servers run: status and url say what to do, up recovers.
  port2=$(sed -n 's/^PMBENCH_STAGING_PG_PORT=//p' "$tmp/ctl2/state.env")
  redis2=$(sed -n 's/^PMBENCH_REDIS_URL=//p' "$tmp/ctl2/state.env")
  rm -f "$tmp/ctl2/state.env"
  expect 3 "staging: status without its state file" -- "${broken[@]}" "$staging" status
  check "stateless status: the real port" grep -q "postgresql: running on 127.0.0.1:$port2\$" "$out"
  check "stateless status: what to do" grep -q "tools/staging up rewrites it" "$out"
  expect 3 "staging: url without its state file" -- "${broken[@]}" "$staging" url
  check "stateless url: what to do" grep -q "state file .* is gone: tools/staging up" "$err"
  expect 0 "staging: up recovers a lost state file" -- "${broken[@]}" "$staging" up
  check "recovered: the running server's port" grep -qx "PMBENCH_STAGING_PG_PORT=$port2" "$tmp/ctl2/state.env"
  check "recovered: left to its user" grep -qx "PMBENCH_STAGING_STARTED_BY=user" "$tmp/ctl2/state.env"
  check "recovered: the running Redis, not a second one" grep -qx "PMBENCH_REDIS_URL=$redis2" "$tmp/ctl2/state.env"
  expect 0 "staging: status after recovery" -- "${broken[@]}" "$staging" status
  expect 0 "staging: down --purge of the second cluster" -- "${broken[@]}" "$staging" down --purge
  check "second cluster: nothing left running" bash -c "! pgrep -f '$tmp/[d]ata2' >/dev/null"
  [ -z "$redis2" ] || check "second cluster: its Redis stopped" bash -c "! pgrep -f '[r]edis-server ${redis2#redis://}' >/dev/null"
fi
expect 3 "staging: PostgreSQL missing" -- env PMBENCH_PG_BIN=/nonexistent PMBENCH_STAGING_CONTROL="$tmp/ctl" "$staging" up
expect 1 "staging: remote unreachable" -- env STAGING_DATABASE_URL="postgresql://u:s3cret@127.0.0.1:1/x" \
  PMBENCH_STAGING_CONTROL="$tmp/ctl" "$staging" up
check "remote unreachable: no password" bash -c "! grep -q s3cret '$err'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
