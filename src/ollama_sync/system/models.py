"""Models on disk: manifests under the models path → model names and the blob holding each model's GGUF.

Layout (ollama/ollama `types/model/name.go`, `manifest/paths.go`): manifests at
`manifests/<host>/<namespace>/<model>/<tag>` (JSON); the layer with media type
`application/vnd.ollama.image.model` names its blob `blobs/sha256-<hex>` (`sha256:<hex>` before v0.1.30).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

MODEL_MEDIA_TYPE: Final = "application/vnd.ollama.image.model"
DEFAULT_HOST: Final = "registry.ollama.ai"
DEFAULT_NAMESPACE: Final = "library"


@dataclass(frozen=True)
class InstalledModel:
    """One manifest: the model's name, its manifest file, and its model blob (or why there is none)."""

    name: str  # "llama3.1:8b", "user/model:tag", "host/ns/model:tag" as `ollama list` shows it
    manifest: Path
    blob: Path | None
    problem: str = ""  # non-empty when the manifest is unreadable or its blob is missing


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
    layers = doc.get("layers") if isinstance(doc, dict) else None
    digest = next((layer.get("digest") for layer in layers or () if isinstance(layer, dict)
                   and layer.get("mediaType") == MODEL_MEDIA_TYPE), None)
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        return InstalledModel(name, path, None, f"no {MODEL_MEDIA_TYPE} layer in the manifest")
    blob = blob_path(models_dir, digest)
    if blob is None:
        return InstalledModel(name, path, models_dir / "blobs" / digest.replace(":", "-"),
                              f"the manifest names blob {digest}, which is missing")
    return InstalledModel(name, path, blob)


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
