#!/usr/bin/env bash
# Builds the release binary and the site (installing missing tools first) and starts
# Yaoshi on http://localhost:9000 with an SQLite file (./yaoshi.db), created and migrated on
# first start, and a demo user and client. Extra arguments go to `yaoshi serve`.
# First run on 2 cores: about 15 minutes of compiling (894 s measured); afterwards seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
# The server compiles while the site builds (each in its own target directory), and then reads
# the site from target/site; a binary to deploy embeds it (`cargo build --release` after the
# site, as `.ci/test.sh` does).
cargo build --release --features ssr --bin yaoshi 2>&1 | sed -u 's/^/[server] /' >&2 &
server_build=$!
# The site installs its own tools (`.ci/tools.sh base`, wasm-bindgen-cli while it compiles).
bash .ci/site.sh
wait "$server_build"
[ -x "$CARGO_TARGET_DIR/release/yaoshi" ] || { echo "[serve] the server build failed" >&2; exit 1; }
echo "[serve] built in $((SECONDS - started))s" >&2
export LEPTOS_SITE_ROOT="${YAOSHI_SITE_DIR:-$PWD/target/site}"
exec "$CARGO_TARGET_DIR/release/yaoshi" serve --demo "$@"
