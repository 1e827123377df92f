"""The socket-level JSON GET status probes with, against real loopback servers (well-behaved and not)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ollama_sync.errors import Unreachable
from ollama_sync.system.probe_http import get_json


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # answers a 1.0 request as 1.0 anyway; chunked is only sent when asked below

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/api/version":
            self._send(200, json.dumps({"version": "0.12.3"}).encode())
        elif self.path == "/big":
            self._send(200, json.dumps({"models": [{"name": f"m{i}"} for i in range(5000)]}).encode())
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"models": ', b'[1, 2]}'):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
        else:
            self._send(404, b"404 page not found")

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_json_answer(server: int) -> None:
    assert get_json("127.0.0.1", server, "/api/version", 2) == {"version": "0.12.3"}
    assert len(get_json("127.0.0.1", server, "/big", 2)["models"]) == 5000
    assert get_json("127.0.0.1", server, "/chunked", 2) == {"models": [1, 2]}


def test_not_found_is_unreachable(server: int) -> None:
    with pytest.raises(Unreachable, match="HTTP 404"):
        get_json("127.0.0.1", server, "/nope", 2)


def raw_server(behaviour: Callable[[socket.socket], None]) -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            behaviour(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield int(listener.getsockname()[1])
    listener.close()


@pytest.fixture
def garbage() -> Iterator[int]:
    def banner(conn: socket.socket) -> None:
        conn.recv(4096)  # read the request, so closing does not reset the connection
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
    yield from raw_server(banner)


@pytest.fixture
def trickle() -> Iterator[int]:
    def slow(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\n")
        for _ in range(40):
            time.sleep(0.05)
            try:
                conn.sendall(b"X-Pad: 1\r\n")
            except OSError:  # the client gave up (as it should)
                return
    yield from raw_server(slow)


def test_not_http_is_a_value_error(garbage: int) -> None:
    with pytest.raises(ValueError, match="did not answer with HTTP"):
        get_json("127.0.0.1", garbage, "/api/version", 2)


def test_one_timeout_bounds_a_trickling_server(trickle: int) -> None:
    start = time.monotonic()
    with pytest.raises(Unreachable, match="timed out"):
        get_json("127.0.0.1", trickle, "/api/version", 0.3)
    assert time.monotonic() - start < 1.5  # each byte arriving in time does not extend the deadline


def test_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with pytest.raises(Unreachable, match="refused"):
        get_json("127.0.0.1", port, "/", 1)
