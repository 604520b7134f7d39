#!/usr/bin/env python3
"""One connection, one request or message at a time: the fixed work that
bench/instructions.sh counts under callgrind.

  sequential_client.py PORT N http            # POST /echo, 13-byte body, keep-alive
  sequential_client.py PORT N pipelined       # the same, 16 requests per write
  sequential_client.py PORT N connections     # the same, one connection per request
  sequential_client.py PORT N ws SIZE [PATH]  # masked binary echo on PATH (/echo)

Every answer is read whole and checked before the next is sent, so a run
ends by itself or fails loudly (socket timeout 30 s).
"""
import os
import socket
import struct
import sys

BODY = b"hello, world!"
REQUEST = (b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 13\r\n\r\n" + BODY)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_more(s, buf):
    data = s.recv(65536)
    if not data:
        raise SystemExit("the server closed the connection")
    return buf + data


def http(port, n, depth):
    s = connect(port)
    buf = b""
    for _ in range(n // depth):
        s.sendall(REQUEST * depth)
        answered = 0
        while answered < depth:
            end = buf.find(b"\r\n\r\n")
            if end < 0 or len(buf) < end + 4 + len(BODY):
                buf = recv_more(s, buf)
                continue
            head, rest = buf[:end], buf[end + 4:]
            if not head.startswith(b"HTTP/1.1 200 ") or rest[:len(BODY)] != BODY:
                raise SystemExit(f"unexpected answer: {buf[:200]!r}")
            buf = rest[len(BODY):]
            answered += 1


def connections(port, n):
    """One request per connection: the cost of accepting, serving and
    closing a connection (the client closes first, after the answer)."""
    for _ in range(n):
        s = connect(port)
        s.sendall(REQUEST)
        buf = b""
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0 and len(buf) >= end + 4 + len(BODY):
                break
            buf = recv_more(s, buf)
        if not buf.startswith(b"HTTP/1.1 200 ") or buf[end + 4:end + 4 + len(BODY)] != BODY:
            raise SystemExit(f"unexpected answer: {buf[:200]!r}")
        s.close()


def ws(port, n, size, path):
    s = connect(port)
    s.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf = recv_more(s, buf)
    if b" 101 " not in buf.split(b"\r\n", 1)[0]:
        raise SystemExit(f"no upgrade: {buf[:200]!r}")
    buf = buf[buf.index(b"\r\n\r\n") + 4:]
    payload = os.urandom(size)
    key = b"\x01\x02\x03\x04"
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    if size < 126:
        header, echo_header = bytes([0x82, 0x80 | size]), bytes([0x82, size])
    elif size < 65536:
        header = bytes([0x82, 0x80 | 126]) + struct.pack(">H", size)
        echo_header = bytes([0x82, 126]) + struct.pack(">H", size)
    else:
        raise SystemExit("SIZE must be below 64 KiB")
    frame = header + key + masked
    expected = echo_header + payload
    for _ in range(n):
        s.sendall(frame)
        while len(buf) < len(expected):
            buf = recv_more(s, buf)
        if buf[:len(expected)] != expected:
            raise SystemExit("the echo differs from the message")
        buf = buf[len(expected):]


def main():
    port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if mode == "http":
        http(port, n, 1)
    elif mode == "pipelined":
        http(port, n, 16)
    elif mode == "connections":
        connections(port, n)
    elif mode == "ws":
        ws(port, n, int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else "/echo")
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
