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


def test_model_info_is_cached_by_blob_and_reused(tmp_path: Path) -> None:
    from ollama_sync.system.files import Files  # noqa: PLC0415
    from ollama_sync.system.models import CACHE_SCHEMA, cached_model_info  # noqa: PLC0415
    from tests.gguf_models import QWEN25_7B, write_gguf  # noqa: PLC0415

    source = tmp_path / "q.gguf"
    write_gguf(source, QWEN25_7B, vocab=300)
    blob = install(tmp_path / "models", "qwen2.5", source)
    state = str(tmp_path / "state")
    first = cached_model_info(blob, Files(None), state)
    (entry,) = (tmp_path / "state" / "model-info").iterdir()
    with blob.open("r+b") as handle:  # the header is gone: only the cache can answer now
        handle.write(b"\0" * 64)
    assert cached_model_info(blob, Files(None), state) == first
    assert entry.name == f"v{CACHE_SCHEMA}-{blob.name}.json"
