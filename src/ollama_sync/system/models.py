"""Models: the manifests on disk, their GGUF facts cached by blob, and pulls and removals through the server.

On disk (ollama/ollama `types/model/name.go`, `manifest/paths.go`): manifests at
`manifests/<host>/<namespace>/<model>/<tag>` (JSON); the layer with media type
`application/vnd.ollama.image.model` names its blob `blobs/sha256-<hex>` (`sha256:<hex>` before v0.1.30).

Header facts are cached by blob name: Ollama's blobs are content-addressed (sha256-<hex>), so a header never
changes. A header with a large vocabulary takes ~0.1 s to read; `plan` and `doctor` ask about every installed
model, so the facts are kept as JSON under the state directory, next to the blob's size as a sanity check.

Pulls and removals go through the official `ollama` client (httpx, streamed), imported on first use: it costs
import time that other commands should not pay. Proxies from the environment are ignored: the server is on
this machine (the *server* downloads from the registry, with its own proxy settings).
"""

from __future__ import annotations

import contextlib
import json
import posixpath
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Final, Protocol

from ollama_sync.core.memory.model_info import ModelInfo, model_info
from ollama_sync.errors import OllamaSyncError, Unreachable
from ollama_sync.system.files import Files
from ollama_sync.system.gguf_header import read_header

MODEL_MEDIA_TYPE: Final = "application/vnd.ollama.image.model"
PROJECTOR_MEDIA_TYPE: Final = "application/vnd.ollama.image.projector"
PARAMS_MEDIA_TYPE: Final = "application/vnd.ollama.image.params"
TENSOR_MEDIA_PREFIX: Final = "application/vnd.ollama.image.tensor"
_SMALL_BLOB: Final = 1 << 20  # config and params blobs are a few hundred bytes
DEFAULT_HOST: Final = "registry.ollama.ai"
DEFAULT_NAMESPACE: Final = "library"


@dataclass(frozen=True)
class InstalledModel:
    """One manifest: the model's name, its manifest file, and its model blob (or why there is none)."""

    name: str  # "llama3.1:8b", "user/model:tag", "host/ns/model:tag" as `ollama list` shows it
    manifest: Path
    blob: Path | None
    problem: str = ""  # non-empty when the manifest is unreadable or its blob is missing
    not_estimated: str = ""  # why memory is not estimated: a cloud model, a model that is not GGUF
    num_ctx: int | None = None  # `PARAMETER num_ctx` from the model's params layer (its Modelfile)
    projector: Path | None = None  # the vision projector blob (application/vnd.ollama.image.projector)


def display_name(host: str, namespace: str, model: str, tag: str) -> str:
    """The short name Ollama shows: default host and namespace left out."""
    if host == DEFAULT_HOST:
        return f"{model}:{tag}" if namespace == DEFAULT_NAMESPACE else f"{namespace}/{model}:{tag}"
    return f"{host}/{namespace}/{model}:{tag}"


def list_models(models_dir: Path) -> tuple[InstalledModel, ...]:
    """Every manifest under models_dir (the real path), sorted by name; empty when there is none."""
    root = models_dir / "manifests"
    if not root.is_dir():
        return ()
    found = [read_manifest(models_dir, path) for path in root.glob("*/*/*/*") if path.is_file()]
    return tuple(sorted(found, key=lambda m: m.name))


def read_manifest(models_dir: Path, path: Path) -> InstalledModel:
    """One manifest file → InstalledModel; a bad manifest or a missing blob is recorded, not raised."""
    host, namespace, model, tag = path.parts[-4:]
    name = display_name(host, namespace, model, tag)
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        return InstalledModel(name, path, None, f"unreadable manifest: {exc}")
    layers = [layer for layer in (doc.get("layers") if isinstance(doc, dict) else None) or ()
              if isinstance(layer, dict)]
    digests = {str(layer.get("mediaType")): layer.get("digest") for layer in reversed(layers)}  # first one wins
    remote = _remote_host(models_dir, doc)
    if remote is not None:
        return InstalledModel(name, path, None, not_estimated=f"cloud model: it runs on {remote}, not here")
    digest = digests.get(MODEL_MEDIA_TYPE)
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        if any(t.startswith(TENSOR_MEDIA_PREFIX) for t in digests):
            return InstalledModel(name, path, None, not_estimated="not a GGUF model (safetensors layers, "
                                  "run by Ollama's MLX runner): its memory is not estimated")
        return InstalledModel(name, path, None, f"no {MODEL_MEDIA_TYPE} layer in the manifest")
    blob = blob_path(models_dir, digest)
    if blob is None:
        return InstalledModel(name, path, models_dir / "blobs" / digest.replace(":", "-"),
                              f"the manifest names blob {digest}, which is missing")
    projector_digest = digests.get(PROJECTOR_MEDIA_TYPE)
    projector = blob_path(models_dir, projector_digest) if isinstance(projector_digest, str) else None
    return InstalledModel(name, path, blob, num_ctx=_num_ctx(models_dir, digests.get(PARAMS_MEDIA_TYPE)),
                          projector=projector)


