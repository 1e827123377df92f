"""supervisord's XML-RPC API (the one `supervisorctl` speaks), over its Unix socket or its inet port.

The API rather than `supervisorctl` subprocesses: one call costs a millisecond instead of a Python start-up,
and its answers are typed (states, pids, exit statuses, fault codes) instead of text to parse. Documents are
written and read by `xmlrpc.client` (dumps/loads); the request goes through the package's one HTTP client
(system/http_client.py), which also speaks over a Unix socket and keeps one deadline per call.
"""

from __future__ import annotations

import base64
import xmlrpc.client
from typing import Any, Final
from xml.parsers.expat import ExpatError

from ollama_sync.errors import OllamaSyncError, Unreachable
from ollama_sync.system.http_client import BadAnswer, Endpoint, NoAnswer, exchange
from ollama_sync.system.supervisor_conf import SupervisorConf

Fault = xmlrpc.client.Fault  # faultCode as in supervisor/xmlrpc.py


class SupervisorFault(Fault, OllamaSyncError):
    """A fault supervisord answered: still a Fault (callers tolerate expected codes), and an OllamaSyncError,
    so one nobody expected reaches the user as a message, exit 1, and rolls apply back (never exit 3).
    """

    def __init__(self, code: int, text: str) -> None:
        OllamaSyncError.__init__(self, f"supervisord answered fault {code}: {text}",
                                 hint="see supervisord's own log, and the program sections in its include folder")
        self.faultCode = code
        self.faultString = text

# supervisor/xmlrpc.py Faults
BAD_NAME: Final = 10
ABNORMAL_TERMINATION: Final = 40
SPAWN_ERROR: Final = 50
ALREADY_STARTED: Final = 60
NOT_RUNNING: Final = 70
ALREADY_ADDED: Final = 90
STILL_RUNNING: Final = 91


def encode_call(method: str, args: tuple[Any, ...]) -> bytes:
    """A methodCall document (None as <nil/>, which supervisord's API never needs but accepts)."""
    return xmlrpc.client.dumps(args, method, allow_none=True).encode()


def decode_response(body: bytes, source: str = "supervisord") -> Any:
    """A methodResponse document → its one value; a fault is raised as Fault, anything else as BadAnswer."""
    try:
        params, _method = xmlrpc.client.loads(body, use_builtin_types=True)
    except Fault:
        raise
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError) as exc:
        raise BadAnswer(f"{source} sent an answer that is not an XML-RPC response: {exc or type(exc).__name__}"
                        ) from None
    if len(params) != 1:
        raise BadAnswer(f"{source} sent an XML-RPC response with {len(params)} values instead of one")
    return params[0]


def endpoint(serverurl: str) -> Endpoint:
    """unix:///path/sock → a Unix socket; http://host:port → TCP (supervisorctl's serverurl forms)."""
    if serverurl.startswith("unix://"):
        return Endpoint(unix_path=serverurl[len("unix://"):])
    authority = serverurl.partition("://")[2].split("/", 1)[0]
    host, _, port = authority.rpartition(":")
    if not port.isdigit():
        host, port = authority, "80"
    return Endpoint(host.strip("[]") or "localhost", int(port))


class SupervisorRpc:
    """A thin client: `call("supervisor.getProcessInfo", "ollama")`, connection errors as Unreachable."""

    def __init__(self, conf: SupervisorConf, timeout: float = 30.0) -> None:
        self.conf = conf
        self.timeout = timeout

    def call(self, method: str, *args: Any) -> Any:
        """Call one API method within the timeout; a Fault propagates, a dead server is Unreachable."""
        headers = {"Content-Type": "text/xml"}
        if self.conf.username:
            token = base64.b64encode(f"{self.conf.username}:{self.conf.password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            answer = exchange(endpoint(self.conf.serverurl), "POST", "/RPC2", self.timeout,
                              body=encode_call(method, args), headers=headers)
        except NoAnswer as exc:
            raise Unreachable(f"supervisord is not answering at {self.conf.serverurl}: {exc.reason}",
                              hint=f"start it: supervisord -c {self.conf.path}") from None
        if answer.status == 401:
            raise OllamaSyncError(f"supervisord at {self.conf.serverurl} refused the credentials",
                                  hint=f"set username/password under [supervisorctl] in {self.conf.path}")
        if answer.status != 200:
            raise Unreachable(f"supervisord at {self.conf.serverurl} answered HTTP {answer.status}")
        try:
            return decode_response(answer.body, f"supervisord at {self.conf.serverurl}")
        except Fault as fault:
            raise SupervisorFault(fault.faultCode, fault.faultString) from None
