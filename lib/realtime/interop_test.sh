#!/usr/bin/env bash
# A client nobody here wrote: Python's websockets (Debian's python3-websockets) against
# `pmbench realtime serve` on staging — handshake, subscribe, an update caused by a bet,
# application and protocol pings, a clean close.
# Usage: interop_test.sh PATH/TO/pmbench   (ctest sets PMBENCH_STAGING_STATE)
set -eu
PMBENCH=$1
source "${PMBENCH_STAGING_STATE:?set by ctest}"
schema="t_interop_$$"
log=$(mktemp)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -X -q "$PMBENCH_STAGING_DIRECT_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT

"$PMBENCH" db migrate --schema "$schema" >/dev/null
psql -X -q "$PMBENCH_STAGING_DIRECT_URL" -c "INSERT INTO $schema.markets (id, title, category, status, creator, created_at, closes_at)
  VALUES (42, 't', 'c', 'open', 'x', now(), now() + interval '1 day')"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PMBENCH" realtime serve --listen "127.0.0.1:$port" --schema "$schema" 2>"$log" &
server=$!
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null && break
  sleep 0.1
done

# Debian's interpreter: its python3-websockets is the client under test.
PORT=$port URL="$PMBENCH_STAGING_DIRECT_URL" SCHEMA=$schema /usr/bin/python3 - <<'PY'
import asyncio, json, os, subprocess, websockets

async def main():
    uri = f"ws://127.0.0.1:{os.environ['PORT']}/realtime"
    async with websockets.connect(uri) as ws:
        await ws.send(json.dumps({"op": "subscribe", "channel": "market:42"}))
        assert json.loads(await ws.recv()) == {"op": "subscribed", "channel": "market:42", "seq": 0}
        subprocess.run(["psql", "-X", "-q", os.environ["URL"], "-c",
                        f"UPDATE {os.environ['SCHEMA']}.markets SET yes_pool = 30, no_pool = 10, volume = 40 WHERE id = 42"],
                       check=True)
        update = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert update["op"] == "update" and update["seq"] == 1, update
        assert update["data"] == {"id": 42, "yes_pool": 30, "no_pool": 10, "odds_yes": 0.75, "volume": 40,
                                  "status": update["data"].get("status", "absent")}, update
        assert update["data"]["status"] in ("open", "closed", "resolved", "cancelled"), update
        assert update["ts_ns"] > 0
        await ws.send(json.dumps({"op": "ping"}))
        assert json.loads(await ws.recv()) == {"op": "pong"}
        pong = await ws.ping()             # a protocol-level ping, answered by Beast
        await asyncio.wait_for(pong, 5)
        await ws.send("not json")
        assert json.loads(await ws.recv())["op"] == "error"
    assert ws.close_code == 1000, ws.close_code
    print("interop: handshake, subscribe, update, ping, pong, error, close: ok")

asyncio.run(main())
PY
kill -TERM "$server"
wait "$server"
server=""
grep -q "connections" "$log"
