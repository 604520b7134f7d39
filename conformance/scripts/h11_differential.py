"""Differential test: the HTTP/1.1 request vectors fed to h11.

Each vector of conformance/vectors/http1/requests.json (Latin-1 text: one
character is one byte) is fed to an h11 server connection; its verdict
(accept with a body, or the error status h11 suggests) is compared with the
verdict proto-http must give (the vector's `expect`, enforced by
tests/http1_vectors.rs). Every disagreement must be listed, with the reason
ours is right, in conformance/vectors/http1/h11-differences.md as a line
`- \`NAME\`: ...`; the run fails if a disagreement is not listed or a listed
one no longer disagrees.

Usage: python h11_differential.py [--list]   (--list prints the table)
"""

import json
import pathlib
import re
import sys

import h11

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent / "vectors" / "http1" / "requests.json"
DIFFERENCES = HERE.parent / "vectors" / "http1" / "h11-differences.md"


def h11_verdict(raw: bytes):
    """('accept', body) or (status, reason) as h11 sees `raw`."""
    conn = h11.Connection(h11.SERVER)
    body = b""
    fed_eof = False
    conn.receive_data(raw)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if fed_eof:
                    return ("incomplete", "h11 wants more data after the end of input")
                conn.receive_data(b"")
                fed_eof = True
                continue
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return ("accept", body)
            elif isinstance(event, h11.ConnectionClosed):
                return ("incomplete", "connection closed before a request")
    except h11.RemoteProtocolError as e:
        return (e.error_status_hint, str(e))


def main():
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    rows = []
    for v in vectors:
        raw = v["request"].encode("latin-1")
        ours = v["expect"]
        theirs, detail = h11_verdict(raw)
        if ours == "accept":
            agree = theirs == "accept" and detail == v.get("body", "").encode("latin-1")
        else:
            agree = theirs == ours
        shown = theirs if theirs != "accept" else "accept"
        rows.append((v["name"], ours, shown, detail, agree))
    if "--list" in sys.argv:
        for name, ours, theirs, detail, agree in rows:
            mark = "  " if agree else "!="
            print(f"{mark} {name:32} ours {ours!s:7} h11 {theirs!s:10} {detail!r:.90}")
    disagreements = {r[0]: r for r in rows if not r[4]}
    listed = set(re.findall(r"^- `([^`]+)`", DIFFERENCES.read_text(encoding="utf-8"), re.M)) if DIFFERENCES.exists() else set()
    unlisted = sorted(set(disagreements) - listed)
    stale = sorted(listed - set(disagreements))
    print(f"h11 {h11.__version__}: {len(rows)} vectors, {len(rows) - len(disagreements)} agree, {len(disagreements)} disagree (all listed in {DIFFERENCES.name}: {not unlisted})")
    for name in unlisted:
        _, ours, theirs, detail, _ = disagreements[name]
        print(f"NOT LISTED: {name}: ours {ours}, h11 {theirs} ({detail!r:.200})")
    for name in stale:
        print(f"LISTED BUT NO LONGER DIFFERENT: {name}")
    return 1 if unlisted or stale else 0


if __name__ == "__main__":
    sys.exit(main())
