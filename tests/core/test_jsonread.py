"""The JSON declaration reader: values, key locations, syntax errors, and JSON configs through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ollama_sync.cli import run
from ollama_sync.core.findings import Location
from ollama_sync.core.jsonread import parse_json
from ollama_sync.core.options import build_settings
from ollama_sync.errors import ConfigError

DOC = """{"service": {"label": "com.github.ollama"},
  "ollama": {"port": 11434, "models": ["a", "b"],
     "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "4"}}}"""


def test_values_and_key_locations() -> None:
    doc = parse_json(DOC, "d.json")
    ollama = doc["ollama"].value
    assert isinstance(ollama, dict)
    assert ollama["port"].value == 11434
    assert ollama["port"].location == Location("d.json", 2, 14)
    env = ollama["extraEnvironment"].value
    assert isinstance(env, dict)
    assert env["OLLAMA_NUM_PARALLEL"].location == Location("d.json", 3, 27)


def test_settings_through_the_same_option_table() -> None:
    table = parse_json(DOC, "d.json")["ollama"].value
    assert isinstance(table, dict)
    settings, locations, findings = build_settings(table, origin=Location("d.json"))
    assert settings.port == 11434
    assert settings.models == ("a", "b")
    assert settings.environment == (("OLLAMA_NUM_PARALLEL", "4"),)
    assert dict(locations)["environment.OLLAMA_NUM_PARALLEL"].line == 3
    assert findings == ()


def test_builtins_tojson_output_one_line() -> None:
    text = json.dumps({"ollama": {"flashAttention": True, "host": "0.0.0.0"}}, separators=(",", ":"))
    doc = parse_json(text, "s.json")
    table = doc["ollama"].value
    assert isinstance(table, dict)
    assert table["host"].location == Location("s.json", 1, text.index('"host"') + 1)


@pytest.mark.parametrize("text,line,col", [('{"a": }', 1, 7), ('{\n "a": 1,\n}', 3, 1)])
def test_syntax_error_names_line_and_column(text: str, line: int, col: int) -> None:
    with pytest.raises(ConfigError) as err:
        parse_json(text, "bad.json")
    assert err.value.location == Location("bad.json", line, col)
    assert "invalid JSON" in err.value.message


def test_not_an_object() -> None:
    with pytest.raises(ConfigError, match="must be an object"):
        parse_json("[1]", "x.json")


def test_json_config_renders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"service": {"backend": "supervisord", "binary": "/bin/ollama"},
                                  "ollama": {"port": 11500, "flashAttention": True}}))
    rc = run(["--root", str(tmp_path / "root"), "--config", str(config), "render"])
    out = capsys.readouterr().out
    assert rc == 0
    assert 'OLLAMA_FLASH_ATTENTION="1"' in out
    assert 'OLLAMA_HOST="127.0.0.1:11500"' in out


def test_json_source_with_unknown_option_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "decl.json").write_text('{"ollama": {\n  "port": 1,\n  "flashAtention": true\n}}\n')
    (tmp_path / "c.toml").write_text('source = "decl.json"\n[service]\nbackend = "supervisord"\n')
    rc = run(["--root", str(tmp_path / "root"), "--config", str(tmp_path / "c.toml"), "check"])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{tmp_path / 'decl.json'}:3:3: unknown option 'flashAtention'" in err
    assert "did you mean 'flashAttention'" in err
