#!/usr/bin/env bash
# Builds the release binary with its site embedded (installing missing tools first) and starts
# Yaoshi on http://localhost:9000 with an SQLite file (./yaoshi.db), created and migrated on
# first start, and a demo user and client. Extra arguments go to `yaoshi serve`.
# First run on 2 cores: about 15 minutes of compiling; afterwards seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
# The site installs its own tools (`.ci/tools.sh base`, wasm-bindgen-cli while it compiles).
bash .ci/site.sh
mark=$SECONDS
cargo build --release --features ssr --bin yaoshi
echo "[serve] cargo build --release ($((SECONDS - mark))s); starting after $((SECONDS - started))s in all" >&2
exec "$CARGO_TARGET_DIR/release/yaoshi" serve --demo "$@"
