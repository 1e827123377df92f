"""The package's one HTTP client: a minimal HTTP/1.0 JSON GET over a plain socket, within a deadline.

Used by system/ollama_api and by status's probes of this machine's addresses. Why not urllib: importing
http.client + urllib.request costs ~40 ms of start-up, a sixth of what `status` may spend in all
(bench/bench_status.py). HTTP/1.0 keeps the reply simple: the
server (Go net/http) sends no chunked encoding to a 1.0 client and closes the connection at the end.
One timeout bounds the whole exchange, not each read, so a server that trickles bytes cannot stall us.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Final

from ollama_sync.errors import Unreachable

MAX_BODY: Final = 8 * 1024 * 1024  # /api/tags of a large collection is well below this


def get_json(host: str, port: int, path: str, timeout: float) -> Any:
    """GET http://host:port/path and decode the JSON body; Unreachable on no answer or a non-200 reply."""
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}{path}"
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            request = f"GET {path} HTTP/1.0\r\nHost: {_host_header(host, port)}\r\nAccept: application/json\r\n\r\n"
            sock.sendall(request.encode("ascii"))
            raw = _read_all(sock, deadline)
    except TimeoutError:
        raise Unreachable(f"no answer from {url}: timed out") from None
    except OSError as exc:
        raise Unreachable(f"no answer from {url}: {exc.strerror or exc}") from None
    status, headers, body = _split(raw, url)
    if status != 200:
        raise Unreachable(f"{url} answered HTTP {status}")
    if "chunked" in headers.get("transfer-encoding", ""):
        body = _dechunk(body)
    return json.loads(body)


def _host_header(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _read_all(sock: socket.socket, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
        size += len(data)
        if size > MAX_BODY:
            raise OSError("reply too large")


def _split(raw: bytes, url: str) -> tuple[int, dict[str, str], bytes]:
    """Status code, lower-cased headers and body of a raw HTTP reply."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"{url} did not answer with HTTP")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    return int(parts[1]), headers, body


def _dechunk(body: bytes) -> bytes:
    """Chunked transfer encoding → the body (a 1.0 reply should not be chunked; tolerated anyway)."""
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return bytes(out)
