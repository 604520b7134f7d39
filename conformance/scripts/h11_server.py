"""Python `h11` as a live HTTP/1.1 server, the peer the adapters'
`HttpClient` is tested against (conformance/tests/interop_h11.rs).

Usage: python h11_server.py [HOST] [PORT]   (default 127.0.0.1 0)
Prints exactly one line `listening on IP:PORT`, flushed, once it serves.
One thread per connection; every socket operation is bounded (TIMEOUT).

h11 checks every request it parses: a request it refuses is answered 400
with h11's reason as the body (and logged to stderr), so the client side
sees exactly what was wrong. Every response carries `X-Connection` (this
connection's number, from 1) and `X-Request` (the request's number on its
connection, from 1), so keep-alive reuse is visible to the client.

Routes:
  GET  /length        200, 100000-byte body framed by Content-Length
  HEAD /length        the same head, no body
  GET  /chunked       200, chunked body in pieces of 1, 10, 1000, 50000
                      and 48989 bytes (100000 in all)
  GET  /trailers      200, chunked body "body with trailers", then trailer
                      fields X-Checksum: 5eb63bbbe01eeed0 and X-Count: 2
  GET  /early-hints   103 with a Link field, then 200 "after hints"
  GET  /no-content    204
  GET  /close         200 "closing", `Connection: close`, then closes
  POST /echo          200 with the request body (Content-Length framed);
                      X-Request-Framing says how the request body came
                      (length or chunked) and X-Request-Trailers lists the
                      request's trailer fields as name=value pairs
  anything else       404
"""

import socket
import sys
import threading

import h11

TIMEOUT = 30.0


def pattern(n):
    return bytes((i * 7 + i // 251) & 0xFF for i in range(n))


BODY = pattern(100_000)
CHUNKS = [1, 10, 1000, 50000, 48989]
assert sum(CHUNKS) == len(BODY)

counter_lock = threading.Lock()
connections = 0


def serve_connection(sock, number):
    sock.settimeout(TIMEOUT)
    conn = h11.Connection(our_role=h11.SERVER)
    requests = 0

    def send(*events):
        for event in events:
            data = conn.send(event)
            if data:
                sock.sendall(data)

    def next_event():
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            conn.receive_data(sock.recv(65536))

    def head(status, fields=()):
        return h11.Response(
            status_code=status,
            headers=[("X-Connection", str(number)), ("X-Request", str(requests)), *fields],
        )

    try:
        while True:
            try:
                event = next_event()
            except h11.RemoteProtocolError as e:
                print(f"h11_server: connection {number}: {e}", file=sys.stderr, flush=True)
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    reason = str(e).encode()
                    send(
                        h11.Response(
                            status_code=e.error_status_hint,
                            headers=[("Content-Length", str(len(reason))), ("Connection", "close")],
                        ),
                        h11.Data(data=reason),
                        h11.EndOfMessage(),
                    )
                return
            if isinstance(event, h11.ConnectionClosed):
                return
            if not isinstance(event, h11.Request):
                raise RuntimeError(f"unexpected {event!r}")
            requests += 1
            request = event
            body = b""
            while True:
                part = next_event()
                if isinstance(part, h11.Data):
                    body += part.data
                elif isinstance(part, h11.EndOfMessage):
                    trailers = part.headers
                    break
                else:
                    raise RuntimeError(f"unexpected {part!r} in a request body")
            respond(send, head, request, body, trailers)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
    except (OSError, h11.ProtocolError) as e:
        print(f"h11_server: connection {number}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    finally:
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        sock.close()


def respond(send, head, request, body, trailers):
    method, target = request.method, request.target
    if target == b"/length" and method in (b"GET", b"HEAD"):
        response = head(200, [("Content-Length", str(len(BODY))), ("Content-Type", "application/octet-stream")])
        if method == b"HEAD":
            send(response, h11.EndOfMessage())
        else:
            send(response, h11.Data(data=BODY), h11.EndOfMessage())
    elif target == b"/chunked" and method == b"GET":
        # No Content-Length on an HTTP/1.1 response: h11 sends it chunked.
        send(head(200, [("Content-Type", "application/octet-stream")]))
        offset = 0
        for size in CHUNKS:
            send(h11.Data(data=BODY[offset : offset + size]))
            offset += size
        send(h11.EndOfMessage())
    elif target == b"/trailers" and method == b"GET":
        send(
            head(200, [("Trailer", "X-Checksum, X-Count")]),
            h11.Data(data=b"body with "),
            h11.Data(data=b"trailers"),
            h11.EndOfMessage(headers=[("X-Checksum", "5eb63bbbe01eeed0"), ("X-Count", "2")]),
        )
    elif target == b"/early-hints" and method == b"GET":
        send(
            h11.InformationalResponse(status_code=103, headers=[("Link", "</style.css>; rel=preload")]),
            head(200, [("Content-Length", "11")]),
            h11.Data(data=b"after hints"),
            h11.EndOfMessage(),
        )
    elif target == b"/no-content" and method == b"GET":
        send(head(204), h11.EndOfMessage())
    elif target == b"/close" and method == b"GET":
        send(head(200, [("Content-Length", "7"), ("Connection", "close")]), h11.Data(data=b"closing"), h11.EndOfMessage())
    elif target == b"/echo" and method == b"POST":
        chunked = any(k == b"transfer-encoding" for k, _ in request.headers)
        listed = ",".join(f"{k.decode()}={v.decode()}" for k, v in trailers)
        send(
            head(
                200,
                [
                    ("Content-Length", str(len(body))),
                    ("X-Request-Framing", "chunked" if chunked else "length"),
                    ("X-Request-Trailers", listed),
                ],
            ),
            h11.Data(data=body),
            h11.EndOfMessage(),
        )
    else:
        send(head(404, [("Content-Length", "0")]), h11.EndOfMessage())


def main():
    global connections
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    listener = socket.create_server((host, port))
    addr = listener.getsockname()
    print(f"listening on {addr[0]}:{addr[1]}", flush=True)
    while True:
        sock, _ = listener.accept()
        with counter_lock:
            connections += 1
            number = connections
        threading.Thread(target=serve_connection, args=(sock, number), daemon=True).start()


if __name__ == "__main__":
    main()
