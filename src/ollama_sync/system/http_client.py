"""The package's one HTTP client (`http.client`): the server's API, status's probes, and supervisord's XML-RPC.

One deadline bounds each exchange — connect, send and every read of the answer — so a server that trickles
bytes cannot stall a command past it. The body is read as `http.client` reads it: to its Content-Length (a
shorter body is an error, not a truncated answer), or chunked, or to the end of the connection. No answer at
all is `NoAnswer` (an `Unreachable`); an answer that is not the HTTP (or the JSON) expected is `BadAnswer`.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ollama_sync.errors import OllamaSyncError, Unreachable

MAX_BODY: Final = 8 * 1024 * 1024  # /api/tags of a large collection is well below this


class BadAnswer(OllamaSyncError):
    """Something answered, but not with the HTTP, or the content, that was asked for."""


class NoAnswer(Unreachable):
    """Nothing answered in time: refused, timed out, reset, no such socket."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"no answer from {url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a server listens: a TCP host and port, or a Unix socket (supervisord's usual one)."""

    host: str = ""
    port: int = 0
    unix_path: str | None = None

    def url(self, path: str = "") -> str:
        """http://host:port/path, or unix:///socket/path for a Unix socket."""
        if self.unix_path is not None:
            return f"unix://{self.unix_path}{path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP answer."""

    status: int
    body: bytes
    content_type: str = ""


def exchange(endpoint: Endpoint, method: str, path: str, timeout: float, *, body: bytes | None = None,
             headers: Mapping[str, str] | None = None) -> Answer:
    """One request and its whole answer within `timeout` seconds.

    NoAnswer when nothing answers in time (refused, timed out, reset); BadAnswer when the answer is not
    HTTP, is cut short of its Content-Length, or is larger than MAX_BODY.
    """
    url = endpoint.url(path)
    connection = _Connection(endpoint, time.monotonic() + timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        if response.length is not None and response.length > MAX_BODY:
            raise BadAnswer(f"{url} answered with {response.length} bytes, more than {MAX_BODY}")
        body = _read_body(response, url)
        return Answer(response.status, body, response.getheader("Content-Type") or "")
    except TimeoutError:
        raise NoAnswer(url, "timed out") from None
    except http.client.IncompleteRead as exc:  # a chunked body that ends mid-chunk
        raise BadAnswer(f"{url} closed the connection in the middle of the answer ({exc!r})") from None
    except http.client.RemoteDisconnected:
        raise NoAnswer(url, "closed the connection without answering") from None
    except (http.client.HTTPException, ValueError) as exc:  # a status line or header that is not HTTP
        raise BadAnswer(f"{url} did not answer with HTTP ({type(exc).__name__})") from None
    except OSError as exc:
        raise NoAnswer(url, exc.strerror or str(exc)) from None
    finally:
        connection.close()


def _read_body(response: http.client.HTTPResponse, url: str) -> bytes:
    """The whole body, at most MAX_BODY bytes; BadAnswer when it ends before its Content-Length."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise BadAnswer(f"{url} answered with more than {MAX_BODY} bytes")
        chunks.append(chunk)
    if response.length:  # http.client counts down what Content-Length announced: this much never came
        raise BadAnswer(f"{url} closed the connection after {size} bytes of the answer "
                        f"({response.length} more were announced)")
    return b"".join(chunks)


def get_json(host: str, port: int, path: str, timeout: float) -> Any:
    """GET http://host:port/path and decode the JSON body.

    Unreachable on no answer or a reply other than 200; BadAnswer when the body is not JSON.
    """
    endpoint = Endpoint(host, port)
    answer = exchange(endpoint, "GET", path, timeout, headers={"Accept": "application/json"})
    if answer.status != 200:
        raise Unreachable(f"{endpoint.url(path)} answered HTTP {answer.status}")
    try:
        return json.loads(answer.body)
    except ValueError as exc:  # UnicodeDecodeError included
        raise BadAnswer(f"{endpoint.url(path)} answered, but not with JSON: {exc}") from None


class _DeadlineSocket(socket.socket):
    """A socket whose every send and receive waits only for what is left of one deadline."""

    deadline: float = 0.0

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self.settimeout(left)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """socket.recv_into within the deadline (http.client reads through it)."""
        self._arm()
        return super().recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """socket.recv within the deadline."""
        self._arm()
        return super().recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        """socket.sendall within the deadline."""
        self._arm()
        super().sendall(data, flags)


class _Connection(http.client.HTTPConnection):
    """An HTTPConnection to an Endpoint (TCP or Unix socket) whose socket keeps one deadline."""

    def __init__(self, endpoint: Endpoint, deadline: float) -> None:
        super().__init__(endpoint.host or "localhost", endpoint.port or None)
        self._endpoint = endpoint
        self._deadline = deadline

    def connect(self) -> None:
        """Connect within the deadline, then hand the socket over to the deadline-keeping class."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        if self._endpoint.unix_path is not None:
            plain = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                plain.settimeout(left)
                plain.connect(self._endpoint.unix_path)
            except OSError:
                plain.close()
                raise
        else:
            plain = socket.create_connection((self._endpoint.host, self._endpoint.port), timeout=left)
        sock = _DeadlineSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
        sock.deadline = self._deadline
        self.sock = sock
