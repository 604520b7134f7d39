"""Python `websockets` as a client of a reference server's `/echo`.

Usage: python websockets_client.py ws://127.0.0.1:PORT/echo

Each step prints `ok   STEP` once it passed; the first mismatch prints
`FAIL STEP: what was expected, what came` to stderr and exits 1. Every wait
is bounded (STEP_TIMEOUT). Driven by conformance/tests/interop_websockets.rs
for both reference servers; run it by hand the same way against any
`listening on` address.

What it checks (RFC 6455):
  - the opening handshake: 101, no extension accepted (websockets offers
    permessage-deflate, which the server does not implement), no subprotocol;
  - text and binary echo, empty messages, non-ASCII text;
  - fragmented messages (websockets fragments an iterable, ending with an
    empty final continuation frame), a UTF-8 character split across
    fragments, a ping between two fragments of one message;
  - 1 MiB text and binary messages, whole and in 64 KiB fragments;
  - 100 messages in flight at once come back in order;
  - ping/pong (empty, short and 125-byte payloads); an unsolicited pong is
    ignored;
  - the close handshake started by the client: the server's close reply
    carries the client's code (1000, 1001, 3000, 4000 with a reason, 4999),
    an empty close frame gets an empty close back (1005 "no status"), and
    the server closes TCP;
  - close frames the server must refuse, sent raw on the wire: invalid or
    reserved codes (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000), a
    one-byte payload -> 1002; a reason that is not UTF-8 -> 1007.
"""

import asyncio
import random
import struct
import sys

from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

STEP_TIMEOUT = 10.0
MIB = 2**20


class Mismatch(Exception):
    pass


def expect(what, got, want):
    if got != want:
        raise Mismatch(f"{what}: expected {short(want)}, got {short(got)}")


def short(value):
    text = repr(value)
    if len(text) > 120:
        text = f"{text[:60]}...{text[-40:]} ({len(value)} long)"
    return text


def bounded(awaitable):
    return asyncio.wait_for(awaitable, STEP_TIMEOUT)


async def open_ws(url):
    # No background pings (every ping on the wire is one this script sent),
    # no compression offer except on the handshake step, 4 MiB messages in.
    return await bounded(
        connect(
            url,
            max_size=4 * MIB,
            ping_interval=None,
            compression=None,
            open_timeout=STEP_TIMEOUT,
            close_timeout=STEP_TIMEOUT,
        )
    )


async def echo(ws, message, **kwargs):
    """Sends `message` and returns the next message received."""
    await bounded(ws.send(message, **kwargs))
    return await bounded(ws.recv())


async def step_handshake(url):
    # The default compression offer (permessage-deflate) must be declined.
    ws = await bounded(connect(url, ping_interval=None, open_timeout=STEP_TIMEOUT))
    try:
        expect("handshake status", ws.response.status_code, 101)
        expect(
            "Sec-WebSocket-Extensions in the 101",
            ws.response.headers.get("Sec-WebSocket-Extensions"),
            None,
        )
        expect("negotiated extensions", ws.protocol.extensions, [])
        expect("subprotocol", ws.subprotocol, None)
    finally:
        await ws.close()


async def step_text_and_binary(ws):
    for text in ["hello", "", "héllo ☃ 😀 \u0000 end"]:
        expect(f"text echo of {text!r}", await echo(ws, text), text)
    for data in [bytes(range(256)), b"", b"\x00\xff" * 10]:
        expect(f"binary echo of {len(data)} bytes", await echo(ws, data), data)


async def step_fragmented(ws):
    expect(
        "fragmented text (3 fragments + empty final)",
        await echo(ws, ["frag", "ment", "ed ☃"]),
        "fragmented ☃",
    )
    # U+2603 (E2 98 83) split across two fragments: UTF-8 is checked over
    # the message, not per frame.
    expect(
        "text with a character split across fragments",
        await echo(ws, [b"\xe2\x98", b"\x83 snow"], text=True),
        "☃ snow",
    )
    parts = [b"\x00" * 1000, b"\x01" * 1000, b"\x02"]
    expect("fragmented binary", await echo(ws, parts), b"".join(parts))

    # A ping between two fragments of one message (RFC 6455 5.4: control
    # frames may be injected in the middle of a fragmented message).
    pongs = []

    async def fragments_with_ping():
        yield "before ping, "
        pongs.append(await ws.ping(b"mid-message"))
        yield "after ping"

    await bounded(ws.send(fragments_with_ping()))
    expect("fragmented text with a ping inside", await bounded(ws.recv()), "before ping, after ping")
    await bounded(pongs[0])


