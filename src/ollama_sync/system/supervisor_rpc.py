"""supervisord's XML-RPC API (the one `supervisorctl` speaks), over its unix socket or its inet port.

The API rather than `supervisorctl` subprocesses: one call costs a millisecond instead of a Python start-up,
and its answers are typed (states, pids, exit statuses, fault codes) instead of text to parse.
The small codec below (method calls with scalar arguments; responses of structs, arrays and scalars) stands
in for `xmlrpc.client`, whose import pulls in `http.client`, the `email` parser and `ssl` (~55 ms, more than
the rest of a no-op `apply`): a request is one HTTP/1.0 POST on a socket, parsed with expat.
"""

from __future__ import annotations

import socket
from typing import Any, Final
from xml.parsers import expat

from ollama_sync.errors import OllamaSyncError, Unreachable
from ollama_sync.system.supervisor_conf import SupervisorConf

# supervisor/xmlrpc.py Faults
BAD_NAME: Final = 10
ABNORMAL_TERMINATION: Final = 40
SPAWN_ERROR: Final = 50
ALREADY_STARTED: Final = 60
NOT_RUNNING: Final = 70
ALREADY_ADDED: Final = 90
STILL_RUNNING: Final = 91
_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class Fault(OllamaSyncError):  # the XML-RPC name, as in xmlrpc.client
    """An XML-RPC fault answered by supervisord (faultCode as in supervisor/xmlrpc.py).

    An OllamaSyncError, so one no caller expected still reaches the user as a message (and rolls apply back).
    """

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"supervisord answered fault {code}: {text}",
                         hint="see supervisord's own log, and check the program sections in its include folder")
        self.faultCode = code
        self.faultString = text


class _Node:
    """One element of a parsed response (a plain class: this module is on the start-up path of apply)."""

    __slots__ = ("children", "tag", "text")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.children: list[_Node] = []
        self.text = ""


def encode_call(method: str, args: tuple[Any, ...]) -> bytes:
    """A methodCall document for scalar arguments (str, int, bool, None)."""
    params = "".join(f"<param><value>{_encode(arg)}</value></param>" for arg in args)
    return (f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName>"
            f"<params>{params}</params></methodCall>").encode()


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return f"<boolean>{int(value)}</boolean>"
    if isinstance(value, int):
        return f"<int>{value}</int>"
    if value is None:
        return "<nil/>"
    return f"<string>{str(value).translate(_ESCAPES)}</string>"


def decode_response(body: bytes) -> Any:
    """A methodResponse document → its value; a fault is raised as Fault."""
    root = _parse(body)
    if root.tag != "methodResponse" or not root.children:
        raise OllamaSyncError("supervisord sent an answer that is not an XML-RPC response")
    first = root.children[0]
    if first.tag == "fault":
        fault = _value(first.children[0])
        raise Fault(int(fault.get("faultCode", 0)), str(fault.get("faultString", "")))
    return _value(first.children[0].children[0])  # params/param/value


def _parse(body: bytes) -> _Node:
    parser = expat.ParserCreate()
    stack: list[_Node] = [_Node("")]

    def start(tag: str, _attrs: dict[str, str]) -> None:
        node = _Node(tag)
        stack[-1].children.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise OllamaSyncError(f"supervisord sent malformed XML: {exc}") from None
    return stack[0].children[0]


def _value(node: _Node) -> Any:
    """A <value> element → Python."""
    if not node.children:
        return node.text  # a bare value is a string
    typed = node.children[0]
    match typed.tag:
        case "string":
            return typed.text
        case "int" | "i4" | "i8":
            return int(typed.text.strip())
        case "boolean":
            return typed.text.strip() == "1"
        case "double":
            return float(typed.text.strip())
        case "nil":
            return None
        case "struct":
            return {m.children[0].text: _value(m.children[1]) for m in typed.children}  # member: name, value
        case "array":
            return [_value(v) for v in typed.children[0].children] if typed.children else []  # data/value*
        case _:
            return typed.text  # base64 / dateTime: supervisord's API answers none that ollama-sync reads


class SupervisorRpc:
    """A thin client: `call("supervisor.getProcessInfo", "ollama")`, connection errors as Unreachable."""

    def __init__(self, conf: SupervisorConf, timeout: float = 30.0) -> None:
        self.conf = conf
        self.timeout = timeout

    def call(self, method: str, *args: Any) -> Any:
        """Call one API method; a Fault propagates, a dead server is Unreachable."""
        body = encode_call(method, args)
        try:
            status, reply = self._post(body)
        except OSError as exc:
            raise Unreachable(f"supervisord is not answering at {self.conf.serverurl}: {exc}",
                              hint=f"start it: supervisord -c {self.conf.path}") from None
        if status == 401:
            raise OllamaSyncError(f"supervisord at {self.conf.serverurl} refused the credentials",
                                  hint=f"set username/password under [supervisorctl] in {self.conf.path}")
        if status != 200:
            raise Unreachable(f"supervisord at {self.conf.serverurl} answered HTTP {status}")
        return decode_response(reply)

    def _post(self, body: bytes) -> tuple[int, bytes]:
        """One HTTP/1.0 POST to /RPC2; (status, body)."""
        headers = [b"POST /RPC2 HTTP/1.0", b"Host: localhost", b"Content-Type: text/xml",
                   b"Content-Length: " + str(len(body)).encode()]
        if self.conf.username:
            import base64  # noqa: PLC0415  # only for servers with credentials

            token = base64.b64encode(f"{self.conf.username}:{self.conf.password or ''}".encode())
            headers.append(b"Authorization: Basic " + token)
        with self._connect() as sock:
            sock.sendall(b"\r\n".join(headers) + b"\r\n\r\n" + body)
            data = _read_all(sock)
        head, _, reply = data.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise OSError("not an HTTP answer")
        return int(status_line[1]), reply

    def _connect(self) -> socket.socket:
        url = self.conf.serverurl
        if url.startswith("unix://"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(url[len("unix://"):])
            except OSError:
                sock.close()
                raise
            return sock
        host_port = url.partition("://")[2].split("/", 1)[0]
        host, _, port = host_port.rpartition(":")
        return socket.create_connection((host.strip("[]") or "localhost", int(port or 80)), timeout=self.timeout)


def _read_all(sock: socket.socket) -> bytes:
    """Read until the server closes (HTTP/1.0) or the declared Content-Length has arrived."""
    chunks: list[bytes] = []
    length: int | None = None
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        data = b"".join(chunks)
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep and length is None:
            length = _content_length(head)
        if length is not None and len(body) >= length:
            return data


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None
