"""Manifests under the models path: names as `ollama list` shows them, blobs, and broken entries."""

from __future__ import annotations

from pathlib import Path

from ollama_sync.system.models import find_model, list_models
from tests.gguf_models import install


def test_names_blobs_and_problems(tmp_path: Path) -> None:
    models = tmp_path / "models"
    good = install(models, "llama3.1", b"GGUF one", tag="8b")
    install(models, "mine", b"GGUF two", namespace="alice")
    install(models, "other", b"GGUF three", host="hf.co", namespace="org")
    gone = install(models, "gone", b"GGUF four")
    gone.unlink()
    bad = models / "manifests/registry.ollama.ai/library/bad/latest"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    found = {m.name: m for m in list_models(models)}
    assert sorted(found) == ["alice/mine:latest", "bad:latest", "gone:latest", "hf.co/org/other:latest", "llama3.1:8b"]
    assert found["llama3.1:8b"].blob == good and not found["llama3.1:8b"].problem
    assert "missing" in found["gone:latest"].problem and found["gone:latest"].blob == gone
    assert found["bad:latest"].problem.startswith("unreadable manifest")


def test_legacy_colon_blob_names_are_found(tmp_path: Path) -> None:
    models = tmp_path / "models"
    blob = install(models, "old", b"GGUF")
    blob.rename(blob.with_name(blob.name.replace("sha256-", "sha256:")))
    (model,) = list_models(models)
    assert model.blob is not None and model.blob.name.startswith("sha256:")


def test_find_model_adds_latest_and_accepts_full_names(tmp_path: Path) -> None:
    models = tmp_path / "models"
    install(models, "qwen2.5", b"GGUF")
    installed = list_models(models)
    assert find_model(installed, "qwen2.5") is installed[0]
    assert find_model(installed, "registry.ollama.ai/library/qwen2.5:latest") is installed[0]
    assert find_model(installed, "qwen2.5:7b") is None


def test_no_models_folder_is_no_models(tmp_path: Path) -> None:
    assert list_models(tmp_path / "absent") == ()
