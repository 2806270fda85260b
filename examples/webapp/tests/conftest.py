"""The webapp's tests talk to a server that guardian started (guardian run --server ...).
WEBAPP_URL is its base URL (default http://127.0.0.1:8000)."""
import json
import os
import time
import urllib.error
import urllib.request

import pytest


class Client:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, path: str, timeout: float = 5.0):
        req = urllib.request.Request(self.base_url + path, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")

    def get(self, path: str):
        return self.request("GET", path)

    def healthy(self) -> bool:
        try:
            return self.get("/health")[0] == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def wait_healthy(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.healthy():
                return True
            time.sleep(0.05)
        return False


@pytest.fixture
def client() -> Client:
    return Client(os.environ.get("WEBAPP_URL", "http://127.0.0.1:8000"))
