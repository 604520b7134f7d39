"""Python `websockets` echo server: the peer the native Autobahn runner is
validated against (its official-suite verdicts are known).

Usage: python websockets_echo_server.py [HOST] [PORT]   (default 127.0.0.1 0)
Prints exactly one line `listening on IP:PORT`, flushed, once it serves.
"""

import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws):
    try:
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
