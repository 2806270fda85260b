"""A small FastAPI app to try guardian on: a health route, a route that kills the server
(the "a test brought the server down" scenario), and a slow-start switch.

Run it under guardian (Debian's python3-uvicorn and python3-fastapi, no PyPI):

    guardian serve --health http://127.0.0.1:8000/health -- \
        /usr/bin/python3 -m uvicorn app:app --app-dir examples/webapp --port 8000

Environment:
    WEBAPP_SLOW_START  seconds to sleep before the app starts answering (default 0)
"""
import os
import time

from fastapi import FastAPI, Response

slow_start = float(os.environ.get("WEBAPP_SLOW_START", "0") or 0)
if slow_start > 0:
    print(f"webapp: starting slowly ({slow_start}s)", flush=True)
    time.sleep(slow_start)

app = FastAPI(title="guardian example webapp")
_items: dict[int, str] = {}
_unhealthy = False


@app.get("/health")
def health(response: Response) -> dict:
    if _unhealthy:
        response.status_code = 503
        return {"status": "unhealthy", "pid": os.getpid()}
    return {"status": "ok", "pid": os.getpid()}


@app.post("/unhealthy")
def make_unhealthy() -> dict:
    # The process keeps running but its health check fails from now on (a lost database
    # connection, say): only the health check can tell guardian.
    global _unhealthy
    _unhealthy = True
    return {"status": "unhealthy"}


@app.get("/items/{item_id}")
def read_item(item_id: int) -> dict:
    return {"id": item_id, "name": _items.get(item_id)}


@app.put("/items/{item_id}")
def write_item(item_id: int, name: str) -> dict:
    _items[item_id] = name
    return {"id": item_id, "name": name}


@app.post("/crash")
def crash() -> dict:
    # What a buggy handler can do to a dev server: the process is gone, no response sent.
    print("webapp: /crash called, exiting now", flush=True)
    os._exit(3)
