"""Python `h11` as a live HTTP/1.1 client of a reference server.

Usage: python h11_client.py 127.0.0.1:PORT

Each step prints `ok   STEP` once it passed; the first mismatch prints
`FAIL STEP: what was expected, what came` to stderr and exits 1. Every
socket operation is bounded (TIMEOUT). Driven by
conformance/tests/interop_h11.rs for both reference servers.

h11 checks every response it parses (framing, fields, state), so a response
that h11 refuses is a failure too. The routes are the reference server's
(DESIGN.md): `POST /echo` answers 200 with the request body, Content-Length
framed; `GET /stats` JSON; 404 elsewhere; 405 for another method.

What it checks (RFC 9112):
  - keep-alive: several exchanges on one connection, GET and POST;
  - a chunked request body (several chunks, chunk sizes in hex), echoed;
  - trailer fields after a chunked request body: accepted, the connection
    stays usable;
  - pipelining: six requests (GET, POST with Content-Length, POST chunked
    with trailers, 404, HEAD, POST) written in one send, the answers in
    order; the same requests written in 7-byte pieces;
  - `Connection: close`: the response says `Connection: close` and the
    server closes the connection after it, ignoring a request pipelined
    behind it;
  - an HTTP/1.0 request (no keep-alive; written by hand, h11 sends only
    HTTP/1.1): answered, then closed;
  - `Expect: 100-continue` (RFC 9110 10.1.1): the server answers 100
    before the body is sent, then the final response.
"""

import json
import socket
import sys

import h11

TIMEOUT = 10.0


class Mismatch(Exception):
    pass


def expect(what, got, want):
    if got != want:
        raise Mismatch(f"{what}: expected {want!r}, got {got!r}")


def header(event, name):
    values = [v for k, v in event.headers if k == name.lower().encode()]
    return b", ".join(values) if values else None


def serialize(conn, host, method, target, body=None, chunks=None, trailers=(), headers=(), version="1.1"):
    """One request through the h11 client machine `conn`: a body framed by
    Content-Length, or `chunks` sent chunked with `trailers`."""
    fields = [("Host", host), *headers]
    if chunks is not None:
        fields.append(("Transfer-Encoding", "chunked"))
    elif body is not None:
        fields.append(("Content-Length", str(len(body))))
    out = conn.send(h11.Request(method=method, target=target, headers=fields, http_version=version))
    if chunks is not None:
        for chunk in chunks:
            out += conn.send(h11.Data(data=chunk))
    elif body:
        out += conn.send(h11.Data(data=body))
    out += conn.send(h11.EndOfMessage(headers=list(trailers)))
    return out


