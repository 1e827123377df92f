"""The three-view verification (pure): manager view, server's resolved map, API answer."""

from __future__ import annotations

from ollama_sync.core.observation import ServerConfig
from ollama_sync.core.verify import (
    ApiAnswer,
    View,
    check_manager,
    check_server,
    declared_address,
    runs_declared,
    verify,
)

DECLARED = {"OLLAMA_HOST": "0.0.0.0:11500", "OLLAMA_KEEP_ALIVE": "10m", "OLLAMA_FLASH_ATTENTION": "1",
            "OLLAMA_ORIGINS": "https://a.example", "OLLAMA_NOT_A_SETTING": "x"}
RESOLVED = ServerConfig((("OLLAMA_HOST", "http://0.0.0.0:11500"), ("OLLAMA_KEEP_ALIVE", "10m0s"),
                         ("OLLAMA_FLASH_ATTENTION", "true"),
                         ("OLLAMA_ORIGINS", "[https://a.example http://localhost app://*]")))
OK_API = ApiAnswer("http://127.0.0.1:11500", "0.32.15")


def test_all_views_agree_and_unknown_variables_are_reported() -> None:
    result = verify(DECLARED, tuple(DECLARED.items()), RESOLVED, OK_API)
    assert result.ok and result.failures() == []
    assert result.unknown == ("OLLAMA_NOT_A_SETTING",)
    assert all(check.checked for check in result.checks)


def test_server_view_compares_as_the_server_parses() -> None:
    check, _ = check_server({"OLLAMA_KEEP_ALIVE": "20m"}, RESOLVED)
    assert not check.ok and str(check.mismatches[0]) == "OLLAMA_KEEP_ALIVE: declared '20m', '10m0s'"


def test_manager_view_missing_and_different_values() -> None:
    check = check_manager({"A": "1", "B": "2"}, (("A", "9"),))
    assert [(m.variable, m.observed) for m in check.mismatches] == [("A", "9"), ("B", None)]


def test_an_unreadable_manager_view_is_not_a_failure_but_a_silent_api_or_server_is() -> None:
    result = verify({"A": "1"}, None, None, ApiAnswer("http://127.0.0.1:1", None, "connection refused"))
    views = {c.view: c for c in result.checks}
    assert views[View.MANAGER].ok and not views[View.MANAGER].checked
    assert not views[View.SERVER].ok and not views[View.SERVER].checked
    assert not views[View.API].ok
    assert result.failures() == [
        "server: no `server config` line from this start in the server's log: the server did not start "
        "(or logs elsewhere)",
        "api: no answer at http://127.0.0.1:1: connection refused"]


def test_a_missing_config_line_fails_even_when_another_server_answers() -> None:
    """A taken port: the real server exits before logging `server config`; the API answering is someone else."""
    result = verify({"A": "1"}, (("A", "1"),), None, ApiAnswer("http://127.0.0.1:1", "0.32.15"))
    assert not result.ok
    assert [f.split(":")[0] for f in result.failures()] == ["server"]


def test_runs_declared_falls_back_to_the_server_log() -> None:
    assert runs_declared({"OLLAMA_KEEP_ALIVE": "10m"}, None, RESOLVED) is True
    assert runs_declared({"OLLAMA_KEEP_ALIVE": "1h"}, None, RESOLVED) is False
    assert runs_declared({"OLLAMA_KEEP_ALIVE": "1h"}, (("OLLAMA_KEEP_ALIVE", "1h"),), RESOLVED) is True
    assert runs_declared({}, None, None) is None


def test_declared_address() -> None:
    assert declared_address({}).port == 11434
    assert declared_address({"OLLAMA_HOST": "0.0.0.0:11500"}).listen == "0.0.0.0:11500"
