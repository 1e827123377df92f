"""OllamaApi against a real loopback HTTP server (http.server in a thread) answering like Ollama's API."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ollama_sync.core.hostport import parse_host
from ollama_sync.errors import Unreachable
from ollama_sync.system.ollama_api import OllamaApi, base_url

ANSWERS = {
    "/api/version": {"version": "0.12.3"},
    "/api/tags": {"models": [{"name": "llama3.1:8b", "size": 4920753328}]},
    "/api/ps": {"models": [{"name": "llama3.1:8b", "size_vram": 5333539264, "context_length": 4096}]},
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/broken":
            body, code = b"{not json", 200
        elif self.path in ANSWERS:
            body, code = json.dumps(ANSWERS[self.path]).encode(), 200
        else:
            body, code = b"404 page not found", 404
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(family: socket.AddressFamily, host: str) -> Generator[int, None, None]:
    server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
    server = server_class((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def port() -> Iterator[int]:
    yield from serve(socket.AF_INET, "127.0.0.1")


def test_version_tags_and_ps(port: int) -> None:
    api = OllamaApi(f"http://127.0.0.1:{port}", timeout=2)
    assert api.version() == "0.12.3"
    assert [m["name"] for m in api.tags()] == ["llama3.1:8b"]
    assert api.ps()[0]["context_length"] == 4096
    assert api.ping()


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        ports = serve(socket.AF_INET6, "::1")
        port = next(ports)
    except OSError:
        pytest.skip("::1 cannot be bound here")
    try:
        assert OllamaApi(f"http://[::1]:{port}").version() == "0.12.3"
    finally:
        ports.close()


def test_http_error_and_unreadable_answers_are_unreachable(port: int) -> None:
    api = OllamaApi(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(Unreachable, match="HTTP 404"):
        api.get_json("/nope")
    with pytest.raises(Unreachable, match="unreadable answer"):
        api.get_json("/broken")


def test_nothing_listening_is_unreachable_and_ping_false() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    api = OllamaApi(f"http://127.0.0.1:{free}", timeout=0.5)
    assert not api.ping()
    with pytest.raises(Unreachable, match="no answer"):
        api.version()


@pytest.mark.parametrize(("declared", "url"), [
    ("0.0.0.0:11434", "http://127.0.0.1:11434"),
    ("[::]:11434", "http://[::1]:11434"),
    (":8080", "http://127.0.0.1:8080"),
    ("100.64.0.7:11434", "http://100.64.0.7:11434"),
])
def test_base_url_connects_where_the_server_listens(declared: str, url: str) -> None:
    assert base_url(parse_host(declared)) == url
