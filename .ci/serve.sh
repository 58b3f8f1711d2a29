#!/usr/bin/env bash
# Builds the release binary and its site (installing missing tools first) and starts Yaoshi on
# http://localhost:9000 with an SQLite file (./yaoshi.db), created and migrated on first start,
# and a demo user and client. Extra arguments go to `yaoshi serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/tools.sh build
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
cargo leptos build --release
target="${CARGO_TARGET_DIR:-$PWD/target}"
export LEPTOS_SITE_ROOT="$PWD/target/site"
exec "$target/release/yaoshi" serve --demo "$@"
