"""supervisord's XML-RPC API (the one `supervisorctl` speaks), over its unix socket or its inet port.

The API rather than `supervisorctl` subprocesses: one call costs a millisecond instead of a Python start-up,
and its answers are typed (states, pids, exit statuses, fault codes) instead of text to parse.
"""

from __future__ import annotations

import http.client
import socket
import xmlrpc.client
from typing import Any, Final
from urllib.parse import quote

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
Fault = xmlrpc.client.Fault


class _UnixConnection(http.client.HTTPConnection):
    """An HTTP connection over a unix socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        """Connect to the socket instead of a TCP address."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    """xmlrpc.client transport for `unix://` server URLs."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self.socket_path = path
        self.timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        """A fresh unix-socket connection; basic-auth headers come from the host part, as for TCP."""
        _, self._extra_headers, _ = self.get_host_info(host)
        return _UnixConnection(self.socket_path, self.timeout)


class _TimeoutTransport(xmlrpc.client.Transport):
    """xmlrpc.client transport for `http://` server URLs, with a timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        """A connection with the timeout set."""
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


class SupervisorRpc:
    """A thin client: `call("supervisor.getProcessInfo", "ollama")`, connection errors as Unreachable."""

    def __init__(self, conf: SupervisorConf, timeout: float = 30.0) -> None:
        self.conf = conf
        auth = ""
        if conf.username:
            auth = quote(conf.username, safe="") + ":" + quote(conf.password or "", safe="") + "@"
        if conf.serverurl.startswith("unix://"):
            transport: xmlrpc.client.Transport = _UnixTransport(conf.serverurl[len("unix://"):], timeout)
            url = f"http://{auth}localhost/RPC2"
        else:
            transport = _TimeoutTransport(timeout)
            scheme, _, rest = conf.serverurl.partition("://")
            url = f"{scheme}://{auth}{rest.rstrip('/')}/RPC2"
        self._proxy = xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True)

    def call(self, method: str, *args: Any) -> Any:
        """Call one API method; a Fault propagates, a dead server is Unreachable."""
        try:
            return getattr(self._proxy, method)(*args)
        except Fault:
            raise
        except xmlrpc.client.ProtocolError as exc:
            if exc.errcode == 401:
                raise OllamaSyncError(f"supervisord at {self.conf.serverurl} refused the credentials",
                                      hint=f"set username/password under [supervisorctl] in {self.conf.path}",
                                      ) from None
            raise Unreachable(f"supervisord at {self.conf.serverurl}: HTTP {exc.errcode} {exc.errmsg}") from None
        except OSError as exc:
            raise Unreachable(f"supervisord is not answering at {self.conf.serverurl}: {exc}",
                              hint=f"start it: supervisord -c {self.conf.path}") from None
