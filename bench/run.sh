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

# Instructions per operation under callgrind (bench/instructions.sh), one
# connection, one operation at a time: the figure that does not drift with
# the machine's load. Skipped (and said so in the output) without valgrind.
instructions=$(mktemp)
trap 'rm -f "$instructions"' EXIT
if command -v valgrind >/dev/null; then
  examples=$main_target/release/examples
  peer=$bench_target/release/peer-server
  while IFS='|' read -r name mode server; do
    # $server and $mode split into words on purpose ("peer-server hyper", "ws 32").
    # shellcheck disable=SC2086
    count=$(INSTRUCTIONS_N=1000 "$repo/bench/instructions.sh" $server -- $mode |
      sed -n 's/.*: \([0-9]*\) instructions per operation.*/\1/p')
    printf '%s\t%s\t%s\n' "$name" "$mode" "$count" >>"$instructions"
  done <<EOF
rampart-tokio|http|$examples/tokio-server
rampart-smol|http|$examples/smol-server
hyper|http|$peer hyper
httparse|http|$peer httparse
rampart-tokio|pipelined|$examples/tokio-server
rampart-smol|pipelined|$examples/smol-server
hyper|pipelined|$peer hyper
httparse|pipelined|$peer httparse
rampart-tokio|ws 32|$examples/tokio-server
rampart-smol|ws 32|$examples/smol-server
fastwebsockets|ws 32|$peer fastwebsockets
tokio-tungstenite|ws 32|$peer tokio-tungstenite
rampart-tokio|ws 16384|$examples/tokio-server
rampart-smol|ws 16384|$examples/smol-server
fastwebsockets|ws 16384|$peer fastwebsockets
tokio-tungstenite|ws 16384|$peer tokio-tungstenite
EOF
fi

"$bench_target/release/harness" \
    --rampart-bin-dir "$main_target/release/examples" \
    --criterion-dir "$main_target/criterion" \
    --instructions "$instructions" \
    --command "bench/run.sh${*:+ $*}" "$@"