def _json_blob(models_dir: Path, digest: object) -> object:
    """A small JSON blob (config, params) by digest; None when absent or not JSON."""
    if not isinstance(digest, str):
        return None
    path = blob_path(models_dir, digest)
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            return json.loads(handle.read(_SMALL_BLOB))
    except (OSError, ValueError):
        return None


def _remote_host(models_dir: Path, manifest: object) -> str | None:
    """A cloud model's remote host from its config blob (ConfigV2 remote_host / remote_model), else None."""
    config = manifest.get("config") if isinstance(manifest, dict) else None
    doc = _json_blob(models_dir, config.get("digest") if isinstance(config, dict) else None)
    if not isinstance(doc, dict):
        return None
    host, model = doc.get("remote_host"), doc.get("remote_model")
    if host or model:
        return str(host or "a remote host")
    return None


def _num_ctx(models_dir: Path, digest: object) -> int | None:
    """num_ctx from the params layer (the Modelfile's PARAMETER lines as JSON), when it is a positive number."""
    doc = _json_blob(models_dir, digest)
    value = doc.get("num_ctx") if isinstance(doc, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return int(value)


def blob_path(models_dir: Path, digest: str) -> Path | None:
    """The blob file for a digest: `sha256-<hex>`, or the pre-v0.1.30 `sha256:<hex>`; None when absent."""
    for name in (digest.replace(":", "-"), digest):
        candidate = models_dir / "blobs" / name
        if candidate.is_file():
            return candidate
    return None


def find_model(models: tuple[InstalledModel, ...], wanted: str) -> InstalledModel | None:
    """The installed model a user's name means: "llama3.1" → "llama3.1:latest", full names as given."""
    candidates = [wanted] if ":" in wanted.rsplit("/", 1)[-1] else [wanted, f"{wanted}:latest"]
    for name in candidates:
        for model in models:
            if model.name == name or model.name == name.removeprefix(f"{DEFAULT_HOST}/{DEFAULT_NAMESPACE}/"):
                return model
    return None


# Header facts, cached by blob

CACHE_SCHEMA: Final = 2  # in the cache file names: a new schema never reads old entries
_TUPLES: Final = frozenset(f.name for f in fields(ModelInfo) if str(f.type).startswith("tuple"))


def cached_model_info(blob: Path, files: Files, state_dir: str) -> ModelInfo:
    """The blob's ModelInfo, from the cache when its name and size match, else read (and cached)."""
    size = blob.stat().st_size
    path = posixpath.join(state_dir, "model-info", f"v{CACHE_SCHEMA}-{blob.name.replace(':', '-')}.json")
    cached = _load(files.read_bytes(path), size) if blob.name.startswith("sha256") else None
    if cached is not None:
        return cached
    info = model_info(read_header(blob))
    if blob.name.startswith("sha256"):
        # a read-only state dir only costs speed, never the answer
        with contextlib.suppress(OllamaSyncError, OSError):
            from ollama_sync.system.state import ensure_state_dir  # noqa: PLC0415  # only on a cache miss

            ensure_state_dir(files, state_dir)  # created 0700; never written when others could write it
            files.write_atomic(path, json.dumps(asdict(info)).encode(), mode=0o600)
    return info


def _load(data: bytes | None, size: int) -> ModelInfo | None:
    if data is None:
        return None
    try:
        raw: dict[str, Any] = json.loads(data)
        values: dict[str, Any] = {k: tuple(v) if k in _TUPLES else v for k, v in raw.items()}
        info = ModelInfo(**values)
    except (ValueError, TypeError):  # an old or damaged cache entry is re-read from the blob
        return None
    return info if info.file_size == size else None


# Pulling and removing, through the server

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
        import httpx  # noqa: PLC0415  # 80-140 ms (httpx): only models sync pays for it
        import ollama  # noqa: PLC0415  # as above

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
        import httpx  # noqa: PLC0415  # as above
        import ollama  # noqa: PLC0415  # as above

        try:
            self._ollama().delete(name)
        except ollama.ResponseError as exc:
            raise OllamaSyncError(f"could not remove {name}: {exc.error}") from None
        except (httpx.HTTPError, ConnectionError):
            raise Unreachable(f"no answer from {self.url}/api/delete") from None
