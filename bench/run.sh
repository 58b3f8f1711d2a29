#!/usr/bin/env bash
# Measures requests/s of client_credentials issuance, introspection and the JWK Set on SQLite, each as a
# ratio to GET /healthz of the same server in the same run, then the password grant for one user
# (argon2-bound) at 16 and 64 connections with its count of non-2xx answers, which must be 0: the
# sign-in throttle lets concurrent correct passwords through. Then the login and account pages at 64
# connections, with how many renders stalled (yaoshi_page_render_stalls_total from the metrics
# listener), which must be 0. Loopback only, bounded in time.
# Usage: bench/run.sh [rounds=3] [seconds=10] [connections=16]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"; seconds="${2:-10}"; conns="${3:-16}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yaoshi-target}"
# The build of the README's commands: the site, then the release binary that embeds it.
bash .ci/tools.sh build
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
bash .ci/site.sh
cargo build --release --features ssr --bin yaoshi >&2
bin="$CARGO_TARGET_DIR/release/yaoshi"

work="$(mktemp -d /tmp/yaoshi-bench.XXXXXX)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/bench.db"
port=$(( 30000 + RANDOM % 10000 ))
base="http://127.0.0.1:$port"
metrics="http://127.0.0.1:$((port + 1))/metrics"

created="$("$bin" client create --name bench --grant client_credentials --grant password --json)"
echo "bench user passphrase" | "$bin" user create benchuser --password-stdin >/dev/null
id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$created")"
secret="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$created")"
YAOSHI_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --metrics-bind "127.0.0.1:$((port + 1))" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

token="$(curl -sf "$base/o/token/" -d "grant_type=client_credentials&client_id=$id&client_secret=$secret" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
cat >"$work/cc.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&client_id=$id&client_secret=$secret"
LUA
cat >"$work/password.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=password&username=benchuser&password=bench+user+passphrase&client_id=$id&client_secret=$secret"
LUA
cat >"$work/introspect.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "token=$token&client_id=$id&client_secret=$secret"
LUA

rps() { wrk -t2 -c"$conns" -d"${seconds}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
declare -A results
for r in $(seq 1 "$rounds"); do
  results[healthz]+="$(rps "$base/healthz") "
  results[client_credentials]+="$(rps -s "$work/cc.lua" "$base/o/token/") "
  results[introspect]+="$(rps -s "$work/introspect.lua" "$base/o/introspect/") "
  results[jwks]+="$(rps "$base/o/.well-known/jwks.json") "
  echo "round $r done" >&2
done
# The password grant, once per connection count: requests/s and non-2xx answers.
for c in 16 64; do
  wrk -t2 -c"$c" -d"${seconds}s" --timeout 30s --latency -s "$work/password.lua" "$base/o/token/" \
    | awk -v c="$c" '/Requests\/sec/ {r=$2} /Non-2xx/ {e=$NF} /Socket errors/ {s=$0} / 50% / {p=$2} / 99% / {q=$2}
      END {printf "password grant, %d connections: %.0f req/s, p50 %s, p99 %s, %d non-2xx %s\n", c, r, p, q, e, s}'
done
# Pages, as a browser asks for them (the account page signed out): requests/s, latency and non-2xx,
# then the renders that stalled over these runs.
echo 'wrk.headers["Accept"] = "text/html"' >"$work/page.lua"
for path in /o/login/ /account; do
  wrk -t2 -c64 -d"${seconds}s" --timeout 30s --latency -s "$work/page.lua" "$base$path" \
    | awk -v p="$path" '/Requests\/sec/ {r=$2} /Non-2xx/ {e=$NF} /^ +Latency +[0-9]/ {m=$4} / 99% / {q=$2}
      END {printf "page %s, 64 connections: %.0f req/s, p99 %s, max %s, %d non-2xx\n", p, r, q, m, e}'
done
stalls="$(curl -sf "$metrics" | awk '/^yaoshi_page_render_stalls_total/ {print $2}')"
echo "page renders stalled: ${stalls:-unknown} (log lines: $(grep -c 'a page render stalled' "$work/server.log" || true))"
# Every answer must have been a success: wrk counts non-2xx separately; check a last one by hand.
curl -sf "$base/o/introspect/" -d "token=$token&client_id=$id&client_secret=$secret" | grep -q '"active":true'

python3 - "${results[healthz]}" "${results[client_credentials]}" "${results[introspect]}" "${results[jwks]}" <<'PY'
import statistics, sys
names = ["healthz", "client_credentials", "introspect", "jwks"]
runs = [list(map(float, a.split())) for a in sys.argv[1:]]
base = statistics.median(runs[0])
print(f"{'endpoint':<20} {'median req/s':>12} {'ratio to healthz':>17}   runs")
for name, r in zip(names, runs):
    m = statistics.median(r)
    print(f"{name:<20} {m:>12.0f} {m / base:>17.2f}   {' '.join(f'{x:.0f}' for x in r)}")
PY
[ "${stalls:-1}" = 0 ] || { echo "page renders stalled: ${stalls:-unknown}" >&2; exit 1; }
