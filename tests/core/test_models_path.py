"""core.paths.models_path: where the server keeps models, as declared, with `~` taken from a given home."""

from __future__ import annotations

import pytest

from ollama_sync.core.paths import models_path
from ollama_sync.core.settings import OllamaSettings


@pytest.mark.parametrize(("settings", "home", "expected"), [
    (OllamaSettings(), "/Users/alice", "/Users/alice/.ollama/models"),
    (OllamaSettings(models_path="/srv/models"), "/Users/alice", "/srv/models"),
    (OllamaSettings(models_path="~/m"), "/usr/share/ollama", "/usr/share/ollama/m"),
    (OllamaSettings(models_path="~"), "/home/bob", "/home/bob"),
    (OllamaSettings(environment=(("OLLAMA_MODELS", "/data/m"),)), "/home/bob", "/data/m"),
    # a named setting wins over the free table, as when rendering
    (OllamaSettings(models_path="/a", environment=(("OLLAMA_MODELS", "/b"),)), "/h", "/a"),
    (OllamaSettings(models_path="~bob/m"), "/h", "~bob/m"),  # only `~` and `~/` are the home
])
def test_models_path(settings: OllamaSettings, home: str, expected: str) -> None:
    assert models_path(settings, home) == expected
