"""`ollama-sync import --live`: the environment supervisord passes to the running server → a declaration."""

from __future__ import annotations

import pytest

from tests.e2e_supervisor.conftest import Setup

pytestmark = pytest.mark.slow


def test_live_environment_round_trips(setup: Setup, tmp_path_factory: pytest.TempPathFactory) -> None:
    setup.declare(extra='keep_alive = "10m"\nenvironment = { OLLAMA_NUM_CTX = "8192" }\n')
    assert setup.apply().returncode == 0
    out = tmp_path_factory.mktemp("imported") / "config.toml"
    done = setup.run("import", "--live", "--backend", "supervisord", "--output", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert f"port = {setup.port}" in text and 'keep_alive = "10m"' in text and 'OLLAMA_NUM_CTX = "8192"' in text
    assert "supervisord:ollama" in text  # where it came from
    assert "unknown-variable" in done.stderr  # findings are shown (OLLAMA_NUM_CTX does nothing)
