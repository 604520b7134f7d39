#!/usr/bin/env bash
# Real-browser interop: Debian's headless Chromium, driven by playwright-core,
# against both reference servers (tokio and smol) on loopback.
#
# For each server: two tabs chat over /ws (each message reaches both tabs,
# sender included), a screenshot of the working page is kept at
# target/conformance/browser-<runtime>.png; then the server is restarted with
# --allow-origin http://example.invalid and the page's WebSocket must be
# refused (403 before upgrade, policy_violation in /stats); that page is kept
# at target/conformance/browser-<runtime>-refused.png.
#
# Installs what it needs (chromium by apt-get, playwright-core by npm ci);
# a peer that cannot be installed fails the run. Exits non-zero on any
# failure. Usage: conformance/browser/run.sh   (from anywhere)
#
# Environment: CHROMIUM (default /usr/bin/chromium), CARGO_TARGET_DIR (as
# cargo), CONFORMANCE_ARTIFACTS (default <repo>/target/conformance).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ARTIFACTS="${CONFORMANCE_ARTIFACTS:-$ROOT/target/conformance}"
START=$SECONDS

log() { printf '[browser] %s\n' "$*"; }
die() { printf '[browser] FAIL %s\n' "$*" >&2; exit 1; }
# shellcheck source=../scripts/lib.sh
source "$HERE/../scripts/lib.sh"

# --- servers, killed by their own PID on any exit -----------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rampart-browser.XXXXXX")"
# The browser driver runs in the background and is waited for, so that a
# signal reaches the trap at once; its timeout(1) passes TERM on to node,
# which closes Chromium.
NODE_PID=""
drive() {
  timeout 120 node "$HERE/chat.mjs" "$@" --executable "$CHROMIUM" &
  NODE_PID=$!
  local rc=0
  wait "$NODE_PID" || rc=$?
  NODE_PID=""
  return "$rc"
}
cleanup() {
  if [[ -n $NODE_PID ]]; then
    kill "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_log() {
  log "server stderr (last 20 lines):"
  tail -n 20 "$WORK/server.err" >&2 || true
}

# --- peers ---------------------------------------------------------------------
if [[ ! -x $CHROMIUM ]]; then
  log "$CHROMIUM missing: installing Debian's chromium"
  retry 3 apt_install chromium 900 || die "could not install chromium"
  [[ -x $CHROMIUM ]] || die "chromium installed but $CHROMIUM is missing"
fi
log "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM (version unknown)")"
command -v node >/dev/null || die "node is missing"
log "node $(node --version), npm $(npm --version 2>/dev/null)"
# playwright-core downloads no browser; the variable guards against a change.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
retry 3 timeout 300 npm ci --prefix "$HERE" --no-audit --no-fund --loglevel=error ||
  die "npm ci failed"
log "playwright-core $(node -p "require('$HERE/node_modules/playwright-core/package.json').version")"
INSTALLED=$SECONDS

# --- build once -------------------------------------------------------------------
cd "$ROOT"
log "building the reference servers (release)"
timeout 1800 cargo build --release --quiet \
  -p adapter-tokio --example tokio-server -p adapter-smol --example smol-server ||
  die "cargo build failed"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
BUILT=$SECONDS
mkdir -p "$ARTIFACTS"

# --- per server ---------------------------------------------------------------------
status=0
for runtime in tokio smol; do
  bin="$TARGET_DIR/release/examples/$runtime-server"
  [[ -x $bin ]] || die "$bin was not built"
  shot="$ARTIFACTS/browser-$runtime.png"
  rm -f "$shot"

  refused_shot="$ARTIFACTS/browser-$runtime-refused.png"
  rm -f "$refused_shot"

  start_server "$bin"
  drive chat --url "$URL" --runtime "$runtime" --screenshot "$shot" ||
    { status=1; server_log; }
  stop_server

  start_server "$bin" --allow-origin http://example.invalid
  drive refused --url "$URL" --runtime "$runtime" --screenshot "$refused_shot" ||
    { status=1; server_log; }
  stop_server

  if [[ -s $shot ]]; then log "screenshot: $shot"; fi
done

log "timings: installs $((INSTALLED - START)) s, build $((BUILT - INSTALLED)) s, browser tests $((SECONDS - BUILT)) s"
if ((status)); then
  die "browser interop failed"
fi
log "passed: chat between two tabs and Origin refusal, on tokio and smol"
