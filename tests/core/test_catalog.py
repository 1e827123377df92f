"""The catalog of variables: sane entries, lookup, what each release reads, KV cache types by era."""

from __future__ import annotations

import re

import pytest

from ollama_sync.core import catalog
from ollama_sync.core.catalog import CATALOG, Reader, VarKind, kv_cache_types, lookup, server_variables
from ollama_sync.core.version import v


def test_entries_are_unique_and_well_formed() -> None:
    names = [var.name for var in CATALOG]
    assert len(names) == len(set(names))
    for var in CATALOG:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*|(?:http|https|no)_proxy", var.name), var.name
        assert var.doc, var.name
        assert var.removed is None or var.since < var.removed, var.name
        assert all(a < b for (a, _), (b, _) in zip(var.history, var.history[1:], strict=False)), var.name
        if var.history:
            assert var.history[0][0] == var.since, var.name
            assert var.history[-1][1] == var.default, var.name  # `default` is the newest release's


def test_mistakes_point_at_real_server_variables_and_are_not_variables_themselves() -> None:
    for wrong, meant in catalog.MISTAKES.items():
        assert lookup(wrong) is None
        target = lookup(meant)
        assert target is not None and target.reader is Reader.SERVER
    assert catalog.MISTAKES["OLLAMA_NUM_CTX"] == "OLLAMA_CONTEXT_LENGTH"
    assert all(lookup(name) is None for name in catalog.MODEL_OPTIONS)


def test_lookup() -> None:
    var = lookup("OLLAMA_CONTEXT_LENGTH")
    assert var is not None and var.kind is VarKind.UINT and var.since == v("0.5.13")
    assert lookup("OLLAMA_NUM_CTX") is None
    nohistory = lookup("OLLAMA_NOHISTORY")
    assert nohistory is not None and nohistory.reader is Reader.CLIENT
    assert not nohistory.is_read_by(catalog.NEWEST)


def _names(version: str) -> set[str]:
    return {var.name for var in server_variables(v(version))}


@pytest.mark.parametrize(("version", "present", "absent"), [
    ("0.0.10", {"OLLAMA_HOST", "OLLAMA_PORT"}, {"OLLAMA_ORIGINS", "OLLAMA_MODELS"}),
    ("0.1.44", {"OLLAMA_MAX_VRAM", "OLLAMA_FLASH_ATTENTION"}, {"OLLAMA_PORT", "OLLAMA_SCHED_SPREAD"}),
    ("0.1.45", {"OLLAMA_SCHED_SPREAD", "OLLAMA_INTEL_GPU"}, {"OLLAMA_MAX_VRAM"}),
    ("0.5.7", {"OLLAMA_KV_CACHE_TYPE", "OLLAMA_MULTIUSER_CACHE"}, {"OLLAMA_CONTEXT_LENGTH"}),
    ("0.11.5", {"OLLAMA_NEW_ESTIMATES", "OLLAMA_NEW_ENGINE"}, {"OLLAMA_VULKAN"}),
    ("0.11.11", {"OLLAMA_CONTEXT_LENGTH"}, {"OLLAMA_NEW_ESTIMATES"}),
    ("0.24.0", {"OLLAMA_NEW_ENGINE", "OLLAMA_VULKAN", "OLLAMA_MULTIUSER_CACHE"}, {"LLAMA_ARG_FIT"}),
    ("0.30.0", {"LLAMA_ARG_FIT", "OLLAMA_IGPU_ENABLE", "OLLAMA_GO_TEMPLATE"},
     {"OLLAMA_NEW_ENGINE", "OLLAMA_MULTIUSER_CACHE"}),
    ("0.32.15", {"OLLAMA_NO_CLOUD", "OLLAMA_MAX_TRANSFER_STREAMS"},
     {"OLLAMA_REGISTRY_MAXSTREAMS", "OLLAMA_NOHISTORY", "OLLAMA_MLX_MTP_DRAFT_SCHEDULE"}),
])
def test_server_variables_by_release(version: str, present: set[str], absent: set[str]) -> None:
    names = _names(version)
    assert present <= names
    assert not absent & names


