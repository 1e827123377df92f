"""supervisord's XML-RPC client: xmlrpc.client's documents over the one HTTP client, malformed answers typed."""

from __future__ import annotations

import socket
import threading
import xmlrpc.client
from pathlib import Path
from typing import Any

import pytest

from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.http_client import BadAnswer, Endpoint
from ollama_sync.system.supervisor_conf import parse_conf
from ollama_sync.system.supervisor_rpc import Fault, SupervisorRpc, decode_response, encode_call, endpoint
from tests.system.raw_http import read_request


@pytest.mark.parametrize("args", [(), ("ollama",), ("a<b&c>", True, 3, None), ("ünï",)])
def test_encode_call_is_read_back_by_xmlrpc_client(args: tuple[object, ...]) -> None:
    params, method = xmlrpc.client.loads(encode_call("supervisor.x", args), use_builtin_types=True)
    assert method == "supervisor.x" and params == args


@pytest.mark.parametrize("value", [
    {"name": "ollama", "pid": 123, "statename": "RUNNING", "spawnerr": "", "now": 1.5},
    [["added"], [], ["ollama", "x"]],
    True, "plain", 0, [],
])
def test_decode_response_reads_xmlrpc_client_documents(value: Any) -> None:
    body = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()
    assert decode_response(body) == value


def test_decode_response_raises_faults() -> None:
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(10, "BAD_NAME: ollama")).encode()
    with pytest.raises(Fault) as caught:
        decode_response(body)
    assert (caught.value.faultCode, caught.value.faultString) == (10, "BAD_NAME: ollama")


@pytest.mark.parametrize(("body", "match"), [
    (b"<methodResponse><params/></methodResponse>", "0 values instead of one"),
    (b"<?xml version='1.0'?><methodResponse><params><param><value><int>1</int></value></param>"
     b"<param><value><int>2</int></value></param></params></methodResponse>", "2 values instead of one"),
    (b"<methodResponse><params><param><value><int>1", "not an XML-RPC response"),
    (b"<html><body>502 Bad Gateway</body></html>", "not an XML-RPC response"),
    (b"<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
     "not an XML-RPC response"),
])
def test_malformed_responses_are_bad_answers_not_index_errors(body: bytes, match: str) -> None:
    with pytest.raises(BadAnswer, match=match) as caught:
        decode_response(body)
    assert isinstance(caught.value, OllamaSyncError) and caught.value.exit_code == 1


def test_a_call_over_the_unix_socket_reads_a_malformed_answer_as_a_bad_answer(tmp_path: Path) -> None:
    path = str(tmp_path / "supervisor.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    seen: list[bytes] = []

    def serve() -> None:  # supervisord's medusa answers HTTP/1.1 with a Content-Length
        conn, _ = listener.accept()
        with conn:
            seen.append(read_request(conn))
            body = b"<methodResponse><params/></methodResponse>"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    conf = parse_conf(f"[supervisorctl]\nserverurl=unix://{path}\nusername=u\npassword=p\n", "/etc/s.conf", {})
    try:
        with pytest.raises(BadAnswer, match="0 values instead of one"):
            SupervisorRpc(conf, timeout=5).call("supervisor.getProcessInfo", "ollama")
    finally:
        thread.join(timeout=5)
        listener.close()
    assert seen[0].startswith(b"POST /RPC2 HTTP/1.1\r\n") and b"Authorization: Basic dTpw" in seen[0]
    assert b"<methodName>supervisor.getProcessInfo</methodName>" in seen[0]


@pytest.mark.parametrize(("url", "expected"), [
    ("unix:///run/supervisor.sock", Endpoint(unix_path="/run/supervisor.sock")),
    ("http://127.0.0.1:9001", Endpoint("127.0.0.1", 9001)),
    ("http://[::1]:9001/RPC2", Endpoint("::1", 9001)),
    ("http://localhost", Endpoint("localhost", 80)),
])
def test_server_urls(url: str, expected: Endpoint) -> None:
    assert endpoint(url) == expected


@pytest.mark.slow
def test_a_fault_from_the_real_supervisord_is_a_user_error(tmp_path: Path) -> None:
    """An unexpected fault (here: a method supervisord does not have) is an OllamaSyncError (exit 1, rollback),
    and still a Fault with its code for the callers that tolerate expected ones."""
    from tests.supervisor_harness import running_supervisord  # noqa: PLC0415  # starts a real supervisord

    with running_supervisord(tmp_path) as sv, pytest.raises(Fault) as caught:
        sv.rpc().call("supervisor.noSuchMethod")
    assert isinstance(caught.value, OllamaSyncError) and caught.value.faultCode == 1  # UNKNOWN_METHOD
    assert caught.value.message == "supervisord answered fault 1: UNKNOWN_METHOD"
