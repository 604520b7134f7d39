#!/usr/bin/env bash
# Runs the official Autobahn|Testsuite (sections 1-10) in either of its roles
# and checks the reports with autobahn-check. Needs a Docker engine (none runs
# on our CI, where the native runner `conformance autobahn` does the same job):
#
#   servers: fuzzingclient mode against both reference servers' /echo,
#            checked against conformance/autobahn/expected-server.json;
#   clients: fuzzingserver mode, with both adapters' Autobahn clients (the
#            autobahn-client and smol-autobahn-client examples) connecting to
#            it, checked against conformance/autobahn/expected-client.json.
#
# Usage: conformance/scripts/autobahn-docker.sh [servers|clients|both]   (default both)
# Env:   AUTOBAHN_IMAGE  the image; pinned by digest (25.10.1) by default.
#        AUTOBAHN_PORT   the fuzzingserver's port (default 9001).
set -euo pipefail

mode=${1:-both}
case $mode in
  servers | clients | both) ;;
  *) echo "usage: $0 [servers|clients|both]" >&2; exit 2 ;;
esac
image=${AUTOBAHN_IMAGE:-crossbario/autobahn-testsuite@sha256:519915fb568b04c9383f70a1c405ae3ff44ab9e35835b085239c258b6fac3074}
port=${AUTOBAHN_PORT:-9001}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$target/autobahn
rm -rf "$work" && mkdir -p "$work/config" "$work/reports"
command -v docker >/dev/null || { echo "autobahn-docker.sh: docker is not installed" >&2; exit 2; }

cd "$root"

pids=()
containers=()
cleanup() {
  local pid name
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for name in "${containers[@]}"; do docker rm -f "$name" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# Starts a reference server on a free port; sets PORT. (Not in a command
# substitution, so its PID reaches the cleanup.)
start() { # start NAME
  local out=$work/$1.out
  "$target/release/examples/$1" --addr 127.0.0.1:0 --max-connections-per-ip 10000 >"$out" 2>&1 &
  pids+=("$!")
  PORT=""
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "autobahn-docker.sh: $1 did not start:" >&2; cat "$out" >&2; return 1
}

# fuzzingclient mode: the suite tests both reference servers.
servers() {
  cargo build --release -p adapter-tokio --example tokio-server -p adapter-smol --example smol-server
  local tokio_port smol_port
  start tokio-server; tokio_port=$PORT
  start smol-server; smol_port=$PORT

  # The committed configuration, with the ports the servers really got.
  sed -e "s#ws://127.0.0.1:9011/echo#ws://127.0.0.1:$tokio_port/echo#" \
      -e "s#ws://127.0.0.1:9012/echo#ws://127.0.0.1:$smol_port/echo#" \
      conformance/autobahn/fuzzingclient.json >"$work/config/fuzzingclient.json"

  docker run --rm --network host \
    -v "$work/config:/config:ro" -v "$work/reports:/reports" \
    "$image" wstest -m fuzzingclient -s /config/fuzzingclient.json
}

# fuzzingserver mode: the suite tests both adapters' clients.
clients() {
  cargo build --release -p adapter-tokio --example autobahn-client \
    -p adapter-smol --example smol-autobahn-client
  sed -e "s#ws://127.0.0.1:9001#ws://127.0.0.1:$port#" \
    conformance/autobahn/fuzzingserver.json >"$work/config/fuzzingserver.json"

  local name=rampart-autobahn-fuzzingserver-$$
  containers+=("$name")
  docker run -d --rm --name "$name" --network host \
    -v "$work/config:/config:ro" -v "$work/reports:/reports" \
    "$image" wstest -m fuzzingserver -s /config/fuzzingserver.json >/dev/null

  # Wait (at most 60 s) until it accepts connections.
  local up=""
  for _ in $(seq 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  if [ -z "$up" ]; then
    echo "autobahn-docker.sh: the fuzzingserver did not listen on $port" >&2
    docker logs "$name" >&2 || true
    return 1
  fi

  # Each client runs every case, then asks for its report; bounded in time.
  timeout 1800 "$target/release/examples/autobahn-client" \
    --url "ws://127.0.0.1:$port" --agent rampart-tokio-client
  timeout 1800 "$target/release/examples/smol-autobahn-client" \
    --url "ws://127.0.0.1:$port" --agent rampart-smol-client
  docker stop "$name" >/dev/null || true
}

# The runs stop at the first error (set -e); the checks all run.
if [ "$mode" != clients ]; then servers; fi
if [ "$mode" != servers ]; then clients; fi
status=0
if [ "$mode" != clients ]; then
  cargo run --release -p conformance --bin autobahn-check -- \
    conformance/autobahn/expected-server.json "$work/reports/servers/index.json" || status=1
fi
if [ "$mode" != servers ]; then
  cargo run --release -p conformance --bin autobahn-check -- \
    conformance/autobahn/expected-client.json "$work/reports/clients/index.json" || status=1
fi
exit $status
