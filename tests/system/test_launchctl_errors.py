"""Each recorded launchctl exit status and message maps to the outcome SEMANTICS.md documents."""

from __future__ import annotations

import pytest

from ollama_sync.system.launchctl_errors import Outcome, classify, explain_error, failure, hint_for
from ollama_sync.system.runner import Completed
from tests.conftest import require_shared

MODERN = [  # (fixture, exit status as INDEX.md gives it, outcome)
    ("launchctl-bootstrap-eio-already-loaded.stderr", 5, Outcome.IO_ERROR),
    ("launchctl-bootstrap-eio-bigsur-no-hint.stderr", 5, Outcome.IO_ERROR),
    ("launchctl-bootstrap-domain-unsupported-125.stderr", 125, Outcome.DOMAIN_UNSUPPORTED),
    ("launchctl-bootstrap-disabled-119.stderr", 119, Outcome.DISABLED),
    ("launchctl-bootstrap-invalid-plist-2017.stderr", 133, Outcome.INVALID_PLIST),  # the text wins over 133
    ("launchctl-bootstrap-success-RECONSTRUCTED.stdout", 0, Outcome.OK),
    ("launchctl-could-not-find-domain-gui.stderr", 112, Outcome.DOMAIN_UNSUPPORTED),
    ("launchctl-bootout-not-loaded-esrch-3.stderr", 3, Outcome.NOT_LOADED),
    ("launchctl-bootout-by-path-not-loaded-eio-5.stderr", 5, Outcome.IO_ERROR),  # why we boot out by label
    ("launchctl-bootout-einprogress-36.stderr", 36, Outcome.IN_PROGRESS),
    ("launchctl-bootout-unrecognized-target-usage.stderr", 64, Outcome.USAGE),
    ("launchctl-kickstart-not-found-gui-113.stderr", 113, Outcome.NOT_LOADED),
    ("launchctl-kickstart-not-found-system-113.stderr", 113, Outcome.NOT_LOADED),
    ("launchctl-kickstart-domain-unsupported-125.stderr", 125, Outcome.DOMAIN_UNSUPPORTED),
    ("launchctl-kickstart-success-RECONSTRUCTED.stdout", 0, Outcome.OK),
    ("launchctl-enable-domain-unsupported-125.stderr", 125, Outcome.DOMAIN_UNSUPPORTED),
    ("launchctl-enable-unrecognized-target.stderr", 64, Outcome.USAGE),
    ("launchctl-enable-success-RECONSTRUCTED.stdout", 0, Outcome.OK),
    ("launchctl-print-not-found.stderr", 113, Outcome.NOT_LOADED),
    ("launchctl-print-no-gui-domain-112-RECONSTRUCTED.stderr", 112, Outcome.DOMAIN_UNSUPPORTED),
    ("launchctl-print-user-domain-not-found-113-RECONSTRUCTED.stderr", 113, Outcome.NOT_LOADED),
    ("launchctl-list-label-not-found-113.stderr", 113, Outcome.NOT_LOADED),
]
# launchd 842 (10.9) launchctl.c demux_cmd(): `%s: unknown subcommand "%s"`, exit 1 (FROMSOURCE).
UNKNOWN_VERB = 'launchctl: unknown subcommand "bootout"\n'


def text(name: str) -> str:
    return (require_shared() / "fixtures" / "macos" / name).read_text()


@pytest.mark.parametrize(("name", "rc", "outcome"), MODERN)
def test_modern_outputs(name: str, rc: int, outcome: Outcome) -> None:
    assert classify(rc, text(name)) is outcome


def test_missing_modern_verb() -> None:
    assert classify(1, UNKNOWN_VERB) is Outcome.VERB_MISSING


@pytest.mark.parametrize(("rc", "outcome"), [
    (3, Outcome.NOT_LOADED), (113, Outcome.NOT_LOADED), (36, Outcome.IN_PROGRESS),
    (134, Outcome.SESSION_MISMATCH), (1, Outcome.NOT_PERMITTED), (150, Outcome.FAILED),
])
def test_status_alone(rc: int, outcome: Outcome) -> None:
    assert classify(rc, "") is outcome


def test_error_numbers_have_text() -> None:
    assert explain_error(125) == "Domain does not support specified action"
    assert explain_error(999) == "launchd error 999"


def test_failure_is_a_readable_command_error() -> None:
    done = Completed(("launchctl", "bootstrap", "gui/501", "/p.plist"), 5, "", text(MODERN[0][0]))
    error = failure(done, Outcome.IO_ERROR, "p.plist is mode 666 is group/world-writable")
    rendered = error.render()
    assert "exit status 5: launchctl bootstrap gui/501 /p.plist" in rendered
    assert "Bootstrap failed: 5: Input/output error" in rendered
    assert "catch-all" in rendered and "group/world-writable" in rendered
    assert hint_for(Outcome.OK) is None
