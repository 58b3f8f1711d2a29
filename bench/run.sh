#!/usr/bin/env bash
# The benchmark (bench/README.md): builds the release site and server, then for SQLite (and
# PostgreSQL when a private test cluster can be started) starts the server on a fresh database,
# provisions a client and accounts through the CLI, and drives load on loopback with wrk
# (bench/lua/) and the code-flow generator (bench/flow.py), alternating endpoints each round.
# Prints, in markdown, the WASM and binary sizes and one table per database: req/s (median of
# the rounds, with their range), the ratio to GET /healthz, p50/p99, errors (non-2xx or
# malformed answers, socket errors), server CPU ms per request and RSS, beside the targets.
# Every run is bounded in time; exits 1 when a page render stalled.
# Usage: bench/run.sh [rounds=3] [seconds=10]
#   BENCH_BACKENDS=sqlite,postgres (default)   BENCH_CONNECTIONS="16 64" (default)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"; seconds="${2:-10}"
backends="${BENCH_BACKENDS:-sqlite,postgres}"
export BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-16 64}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
# shellcheck source=build.sh
source bench/build.sh
site="${YAOSHI_SITE_DIR:-$PWD/target/site}"

work="$(mktemp -d /tmp/yaoshi-bench.XXXXXX)"
server=""
# shellcheck source=../.ci/postgres.sh
source .ci/postgres.sh
stop_server() {
  [ -n "$server" ] || return 0
  kill "$server" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}
trap 'stop_server; stop_postgres; rm -rf "$work"' EXIT

# One password for every account. The password-grant runs sign in as a fresh account each
# (bench/bench.py, stuck_sign_in): the ceiling's, one per round and connection count, one per
# round beside client_credentials; and as many spares, for refresh tokens when the main
# account cannot sign in.
export BENCH_PASSWORD="bench user passphrase"
n=$(wc -w <<<"$BENCH_CONNECTIONS")
accounts=$(( 1 + rounds * (2 * n + 1) ))

# Runs the whole table against a fresh database at $1 (a URL), labelled $2; a failure sets
# $failed (called plainly, so that `set -e` still stops at a failing step).
failed=0
bench_backend() {
  local label="$2" status=0
  export DATABASE_URL="$1" YAOSHI_LOG=warn
  echo "[bench] $label: provisioning through the CLI" >&2
  local created
  created="$("$bin" client create --name bench --redirect-uri https://app.example/cb --grant authorization_code \
    --grant refresh_token --grant client_credentials --grant password --json)"
  BENCH_CLIENT_ID="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$created")"
  BENCH_CLIENT_SECRET="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$created")"
  export BENCH_CLIENT_ID BENCH_CLIENT_SECRET BENCH_USERNAME=bench BENCH_USERS=""
  "$bin" user create bench --password-stdin >/dev/null <<<"$BENCH_PASSWORD"
  for i in $(seq 1 "$accounts"); do
    "$bin" user create "bench-$i" --password-stdin >/dev/null <<<"$BENCH_PASSWORD"
    BENCH_USERS+="bench-$i "
  done

  # A django-oauth-toolkit client with a Django-hashed secret, imported (when the test venv
  # has Django: `.ci/tools.sh system`): the row beside DOT's ~2 client_credentials/s.
  unset BENCH_DJANGO_CLIENT_ID BENCH_DJANGO_CLIENT_SECRET
  local py="${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/py/bin/python"
  if "$py" -c 'import oauth2_provider' 2>/dev/null \
    && timeout 300 "$py" -W ignore tests/django/build_fixture.py "$work/django-$label" >/dev/null 2>&1 \
    && "$bin" import django --source "sqlite://$work/django-$label/dot.sqlite3" --json >/dev/null; then
    BENCH_DJANGO_CLIENT_ID=cc-hashed
    BENCH_DJANGO_CLIENT_SECRET="$(python3 -c 'import json,sys
print(next(a["secret"] for a in json.load(sys.stdin)["apps"] if a["client_id"] == "cc-hashed"))' \
      <"$work/django-$label/fixture.json")"
    export BENCH_DJANGO_CLIENT_ID BENCH_DJANGO_CLIENT_SECRET
  else
    echo "[bench] $label: no imported Django client (Django is not in the tools venv)" >&2
  fi

  local port=$(( 30000 + RANDOM % 10000 ))
  export BENCH_BASE="http://127.0.0.1:$port" BENCH_METRICS="http://127.0.0.1:$((port + 1))/metrics"
  "$bin" serve --bind "127.0.0.1:$port" --metrics-bind "127.0.0.1:$((port + 1))" \
    >"$work/server-$label.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "$BENCH_BASE/healthz" >/dev/null && break; sleep 0.1; done
  export BENCH_PID="$server" BENCH_ROUNDS="$rounds" BENCH_SECONDS="$seconds"
  python3 bench/bench.py run "$label" || status=$?
  stop_server
  python3 bench/bench.py log "$work/server-$label.log"
  if [ "$status" != 0 ]; then
    failed=1
    echo "[bench] $label: server log (last lines):" >&2
    tail -n 20 "$work/server-$label.log" >&2
  fi
}

echo "## Benchmark: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%d)"
echo
echo "$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $rounds rounds of ${seconds} s, connections: $BENCH_CONNECTIONS"
echo
python3 bench/bench.py sizes "$site" "$bin"
case ",$backends," in *,sqlite,*)
  bench_backend "sqlite://$work/bench.db" sqlite ;;
esac
case ",$backends," in *,postgres,*)
  if start_postgres; then
    "$PG_BIN/psql" "$YAOSHI_TEST_POSTGRES" -qc "CREATE DATABASE yaoshi_bench" >/dev/null
    bench_backend "${YAOSHI_TEST_POSTGRES%/*}/yaoshi_bench" postgres
  else
    printf '### postgres\n\nskipped: no PostgreSQL test cluster could be started (.ci/postgres.sh)\n\n'
  fi ;;
esac
exit "$failed"
