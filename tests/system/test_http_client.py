"""The one HTTP client, against real loopback servers (well-behaved and not), over TCP and a Unix socket."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ollama_sync.errors import Unreachable
from ollama_sync.system.http_client import MAX_BODY, BadAnswer, Endpoint, NoAnswer, exchange, get_json
from tests.system.raw_http import read_request


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


def test_not_http_is_a_bad_answer(garbage: int) -> None:
    with pytest.raises(BadAnswer, match="did not answer with HTTP"):
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


def answer_with(raw: bytes, *, then_wait: float = 0.0) -> Callable[[socket.socket], None]:
    """A server behaviour: read the request, send raw, keep the connection open for then_wait seconds."""
    def behaviour(conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(raw)
        conn.settimeout(then_wait)
        with contextlib.suppress(OSError):
            conn.recv(1)  # returns when the client closes, or times out
    return behaviour


def test_content_length_is_honoured_without_waiting_for_the_close() -> None:
    for port in raw_server(answer_with(b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}', then_wait=5)):
        start = time.monotonic()
        assert get_json("127.0.0.1", port, "/api/version", 3) == {"a": 1}
        assert time.monotonic() - start < 2  # read to the announced length, not to the (late) end of stream


def test_a_body_cut_short_of_its_content_length_is_a_bad_answer() -> None:
    for port in raw_server(answer_with(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":1}')):
        with pytest.raises(BadAnswer, match="after 7 bytes of the answer"):
            get_json("127.0.0.1", port, "/api/version", 2)


def test_a_body_that_is_not_json_is_a_bad_answer() -> None:
    for port in raw_server(answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")):
        with pytest.raises(BadAnswer, match="not with JSON"):
            get_json("127.0.0.1", port, "/api/version", 2)


def test_an_oversized_answer_is_refused_before_it_is_read() -> None:
    big = MAX_BODY + 1
    for port in raw_server(answer_with(f"HTTP/1.1 200 OK\r\nContent-Length: {big}\r\n\r\n".encode())):
        with pytest.raises(BadAnswer, match=f"{big} bytes"):
            get_json("127.0.0.1", port, "/api/tags", 2)


def test_one_deadline_bounds_a_trickling_body() -> None:
    def slow_body(conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
        for _ in range(40):
            time.sleep(0.05)
            try:
                conn.sendall(b" ")
            except OSError:
                return
    for port in raw_server(slow_body):
        start = time.monotonic()
        with pytest.raises(Unreachable, match="timed out"):
            get_json("127.0.0.1", port, "/api/version", 0.3)
        assert time.monotonic() - start < 1.5


def test_exchange_over_a_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "http.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            body = read_request(conn).partition(b"\r\n\r\n")[2]
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n" + body[::-1])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        answer = exchange(Endpoint(unix_path=path), "POST", "/RPC2", 2, body=b"abc",
                          headers={"Content-Type": "text/xml"})
    finally:
        thread.join(timeout=5)
        listener.close()
    assert (answer.status, answer.body, answer.content_type) == (200, b"cba", "text/xml")


def test_no_socket_at_the_path_is_no_answer(tmp_path: Path) -> None:
    with pytest.raises(NoAnswer, match="No such file or directory") as caught:
        exchange(Endpoint(unix_path=str(tmp_path / "absent.sock")), "GET", "/", 1)
    assert caught.value.reason == "No such file or directory"


def test_a_chunked_body_cut_mid_chunk_is_a_bad_answer() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"models\""
    for port in raw_server(answer_with(raw)):
        with pytest.raises(BadAnswer, match="in the middle of the answer"):
            get_json("127.0.0.1", port, "/api/tags", 2)
