#!/usr/bin/env bash
# Instructions per request or message, counted by callgrind: a figure that
# does not drift with the machine's load, for comparing builds and peers.
#
#   bench/instructions.sh SERVER-BINARY [ARGS...] -- MODE [SIZE]
#
# MODE is http, pipelined, connections (one request per connection) or
# "ws SIZE" (bench/scripts/sequential_client.py).
# The server runs under callgrind on one worker (`--addr 127.0.0.1:PORT
# --workers 1` are appended), twice: with N and with 2N operations after the
# same start-up; the difference divided by N is the cost of one operation,
# start-up and shutdown excluded. N defaults to 2000 (INSTRUCTIONS_N).
#
#   bench/instructions.sh target/release/examples/tokio-server -- http
#   bench/instructions.sh bench/target/release/peer-server hyper -- http
#   bench/instructions.sh target/release/examples/tokio-server -- ws 32
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
server=()
while [[ $# -gt 0 && $1 != -- ]]; do server+=("$1"); shift; done
[[ $# -gt 1 ]] || { echo "usage: $0 SERVER [ARGS...] -- http|pipelined|connections|ws SIZE" >&2; exit 2; }
shift
mode=("$@")
n=${INSTRUCTIONS_N:-2000}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Total instructions of one server run serving $1 operations.
run() {
  local ops=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --callgrind-out-file="$work/out.$ops" \
    "${server[@]}" --addr "127.0.0.1:$port" --workers 1 >"$work/log.$ops" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),timeout=1).close()" 2>/dev/null && break
    sleep 0.2
  done
  python3 "$here/scripts/sequential_client.py" "$port" "$ops" "${mode[@]}"
  kill -TERM "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  callgrind_annotate "$work/out.$ops" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}'
}

# (Not in `$(...)`: that subshell would run the EXIT trap.)
run "$n" >"$work/total.1"
run $((2 * n)) >"$work/total.2"
one=$(<"$work/total.1")
two=$(<"$work/total.2")
echo "${server[*]} ${mode[*]}: $(( (two - one) / n )) instructions per operation ($one for $n, $two for $((2 * n)))"
