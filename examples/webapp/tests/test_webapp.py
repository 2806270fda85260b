import os
import urllib.error

import pytest


def test_health(client):
    status, body = client.get("/health")
    assert status == 200
    assert body["status"] == "ok"


def test_items_round_trip(client):
    client.request("PUT", "/items/7?name=seven")
    status, body = client.get("/items/7")
    assert status == 200
    assert body == {"id": 7, "name": "seven"}


def test_crash_route_brings_the_server_down_and_guardian_restarts_it(client):
    if os.environ.get("GUARDIAN_RUN_ID") is None:
        pytest.skip("needs guardian to restart the server (run under guardian run --server)")
    _, before = client.get("/health")
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        client.request("POST", "/crash", timeout=5)
    # guardian notices the exit at once, restarts it (backoff 500 ms by default) and
    # waits for its health check: the suite goes on against a fresh server.
    assert client.wait_healthy(30), "the server did not come back"
    _, after = client.get("/health")
    assert after["pid"] != before["pid"]


def test_after_the_restart_the_server_answers(client):
    status, body = client.get("/items/1")
    assert status == 200
    assert body["id"] == 1