async def step_one_mib(ws):
    rng = random.Random(6455)
    data = rng.randbytes(MIB)
    expect("1 MiB binary echo", await echo(ws, data), data)
    # 1 MiB of UTF-8 text with 1-, 2-, 3- and 4-byte characters.
    unit = "a€é😀"  # 1 + 3 + 2 + 4 = 10 bytes
    text = unit * (MIB // 10) + "z" * (MIB % 10)
    expect("1 MiB text: its UTF-8 size", len(text.encode()), MIB)
    expect("1 MiB text echo", await echo(ws, text), text)
    pieces = [data[i : i + 65536] for i in range(0, MIB, 65536)]
    expect("1 MiB binary in 16 fragments", await echo(ws, pieces), data)


async def step_many_in_flight(ws):
    messages = [f"message {i}" if i % 2 else f"m{i}".encode() for i in range(100)]
    for message in messages:
        await bounded(ws.send(message))
    for i, message in enumerate(messages):
        expect(f"in-flight message {i}", await bounded(ws.recv()), message)


async def step_ping_pong(ws):
    for payload in [b"", b"rampart", bytes(range(125))]:
        waiter = await bounded(ws.ping(payload))
        # Resolved only by a pong carrying exactly this payload.
        await bounded(waiter)
    await bounded(ws.pong(b"unsolicited"))
    expect("echo after an unsolicited pong", await echo(ws, "still here"), "still here")


async def step_close(url, code, reason, want_code, want_reason):
    ws = await open_ws(url)
    expect("echo before close", await echo(ws, "x"), "x")
    await bounded(ws.close(code, reason))
    await bounded(ws.wait_closed())
    # close_code/close_reason are what the *server* sent back.
    label = "an empty close frame" if code is None else f"close {code} {reason!r}"
    expect(f"server's close code in reply to {label}", ws.close_code, want_code)
    expect(f"server's close reason in reply to {label}", ws.close_reason, want_reason)
    expect(f"close order after {label}", ws.protocol.close_rcvd_then_sent, False)


async def step_bad_close(url, payload, want_code, what):
    ws = await open_ws(url)
    expect("echo before close", await echo(ws, "x"), "x")
    # Raw on the wire: websockets itself refuses to send these.
    ws.transport.write(Frame(Opcode.CLOSE, payload).serialize(mask=True))
    await bounded(ws.wait_closed())
    expect(f"server's close code for {what}", ws.close_code, want_code)


async def main(url):
    steps = []

    async def run(name, coro):
        try:
            await coro
        except Mismatch as e:
            raise SystemExit(f"FAIL {name}: {e}")
        except asyncio.TimeoutError:
            raise SystemExit(f"FAIL {name}: no answer within {STEP_TIMEOUT} s")
        except Exception as e:  # a closed connection, a protocol error
            raise SystemExit(f"FAIL {name}: {type(e).__name__}: {e}")
        steps.append(name)
        print(f"ok   {name}", flush=True)

    await run("handshake (permessage-deflate offer declined)", step_handshake(url))
    ws = await open_ws(url)
    await run("text and binary echo", step_text_and_binary(ws))
    await run("fragmented messages", step_fragmented(ws))
    await run("1 MiB messages", step_one_mib(ws))
    await run("100 messages in flight", step_many_in_flight(ws))
    await run("ping/pong", step_ping_pong(ws))
    await run("close 1000 after the rest", _close_open(ws))

    for code, reason in [(1000, "bye"), (1001, ""), (3000, ""), (4000, "custom reason ☃"), (4999, "")]:
        # The server echoes the code; its reason is its own (empty).
        await run(f"close {code}", step_close(url, code, reason, code, ""))
    await run("empty close frame", step_close(url, None, "", 1005, ""))

    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]:
        await run(
            f"close code {code} on the wire -> 1002",
            step_bad_close(url, struct.pack("!H", code), 1002, f"close code {code}"),
        )
    await run(
        "one-byte close payload -> 1002",
        step_bad_close(url, b"\x03", 1002, "a one-byte close payload"),
    )
    await run(
        "close reason not UTF-8 -> 1007",
        step_bad_close(url, struct.pack("!H", 1000) + b"\xff\xfe", 1007, "a reason that is not UTF-8"),
    )
    print(f"websockets client: all {len(steps)} steps passed against {url}", flush=True)


async def _close_open(ws):
    await bounded(ws.close(1000, "done"))
    await bounded(ws.wait_closed())
    expect("server's close code", ws.close_code, 1000)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: websockets_client.py ws://IP:PORT/echo")
    asyncio.run(main(sys.argv[1]))
