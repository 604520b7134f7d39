#!/usr/bin/env bash
# curl interop: the curl command-line client against both reference servers
# (tokio and smol) on loopback. Each check prints one line; exits non-zero if
# any check fails, or if curl cannot be installed (apt-get, retried).
#
# Usage: conformance/curl.sh   (from anywhere; builds the servers itself)
# Environment: CARGO_TARGET_DIR (as cargo).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
START=$SECONDS

log() { printf '[curl] %s\n' "$*"; }
die() { printf '[curl] FAIL %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib.sh
source "$HERE/scripts/lib.sh"


if ! command -v curl >/dev/null; then
  log "curl missing: installing Debian's curl"
  retry 3 apt_install curl 300 || die "could not install curl"
fi
command -v curl >/dev/null || die "curl is still missing"
command -v python3 >/dev/null || die "python3 is missing (needed to validate /stats JSON)"
log "$(curl --version | head -n1)"
INSTALLED=$SECONDS

# --- servers, killed by their own PID on any exit -----------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rampart-curl.XXXXXX")"
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- checks ---------------------------------------------------------------------------
FAILS=0
RT=""
pass() { printf '[curl %s] ok   %s\n' "$RT" "$*"; }
fail() { printf '[curl %s] FAIL %s\n' "$RT" "$*"; FAILS=$((FAILS + 1)); }

# c ARGS...: curl, bounded, loopback only, no proxy, never reading ~/.curlrc.
c() { curl -q --noproxy '*' --silent --show-error --connect-timeout 5 --max-time 10 "$@"; }

# Test bodies: every byte value, and a larger random one.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' >"$WORK/bytes.bin"
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$WORK/big.bin"

run_checks() {
  local h="$WORK/h" b="$WORK/b" v="$WORK/v" code

  # GET /: 200, HTML, the chat page.
  if code=$(c -o "$b" -D "$h" -w '%{http_code}' "$URL/") && [[ $code == 200 ]] &&
    grep -qi '^content-type: text/html' "$h" && grep -q '<title>Rampart chat</title>' "$b"; then
    pass "GET / -> 200 text/html, the chat page ($(wc -c <"$b") bytes)"
  else fail "GET / -> ${code:-error}, $(grep -i '^content-type' "$h" 2>/dev/null | tr -d '\r')"; fi

  # POST /echo: the body back, byte for byte.
  if code=$(c -o "$b" -D "$h" -w '%{http_code}' --data-binary @"$WORK/bytes.bin" \
    -H 'Content-Type: application/octet-stream' "$URL/echo") && [[ $code == 200 ]] &&
    cmp -s "$b" "$WORK/bytes.bin" && grep -qi '^content-length: 1024' "$h"; then
    pass "POST /echo (1024 bytes, every byte value) -> 200, echoed exactly, Content-Length framed"
  else fail "POST /echo -> ${code:-error}, echo $(cmp "$b" "$WORK/bytes.bin" 2>&1 || true)"; fi

  # Chunked upload from stdin: curl frames it, the server must decode it.
  if code=$(c -v -o "$b" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary @- "$URL/echo" <"$WORK/big.bin" 2>"$v") && [[ $code == 200 ]] &&
    grep -qi '^> transfer-encoding: chunked' "$v" && cmp -s "$b" "$WORK/big.bin"; then
    pass "POST /echo chunked from stdin ($(wc -c <"$WORK/big.bin") bytes) -> 200, echoed exactly"
  else fail "POST /echo chunked -> ${code:-error}, echo $(cmp "$b" "$WORK/big.bin" 2>&1 || true)"; fi

  # HTTP/1.0 GET and POST.
  if code=$(c --http1.0 -o "$b" -D "$h" -w '%{http_code} %{http_version}' "$URL/") &&
    [[ $code == "200 "* ]] && grep -q '<title>Rampart chat</title>' "$b" &&
    ! grep -qi '^transfer-encoding:' "$h"; then
    pass "HTTP/1.0 GET / -> 200, not chunked (answered as HTTP/${code#* })"
  else fail "HTTP/1.0 GET / -> ${code:-error}"; fi
  if code=$(c --http1.0 -o "$b" -D "$h" -w '%{http_code} %{http_version}' --data-binary @"$WORK/bytes.bin" \
    "$URL/echo") && [[ $code == "200 "* ]] && cmp -s "$b" "$WORK/bytes.bin" &&
    ! grep -qi '^transfer-encoding:' "$h"; then
    pass "HTTP/1.0 POST /echo -> 200, echoed exactly, not chunked (answered as HTTP/${code#* })"
  else fail "HTTP/1.0 POST /echo -> ${code:-error}"; fi

  # Keep-alive: two URLs in one invocation share one connection.
  if c -v -o /dev/null -o /dev/null "$URL/stats" "$URL/" 2>"$v" &&
    grep -qi 're-using existing connection' "$v" &&
    [[ $(grep -ci 'connected to' "$v") -eq 1 ]]; then
    pass "keep-alive: second request re-used the connection ($(grep -i 're-using existing' "$v" | head -n1 | sed 's/^\* //' | tr -d '\r'))"
  else fail "keep-alive: no connection re-use; $(grep -i -e 'connected to' -e 'closing' -e 're-using' "$v" | tr -d '\r' | tr '\n' ';')"; fi

  # GET /stats: JSON with this server's pid.
  if code=$(c -o "$b" -D "$h" -w '%{http_code}' "$URL/stats") && [[ $code == 200 ]] &&
    grep -qi '^content-type: application/json' "$h" && python3 -m json.tool "$b" >/dev/null &&
    pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$b") &&
    [[ $pid == "$SERVER_PID" ]]; then
    pass "GET /stats -> 200 application/json, valid JSON, \"pid\": $pid (the server's)"
  else fail "GET /stats -> ${code:-error}, pid ${pid:-missing} (server $SERVER_PID): $(head -c 200 "$b")"; fi

  # 404 and 405.
  if code=$(c -o /dev/null -w '%{http_code}' "$URL/no-such-page") && [[ $code == 404 ]]; then
    pass "GET /no-such-page -> 404"
  else fail "GET /no-such-page -> ${code:-error}, want 404"; fi
  if code=$(c -o /dev/null -D "$h" -w '%{http_code}' -X DELETE "$URL/") && [[ $code == 405 ]] &&
    grep -qi '^allow: GET' "$h"; then
    pass "DELETE / -> 405, Allow: GET"
  else fail "DELETE / -> ${code:-error}, want 405 with Allow"; fi
  if code=$(c -o /dev/null -D "$h" -w '%{http_code}' -X PUT --data-binary x "$URL/echo") &&
    [[ $code == 405 ]] && grep -qi '^allow: GET, POST' "$h"; then
    pass "PUT /echo -> 405, Allow: GET, POST"
  else fail "PUT /echo -> ${code:-error}, want 405 with Allow: GET, POST"; fi

  # WebSocket handshakes on /ws: a foreign Origin and `null` are refused with
  # 403 before any upgrade; the same host's Origin is upgraded.
  local ws=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
  local origin
  for origin in http://evil.example null; do
    if code=$(c -o /dev/null -D "$h" -w '%{http_code}' "${ws[@]}" -H "Origin: $origin" "$URL/ws") &&
      [[ $code == 403 ]] && ! grep -qi '^upgrade:' "$h"; then
      pass "GET /ws upgrade with Origin: $origin -> 403, no upgrade"
    else fail "GET /ws upgrade with Origin: $origin -> ${code:-error}, want 403"; fi
  done
  # curl (no WebSocket support here) sees the 101, then waits on the open
  # socket until its 2 s limit: only the status is checked.
  code=$(c --max-time 2 -o /dev/null -D "$h" -w '%{http_code}' "${ws[@]}" \
    -H "Origin: $URL" "$URL/ws" 2>/dev/null) || true
  if [[ $code == 101 ]] && grep -qi '^sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=' "$h"; then
    pass "GET /ws upgrade with same-host Origin -> 101, correct Sec-WebSocket-Accept"
  else fail "GET /ws upgrade with same-host Origin -> ${code:-error}, want 101"; fi
  if code=$(c -o /dev/null -w '%{http_code}' "$URL/ws") && [[ $code == 426 ]]; then
    pass "GET /ws without upgrade -> 426"
  else fail "GET /ws without upgrade -> ${code:-error}, want 426"; fi

  # The refusals were counted.
  if c -o "$b" "$URL/stats" && n=$(python3 -c '
import json, sys
def find(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "policy_violation" and isinstance(x, int): return x
            r = find(x)
            if r is not None: return r
print(find(json.load(open(sys.argv[1]))))' "$b") && [[ $n =~ ^[0-9]+$ ]] && ((n >= 2)); then
    pass "/stats counts the Origin refusals: policy_violation = $n"
  else fail "/stats policy_violation = ${n:-missing}, want >= 2"; fi
}

# --- build once, then each server ----------------------------------------------------------
cd "$ROOT"
log "building the reference servers (release)"
timeout 1800 cargo build --release --quiet \
  -p adapter-tokio --example tokio-server -p adapter-smol --example smol-server ||
  die "cargo build failed"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BUILT=$SECONDS

for RT in tokio smol; do
  bin="$TARGET_DIR/release/examples/$RT-server"
  [[ -x $bin ]] || die "$bin was not built"
  start_server "$bin"
  run_checks
  stop_server
done
RT=""

log "timings: install $((INSTALLED - START)) s, build $((BUILT - INSTALLED)) s, checks $((SECONDS - BUILT)) s"
((FAILS == 0)) || die "$FAILS check(s) failed"
log "passed: every check on tokio and smol"
