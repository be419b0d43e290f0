"""The few Docker Engine API calls the lab makes itself, over a host's unix socket."""

import http.client
import json
import socket
from pathlib import Path
from typing import Any


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self._path))


def _request(
    sock: Path, method: str, path: str, body: bytes | None = None, timeout: float = 5.0
) -> bytes:
    connection = _UnixConnection(sock, timeout)
    try:
        headers = {"Content-Type": "application/x-tar"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise OSError(f"{method} {path} on {sock}: HTTP {response.status}: {data[:200]!r}")
    return data


def answers(sock: Path) -> bool:
    try:
        return _request(sock, "GET", "/_ping", timeout=1.0) == b"OK"
    except OSError:
        return False


def info(sock: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_request(sock, "GET", "/info"))
    return data


def load(sock: Path, archive: bytes) -> None:
    """`docker load` of an image archive."""
    output = _request(sock, "POST", "/images/load?quiet=1", archive, timeout=120.0)
    if b'"errorDetail"' in output:
        raise OSError(f"docker load on {sock}: {output.decode(errors='replace')}")
