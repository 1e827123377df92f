"""The XML-RPC codec used for supervisord, checked against the standard library's own implementation."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from ollama_sync.system.supervisor_rpc import Fault, decode_response, encode_call


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
