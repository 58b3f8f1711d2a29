#!/usr/bin/env bash
# Runs every test: unit and integration tests (SQLite and a throwaway PostgreSQL), CLI tests,
# then the Playwright tests against a freshly built server. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

bash .ci/tools.sh test
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
# cargo-leptos builds with this flag; tests use it too so dependencies are built once.
export RUSTFLAGS="--cfg erase_components"
target="${CARGO_TARGET_DIR:-$root/target}"

source .ci/postgres.sh
server_pid=""
work="$(mktemp -d /tmp/yaoshi-test.XXXXXX)"
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  stop_postgres
  rm -rf "$work"
}
trap cleanup EXIT
start_postgres

echo "[test] cargo test (unit, integration on sqlite + postgres, CLI)" >&2
cargo test --features ssr --no-fail-fast 2>&1

echo "[test] building the site (cargo leptos build)" >&2
cargo leptos build 2>&1 | tail -n 3

# Fixtures for the browser tests, made with the CLI as an operator would.
export DATABASE_URL="sqlite://$work/e2e.db"
yaoshi="$target/debug/yaoshi"
for u in alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent; do
  echo "e2e-password-$u" | "$yaoshi" user create "$u" --email "$u@example.com" --password-stdin >/dev/null
done
echo "e2e-password-root" | "$yaoshi" user create root --admin --password-stdin >/dev/null
"$yaoshi" client create --name "Single Page App" --public --client-id spa \
  --redirect-uri http://127.0.0.1:8000/spa --grant authorization_code --grant refresh_token >/dev/null
echo "logout-rp-secret" | "$yaoshi" client create --name "Logout RP" --client-id logout-rp --trusted --secret-stdin \
  --redirect-uri http://127.0.0.1:8000/rp --post-logout-redirect-uri http://127.0.0.1:8000/logged-out >/dev/null
"$yaoshi" client create --name "Trusted Console" --client-id trusted --trusted \
  --redirect-uri http://127.0.0.1:8000/trusted --grant authorization_code >/dev/null

port=$(( 40000 + RANDOM % 20000 ))
LEPTOS_SITE_ROOT="$root/target/site" "$yaoshi" serve --demo --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!

echo "[test] Playwright against http://127.0.0.1:$port" >&2
cd end2end
[ -d node_modules/@playwright/test ] || npm ci --no-audit --no-fund --silent
if ! YAOSHI_BASE_URL="http://127.0.0.1:$port" npx playwright test; then
  echo "[test] server log:" >&2; tail -n 50 "$work/server.log" >&2
  exit 1
fi
