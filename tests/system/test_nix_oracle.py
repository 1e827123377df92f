"""The static reader against real Nix: on the corpus, every value the reader claims equals Nix's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.options import BUILD_ONLY_NIX_OPTIONS, SourceValue
from ollama_sync.system.nix import Nix
from ollama_sync.system.runner import SubprocessRunner
from tests.conftest import FIXTURES
from tests.core.nixgen import modules
from tests.nixenv import nix_env  # noqa: F401  # fixture

pytestmark = pytest.mark.usefixtures("nix_env")
CORPUS = sorted(p for p in (FIXTURES / "nix").glob("*.nix") if p.name != "imported.nix")
PATHS = [("custom", "services", "ollama"), ("services", "ollama"),
         ("config", "custom", "services", "ollama"), ("config", "services", "ollama")]


def _plain(value: object) -> Any:
    if isinstance(value, SourceValue):
        return _plain(value.value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _claims(static: object, nix: object, path: str) -> int:
    """Assert every static leaf equals Nix's at the same path; return how many leaves were compared."""
    if isinstance(static, dict):
        assert isinstance(nix, dict), f"{path}: static read a set, Nix has {nix!r}"
        return sum(_claims(v, nix[k], f"{path}.{k}") for k, v in static.items() if k in nix or _missing(k, path))
    assert static == nix and type(static) is type(nix), f"{path}: static {static!r} != Nix {nix!r}"
    return 1


def _missing(key: str, path: str) -> bool:
    raise AssertionError(f"{path}.{key}: the static reader has a value Nix does not")


@pytest.mark.parametrize("file", CORPUS, ids=lambda p: p.name)
def test_static_reader_equals_nix_wherever_it_claims_a_value(file: Path) -> None:
    static = read_nix_text(file.read_text(), str(file))
    evaluated = Nix(SubprocessRunner()).eval_module(str(file), PATHS)
    assert evaluated.path == static.attribute
    table = {k: v for k, v in _plain(static.table).items()
             if k not in BUILD_ONLY_NIX_OPTIONS}  # Nix's evaluation leaves out options that configure Nix
    compared = _claims(table, evaluated.value, ".".join(static.attribute))
    assert compared >= 2, "the corpus file should give the reader something to evaluate"
    unevaluated = {f.message.split(" is not read")[0] for f in static.findings if f.code == "nix-unevaluated"}
    for name in unevaluated:  # what the reader left out, Nix (with stub arguments) could evaluate
        node: object = evaluated.value
        for part in name.split("."):
            assert isinstance(node, dict) and part in node, f"{name} missing from Nix's value"
            node = node[part]


def test_the_corpus_exercises_unevaluated_expressions() -> None:
    static = read_nix_text((FIXTURES / "nix" / "unevaluated.nix").read_text(), "unevaluated.nix")
    left_out = sorted(f.message.split(" is not read")[0] for f in static.findings)
    assert left_out == ["extraEnvironment.OLLAMA_MAX_LOADED_MODELS", "extraEnvironment.OLLAMA_NUM_PARALLEL",
                        "flashAttention", "host", "kvCacheType", "models", "port"]
    nix = Nix(SubprocessRunner()).eval_module(str(FIXTURES / "nix" / "unevaluated.nix"), PATHS)
    assert nix.value == {"enable": True, "port": 11434, "host": "0.0.0.0", "flashAttention": True,
                         "kvCacheType": "q4_0", "models": ["llama3.2"],
                         "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "4", "OLLAMA_KEEP_ALIVE": "10m",
                                              "OLLAMA_MAX_LOADED_MODELS": "2"}}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=modules())
def test_generated_modules_mean_the_same_to_nix_and_to_the_reader(case: tuple[dict[str, Any], str],
                                                                   tmp_path: Path) -> None:
    value, text = case
    file = tmp_path / "generated.nix"
    file.write_text(text, encoding="utf-8")
    evaluated = Nix(SubprocessRunner()).eval_module(str(file), PATHS)
    assert evaluated.value == value
    assert _plain(read_nix_text(text, str(file)).table) == value
