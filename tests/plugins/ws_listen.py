#!/usr/bin/python3
"""ws_listen.py URL OUT: one real WebSocket client (python3-websockets) that appends every
message it receives to OUT, one per line, until the server closes the connection. Prints
"connected" once the handshake is done."""
import asyncio
import sys

import websockets


async def main(url, out_path):
    async with websockets.connect(url, ping_interval=None, max_size=2**22) as ws:
        print("connected", flush=True)
        with open(out_path, "a", encoding="utf-8") as out:
            try:
                async for message in ws:
                    out.write(message if isinstance(message, str) else message.decode())
                    out.write("\n")
                    out.flush()
            except websockets.ConnectionClosed:
                pass


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
