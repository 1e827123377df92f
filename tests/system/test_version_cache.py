"""`ollama --version` is run once per binary version: the answer is kept until the binary changes."""

from __future__ import annotations

import os
from pathlib import Path

from ollama_sync.system.files import Files
from ollama_sync.system.version_cache import cached_version
from tests.fakes import FakeRunner, completed


def test_version_is_cached_until_the_binary_changes(tmp_path: Path, fake_runner: FakeRunner) -> None:
    binary = tmp_path / "ollama"
    binary.write_text("#!/bin/sh\n")
    argv = [str(binary), "--version"]
    fake_runner.add(argv, completed(argv, stdout="ollama version is 0.12.3\n"),
                    completed(argv, stdout="ollama version is 0.13.0\n"))
    state = str(tmp_path / "state")
    assert str(cached_version(fake_runner, Files(), str(binary), state)) == "0.12.3"
    assert str(cached_version(fake_runner, Files(), str(binary), state)) == "0.12.3"
    assert len(fake_runner.calls) == 1

    binary.write_text("#!/bin/sh\n# upgraded\n")
    os.utime(binary, ns=(1, 1))
    assert str(cached_version(fake_runner, Files(), str(binary), state)) == "0.13.0"
    assert len(fake_runner.calls) == 2


def test_a_missing_binary_is_not_cached(tmp_path: Path, fake_runner: FakeRunner) -> None:
    argv = [str(tmp_path / "none"), "--version"]
    fake_runner.add(argv, completed(argv, rc=127))
    assert cached_version(fake_runner, Files(), str(tmp_path / "none"), str(tmp_path / "state")) is None
    assert not (tmp_path / "state").exists()
