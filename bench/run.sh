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

# The two targets measured on one core rather than under load: unmasking
# throughput and head parsing against bare httparse (criterion; the harness
# reads the medians from $main_target/criterion).
micro=(--warm-up-time 1 --measurement-time 3 --noplot)
CARGO_TARGET_DIR=$main_target cargo bench --manifest-path "$repo/Cargo.toml" \
    -p proto-ws --bench ws -- "${micro[@]}" 'unmask/apply_mask/1MiB'
CARGO_TARGET_DIR=$main_target cargo bench --manifest-path "$repo/Cargo.toml" \
    -p proto-http --bench parse -- "${micro[@]}" 'browser_get/'

exec "$bench_target/release/harness" \
    --rampart-bin-dir "$main_target/release/examples" \
    --criterion-dir "$main_target/criterion" \
    --command "bench/run.sh${*:+ $*}" "$@"
