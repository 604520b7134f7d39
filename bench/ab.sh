#!/usr/bin/env bash
# Measures a change: builds the reference servers of revision REV (in a
# temporary git worktree) and of this tree, and runs both under the same load,
# interleaved round by round, with medians and `vs baseline` ratios printed
# (not written to BENCHMARKS.md). Absolute figures drift with the machine and
# its load, so a change is judged against a baseline measured in the same run.
#
#   bench/ab.sh REV [HARNESS OPTIONS...]
#   bench/ab.sh HEAD~1 --scenarios keepalive,ws32 --duration 3 --rounds 5
#   bench/ab.sh main --servers rampart-tokio,baseline-tokio,fastwebsockets
#
# Default servers: rampart-tokio,baseline-tokio,rampart-smol,baseline-smol.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 REV [HARNESS OPTIONS...]" >&2; exit 2; }
rev=$1
shift
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
main_target=${CARGO_TARGET_DIR:-$repo/target}
bench_target=${BENCH_TARGET_DIR:-$repo/bench/target}
baseline_target=$main_target/baseline
servers=(-p adapter-tokio --example tokio-server -p adapter-smol --example smol-server)

tree=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git -C "$repo" worktree add --detach --force "$tree" "$rev" >/dev/null
CARGO_TARGET_DIR=$baseline_target cargo build --release --manifest-path "$tree/Cargo.toml" "${servers[@]}"
CARGO_TARGET_DIR=$main_target cargo build --release --manifest-path "$repo/Cargo.toml" "${servers[@]}"
CARGO_TARGET_DIR=$bench_target cargo build --release --manifest-path "$repo/bench/Cargo.toml" --bins

"$bench_target/release/harness" \
    --rampart-bin-dir "$main_target/release/examples" \
    --baseline-bin-dir "$baseline_target/release/examples" \
    --servers rampart-tokio,baseline-tokio,rampart-smol,baseline-smol \
    --out - --command "bench/ab.sh $rev${*:+ $*}" "$@"
