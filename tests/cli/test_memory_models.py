"""`memory` on what a model really is: its Modelfile num_ctx, a projector blob, cloud and safetensors models, and
the running server's /api/ps figures (a real loopback HTTP server answering in /api/ps's documented shape:
docs/openapi.yaml `{"models":[{"name","model","size","digest","details","expires_at","size_vram",
"context_length"}]}`)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import gguf
import numpy as np
import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.memory_check import memory_findings
from ollama_sync.app.prepare import prepare
from ollama_sync.cli import run
from ollama_sync.core.memory.projector import projector_compute, projector_info
from ollama_sync.system.gguf_header import read_header
from tests.gguf_models import LLAMA3_8B, install, write_gguf
from tests.oracle.tiny_mmproj import TinyProjector, write_projector

GIB = 1024**3


def _blob(models: Path, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    (models / "blobs").mkdir(parents=True, exist_ok=True)
    (models / "blobs" / f"sha256-{digest}").write_bytes(content)
    return f"sha256:{digest}"


def _add_layer(models: Path, name: str, media_type: str, content: bytes) -> None:
    manifest = models / "manifests" / "registry.ollama.ai" / "library" / name / "latest"
    doc = json.loads(manifest.read_text())
    doc["layers"].append({"mediaType": media_type, "digest": _blob(models, content), "size": len(content)})
    manifest.write_text(json.dumps(doc))


def _manifest(models: Path, name: str, config: dict[str, Any], layers: list[tuple[str, bytes]]) -> None:
    path = models / "manifests" / "registry.ollama.ai" / "library" / name / "latest"
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(config).encode()
    path.write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": _blob(models, raw),
                   "size": len(raw)},
        "layers": [{"mediaType": t, "digest": _blob(models, c), "size": len(c)} for t, c in layers]}))


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """llama3.1 with `PARAMETER num_ctx 4096` and a projector blob; a cloud model; a safetensors model."""
    root = tmp_path_factory.mktemp("ollama")
    models = root / "models"
    source = root / "llama.gguf"
    write_gguf(source, LLAMA3_8B, vocab=1000)
    install(models, "llama3.1", source)
    _add_layer(models, "llama3.1", "application/vnd.ollama.image.params", b'{"num_ctx":4096,"stop":["<|eot_id|>"]}')
    _add_layer(models, "llama3.1", "application/vnd.ollama.image.projector", _projector(root / "mmproj.gguf"))
    write_gguf(root / "vision.gguf", LLAMA3_8B, vocab=1000)
    install(models, "vision", root / "vision.gguf")  # a text model with a real (tiny) gemma3 projector
    _add_layer(models, "vision", "application/vnd.ollama.image.projector",
               write_projector(root / "gemma3-mmproj.gguf", GEMMA3_PROJECTOR).read_bytes())
    _manifest(models, "gpt-oss", {"remote_host": "https://ollama.com:443", "remote_model": "gpt-oss:120b",
                                  "model_format": "", "capabilities": ["completion"]}, [])
    _manifest(models, "qwen3-mlx", {"model_format": "safetensors"},
              [("application/vnd.ollama.image.tensor", b"\0" * 64), ("application/vnd.ollama.image.json", b"{}")])
    return models


PROJECTOR_BYTES = 64 * 64 * 2 + 128 * 64 * 4
GEMMA3_PROJECTOR = TinyProjector("gemma3", image=448, scale=4, out=4096)


def _projector(path: Path) -> bytes:
    """A small CLIP projector GGUF (the kind `ollama create` stores as a projector layer): two real tensors."""
    w = gguf.GGUFWriter(str(path), "clip")
    w.add_tensor("v.patch_embd.weight", np.zeros((64, 64), dtype=np.float16))
    w.add_tensor("mm.0.weight", np.zeros((64, 128), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


def _config(tmp_path: Path, models: Path, host: str = "127.0.0.1:1") -> Path:
    port = host.rsplit(":", 1)[1]
    path = tmp_path / "ollama.toml"
    path.write_text(f'[ollama]\nmodelsPath = "{models}"\nhost = "127.0.0.1"\nport = {port}\n'
                    f'contextLength = 16384\n')
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    rc = run(argv)
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return rc, doc


def test_modelfile_num_ctx_beats_the_environment_and_the_request_beats_both(
        tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--config", str(_config(tmp_path, models)), "--json", "memory", "llama3.1", "--ram", "64G"]
    _, doc = _json(capsys, base)
    row = doc["models"][0]
    assert (row["context"], row["context_source"]) == (4096, "Modelfile num_ctx")
    _, doc = _json(capsys, [*base, "--context", "8192"])
    assert (doc["models"][0]["context"], doc["models"][0]["context_source"]) == (8192, "request (--context)")


def test_a_projector_blob_is_counted(tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = _json(capsys, ["--config", str(_config(tmp_path, models)), "--json", "memory", "llama3.1",
                            "--ram", "64G"])
    row = doc["models"][0]
    assert row["projector"] == PROJECTOR_BYTES  # its tensors, as Ollama's mmprojMemoryRequirement counts them
    assert row["total"] == row["weights"] + row["kv_cache"] + row["graph"] + row["overhead"] + row["projector"]
    # no clip.projector_type in this blob: its weights count, its compute is named as not estimated
    assert (row["projector_compute"], row["projector_note"]) == (0, "projector compute not estimated: projector "
                                                                     "type (none)")
    run(["--config", str(_config(tmp_path, models)), "memory", "llama3.1", "--ram", "64G"])
    assert "projector compute not estimated: projector type (none)" in capsys.readouterr().out


def test_a_gemma3_projector_adds_its_compute_buffer(tmp_path: Path, models: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--config", str(_config(tmp_path, models)), "--json", "memory", "vision", "--ram", "64G"]
    _, doc = _json(capsys, [*base, "--gpu-memory", "24G"])
    row = doc["models"][0]
    info = projector_info(read_header(Path(row["file"]).parent / _digest_of(models, "vision")))
    assert row["projector_compute"] == projector_compute(info, row["flash_attention"]).bytes > 0
    assert row["projector_note"] == ""
    assert row["total"] == (row["weights"] + row["kv_cache"] + row["graph"] + row["overhead"] + row["projector"]
                            + row["projector_compute"])
    run([*base[:2], "memory", "vision", "--ram", "64G"])
    assert "compute buffer" in capsys.readouterr().out


def _digest_of(models: Path, name: str) -> str:
    """The projector layer's blob file name in the model's manifest."""
    manifest = json.loads((models / "manifests" / "registry.ollama.ai" / "library" / name / "latest").read_text())
    (layer,) = [x for x in manifest["layers"] if x["mediaType"] == "application/vnd.ollama.image.projector"]
    return str(layer["digest"]).replace(":", "-")


def test_cloud_and_safetensors_models_are_not_estimated_and_not_errors(
        tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc = _json(capsys, ["--config", str(_config(tmp_path, models)), "--json", "memory", "--ram", "64G"])
    rows = {r["name"]: r for r in doc["models"]}
    assert rc == 0 and doc["findings"] == []
    assert rows["gpt-oss:latest"]["not_estimated"] == "cloud model: it runs on https://ollama.com:443, not here"
    assert "not a GGUF model" in rows["qwen3-mlx:latest"]["not_estimated"]
    run(["--config", str(_config(tmp_path, models)), "memory", "--ram", "64G"])
    out = capsys.readouterr().out
    assert any(line.startswith("gpt-oss:latest") and "not estimated: cloud model" in line for line in out.splitlines())


class _Ps(BaseHTTPRequestHandler):
    """/api/ps and /api/version as Ollama 0.32.15 answers them (shape of docs/openapi.yaml)."""

    loaded: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:  # http.server's method name
        body = {"/api/ps": {"models": self.loaded}, "/api/version": {"version": "0.32.15"}}.get(self.path)
        data = json.dumps(body if body is not None else {"error": "not found"}).encode()
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Ps]]]:
    """A loopback HTTP server; its handler class carries the loaded models to report."""
    handler = type("Handler", (_Ps,), {"loaded": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _loaded(size: int, vram: int, context: int) -> dict[str, Any]:
    return {"name": "llama3.1:latest", "model": "llama3.1:latest", "size": size, "digest": "0" * 64,
            "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                        "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
            "expires_at": "2026-12-01T12:00:00Z", "size_vram": vram, "context_length": context}


def test_live_api_ps_beside_the_estimate_with_the_difference(
        tmp_path: Path, models: Path, server: tuple[str, type[_Ps]], capsys: pytest.CaptureFixture[str]) -> None:
    address, handler = server
    cfg = str(_config(tmp_path, models, address))
    _, doc = _json(capsys, ["--config", cfg, "--json", "memory", "llama3.1", "--ram", "64G"])
    estimate = doc["models"][0]["total"]
    handler.loaded = [_loaded(estimate * 2, estimate, 4096)]
    _, doc = _json(capsys, ["--config", cfg, "--json", "memory", "llama3.1", "--ram", "64G"])
    live = doc["models"][0]["live"]
    assert (live["size"], live["size_vram"], live["estimate"]) == (estimate * 2, estimate, estimate)
    assert live["difference"] == -0.5
    run(["--config", cfg, "memory", "llama3.1", "--ram", "64G"])
    assert "running server (/api/ps): size" in capsys.readouterr().out


def test_doctor_notes_a_loaded_model_far_from_its_estimate(tmp_path: Path, models: Path) -> None:
    ctx = Context(GlobalOptions(config=str(_config(tmp_path, models))), environ={"PATH": "/usr/bin"})
    prepared = prepare(ctx)
    assert all(f.code != "memory-estimate-differs" for f in memory_findings(ctx, prepared))  # nothing loaded
    far = memory_findings(ctx, prepared, (_loaded(100 * GIB, 100 * GIB, 4096),))
    notes = [f for f in far if f.code == "memory-estimate-differs"]
    assert len(notes) == 1 and "reports 100.0 GiB (/api/ps size)" in notes[0].message
    assert notes[0].severity.value == "info"


def test_status_shows_the_estimate_beside_each_loaded_model(tmp_path: Path, models: Path) -> None:
    from ollama_sync.app.memory import live_checks  # noqa: PLC0415
    from ollama_sync.cli.status_view import _estimate, _size  # noqa: PLC0415
    from ollama_sync.core.version import v  # noqa: PLC0415

    ctx = Context(GlobalOptions(config=str(_config(tmp_path, models))), environ={"PATH": "/usr/bin"})
    prepared = prepare(ctx)
    loaded = (_loaded(6 * GIB, 6 * GIB, 8192), {**_loaded(1, 1, 1), "name": "not-installed:latest"})
    (check,) = live_checks(ctx, prepared, loaded, v("0.32.15"))
    assert check.name == "llama3.1:latest" and check.context_length == 8192 and check.size == 6 * GIB
    row = {"estimate": check.estimate, "estimate_difference": round(check.difference, 4)}
    assert _estimate(row) == f"{_size(check.estimate)} ({check.difference:+.0%})" and _size(GIB).endswith("GB")
    assert _estimate({"estimate": None, "estimate_difference": None}) == "–"
