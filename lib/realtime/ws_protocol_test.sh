#!/usr/bin/env bash
# pmbench load ws --protocol against servers it does not own the protocol of:
#  1. a Phoenix-style server (phx_join, phx_reply, heartbeats, topics), stood up here on
#     Debian's python3-websockets, that skips one update of each topic and closes a
#     connection that stops sending heartbeats: every update counted, the gap seen, the
#     heartbeat keeping connections open (and without it, they are closed);
#  2. pmbench realtime serve described by a protocol file: the same counts as the built-in
#     protocol, side by side on the same updates.
# Usage: ws_protocol_test.sh PATH/TO/pmbench   (ctest sets PMBENCH_STAGING_STATE)
set -eu
PMBENCH=$1
source "${PMBENCH_STAGING_STATE:?set by ctest}"
schema="t_wsproto_$$"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  psql -X -q "$PMBENCH_STAGING_DIRECT_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
fail() { echo "FAIL: $*" >&2; exit 1; }
field() { python3 -c "import json,sys; print(json.load(open('$1'))['benchmarks'][0].get('$2', 'absent'))"; }

# --- 1. Phoenix-style ------------------------------------------------------------------
port=$(free_port)
PORT=$port /usr/bin/python3 - >"$tmp/phoenix.log" 2>&1 <<'PY' &
import asyncio, json, os, time, websockets

subs = {}          # websocket -> set of topics
beats = {}         # websocket -> last heartbeat (monotonic)
first_join = None  # the topics' seq skips one number 1 s after the first join

async def handler(ws, path):
    global first_join
    assert path.startswith("/socket/websocket"), path
    subs[ws] = set()
    beats[ws] = time.monotonic()
    try:
        async for text in ws:
            m = json.loads(text)
            if m["event"] == "phx_join":
                subs[ws].add(m["topic"])
                first_join = first_join or time.monotonic()
                await ws.send(json.dumps({"topic": m["topic"], "event": "phx_reply", "ref": m["ref"],
                                          "payload": {"status": "ok", "response": {}}}))
            elif m["topic"] == "phoenix" and m["event"] == "heartbeat":
                beats[ws] = time.monotonic()
                await ws.send(json.dumps({"topic": "phoenix", "event": "phx_reply", "ref": m["ref"],
                                          "payload": {"status": "ok", "response": {}}}))
    finally:
        subs.pop(ws, None)
        beats.pop(ws, None)

async def broadcast():
    seq = 0
    skipped = False
    while True:
        await asyncio.sleep(0.02)
        seq += 1
        if not skipped and first_join and time.monotonic() - first_join > 1:
            skipped = True
            continue  # this number is never sent: one loss per subscription
        now = time.monotonic()
        for ws, topics in list(subs.items()):
            if now - beats.get(ws, now) > 1.5:  # Phoenix closes a silent socket
                await ws.close(1000, "heartbeat timeout")
                continue
            for t in topics:
                msg = {"topic": t, "event": "odds", "ref": None,
                       "payload": {"seq": seq, "sent_at": time.time() * 1000, "odds_yes": 0.5}}
                try:
                    await ws.send(json.dumps(msg))
                except websockets.ConnectionClosed:
                    pass

async def main():
    async with websockets.serve(handler, "127.0.0.1", int(os.environ["PORT"])):
        print("ready", flush=True)
        await broadcast()

asyncio.run(main())
PY
pids+=($!)
for _ in $(seq 50); do grep -q ready "$tmp/phoenix.log" && break; sleep 0.1; done
grep -q ready "$tmp/phoenix.log" || fail "the Phoenix-style server did not start: $(cat "$tmp/phoenix.log")"

cat >"$tmp/phoenix.json" <<'JSON'
{"path": "/socket/websocket?vsn=2.0.0",
 "subscribe": "{\"topic\": \"{channel}\", \"event\": \"phx_join\", \"payload\": {}, \"ref\": \"{ref}\"}",
 "subscribed": {"match": {"/event": "phx_reply", "/payload/status": "ok"}, "channel": "/topic", "channel_format": "{channel}"},
 "update": {"match": {"/event": "odds"}, "channel": "/topic", "seq": "/payload/seq",
            "timestamp": "/payload/sent_at", "timestamp_unit": "ms", "data": "/payload"},
 "heartbeat": {"every_s": 0.5, "message": "{\"topic\": \"phoenix\", \"event\": \"heartbeat\", \"payload\": {}, \"ref\": \"{ref}\"}"}}
JSON
"$PMBENCH" load ws --url "ws://127.0.0.1:$port" --protocol "$tmp/phoenix.json" --channels realtime:room1,realtime:room2 \
  --connections 20 --duration 3 --threshold 'p(99)<1000ms' --out "$tmp/phoenix_run.json" 2>"$tmp/run.err" \
  || fail "load ws --protocol against the Phoenix-style server: $(cat "$tmp/run.err")"
