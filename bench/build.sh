# Sourced by the benchmarks (run.sh, search.sh), from the repository root: the build of the
# README's commands, the site and then the release binary that embeds it. Sets $bin.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yaoshi-target}"
bash .ci/tools.sh build
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
bash .ci/site.sh
cargo build --release --features ssr --bin yaoshi >&2
bin="$CARGO_TARGET_DIR/release/yaoshi"
