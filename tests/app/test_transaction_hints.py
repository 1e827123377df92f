"""launchd's explanation of a failed load reaches the user on apply AND on rollback (issue #10 item 4).

The transaction runs the real LaunchdManager against a scripted runner that replays recorded launchctl
answers (tests/fixtures/launchctl/INDEX.md, ../shared/fixtures/macos/INDEX.md) with their exit codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ollama_sync.app.context import Context
from ollama_sync.app.transaction import Transaction
from ollama_sync.cli.outcome import outcome_json, print_outcome
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target, target_to_json
from ollama_sync.system.launchctl import LaunchdManager
from ollama_sync.system.runner import Completed
from ollama_sync.system.state import StateStore
from tests.conftest import require_shared
from tests.fakes import FakeRunner

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "launchctl"
LABEL = "com.github.ollama"


def recorded(path: Path, rc: int) -> Completed:
    return Completed((), rc, "", path.read_text())


def test_session_hint_is_shown_for_the_failed_load_and_for_the_rollback(
        make_context: Callable[..., Context], fake_runner: FakeRunner, machine: Machine, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ctx = make_context(tmp_path / "config.toml")
    target = Target(Backend.LAUNCHD, f"/Users/alice/Library/LaunchAgents/{LABEL}.plist", LABEL,
                    "/opt/homebrew/bin/ollama", Scope.USER, "/Users/alice/Library/Logs/ollama-sync/x.log")
    plist = ctx.files.location(target.path)
    macos = require_shared() / "fixtures" / "macos"
    fake_runner.add(("launchctl", "bootout", f"gui/501/{LABEL}"),
                    recorded(macos / "launchctl-could-not-find-domain-gui.stderr", 112))  # VERBATIM: SSH
    fake_runner.add(("launchctl", "print", f"gui/501/{LABEL}"),
                    recorded(macos / "launchctl-could-not-find-domain-gui.stderr", 112))
    fake_runner.add(("launchctl", "bootout", f"user/501/{LABEL}"),
                    recorded(macos / "launchctl-bootout-not-loaded-esrch-3.stderr", 3))
    fake_runner.add(("launchctl", "enable", f"user/501/{LABEL}"), Completed((), 0, "", ""))
    fake_runner.add(("launchctl", "bootstrap", "user/501", plist),  # both the new and the restored plist
                    recorded(FIXTURES / "bootstrap-user-session-mismatch-134-RECONSTRUCTED.stderr", 134))
    manager = LaunchdManager(fake_runner, ctx.files, machine, sleep=lambda _s: None, clock=lambda: 0.0)
    store = StateStore(ctx.files, machine.state_dir)
    old = store.add(b"<plist>old</plist>", source="test", result="ok", target=target_to_json(target),
                    environment=None)
    outcome = Transaction(ctx, store, target, manager, timeout=1.0).switch(
        b"<plist>new</plist>", {"OLLAMA_HOST": "127.0.0.1:11434"}, "test", old=old, old_pid=None)
    assert not outcome.ok
    assert outcome.attempt is not None and outcome.restore is not None
    for attempt in (outcome.attempt, outcome.restore):
        assert attempt.failed_step == "reload"
        assert "Bootstrap failed: 134: Service cannot load in requested session" in attempt.reason
        assert "LimitLoadToSessionType" in attempt.hint and "Background" in attempt.hint
    print_outcome(outcome)
    err = capsys.readouterr().err
    assert err.count("hint: the plist's LimitLoadToSessionType leaves out this domain's session") == 2
    document = json.loads(json.dumps(outcome_json(outcome)))
    assert "LimitLoadToSessionType" in document["attempt"]["hint"]
    assert "LimitLoadToSessionType" in document["restore"]["hint"]
    assert Path(plist).read_bytes() == b"<plist>old</plist>"  # the previous file is back


def test_a_healthy_start_in_user_domain_prints_the_reboot_warning(capsys: pytest.CaptureFixture[str]) -> None:
    from ollama_sync.app.transaction import BringUp  # noqa: PLC0415
    from ollama_sync.cli.outcome import bring_up_json, print_bring_up  # noqa: PLC0415
    from ollama_sync.core.observation import RunState, ServiceState  # noqa: PLC0415
    from ollama_sync.system.health import Health  # noqa: PLC0415

    state = ServiceState(RunState.RUNNING, pid=4242, domain="user/501", warnings=("loaded in user/501 …",))
    attempt = BringUp(True, health=Health(True, 0.2, "http://127.0.0.1:11434 answers", "0.12.0", state))
    print_bring_up("new server", attempt)
    assert "warning: loaded in user/501 …" in capsys.readouterr().out
    document = bring_up_json(attempt)
    assert document is not None and document["warnings"] == ["loaded in user/501 …"]
