"""Reading a whole HTTP request off a socket, for the tests' hand-written servers."""

from __future__ import annotations

import socket


def read_request(conn: socket.socket) -> bytes:
    """A whole HTTP request: its head, then as many body bytes as its Content-Length says (sent apart or not)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)
    while len(data.split(b"\r\n\r\n", 1)[1]) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
