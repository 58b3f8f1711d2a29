#!/usr/bin/env bash
# Builds the site the pages hydrate from, without cargo-leptos: the `hydrate` library for
# wasm32 (profile wasm-release), wasm-bindgen (the pinned CLI), wasm-opt (binaryen from npm),
# the stylesheet and `public/`. Writes the layout cargo-leptos writes, into $YAOSHI_SITE_DIR
# (default target/site):
#   pkg/yaoshi.js  pkg/yaoshi.wasm  pkg/yaoshi.css  favicon.svg …   (each also as .gz)
# A file is only replaced when its content changed, so an unchanged site does not make the
# server (which embeds the site, see build.rs) compile again. Used by serve.sh, test.sh and
# the benchmark; installs what it needs (`.ci/tools.sh base` and `wasm-bindgen`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
site="${YAOSHI_SITE_DIR:-$root/target/site}"
stage="$target/site-stage"
mkdir -p "$stage/bindgen" "$site/pkg"

step_start=$SECONDS
step() { printf '[site] %s (%ss)\n' "$1" "$((SECONDS - step_start))" >&2; step_start=$SECONDS; }

bash .ci/tools.sh base
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
# On a fresh machine wasm-bindgen-cli compiles for minutes: alongside the WASM build, whose
# whole-program optimisation at the end leaves a core idle.
bash .ci/tools.sh wasm-bindgen &
bindgen=$!

# Its own target directory: the server may compile at the same time (`serve.sh` does) without
# waiting for this build's lock. No RUSTFLAGS: the host build's flags must not leak in.
env -u RUSTFLAGS cargo build --lib --target wasm32-unknown-unknown --profile wasm-release \
  --no-default-features --features hydrate --quiet --target-dir "$target/wasm"
step "cargo build (wasm32, hydrate)"
wait "$bindgen"
step "wasm-bindgen-cli ready"

wasm-bindgen --target web --no-typescript --out-name yaoshi --out-dir "$stage/bindgen" \
  "$target/wasm/wasm32-unknown-unknown/wasm-release/yaoshi.wasm"
step "wasm-bindgen"

# wasm-opt takes half a minute: skip it when the input is the one optimised last time.
input_sum="$(sha256sum "$stage/bindgen/yaoshi_bg.wasm" | cut -d' ' -f1)"
if [ "$(cat "$stage/opt.input" 2>/dev/null)" != "$input_sum" ] || ! [ -f "$stage/yaoshi.opt.wasm" ]; then
  wasm-opt -Oz --strip-debug --strip-producers "$stage/bindgen/yaoshi_bg.wasm" -o "$stage/yaoshi.opt.wasm"
  echo "$input_sum" >"$stage/opt.input"
  step "wasm-opt -Oz"
else
  step "wasm-opt skipped (unchanged input)"
fi

# Copies $1 to $2 (and a gzip beside it) unless $2 already has that content.
place() {
  local src="$1" dst="$2"
  if ! cmp -s "$src" "$dst"; then
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst.tmp" && mv "$dst.tmp" "$dst"
    gzip -9 -n -c "$dst" >"$dst.gz.tmp" && mv "$dst.gz.tmp" "$dst.gz"
  fi
}
place "$stage/bindgen/yaoshi.js" "$site/pkg/yaoshi.js"
place "$stage/yaoshi.opt.wasm" "$site/pkg/yaoshi.wasm"
place style/main.css "$site/pkg/yaoshi.css"
(cd public && find . -type f) | while read -r f; do place "public/$f" "$site/${f#./}"; done
step "placed in $site ($(du -k "$site/pkg/yaoshi.wasm" | cut -f1) KiB wasm, $(du -k "$site/pkg/yaoshi.wasm.gz" | cut -f1) KiB gzip)"
