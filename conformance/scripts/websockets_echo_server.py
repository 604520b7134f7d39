"""Python `websockets` echo server: the peer the native Autobahn runner is
validated against (its official-suite verdicts are known), and the server
the adapters' WebSocket clients are tested against
(conformance/tests/interop_websockets.rs).

Usage: python websockets_echo_server.py [HOST] [PORT]   (default 127.0.0.1 0)
Prints exactly one line `listening on IP:PORT`, flushed, once it serves.

Every path echoes each message back (the Autobahn runner uses `/`), except
three under `/interop/` that make the server act first, then echo:
  /interop/ping       sends a ping "from python", waits (10 s at most) for
                      its pong, then sends the text "pong received" (or
                      "no pong");
  /interop/fragments  sends the text "fragmented ☃" in three fragments (and
                      an empty final one), then the binary 00..FF in two;
  /interop/close      closes at once with 4002 "server bye".
"""

import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws):
    try:
        path = ws.request.path
        if path == "/interop/ping":
            pong = await ws.ping(b"from python")
            try:
                await asyncio.wait_for(pong, 10)
                await ws.send("pong received")
            except asyncio.TimeoutError:
                await ws.send("no pong")
        elif path == "/interop/fragments":
            await ws.send(["frag", "ment", "ed ☃"])
            await ws.send([bytes(range(128)), bytes(range(128, 256))])
        elif path == "/interop/close":
            await ws.close(4002, "server bye")
            return
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        # The fuzzing cases break connections on purpose; nothing to log.
        pass


async def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    # max_size=2**25 as in the configuration the official verdicts come from.
    async with serve(echo, host, port, max_size=2**25) as server:
        addr = server.sockets[0].getsockname()
        print(f"listening on {addr[0]}:{addr[1]}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main())
