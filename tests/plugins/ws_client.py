#!/usr/bin/python3
"""Real WebSocket clients (python3-websockets) for the websocket plugin tests.

  receive URL N COUNT READY OUT  N clients; READY is created once all are connected; each
                                 reads until COUNT events or the server closes; OUT gets
                                 {"clients": [{"seqs": [...], "close_code": c}, ...]}
  stall URL READY                a raw-socket client that upgrades, then never reads
  try URL [ORIGIN]               one handshake; prints "accepted" or "refused <status>"
"""
import asyncio
import json
import socket
import sys
import urllib.parse

import websockets


async def one_client(url, count, ready_event, connected, total):
    seqs = []
    close_code = None
    async with websockets.connect(url, max_queue=None, ping_interval=None, max_size=2**20) as ws:
        connected.append(1)
        if len(connected) == total:
            ready_event.set()
        try:
            while len(seqs) < count:
                message = await ws.recv()
                event = json.loads(message)
                seqs.append(event.get("seq"))
        except websockets.ConnectionClosed:
            pass
        if len(seqs) >= count:
            # Stay until the server closes, so the close code is the server's.
            try:
                await asyncio.wait_for(ws.wait_closed(), timeout=30)
            except asyncio.TimeoutError:
                pass
        close_code = ws.close_code
    return {"seqs": seqs, "close_code": close_code}


async def receive(url, n, count, ready_path, out_path):
    ready = asyncio.Event()
    connected = []

    async def mark_ready():
        await ready.wait()
        open(ready_path, "w").close()

    marker = asyncio.ensure_future(mark_ready())
    results = await asyncio.gather(*(one_client(url, count, ready, connected, n) for _ in range(n)))
    await marker
    with open(out_path, "w") as out:
        json.dump({"clients": results}, out)


def stall(url, ready_path):
    parts = urllib.parse.urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fill up fast
    sock.connect((parts.hostname, parts.port))
    target = parts.path + ("?" + parts.query if parts.query else "")
    sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)
        if not chunk:
            sys.exit("server closed during handshake")
        response += chunk
    if b" 101 " not in response.split(b"\r\n")[0]:
        sys.exit("handshake refused: " + response.decode(errors="replace"))
    open(ready_path, "w").close()
    # Never read again: the server's queue for this client must fill up and drop it.
    while True:
        import time
        time.sleep(3600)


async def try_connect(url, origin):
    try:
        async with websockets.connect(url, origin=origin, open_timeout=10):
            print("accepted")
    except websockets.InvalidStatusCode as e:
        print(f"refused {e.status_code}")


def main():
    mode = sys.argv[1]
    if mode == "receive":
        asyncio.run(receive(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]))
    elif mode == "stall":
        stall(sys.argv[2], sys.argv[3])
    elif mode == "try":
        asyncio.run(try_connect(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