class Client:
    """One connection: an h11 client machine over a blocking socket."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = h11.Connection(our_role=h11.CLIENT)
        self.host = addr.encode()

    def close(self):
        self.sock.close()

    def request(self, method, target, **kwargs):
        """The bytes of one request, fed through this connection's machine
        (its state moves on: call `response` next)."""
        return serialize(self.conn, self.host, method, target, **kwargs)

    def next_event(self):
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = self.sock.recv(65536)
            self.conn.receive_data(data)

    def response(self):
        """(Response, body) of the current exchange; 1xx heads are skipped."""
        event = self.next_event()
        while isinstance(event, h11.InformationalResponse):
            event = self.next_event()
        if not isinstance(event, h11.Response):
            raise Mismatch(f"expected a response head, got {event!r}")
        body = b""
        while True:
            part = self.next_event()
            if isinstance(part, h11.Data):
                body += part.data
            elif isinstance(part, h11.EndOfMessage):
                return event, body
            else:
                raise Mismatch(f"expected body data or its end, got {part!r}")

    def exchange(self, method, target, **kwargs):
        self.sock.sendall(self.request(method, target, **kwargs))
        return self.response()

    def next_cycle(self, what):
        expect(f"{what}: our state after the exchange", self.conn.our_state, h11.DONE)
        expect(f"{what}: the server's state after the exchange", self.conn.their_state, h11.DONE)
        self.conn.start_next_cycle()

    def expect_closed(self, what):
        """The server closes the connection: EOF, and nothing more sent."""
        leftover, _ = self.conn.trailing_data
        expect(f"{what}: bytes after the last response", leftover, b"")
        rest = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                # Closed with our unread request in its buffer: a reset is
                # a close too.
                break
            if not data:
                break
            rest += data
        expect(f"{what}: bytes after the last response", rest, b"")
        self.conn.receive_data(b"")
        event = self.conn.next_event()
        expect(f"{what}: the end of the connection", type(event), h11.ConnectionClosed)


def check_echo(what, response, want):
    head, got = response
    expect(f"{what}: status", head.status_code, 200)
    expect(f"{what}: Content-Length", header(head, "content-length"), str(len(want)).encode())
    expect(f"{what}: Transfer-Encoding", header(head, "transfer-encoding"), None)
    expect(f"{what}: body", got, want)


def check_stats(what, response):
    head, body = response
    expect(f"{what}: status", head.status_code, 200)
    expect(f"{what}: Content-Type", header(head, "content-type"), b"application/json")
    try:
        stats = json.loads(body)
    except ValueError as e:
        raise Mismatch(f"{what}: the body is not JSON ({e}): {body[:80]!r}")
    if "pid" not in stats:
        raise Mismatch(f"{what}: no \"pid\" in {body[:80]!r}")


def step_keep_alive(addr):
    c = Client(addr)
    try:
        check_stats("GET /stats", c.exchange("GET", "/stats"))
        c.next_cycle("GET /stats")
        check_echo("POST /echo", c.exchange("POST", "/echo", body=b"hello"), b"hello")
        c.next_cycle("POST /echo")
        head, body = c.exchange("GET", "/missing")
        expect("GET /missing: status", head.status_code, 404)
        c.next_cycle("GET /missing")
        head, body = c.exchange("DELETE", "/echo")
        expect("DELETE /echo: status", head.status_code, 405)
        expect("DELETE /echo: Allow", header(head, "allow"), b"GET, POST")
        c.next_cycle("DELETE /echo")
        empty = c.exchange("POST", "/echo", body=b"")
        check_echo("POST /echo with an empty body", empty, b"")
        c.next_cycle("POST /echo with an empty body")
    finally:
        c.close()


def step_chunked(addr):
    c = Client(addr)
    try:
        chunks = [b"chunk one, ", b"x" * 300, b"", bytes(range(256)) * 40]
        check_echo("chunked POST /echo", c.exchange("POST", "/echo", chunks=chunks), b"".join(chunks))
        c.next_cycle("chunked POST /echo")
        check_echo("Content-Length POST after a chunked one", c.exchange("POST", "/echo", body=b"next"), b"next")
        c.next_cycle("POST after chunked")
    finally:
        c.close()


def step_trailers(addr):
    c = Client(addr)
    try:
        trailers = [("X-Checksum", "abc123"), ("X-Count", "2")]
        response = c.exchange("POST", "/echo", chunks=[b"with ", b"trailers"], trailers=trailers)
        check_echo("chunked POST /echo with trailers", response, b"with trailers")
        c.next_cycle("POST with trailers")
        check_stats("GET /stats after trailers", c.exchange("GET", "/stats"))
        c.next_cycle("GET after trailers")
    finally:
        c.close()


# (method, target, request kwargs, expected status, expected body or None)
PIPELINE = [
    ("GET", "/stats", {}, 200, None),
    ("POST", "/echo", {"body": b"one"}, 200, b"one"),
    ("POST", "/echo", {"chunks": [b"tw", b"o"], "trailers": [("X-T", "1")]}, 200, b"two"),
    ("GET", "/missing", {}, 404, b"not found\n"),
    ("HEAD", "/", {}, 405, b""),
    ("POST", "/echo", {"body": b"three"}, 200, b"three"),
]


def step_pipelined(addr, piece):
    c = Client(addr)
    try:
        # Every request is written first, each serialized by a fresh h11
        # machine (one machine sends one exchange at a time), ...
        wire = b"".join(
            serialize(h11.Connection(our_role=h11.CLIENT), c.host, method, target, **kwargs)
            for method, target, kwargs, _, _ in PIPELINE
        )
        if piece is None:
            c.sock.sendall(wire)
        else:
            for i in range(0, len(wire), piece):
                c.sock.sendall(wire[i : i + piece])
        # ... then the answers are read in order by the connection's machine.
        for i, (method, target, kwargs, status, want) in enumerate(PIPELINE):
            what = f"pipelined request {i + 1} ({method} {target})"
            c.request(method, target, **kwargs)
            head, body = c.response()
            expect(f"{what}: status", head.status_code, status)
            if want is not None:
                expect(f"{what}: body", body, want)
            c.next_cycle(what)
        check_echo("POST after the pipeline", c.exchange("POST", "/echo", body=b"after"), b"after")
        c.next_cycle("POST after the pipeline")
    finally:
        c.close()


def step_connection_close(addr):
    c = Client(addr)
    try:
        # A request pipelined behind `Connection: close` must not be answered.
        first = c.request("GET", "/stats", headers=[("Connection", "close")])
        behind = serialize(h11.Connection(our_role=h11.CLIENT), c.host, "GET", "/stats")
        c.sock.sendall(first + behind)
        response = c.response()
        check_stats("GET /stats with Connection: close", response)
        expect("the response's Connection field", header(response[0], "connection").lower(), b"close")
        expect("our state", c.conn.our_state, h11.MUST_CLOSE)
        expect("the server's state", c.conn.their_state, h11.MUST_CLOSE)
        c.expect_closed("after Connection: close")
    finally:
        c.close()
    # And after keep-alive exchanges: the third request says close.
    c = Client(addr)
    try:
        for i in range(2):
            check_echo(f"keep-alive POST {i + 1}", c.exchange("POST", "/echo", body=b"k"), b"k")
            c.next_cycle(f"keep-alive POST {i + 1}")
        response = c.exchange("POST", "/echo", body=b"last", headers=[("Connection", "close")])
        check_echo("POST with Connection: close", response, b"last")
        expect("the response's Connection field", header(response[0], "connection").lower(), b"close")
        c.expect_closed("after the third request's Connection: close")
    finally:
        c.close()


def step_http10(addr):
    c = Client(addr)
    try:
        # h11 only sends HTTP/1.1: the request is written by hand, and h11
        # is told of an equivalent one (with `Connection: close`, which is
        # what HTTP/1.0 without keep-alive means) to parse the answer.
        c.request("POST", "/echo", body=b"old", headers=[("Connection", "close")])
        c.sock.sendall(b"POST /echo HTTP/1.0\r\nHost: " + c.host + b"\r\nContent-Length: 3\r\n\r\nold")
        response = c.response()
        check_echo("HTTP/1.0 POST /echo", response, b"old")
        keep_alive = header(response[0], "connection")
        if keep_alive is not None and b"keep-alive" in keep_alive.lower():
            raise Mismatch(f"HTTP/1.0 POST /echo: the response offers keep-alive ({keep_alive!r})")
        c.expect_closed("after an HTTP/1.0 request")
    finally:
        c.close()


def step_expect_continue(addr):
    c = Client(addr)
    try:
        body = b"sent after 100"
        head = c.conn.send(
            h11.Request(
                method="POST",
                target="/echo",
                headers=[("Host", c.host), ("Content-Length", str(len(body))), ("Expect", "100-continue")],
            )
        )
        c.sock.sendall(head)
        try:
            event = c.next_event()
        except socket.timeout:
            raise Mismatch(f"no 100 (Continue) nor final answer within {TIMEOUT} s of a head with Expect: 100-continue")
        if not isinstance(event, h11.InformationalResponse):
            raise Mismatch(f"expected 100 (Continue) before the body is sent, got {event!r}")
        expect("the interim status", event.status_code, 100)
        c.sock.sendall(c.conn.send(h11.Data(data=body)) + c.conn.send(h11.EndOfMessage()))
        check_echo("POST /echo after 100", c.response(), body)
        c.next_cycle("Expect: 100-continue")
    finally:
        c.close()


def main(addr):
    steps = [
        ("keep-alive: five exchanges on one connection", lambda: step_keep_alive(addr)),
        ("chunked request body", lambda: step_chunked(addr)),
        ("trailers after a chunked request body", lambda: step_trailers(addr)),
        ("pipelining: six requests in one write", lambda: step_pipelined(addr, None)),
        ("pipelining: six requests in 7-byte writes", lambda: step_pipelined(addr, 7)),
        ("Connection: close honoured", lambda: step_connection_close(addr)),
        ("HTTP/1.0 request, then close", lambda: step_http10(addr)),
        ("Expect: 100-continue", lambda: step_expect_continue(addr)),
    ]
    for name, step in steps:
        try:
            step()
        except Mismatch as e:
            raise SystemExit(f"FAIL {name}: {e}")
        except socket.timeout:
            raise SystemExit(f"FAIL {name}: no answer within {TIMEOUT} s")
        except (h11.ProtocolError, OSError) as e:
            raise SystemExit(f"FAIL {name}: {type(e).__name__}: {e}")
        print(f"ok   {name}", flush=True)
    print(f"h11 client: all {len(steps)} steps passed against {addr}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: h11_client.py IP:PORT")
    main(sys.argv[1])
