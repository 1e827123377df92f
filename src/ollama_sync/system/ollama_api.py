"""The server's HTTP API (`/`, `/api/version`, `/api/tags`, `/api/ps`) over urllib, with short timeouts.

urllib rather than the official client here: status and doctor probe several addresses and must start
fast; the official `ollama` client (httpx) is used only for streaming pulls.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from ollama_sync.core.hostport import HostPort
from ollama_sync.errors import Unreachable


def base_url(hp: HostPort) -> str:
    """The URL a client uses for a listen address: 0.0.0.0 → 127.0.0.1 and :: → ::1 (ConnectableHost)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(hp.host, hp.host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{hp.port}"


@dataclass(frozen=True)
class OllamaApi:
    """A client for one server address; every call raises Unreachable when the server does not answer."""

    url: str  # e.g. http://127.0.0.1:11434
    timeout: float = 2.0

    def get_json(self, path: str) -> Any:
        """GET url+path and decode the JSON body."""
        return json.loads(self._get(path))

    def ping(self) -> bool:
        """True when `GET /` answers 200 (the body is "Ollama is running")."""
        try:
            self._get("/")
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

    def _get(self, path: str) -> bytes:
        request = urllib.request.Request(self.url + path, headers={"Accept": "application/json"})
        try:
            # No proxy: the server is on this machine, and a user's HTTP_PROXY must not see its traffic.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                return body
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"no answer from {self.url}{path}: {reason}") from None
