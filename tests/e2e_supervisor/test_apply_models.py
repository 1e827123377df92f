"""apply pulls the declared models after a successful apply (real supervisord, the stand-in server)."""

from __future__ import annotations

import json

import pytest

from tests.e2e_supervisor.conftest import Setup

pytestmark = pytest.mark.slow


def installed(setup: Setup) -> list[str]:
    files = list(setup.home.rglob("standin-models.json"))
    return json.loads(files[0].read_text()) if files else []


def test_apply_pulls_declared_models(setup: Setup) -> None:
    setup.declare(extra='models = ["llama3.1:8b", "qwen3"]\n')
    done = setup.apply()
    assert done.returncode == 0, done.stderr
    assert "llama3.1:8b: pulled" in done.stderr and "qwen3: pulled" in done.stderr
    assert "0 present, 2 pulled, 0 failed" in done.stdout
    assert sorted(installed(setup)) == ["llama3.1:8b", "qwen3:latest"]
    again = setup.apply_json()
    assert again[0] == 0 and again[1]["models"]["present"] == ["llama3.1:8b", "qwen3"]


def test_no_models_skips_the_pull(setup: Setup) -> None:
    setup.declare(extra='models = ["llama3.1:8b"]\n')
    rc, doc = setup.apply_json("--no-models")
    assert rc == 0 and doc["models"] is None
    assert installed(setup) == []
