"""`ollama-sync models sync` against the stand-in server (a real loopback HTTP server in its own process)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.declaration import load
from ollama_sync.app.models import SyncOptions, pull_with_retries, sync_models
from ollama_sync.cli import run
from ollama_sync.core.models import compare_models, model_key
from ollama_sync.errors import Unreachable, Unsupported, UsageError
from ollama_sync.system.models import OllamaModelClient, Progress, PullFailed
from tests.processes import stop, wait_until
from tests.standin import STANDIN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A stand-in `ollama serve` on a free loopback port, with its models in a temporary folder."""

    def __init__(self, tmp: Path, fail: str = "", models: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.models_dir = tmp / "models"
        self.models_dir.mkdir(parents=True, exist_ok=True)
        (self.models_dir / "standin-models.json").write_text(json.dumps(list(models)))
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "OLLAMA_HOST": f"127.0.0.1:{self.port}",
               "OLLAMA_MODELS": str(self.models_dir), "STANDIN_FAIL": fail}
        self.proc = subprocess.Popen([sys.executable, str(STANDIN), "serve"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        try:
            wait_until(self._answers, timeout=10, what="the stand-in answering")
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/", timeout=0.5).close()
        except OSError:
            return False
        return True

    def installed(self) -> list[str]:
        data: list[str] = json.loads((self.models_dir / "standin-models.json").read_text())
        return data

    def stop(self) -> None:
        stop(self.proc, signal.SIGTERM, timeout=5)


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    kwargs = getattr(request, "param", {})  # indirect parametrization: the stand-in's failure mode, models
    srv = Server(tmp_path / "server", **kwargs)
    try:
        yield srv
    finally:
        srv.stop()


def write_config(tmp_path: Path, port: int, models: list[str]) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"[service]\nbackend = \"supervisord\"\n[ollama]\nport = {port}\n"
                      f"models = {json.dumps(models)}\n")
    return config


def context(config: Path) -> Context:
    return Context(GlobalOptions(config=str(config)))


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def started(self, name: str, attempt: int) -> None:
        self.events.append(("start", name, str(attempt)))

    def advanced(self, name: str, progress: Progress) -> None:
        self.events.append(("progress", name, progress.status))

    def finished(self, name: str, error: str | None) -> None:
        self.events.append(("end", name, error or "ok"))


NO_WAIT = SyncOptions(backoff=0.0, sleep=lambda _: None)


def test_names_compare_as_the_server_lists_them() -> None:
    assert model_key("llama3") == "llama3:latest"
    assert model_key("registry.ollama.ai/library/qwen3:8b") == "qwen3:8b"
    assert model_key("hf.co/org/model:Q4") == "hf.co/org/model:Q4"
    diff = compare_models(["llama3", "qwen3:8b", "llama3:latest"], ["llama3:latest", "gemma:2b"])
    assert (diff.missing, diff.present, diff.extra) == (("qwen3:8b",), ("llama3",), ("gemma:2b",))


@pytest.mark.slow
def test_pulls_missing_models_with_progress(server: Server, tmp_path: Path) -> None:
    config = write_config(tmp_path, server.port, ["llama3.1:8b", "qwen3"])
    recorder = Recorder()
    result = sync_models(context(config), load(context(config)), options=NO_WAIT, reporter=recorder)
    assert result.ok and [p.name for p in result.pulled] == ["llama3.1:8b", "qwen3"]
    assert sorted(server.installed()) == ["llama3.1:8b", "qwen3:latest"]
    statuses = [e[2] for e in recorder.events if e[0] == "progress" and e[1] == "qwen3"]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    again = sync_models(context(config), load(context(config)), options=NO_WAIT)
    assert again.pulled == () and again.diff.present == ("llama3.1:8b", "qwen3")


@pytest.mark.slow
@pytest.mark.parametrize("server", [{"fail": "pull-fail-after:3:1"}], indirect=True)
def test_mid_stream_failure_is_retried(server: Server, tmp_path: Path) -> None:
    config = write_config(tmp_path, server.port, ["llama3.1:8b"])
    recorder = Recorder()
    waits: list[float] = []
    options = SyncOptions(backoff=0.5, sleep=waits.append)
    result = sync_models(context(config), load(context(config)), options=options, reporter=recorder)
    assert result.ok and result.pulled[0].attempts == 2
    assert ("end", "llama3.1:8b", "stand-in: connection reset by registry") in recorder.events
    assert waits == [0.5]
    assert server.installed() == ["llama3.1:8b"]


@pytest.mark.slow
@pytest.mark.parametrize("server", [{"fail": "pull-fail-after:0"}], indirect=True)
def test_registry_unreachable_gives_up_with_a_clear_error(server: Server, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ollama_sync.app.models.BACKOFF", 0.01)
    config = write_config(tmp_path, server.port, ["llama3.1:8b"])
    rc = run(["--config", str(config), "models", "sync"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "llama3.1:8b: not pulled after 3 attempt(s): stand-in: connection reset by registry" in err
    assert "could not reach the model registry" in err
    assert server.installed() == []


def test_backoff_doubles_and_is_bounded() -> None:
    class Failing:
        def pull(self, name: str) -> Iterator[Progress]:
            yield Progress("pulling manifest")
            raise PullFailed("pull model manifest: dial tcp: lookup registry.ollama.ai: no such host")

        def delete(self, name: str) -> None:
            raise AssertionError

    waits: list[float] = []
    outcome = pull_with_retries(Failing(), "m", Recorder(), SyncOptions(attempts=4, backoff=1.0, sleep=waits.append))
    assert waits == [1.0, 2.0, 4.0] and outcome.attempts == 4 and not outcome.ok


@pytest.mark.slow
@pytest.mark.parametrize("server", [{"models": ("llama3.1:8b", "old:latest", "older:7b", "gpt-oss:120b-cloud",
                                                 "qwen3:8b-mlx")}], indirect=True)
def test_prune_after_confirmation(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, server.port, ["llama3.1:8b"])
    asked: list[tuple[str, ...]] = []

    def decline(names: tuple[str, ...]) -> bool:
        asked.append(names)
        return False

    declined = SyncOptions(prune=True, confirm=decline)
    result = sync_models(context(config), load(context(config)), options=declined)
    assert asked == [("old:latest", "older:7b")] and result.removed == ()  # cloud and MLX models never offered
    assert result.diff.kept == ("gpt-oss:120b-cloud", "qwen3:8b-mlx")
    assert len(server.installed()) == 5
    assert run(["--config", str(config), "models", "sync", "--prune"]) == 2  # no terminal, no --yes
    assert "needs confirmation" in capsys.readouterr().err
    assert run(["--config", str(config), "models", "sync", "--prune", "--yes"]) == 0
    assert server.installed() == ["gpt-oss:120b-cloud", "llama3.1:8b", "qwen3:8b-mlx"]
    out, err = capsys.readouterr()
    assert "1 present, 0 pulled, 0 failed, 2 removed" in out
    assert "cloud and safetensors/MLX models (never pruned): gpt-oss:120b-cloud, qwen3:8b-mlx" in err


def test_prune_with_nothing_declared_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port(), [])
    with pytest.raises(UsageError, match="refusing to prune"):
        sync_models(context(config), load(context(config)), options=SyncOptions(prune=True))


def test_server_down_is_unreachable(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port(), ["x"])
    with pytest.raises(Unreachable):
        sync_models(context(config), load(context(config)), options=NO_WAIT)
    with pytest.raises(Unreachable):
        list(OllamaModelClient(f"http://127.0.0.1:{free_port()}").pull("x"))


def test_not_under_root(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port(), ["x"])
    ctx = Context(GlobalOptions(config=str(config), root=str(tmp_path / "root")))
    with pytest.raises(Unsupported):
        sync_models(ctx, load(ctx))


@pytest.mark.slow
def test_json_output(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, server.port, ["a:1"])
    assert run(["--json", "--config", str(config), "models", "sync"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "models sync" and doc["pulled"] == [{"name": "a:1", "ok": True, "attempts": 1,
                                                                   "error": None}]
