#!/usr/bin/env bash
# Interop with peers we did not write (issue 7, item 4; DESIGN.md).
#
# Installs the Python peers into a virtual environment (pip, retried 3 times;
# a peer that cannot be installed fails the run, it is never skipped), then
# runs the interop suite:
#   - tests/interop.rs: the native Autobahn runner against Python websockets'
#     echo server, which must get exactly the official suite's verdicts
#     (conformance/autobahn/expected-websockets.json);
#   - tests/interop_websockets.rs: websockets as a client of both reference
#     servers (scripts/websockets_client.py), and as a server for
#     adapter-core's WebSocket client on tokio and smol;
#   - tests/interop_h11.rs: h11 as a live client of both reference servers
#     (scripts/h11_client.py), and as a server (scripts/h11_server.py) for
#     adapter-core's HTTP client on tokio and smol;
#   - the HTTP/1.1 request vectors fed to h11, every disagreement with
#     proto-http listed in conformance/vectors/http1/h11-differences.md.
# The tests build the reference servers themselves (release, as the
# autobahn CI stage does, so there they are already built).
#
# Usage: conformance/interop.sh      (from anywhere; honours CARGO_TARGET_DIR)
# Env:   RAMPART_INTEROP_VENV        the virtual environment (default:
#                                    $CARGO_TARGET_DIR or target/, then interop-venv)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
target=${CARGO_TARGET_DIR:-$root/target}
venv=${RAMPART_INTEROP_VENV:-$target/interop-venv}

retry() {
    local attempt
    for attempt in 1 2 3; do
        if "$@"; then
            return 0
        fi
        echo "interop.sh: attempt $attempt failed: $*" >&2
        sleep $((attempt * 5))
    done
    echo "interop.sh: giving up: $*" >&2
    return 1
}

if [ ! -x "$venv/bin/python" ]; then
    retry python3 -m venv "$venv"
fi
# Pinned: the expected verdicts describe these exact versions; a new release
# is taken on purpose, by changing the pins and re-checking the expectations.
retry "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "websockets==17.4" "h11==0.16.0"
"$venv/bin/python" -c 'import websockets, h11; print(f"interop peers: websockets {websockets.__version__}, h11 {h11.__version__}")'

export RAMPART_INTEROP_PYTHON="$venv/bin/python"
cd "$root"
# One cargo call: the three binaries run one after the other (the Autobahn
# run alone in its own), the tests inside each in parallel.
cargo test -p conformance --no-fail-fast --test interop --test interop_websockets --test interop_h11 \
    -- --include-ignored --nocapture
"$venv/bin/python" "$here/scripts/h11_differential.py"
echo "interop.sh: all interop checks passed"
