"""wait_healthy: our process, owning the socket, not restarted, no bind error — with a scripted manager and API."""

from __future__ import annotations

from dataclasses import dataclass, field

from ollama_sync.core.observation import RunState, ServiceState
from ollama_sync.core.settings import Backend
from ollama_sync.errors import Unreachable
from ollama_sync.system.health import wait_healthy
from ollama_sync.system.ollama_api import OllamaApi
from tests.core.doctor_facts import TARGET

BIND = "Error: listen tcp 127.0.0.1:11434: bind: address already in use"


@dataclass(frozen=True)
class Api(OllamaApi):
    """An API that answers (or not) without a network."""

    answers: bool = True

    def version(self) -> str:
        if not self.answers:
            raise Unreachable(f"{self.url}: connection refused")
        return "0.32.15"


@dataclass
class Manager:
    """A manager whose `state` walks through a script (the last state repeats)."""

    states: list[ServiceState]
    backend: Backend = Backend.LAUNCHD
    seen: list[ServiceState] = field(default_factory=list)

    def state(self, target: object) -> ServiceState:
        state = self.states[min(len(self.seen), len(self.states) - 1)]
        self.seen.append(state)
        return state

    def load(self, target: object) -> None: ...
    def restart(self, target: object) -> None: ...
    def stop(self, target: object) -> None: ...
    def log_tail(self, target: object, lines: int = 200) -> list[str]:
        return []


RUNNING = ServiceState(RunState.RUNNING, 42, None, True, None, "gui/501", runs=1)
API = Api("http://127.0.0.1:11434")


def test_healthy_when_our_process_owns_the_socket() -> None:
    health = wait_healthy(API, Manager([RUNNING]), TARGET, timeout=2, owns_port=lambda pid: pid == 42)
    assert health.ok and "from pid 42" in health.reason and "could not be checked" not in health.reason


def test_launchd_crash_loop_fails_at_once_with_launchds_reason() -> None:
    looping = ServiceState(RunState.STARTING, None, 1, True, None, "gui/501", runs=5, crash_loop=True,
                           crash_reason="launchd: spawn scheduled after 5 runs, last exit: 1")
    health = wait_healthy(Api("http://127.0.0.1:11434", answers=True), Manager([looping]), TARGET, timeout=30)
    assert not health.ok and health.elapsed < 1
    assert health.reason == "the server is in a crash loop (launchd: spawn scheduled after 5 runs, last exit: 1)"


def test_bind_error_in_this_starts_log_fails_even_when_another_server_answers() -> None:
    health = wait_healthy(API, Manager([RUNNING]), TARGET, timeout=30, new_log=lambda: ["x", BIND])
    assert not health.ok and health.reason == f"the server cannot listen: {BIND}"


def test_another_process_answering_is_foreign() -> None:
    health = wait_healthy(API, Manager([RUNNING]), TARGET, timeout=30, owns_port=lambda pid: False)
    assert not health.ok and health.foreign and "not from the server the manager started (pid 42)" in health.reason


def test_a_restart_after_the_first_look_fails() -> None:
    again = ServiceState(RunState.RUNNING, 42, 1, True, None, "gui/501", runs=2)
    health = wait_healthy(API, Manager([RUNNING, again]), TARGET, timeout=30)
    assert not health.ok
    assert "started the server again (1 → 2 runs)" in health.reason


def test_unknown_socket_owner_is_said() -> None:
    health = wait_healthy(API, Manager([RUNNING]), TARGET, timeout=2, owns_port=lambda pid: None)
    assert health.ok and "the socket's owner could not be checked here" in health.reason


def test_a_silent_api_times_out_with_the_last_error() -> None:
    health = wait_healthy(Api("http://127.0.0.1:9", answers=False), Manager([RUNNING]), TARGET, timeout=0.2)
    assert not health.ok and "not healthy within 0.2 s" in health.reason and "connection refused" in health.reason
