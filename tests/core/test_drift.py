"""The four-view settings table: each cell marked against the declaration."""

from __future__ import annotations

from ollama_sync.core.drift import Mark, all_in_sync, drift_lines, drift_table, setting_key, unread
from ollama_sync.core.environment import render_environment
from ollama_sync.core.observation import ServerConfig
from ollama_sync.core.settings import Declaration, OllamaSettings

DECL = Declaration(OllamaSettings(host="0.0.0.0", port=11434, num_parallel=4, keep_alive="2h",
                                  environment=(("OLLAMA_NUM_CTX", "8192"),)))
DECLARED = render_environment(DECL.settings)
SERVER = ServerConfig((("OLLAMA_HOST", "http://0.0.0.0:11434"), ("OLLAMA_KEEP_ALIVE", "2h0m0s"),
                       ("OLLAMA_NUM_PARALLEL", "4"), ("OLLAMA_ORIGINS", "[*]")))


def rows_by_name(file_env: dict[str, str] | None, manager: dict[str, str] | None,
                 server: ServerConfig | None) -> dict[str, object]:
    return {row.variable: row for row in drift_table(DECL, DECLARED, file_env, manager, server)}


def test_all_views_agree_but_the_server_ignores_num_ctx() -> None:
    rows = rows_by_name(dict(DECLARED), dict(DECLARED), SERVER)
    assert list(rows) == ["OLLAMA_HOST", "OLLAMA_KEEP_ALIVE", "OLLAMA_NUM_CTX", "OLLAMA_NUM_PARALLEL"]
    num_ctx = rows["OLLAMA_NUM_CTX"]
    assert num_ctx.file.mark is Mark.IN_SYNC and num_ctx.manager.mark is Mark.IN_SYNC  # type: ignore[attr-defined]
    assert num_ctx.server.mark is Mark.UNREAD  # type: ignore[attr-defined]
    assert num_ctx.in_sync  # type: ignore[attr-defined]  # a variable no server reads is a warning, not drift
    assert unread(tuple(rows.values())) == ("OLLAMA_NUM_CTX",)  # type: ignore[arg-type]
    assert rows["OLLAMA_KEEP_ALIVE"].server.mark is Mark.IN_SYNC  # type: ignore[attr-defined]  # 2h = 2h0m0s
    assert rows["OLLAMA_HOST"].setting == "host"  # type: ignore[attr-defined]
    assert num_ctx.setting == "environment.OLLAMA_NUM_CTX"  # type: ignore[attr-defined]


def test_stale_manager_and_server() -> None:
    manager = dict(DECLARED, OLLAMA_NUM_PARALLEL="2")
    server = ServerConfig((("OLLAMA_HOST", "http://127.0.0.1:11434"), ("OLLAMA_KEEP_ALIVE", "2h0m0s"),
                           ("OLLAMA_NUM_PARALLEL", "2")))
    rows = rows_by_name(dict(DECLARED), manager, server)
    parallel = rows["OLLAMA_NUM_PARALLEL"]
    assert parallel.manager == parallel.manager.__class__("2", Mark.DIFFERENT)  # type: ignore[attr-defined]
    assert rows["OLLAMA_HOST"].server.mark is Mark.DIFFERENT  # type: ignore[attr-defined]


def test_unreadable_views_are_unknown_not_drift() -> None:
    rows = drift_table(Declaration(OllamaSettings(num_parallel=2)), {"OLLAMA_NUM_PARALLEL": "2"},
                       {"OLLAMA_NUM_PARALLEL": "2"}, None, None)
    assert rows[0].manager.mark is Mark.UNKNOWN and rows[0].server.mark is Mark.UNKNOWN
    assert all_in_sync(rows)


def test_undeclared_ollama_variable_in_the_file_is_extra() -> None:
    file_env = dict(DECLARED, OLLAMA_ORIGINS="*", PATH="/usr/bin", XPC_SERVICE_NAME="x")
    rows = rows_by_name(file_env, None, SERVER)
    assert "PATH" not in rows and "XPC_SERVICE_NAME" not in rows  # not Ollama's: not judged
    origins = rows["OLLAMA_ORIGINS"]
    assert origins.declared is None and origins.file.mark is Mark.EXTRA  # type: ignore[attr-defined]
    assert origins.server.value == "[*]" and not origins.in_sync  # type: ignore[attr-defined]


def test_missing_from_file() -> None:
    rows = rows_by_name({}, None, None)
    assert all(row.file.mark is Mark.MISSING for row in rows.values())  # type: ignore[attr-defined]


def test_non_ollama_variable_is_not_reported_by_the_server() -> None:
    decl = Declaration(OllamaSettings(environment=(("HTTPS_PROXY", "http://proxy:3128"), ("LANG", "C"))))
    env = render_environment(decl.settings)
    rows = drift_table(decl, env, env, env, ServerConfig((("HTTPS_PROXY", "http://proxy:3128"),)))
    assert [r.server.mark for r in rows] == [Mark.IN_SYNC, Mark.NOT_REPORTED]
    assert all_in_sync(rows)
    assert setting_key(decl, "LANG") == "environment.LANG"
    assert rows[0].to_json()["server"] == {"value": "http://proxy:3128", "mark": "in-sync"}


def test_no_cloud_drift_names_the_app_settings_file() -> None:
    decl = Declaration(OllamaSettings(environment=(("OLLAMA_NO_CLOUD", "0"),)))
    env = {"OLLAMA_NO_CLOUD": "0"}
    server = ServerConfig((("OLLAMA_NO_CLOUD", "true"),))
    lines = drift_lines(drift_table(decl, env, env, env, server))
    assert len(lines) == 1 and lines[0].startswith("OLLAMA_NO_CLOUD: declared '0', the server has 'true'")
    assert "~/.ollama/server.json" in lines[0]
