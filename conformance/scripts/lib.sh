# Shell helpers shared by the interop scripts (curl.sh, browser/run.sh).
# Source it after defining `log MSG` and `die MSG` and setting `WORK` (a scratch
# folder). Reference servers started here are killed by their own PID.

# retry N CMD...: run CMD up to N times, 5 s apart.
retry() {
  local n=$1 i; shift
  for ((i = 1; i <= n; i++)); do
    if "$@"; then return 0; fi
    log "attempt $i/$n failed: $*"
    ((i < n)) && sleep 5
  done
  return 1
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else return 1; fi
}

# apt_install PACKAGE SECONDS: Debian's package, the install bounded in time.
apt_install() {
  as_root timeout 300 apt-get update -q &&
    as_root env DEBIAN_FRONTEND=noninteractive timeout "$2" \
      apt-get install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends "$1"
}

SERVER_PID=""
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# start_server BIN ARGS...: starts a reference server on a free loopback port;
# sets SERVER_PID, HOSTPORT and URL from its one `listening on` line.
start_server() {
  local bin=$1; shift
  local out="$WORK/server.out"
  : >"$out"
  "$bin" --addr 127.0.0.1:0 "$@" >"$out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  local i line=""
  for ((i = 0; i < 100; i++)); do   # 10 s
    line="$(head -n1 "$out")"
    [[ $line == "listening on "* ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ $line != "listening on 127.0.0.1:"* ]]; then
    cat "$WORK/server.err" >&2 || true
    die "$(basename "$bin") did not print 'listening on 127.0.0.1:PORT' within 10 s (got: '$line')"
  fi
  HOSTPORT="${line#listening on }"
  URL="http://$HOSTPORT"
  log "$(basename "$bin") $* pid $SERVER_PID at $URL"
}
