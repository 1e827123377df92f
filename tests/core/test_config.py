"""The tool's config file: parsing, every mistake as a ConfigError at file:line, and where it is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.declaration import config_path, load
from ollama_sync.cli import run
from ollama_sync.core.config import EvalMode, parse_config
from ollama_sync.core.findings import Location
from ollama_sync.core.settings import Backend, Scope, UnitMode
from ollama_sync.core.target import Machine
from ollama_sync.errors import ConfigError

PATH = "/etc/ollama-sync/config.toml"


def test_full_config() -> None:
    config = parse_config(
        '[service]\nbackend = "systemd"\nlabel = "ollama"\nbinary = "/usr/bin/ollama"\nscope = "system"\n'
        'log = "/var/log/ollama.log"\nunit_mode = "dropin"\nuser = "ollama"\n[ollama]\nport = 11434\n', PATH)
    service = config.service
    assert (service.backend, service.label, service.binary, service.scope, service.log_path, service.unit_mode,
            service.user) == (Backend.SYSTEMD, "ollama", "/usr/bin/ollama", Scope.SYSTEM, "/var/log/ollama.log",
                              UnitMode.DROPIN, "ollama")
    assert config.inline is not None and config.inline["port"].value == 11434
    assert dict(config.service_locations)["backend"] == Location(PATH, 2)


def test_source_pointer() -> None:
    config = parse_config('source = "hosts/mini/default.nix"\nattribute = "custom.services.ollama"\n'
                          'eval = "nix"\n', PATH)
    assert (config.source, config.attribute, config.eval_mode, config.inline) == (
        "hosts/mini/default.nix", "custom.services.ollama", EvalMode.NIX, None)
    assert config.source_location == Location(PATH, 1)


@pytest.mark.parametrize(("text", "line", "message", "hint"), [
    ('[ollama]\nport = 1\n[servise]\nbackend = "launchd"\n', 3, "unknown top-level key 'servise'",
     "did you mean 'service'?"),
    ('[ollama]\n[service]\nbakend = "launchd"\n', 3, "unknown [service] key 'bakend'", "did you mean 'backend'?"),
    ('[ollama]\n[service]\nbackend = "runit"\n', 3, "'backend' must be one of launchd, systemd, supervisord",
     'backend = "launchd"'),
    ('[ollama]\n[service]\nlabel = 5\n', 3, "'label' must be a non-empty string", 'label = "…"'),
    ('source = "a.nix"\n[ollama]\nport = 1\n', 1, "either inline in [ollama] or in `source`, not both",
     "remove the [ollama] table or the `source` line"),
    ('[service]\nbackend = "launchd"\n', 1, "neither an [ollama] table nor a `source`", "[ollama]"),
    ('ollama = 5\n', 1, "'ollama' must be a table", "[ollama]"),
    ('[ollama]\nport = \n', 2, "invalid TOML", "fix the syntax at the caret"),
])
def test_mistakes_are_config_errors_at_file_and_line(text: str, line: int, message: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, PATH)
    err = caught.value
    assert err.exit_code == 2
    assert err.location is not None and (err.location.file, err.location.line) == (PATH, line)
    assert err.message.startswith(f"{PATH}:{line}")
    assert message in err.message
    assert err.hint is not None and hint in err.hint


def test_invalid_toml_shows_the_line_and_a_caret() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config('[ollama]\nhost = "0.0.0.0\n', PATH)
    rendered = caught.value.render()
    assert rendered.splitlines()[0].startswith(f"{PATH}:2:")
    assert '  | host = "0.0.0.0' in rendered


def _context(tmp_path: Path, machine: Machine, *, config: str | None = None, root: Path | None = None,
             environ: dict[str, str] | None = None) -> Context:
    return Context(GlobalOptions(config=config, root=None if root is None else str(root)),
                   environ=environ or {}, machine_override=machine)


def test_config_path_order(tmp_path: Path, machine: Machine) -> None:
    env = {"OLLAMA_SYNC_CONFIG": "/from/env.toml"}
    assert config_path(_context(tmp_path, machine, config="/given.toml", environ=env)) == "/given.toml"
    assert config_path(_context(tmp_path, machine, environ=env)) == "/from/env.toml"
    root = tmp_path / "root"
    default = config_path(_context(tmp_path, machine, root=root))
    assert default == str(root.resolve() / "Users/alice/.config/ollama-sync/config.toml")
    xdg = config_path(_context(tmp_path, machine, root=root, environ={"XDG_CONFIG_HOME": "/xdg"}))
    assert xdg == str(root.resolve() / "xdg/ollama-sync/config.toml")


def test_relative_toml_source_is_read_from_the_configs_folder(tmp_path: Path, machine: Machine) -> None:
    (tmp_path / "decl").mkdir()
    (tmp_path / "decl" / "ollama.toml").write_text('[ollama]\nport = 8080\n')
    config = tmp_path / "config.toml"
    config.write_text('source = "decl/ollama.toml"\n')
    loaded = load(_context(tmp_path, machine, config=str(config)))
    assert loaded.declaration.settings.port == 8080
    assert loaded.declaration.location_of("port") == Location(str(tmp_path / "decl" / "ollama.toml"), 2)


CONFIG = '[service]\nbackend = "launchd"\nbinary = "/opt/homebrew/bin/ollama"\n[ollama]\nport = 1234\n'


def test_cli_reads_config_from_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "env-config.toml"
    config.write_text(CONFIG)
    monkeypatch.setenv("OLLAMA_SYNC_CONFIG", str(config))
    assert run(["--root", str(tmp_path / "root"), "check"]) == 0
    assert capsys.readouterr().out.startswith(f"{config}: no findings")


def test_cli_option_wins_over_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OLLAMA_SYNC_CONFIG", str(tmp_path / "missing.toml"))
    config = tmp_path / "given.toml"
    config.write_text(CONFIG)
    assert run(["--root", str(tmp_path / "root"), "--config", str(config), "check"]) == 0
    assert str(config) in capsys.readouterr().out


def test_cli_default_config_lives_under_root(tmp_path: Path, _isolated_home: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    default = root / str(_isolated_home / ".config" / "ollama-sync" / "config.toml").lstrip("/")
    default.parent.mkdir(parents=True)
    default.write_text(CONFIG)
    assert run(["--root", str(root), "check"]) == 0
    assert capsys.readouterr().out.startswith(f"{default.resolve()}: no findings")


def test_cli_missing_default_config_names_the_path_under_root(tmp_path: Path, _isolated_home: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    assert run(["--root", str(root), "check"]) == 2
    err = capsys.readouterr().err
    expected = root.resolve() / str(_isolated_home / ".config/ollama-sync/config.toml").lstrip("/")
    assert err.startswith(f"error: {expected}: config file not found\n  hint: ")
