"""Pulling and deleting models through the server's API with the official `ollama` client (httpx, streamed).

The client is imported on first use: it costs import time that other commands should not pay.
Proxies from the environment are ignored: the server is on this machine (the *server* downloads
from the registry, with its own proxy settings).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ollama_sync.errors import OllamaSyncError, Unreachable


@dataclass(frozen=True)
class Progress:
    """One line of a pull's progress stream."""

    status: str
    digest: str | None = None
    completed: int | None = None
    total: int | None = None


class PullFailed(OllamaSyncError):
    """A pull did not finish: the server reported an error, or the stream broke."""


class ModelClient(Protocol):
    """What `models sync` needs from the server."""

    def pull(self, name: str) -> Iterator[Progress]:
        """Pull a model, yielding progress; raises PullFailed, or Unreachable when the server does not answer."""
        ...

    def delete(self, name: str) -> None:
        """Remove an installed model."""
        ...


class OllamaModelClient:
    """ModelClient over `ollama.Client(host=url)`."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._client: Any = None

    def _ollama(self) -> Any:
        if self._client is None:
            import ollama  # noqa: PLC0415  # heavy (httpx, pydantic): only models sync pays for it

            self._client = ollama.Client(host=self.url, timeout=self.timeout, trust_env=False)
        return self._client

    def pull(self, name: str) -> Iterator[Progress]:
        """Stream the pull; the server's {"error": …} line becomes PullFailed with its text."""
        import httpx  # noqa: PLC0415
        import ollama  # noqa: PLC0415

        try:
            for part in self._ollama().pull(name, stream=True):
                yield Progress(str(part.status or ""), part.digest, part.completed, part.total)
        except ollama.ResponseError as exc:
            raise PullFailed(str(exc.error)) from None
        except (httpx.ConnectError, ConnectionError):
            raise Unreachable(f"no answer from {self.url}/api/pull") from None
        except httpx.HTTPError as exc:
            raise PullFailed(f"the connection to the server broke: {exc or type(exc).__name__}") from None

    def delete(self, name: str) -> None:
        """DELETE /api/delete; a model the server does not have is an error."""
        import httpx  # noqa: PLC0415
        import ollama  # noqa: PLC0415

        try:
            self._ollama().delete(name)
        except ollama.ResponseError as exc:
            raise OllamaSyncError(f"could not remove {name}: {exc.error}") from None
        except (httpx.HTTPError, ConnectionError):
            raise Unreachable(f"no answer from {self.url}/api/delete") from None
