"""Model names follow Ollama's rules (types/model/name.go: ParseNameBare, isValidLen, isValidPart)."""

from __future__ import annotations

import pytest

from ollama_sync.core.models import model_name_problem

VALID = [
    "llama3.2", "llama3.2:3b", "qwen2.5-coder:7b-instruct-q4_K_M", "library/llama3:latest",
    "registry.ollama.ai/library/llama3:8b", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
    "localhost:5000/team/model:v1", "_private", "m@sha256-0123abcd", "https://ollama.com/ns/model",
    "a" * 80, "h" * 350 + "/ns/model",
]
INVALID = {
    "": "is empty",
    "../../etc/passwd": "more than three /-separated parts",
    "../etc": "invalid namespace '..'",
    "x/y/z/w": "more than three",
    "a b": "' ' is not allowed",
    "ns.x/model": "invalid namespace 'ns.x': '.' is not allowed",
    ":tag": "invalid model '': it is empty",
    "model:": "invalid tag '': it is empty",
    "-model": "must start with a letter, a digit or _",
    "a" * 81: "longer than 80 bytes",
    "mödel": "'ö' is not allowed",
    "model:t:g": "':' is not allowed",
    "model\n": "'\\n' is not allowed",
}


@pytest.mark.parametrize("name", VALID)
def test_names_ollama_accepts(name: str) -> None:
    assert model_name_problem(name) is None


@pytest.mark.parametrize("name", sorted(INVALID))
def test_names_ollama_refuses(name: str) -> None:
    problem = model_name_problem(name)
    assert problem is not None and INVALID[name] in problem
