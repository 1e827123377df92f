"""Validation, import and the server-log reader are linear in the number of variables (issue #11: 40,000 took 20 s).

Timed relative to a run an eighth the size, so the test holds on a slow or busy machine: eight times the
variables may take at most twenty times as long (a quadratic step would take sixty-four). The garbage
collector is paused while timing: its full passes grow with the heap, not with the work under test.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ollama_sync.cli import run
from ollama_sync.core.findings import Location
from ollama_sync.core.settings import Declaration, OllamaSettings
from ollama_sync.core.validate import validate
from ollama_sync.system.server_log import parse_env_map

SMALL, LARGE = 5_000, 40_000
LIMIT = 20


def _seconds(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):  # the best of three: a scheduler hiccup on a shared machine must not fail the test
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            action()
            best = min(best, time.perf_counter() - started)
        finally:
            gc.enable()
    return best


def _declaration(n: int) -> Declaration:
    names = [f"OLLAMA_X{i}" for i in range(n)]
    env = tuple((name, str(i)) for i, name in enumerate(names))
    where = tuple((f"environment.{name}", Location("c.toml", i + 3)) for i, name in enumerate(names))
    return Declaration(OllamaSettings(environment=env), source="c.toml", locations=where)


def test_validation_is_linear_in_the_number_of_variables() -> None:
    small, large = _declaration(SMALL), _declaration(LARGE)
    assert len(validate(large)) == LARGE  # one unknown-variable warning each, each at its own line
    assert validate(large)[-1].location is not None
    ratio = _seconds(lambda: validate(large)) / _seconds(lambda: validate(small))
    assert ratio < LIMIT, f"{LARGE} variables took {ratio:.1f}x as long as {SMALL}"


def _unit(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"ollama-{n}.service"
    path.write_text("[Service]\nExecStart=/usr/bin/ollama serve\n"
                    + "".join(f"Environment=OLLAMA_X{i}={i}\n" for i in range(n)))
    return path


def test_import_is_linear_in_the_number_of_variables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small, large = _unit(tmp_path, SMALL // 2), _unit(tmp_path, LARGE // 2)

    def imported(unit: Path) -> None:
        assert run(["--root", str(tmp_path / "root"), "import", str(unit)]) == 0
        capsys.readouterr()

    ratio = _seconds(lambda: imported(large)) / _seconds(lambda: imported(small))
    assert ratio < LIMIT, f"importing {LARGE // 2} variables took {ratio:.1f}x as long as {SMALL // 2}"
    assert run(["--root", str(tmp_path / "root"), "import", str(large)]) == 0
    out = capsys.readouterr().out
    last = LARGE // 2 - 1
    assert out.count("\nOLLAMA_X") == LARGE // 2 and f'OLLAMA_X{last} = "{last}"' in out


def test_a_long_server_config_line_is_read_in_linear_time() -> None:
    def line(n: int) -> str:
        return "map[" + " ".join(f"OLLAMA_K{i:06d}:[a b]" for i in range(n)) + "]"

    small, large = line(SMALL), line(LARGE)
    assert len(parse_env_map(large)) == LARGE
    ratio = _seconds(lambda: parse_env_map(large)) / _seconds(lambda: parse_env_map(small))
    assert ratio < LIMIT, f"a line of {LARGE} keys took {ratio:.1f}x as long as {SMALL}"
