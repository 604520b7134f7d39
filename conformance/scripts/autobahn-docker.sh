#!/usr/bin/env bash
# Runs the official Autobahn|Testsuite (fuzzingclient mode, sections 1-10)
# against both reference servers' /echo, then checks the report against
# conformance/autobahn/expected-server.json. Needs a Docker engine (none runs
# on our CI, where the native runner `conformance autobahn` does the same job).
#
# Usage: conformance/scripts/autobahn-docker.sh      (from anywhere)
# Env:   AUTOBAHN_IMAGE  the image; pinned by digest (25.10.1) by default.
set -euo pipefail

image=${AUTOBAHN_IMAGE:-crossbario/autobahn-testsuite@sha256:519915fb568b04c9383f70a1c405ae3ff44ab9e35835b085239c258b6fac3074}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$target/autobahn
rm -rf "$work" && mkdir -p "$work/config" "$work/reports"
command -v docker >/dev/null || { echo "autobahn-docker.sh: docker is not installed" >&2; exit 2; }

cd "$root"
cargo build --release -p adapter-tokio --example tokio-server -p adapter-smol --example smol-server

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Starts a reference server on a free port; prints the port.
start() { # start NAME
  local out=$work/$1.out
  "$target/release/examples/$1" --addr 127.0.0.1:0 --max-connections-per-ip 10000 >"$out" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$out"; then
      sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out"
      return 0
    fi
    sleep 0.1
  done
  echo "autobahn-docker.sh: $1 did not start:" >&2; cat "$out" >&2; return 1
}
tokio_port=$(start tokio-server)
smol_port=$(start smol-server)

# The committed configuration, with the ports the servers really got.
sed -e "s#ws://127.0.0.1:9011/echo#ws://127.0.0.1:$tokio_port/echo#" \
    -e "s#ws://127.0.0.1:9012/echo#ws://127.0.0.1:$smol_port/echo#" \
    conformance/autobahn/fuzzingclient.json >"$work/config/fuzzingclient.json"

docker run --rm --network host \
  -v "$work/config:/config:ro" -v "$work/reports:/reports" \
  "$image" wstest -m fuzzingclient -s /config/fuzzingclient.json

cargo run --release -p conformance --bin autobahn-check -- \
  conformance/autobahn/expected-server.json "$work/reports/servers/index.json"
