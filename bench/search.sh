#!/usr/bin/env bash
# The admin user search at scale (bench/README.md, "User search"): a fresh SQLite database
# migrated by the CLI, filled with N generated users (default 100000), an admin client with
# admin:users:read, the server on loopback, and R timed searches per needle (default 50)
# through GET /api/v1/users?search=. Prints a markdown table of latencies.
# Usage: bench/search.sh [users=100000] [rounds=50]
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-100000}"; rounds="${2:-50}"
# shellcheck source=build.sh
source bench/build.sh

work="$(mktemp -d /tmp/yaoshi-search.XXXXXX)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/search.db" YAOSHI_LOG=warn
created="$("$bin" client create --name "search bench" --admin-scope admin:users:read --json)"
id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$created")"
secret="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$created")"
echo "[search] filling $users users" >&2
filled="$(python3 bench/search.py fill "$work/search.db" "$users")"
sample="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["sample"])' <<<"$filled")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
token="$(curl -fsS -u "$id:$secret" -d grant_type=client_credentials "$base/o/token/" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
echo "### User search: $(python3 -c 'import json,sys; print(json.load(sys.stdin)["users"])' <<<"$filled") users on SQLite, $rounds requests per needle"
echo
python3 bench/search.py run "$base" "$token" "$rounds" "$sample"
