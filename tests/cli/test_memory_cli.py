"""`ollama-sync memory` in-process on a real models folder: table, what-ifs, sweep, --json, bad input, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.memory_check import memory_findings
from ollama_sync.app.prepare import prepare
from ollama_sync.cli import run
from tests.gguf_models import LLAMA3_8B, build_models_dir, install, write_gguf

GIB = 1024**3


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """llama3.1, gemma3 and qwen2.5 installed in Ollama's layout (built once for the module)."""
    return build_models_dir(tmp_path_factory.mktemp("ollama"))


def _config(tmp_path: Path, models: Path, extra: str = "") -> Path:
    path = tmp_path / "ollama.toml"
    path.write_text(f'[ollama]\nmodelsPath = "{models}"\nflashAttention = true\nkvCacheType = "q8_0"\n'
                    f'contextLength = 8192\n{extra}\n[ollama.extraEnvironment]\nOLLAMA_NUM_PARALLEL = "4"\n')
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    rc = run(argv)
    return rc, json.loads(capsys.readouterr().out)


def test_table_at_declared_settings_fits_on_a_24g_gpu(tmp_path: Path, models: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["--config", str(_config(tmp_path, models)), "memory", "--ollama-version", "0.12.10",
              "--gpu-memory", "24G", "--ram", "64G"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Ollama 0.12.10: legacy estimator" in out and "Ollama-engine layouts" in out  # gemma3 in 0.12.10
    llama = next(line for line in out.splitlines() if line.startswith("llama3.1:latest"))
    assert "8192×4" in llama and "q8_0" in llama and "2.0 GiB" in llama and llama.endswith("fits on the GPU")


def test_json_kv_equals_the_formula_and_what_ifs_apply(tmp_path: Path, models: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(_config(tmp_path, models))
    base = ["--config", cfg, "--json", "memory", "llama3.1", "--ollama-version", "0.12.10", "--gpu-memory", "80G",
            "--ram", "128G"]
    rc, doc = _json(capsys, base)
    (row,) = doc["models"]
    a = LLAMA3_8B
    assert rc == 0 and doc["command"] == "memory"
    assert row["kv_cache"] == a.blocks * 8192 * 4 * 2 * a.head_dim * a.heads_kv * 1  # q8_0 counts 1 byte
    _, doc = _json(capsys, [*base, "--no-flash-attention"])
    assert doc["models"][0]["kv_cache"] == a.blocks * 8192 * 4 * 2 * a.head_dim * a.heads_kv * 2  # back to f16
    assert "memory-kv-cache-type-ignored" in {f["code"] for f in doc["findings"]}
    _, doc = _json(capsys, [*base, "--context", "2048", "--parallel", "1", "--kv-cache-type", "q4_0"])
    assert doc["models"][0]["kv_cache"] == a.blocks * 2048 * 1 * 2 * a.head_dim * a.heads_kv // 2


def test_does_not_fit_is_exit_1_with_a_finding(tmp_path: Path, models: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc = _json(capsys, ["--config", str(_config(tmp_path, models)), "--json", "memory", "llama3.1",
                             "--ram", "8G", "--context", "131072"])
    assert rc == 1 and doc["ok"] is False
    assert doc["models"][0]["verdict"] == "no"
    assert [f["code"] for f in doc["findings"]] == ["memory-does-not-fit"]


def test_sweep_draws_one_bar_per_doubling_up_to_the_models_limit(tmp_path: Path, models: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["--config", str(_config(tmp_path, models)), "memory", "qwen2.5", "--sweep", "context",
              "--gpu-memory", "16G", "--ram", "32G", "--ollama-version", "0.12.10"])
    out = capsys.readouterr().out
    bars = [line.split()[0] for line in out.splitlines() if "█" in line]
    assert rc == 0
    assert bars == ["2k", "4k", "8k", "16k", "32k"]  # qwen2.5's context_length is 32768
    totals = [float(m.group(1)) for m in re.finditer(r"█[ ┊]* +(\d+\.\d) GiB", out)]
    assert len(totals) == 5
    assert totals == sorted(totals)


def test_broken_models_are_findings_and_the_rest_is_still_shown(tmp_path: Path, models: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    llama_blob = tmp_path / "l.gguf"
    write_gguf(llama_blob, LLAMA3_8B, vocab=100)
    with llama_blob.open("rb") as handle:
        install(broken, "cut", handle.read(5000))  # a truncated blob
    install(broken, "gone", b"GGUF").unlink()  # a manifest whose blob is missing
    install(broken, "llama3.1", llama_blob)
    rc = run(["--config", str(_config(tmp_path, broken)), "memory", "--gpu-memory", "24G", "--ram", "64G"])
    out = capsys.readouterr().out
    assert rc == 1
    assert any(line.startswith("llama3.1:latest") and "fits" in line for line in out.splitlines())
    assert "error[memory-bad-gguf] cut:latest: cannot read the GGUF header: truncated" in out
    assert f"{broken}/manifests/registry.ollama.ai/library/gone/latest: error[memory-blob-missing]" in out


def test_unknown_model_name_is_a_usage_error(tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["--config", str(_config(tmp_path, models)), "memory", "mistral", "--ram", "8G"])
    err = capsys.readouterr().err
    assert rc == 2 and "model 'mistral' is not installed" in err and "llama3.1:latest" in err


def test_memory_findings_for_plan_and_doctor(tmp_path: Path, models: Path) -> None:
    huge = _config(tmp_path, models, extra="numParallel = 64\n").read_text().replace(
        'OLLAMA_NUM_PARALLEL = "4"', "").replace("contextLength = 8192", "contextLength = 131072")
    cfg = tmp_path / "huge.toml"
    cfg.write_text(huge)
    ctx = Context(GlobalOptions(config=str(cfg)))
    findings = memory_findings(ctx, prepare(ctx, version_text="0.12.10"))
    assert {f.code for f in findings} == {"memory-does-not-fit"}
    assert all(f.location is not None and f.location.file == str(cfg) for f in findings)
    empty = tmp_path / "empty.toml"
    empty.write_text(f'[ollama]\nmodelsPath = "{tmp_path / "none"}"\n')
    ectx = Context(GlobalOptions(config=str(empty)))
    assert memory_findings(ectx, prepare(ectx)) == ()
