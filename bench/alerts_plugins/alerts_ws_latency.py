#!/usr/bin/python3
"""N WebSocket clients in one asyncio process; each event carries "sent_ns" (CLOCK_REALTIME
when guardian published it). Once COUNT events arrived at every client, prints one JSON
array with every latency in ms (the bench merges several such processes).

usage: alerts_ws_latency.py URL N COUNT READY_FILE
"""
import asyncio
import json
import sys
import time

import websockets


async def client(url, count, latencies, connected, total, ready_path):
    async with websockets.connect(url, max_queue=None, ping_interval=None) as ws:
        connected.append(1)
        if len(connected) == total:
            open(ready_path, "w").close()
        received = 0
        while received < count:
            event = json.loads(await ws.recv())
            now = time.time_ns()
            if "sent_ns" in event:
                latencies.append((now - event["sent_ns"]) / 1e6)
                received += 1


async def main():
    url, n, count, ready_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    latencies = []
    connected = []
    await asyncio.gather(*(client(url, count, latencies, connected, n, ready_path) for _ in range(n)))
    print(json.dumps([round(x, 4) for x in latencies]))


asyncio.run(main())
