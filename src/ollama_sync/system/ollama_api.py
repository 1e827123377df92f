"""The server's HTTP API (`/api/version`, `/api/tags`, `/api/ps`) with short timeouts.

Every request goes through system/http_client.get_json, the one HTTP client of the package. The official
`ollama` client (httpx) is used only for streaming pulls (system/models.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ollama_sync.core.hostport import HostPort
from ollama_sync.errors import Unreachable
from ollama_sync.system.http_client import BadAnswer, get_json


def base_url(hp: HostPort) -> str:
    """The URL a client uses for a listen address: 0.0.0.0 → 127.0.0.1 and :: → ::1 (ConnectableHost)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(hp.host, hp.host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{hp.port}"


@dataclass(frozen=True)
class OllamaApi:
    """A client for one server address; every call raises Unreachable when the server does not answer."""

    url: str  # e.g. http://127.0.0.1:11434 or http://[::1]:11434
    timeout: float = 2.0

    def get_json(self, path: str) -> Any:
        """GET url+path and decode the JSON body."""
        host, port = _host_port(self.url)
        try:
            return get_json(host, port, path, self.timeout)
        except BadAnswer as exc:  # not HTTP, or not JSON
            raise Unreachable(f"{self.url}{path} gave an unreadable answer: {exc}") from None

    def ping(self) -> bool:
        """True when `/api/version` answers (the server's cheapest JSON endpoint)."""
        try:
            self.get_json("/api/version")
        except Unreachable:
            return False
        return True

    def version(self) -> str:
        """`/api/version` → "0.5.7"."""
        return str(self.get_json("/api/version").get("version", ""))

    def tags(self) -> list[dict[str, Any]]:
        """`/api/tags` → installed models."""
        return list(self.get_json("/api/tags").get("models", []))

    def ps(self) -> list[dict[str, Any]]:
        """`/api/ps` → loaded models."""
        return list(self.get_json("/api/ps").get("models", []))


def _host_port(url: str) -> tuple[str, int]:
    """("127.0.0.1", 11434) from "http://127.0.0.1:11434" (brackets of an IPv6 host removed)."""
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = authority.rpartition(":")
    if not host or not port.isdigit():
        raise Unreachable(f"not a server address: {url}")
    return host.strip("[]"), int(port)