received=$(field "$tmp/phoenix_run.json" updates_received)
lost=$(field "$tmp/phoenix_run.json" lost)
reconnects=$(field "$tmp/phoenix_run.json" reconnects)
p99=$(field "$tmp/phoenix_run.json" p99_ms)
[ "${received%.*}" -gt 1500 ] || fail "received $received updates, want > 1500 (20 x ~100/s x 3 s)"
[ "${lost%.*}" -eq 20 ] || fail "lost $lost, want 20: the one skipped number of each subscription"
[ "${reconnects%.*}" -eq 0 ] || fail "$reconnects reconnects: the heartbeat did not keep the connections open"
python3 -c "import sys; sys.exit(not (0 < $p99 < 1000))" || fail "p99 $p99 ms: latency not measured from sent_at"

# Without the heartbeat, the server closes them: the heartbeat above is what kept them open.
python3 -c "import json; p=json.load(open('$tmp/phoenix.json')); del p['heartbeat']; json.dump(p, open('$tmp/silent.json', 'w'))"
"$PMBENCH" load ws --url "ws://127.0.0.1:$port" --protocol "$tmp/silent.json" --channels realtime:room1 \
  --connections 5 --duration 3 --out "$tmp/silent_run.json" 2>"$tmp/run.err" || fail "silent run: $(cat "$tmp/run.err")"
[ "$(field "$tmp/silent_run.json" reconnects | cut -d. -f1)" -gt 0 ] || fail "no reconnect without heartbeats: the server's timeout did not fire"

# A protocol without a timestamp cannot hold a latency threshold.
python3 -c "import json; p=json.load(open('$tmp/phoenix.json')); del p['update']['timestamp']; json.dump(p, open('$tmp/untimed.json', 'w'))"
if "$PMBENCH" load ws --url "ws://127.0.0.1:$port" --protocol "$tmp/untimed.json" --channels x --threshold 'p(99)<1s' 2>"$tmp/run.err"; then
  fail "a latency threshold was taken without a timestamp"
fi
grep -q "unknown" "$tmp/run.err" || fail "the refusal does not say why: $(cat "$tmp/run.err")"
echo '{"subscribe": "no channel here", "update": {"match": {"/op": "u"}, "channel": "/c"}}' >"$tmp/bad.json"
if "$PMBENCH" load ws --protocol "$tmp/bad.json" 2>"$tmp/run.err"; then fail "a bad protocol file was taken"; fi
grep -q "bad.json: \"subscribe\"" "$tmp/run.err" || fail "a bad protocol file is not named: $(cat "$tmp/run.err")"

# --- 2. Our own server, described by a file, beside the built-in protocol ---------------
"$PMBENCH" db migrate --schema "$schema" >/dev/null
psql -X -q "$PMBENCH_STAGING_DIRECT_URL" -c "INSERT INTO $schema.markets (id, title, category, status, creator, created_at, closes_at)
  VALUES (42, 't', 'c', 'open', 'x', now(), now() + interval '1 day')"
rport=$(free_port)
"$PMBENCH" realtime serve --listen "127.0.0.1:$rport" --schema "$schema" 2>"$tmp/serve.log" &
pids+=($!)
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$rport/healthz')" 2>/dev/null && break
  sleep 0.1
done
cat >"$tmp/own.json" <<'JSON'
{"path": "/realtime",
 "subscribe": "{\"op\": \"subscribe\", \"channel\": \"{channel}\"}",
 "subscribed": {"match": {"/op": "subscribed"}, "channel": "/channel"},
 "update": {"match": {"/op": "update"}, "channel": "/channel", "seq": "/seq", "timestamp": "/ts_ns", "timestamp_unit": "ns", "data": "/data"}}
JSON
"$PMBENCH" load ws --url "ws://127.0.0.1:$rport" --protocol "$tmp/own.json" --channels market:42 --connections 10 --duration 4 \
  --out "$tmp/own_file.json" 2>"$tmp/own_file.err" &
a=$!
"$PMBENCH" load ws --url "ws://127.0.0.1:$rport" --channels market:42 --connections 10 --duration 4 \
  --out "$tmp/own_builtin.json" 2>"$tmp/own_builtin.err" &
b=$!
sleep 1.5
# 30 updates, each its own transaction, from one psql: a psql started per update took the
# 4 s window on a busy machine (250 of 300 received).
for i in $(seq 1 30); do
  echo "UPDATE $schema.markets SET yes_pool = $i, volume = $i WHERE id = 42;"
done | psql -X -q "$PMBENCH_STAGING_DIRECT_URL"
wait $a || fail "load ws with our own protocol as a file: $(cat "$tmp/own_file.err")"
wait $b || fail "load ws built in: $(cat "$tmp/own_builtin.err")"
by_file=$(field "$tmp/own_file.json" updates_received)
built_in=$(field "$tmp/own_builtin.json" updates_received)
[ "${by_file%.*}" -eq 300 ] || fail "by file: $by_file updates, want 300 (10 subscribers x 30)"
[ "$by_file" = "$built_in" ] || fail "by file $by_file updates, built in $built_in"
[ "$(field "$tmp/own_file.json" lost | cut -d. -f1)" -eq 0 ] || fail "by file: updates lost"
echo "ws protocol: Phoenix-style ($received updates, $lost lost as sent, heartbeat kept them open), own server by file = built in ($by_file): ok"
