#!/usr/bin/env bash
# Builds Rampart's two reference servers and the bench workspace (peers and
# load client), runs every server in turn under the same load, and writes
# BENCHMARKS.md at the repository root. Extra arguments go to the harness
# (e.g. --duration 3 --rounds 1; see bench/src/bin/harness.rs).
#
#   bench/run.sh
#   CARGO_TARGET_DIR=/work/target-bench bench/run.sh --rounds 5
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
main_target=${CARGO_TARGET_DIR:-$repo/target}
bench_target=${BENCH_TARGET_DIR:-$repo/bench/target}

CARGO_TARGET_DIR=$main_target cargo build --release --manifest-path "$repo/Cargo.toml" \
    -p adapter-tokio --example tokio-server -p adapter-smol --example smol-server
CARGO_TARGET_DIR=$bench_target cargo build --release --manifest-path "$repo/bench/Cargo.toml" --bins

exec "$bench_target/release/harness" \
    --rampart-bin-dir "$main_target/release/examples" \
    --command "bench/run.sh${*:+ $*}" "$@"