def test_newest_release_reads_what_ollama_serve_help_documents() -> None:
    # `ollama serve --help` at v0.33.0-rc2 (cmd/cmd.go), facts file §1.2.
    documented = {
        "OLLAMA_DEBUG", "OLLAMA_HOST", "OLLAMA_CONTEXT_LENGTH", "OLLAMA_KEEP_ALIVE", "OLLAMA_MAX_LOADED_MODELS",
        "OLLAMA_MAX_TRANSFER_STREAMS", "OLLAMA_MAX_QUEUE", "OLLAMA_MODELS", "OLLAMA_NUM_PARALLEL",
        "OLLAMA_NO_CLOUD", "OLLAMA_NOPRUNE", "OLLAMA_ORIGINS", "OLLAMA_SCHED_SPREAD", "OLLAMA_FLASH_ATTENTION",
        "OLLAMA_KV_CACHE_TYPE", "OLLAMA_LLM_LIBRARY", "OLLAMA_GPU_OVERHEAD", "OLLAMA_IGPU_ENABLE",
        "LLAMA_ARG_FIT", "LLAMA_ARG_FIT_TARGET", "OLLAMA_LOAD_TIMEOUT",
    }
    assert documented <= _names(str(catalog.NEWEST))


@pytest.mark.parametrize(("name", "version", "default"), [
    ("OLLAMA_CONTEXT_LENGTH", "0.5.13", "2048"),
    ("OLLAMA_CONTEXT_LENGTH", "0.6.7", "4096"),
    ("OLLAMA_CONTEXT_LENGTH", "0.15.4", "4096"),
    ("OLLAMA_CONTEXT_LENGTH", "0.15.5", "0"),
    ("OLLAMA_NUM_PARALLEL", "0.1.48", "1"),
    ("OLLAMA_NUM_PARALLEL", "0.9.6", "0"),
    ("OLLAMA_NUM_PARALLEL", "0.10.0", "1"),
    ("OLLAMA_VULKAN", "0.24.0", "false"),
    ("OLLAMA_VULKAN", "0.30.0", "true"),
    ("OLLAMA_MAX_QUEUE", "0.5.0", "512"),
])
def test_default_at(name: str, version: str, default: str) -> None:
    var = lookup(name)
    assert var is not None
    assert var.default_at(v(version)) == default


@pytest.mark.parametrize(("version", "accepted", "rejected"), [
    ("0.4.7", set(), {"f16", "q8_0"}),
    ("0.5.0", {"f16", "q8_0", "q4_0"}, {"q5_1", "bf16", "f32"}),
    ("0.24.0", {"f16", "q8_0", "q4_0"}, {"q5_1", "iq4_nl"}),
    ("0.30.0", {"f16", "q8_0", "q4_0", "q5_1", "q5_0", "q4_1", "iq4_nl", "bf16", "f32"}, {"f8_0", "q6_k"}),
    ("0.32.15", {"q5_1"}, {"f8_0"}),
])
def test_kv_cache_types_by_era(version: str, accepted: set[str], rejected: set[str]) -> None:
    types = set(kv_cache_types(v(version)))
    assert accepted <= types
    assert not rejected & types


def test_catalog_rechecked_against_the_source() -> None:
    """Facts re-read from ollama/ollama tags (git grep per tag): issue #10 item 7."""
    for name in ("http_proxy", "https_proxy", "no_proxy"):  # envconfig AsMap, non-Windows, from v0.3.11
        var = catalog.lookup(name)
        assert var is not None and var.since == v("0.3.11") and var.is_read_by(v("0.3.11"))
        assert not var.is_read_by(v("0.3.10"))
    dsh = catalog.lookup("OLLAMA_LAUNCH_DSH_API_KEY")  # cmd/launch/deepseek_harness.go, from v0.32.11
    assert dsh is not None and dsh.reader is catalog.Reader.CLIENT and dsh.since == v("0.32.11")
    bash = catalog.lookup("OLLAMA_AGENT_DISABLE_BASH")  # x/tools/registry.go, gone in v0.31.2
    assert bash is not None and bash.removed == v("0.31.2")
    experiment = catalog.lookup("OLLAMA_EXPERIMENT")  # server/routes.go: os.Getenv, not envconfig.Var
    assert experiment is not None and experiment.raw
    no_cloud = catalog.lookup("OLLAMA_NO_CLOUD")
    assert no_cloud is not None and "server.json" in no_cloud.doc
