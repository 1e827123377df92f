"""`set` / `unset` / `check --cross-check` / `--eval nix` end to end, on copies of real declaration files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.declaration import load, read_config
from ollama_sync.app.nixsource import cross_check
from ollama_sync.cli import run
from ollama_sync.system.runner import Completed
from tests.conftest import FIXTURES, REPO
from tests.nixenv import nix_env  # noqa: F401  # fixture

EXAMPLES = REPO / "examples"


@pytest.fixture
def nix_setup(tmp_path: Path) -> Path:
    """examples/nix-source.toml and reference-setup.nix copied into tmp_path; returns the config."""
    shutil.copy(EXAMPLES / "reference-setup.nix", tmp_path / "reference-setup.nix")
    shutil.copy(EXAMPLES / "nix-source.toml", tmp_path / "config.toml")
    return tmp_path / "config.toml"


def cli(config: Path, *args: str) -> int:
    return run(["--root", str(config.parent / "root"), "--config", str(config), *args])


def in_root(path: Path) -> Path:
    """Where `set --root <tmp>/root` writes path: a copy inside the root (the real file stays as it was)."""
    return path.parent / "root" / str(path).lstrip("/")


@pytest.mark.usefixtures("nix_env")
def test_set_edits_the_nix_file_in_place_and_shows_the_plan(nix_setup: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    nix_file = nix_setup.parent / "reference-setup.nix"
    before = nix_file.read_text()
    assert cli(nix_setup, "set", "num_parallel", "8") == 0
    out = capsys.readouterr().out
    assert in_root(nix_file).read_text() == before.replace('OLLAMA_NUM_PARALLEL = "4";', 'OLLAMA_NUM_PARALLEL = "8";')
    assert nix_file.read_text() == before
    assert f'changed {nix_file}: extraEnvironment.OLLAMA_NUM_PARALLEL = "8" (was "4")' in out
    assert "launchd service 'com.github.ollama'" in out and "<string>8</string>" in out


def test_set_refuses_an_expression_without_force(nix_setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nix_file = nix_setup.parent / "reference-setup.nix"
    nix_file.write_text(nix_file.read_text().replace("port = 11434;", "port = 11000 + 434;"))
    before = nix_file.read_text()
    assert cli(nix_setup, "set", "port", "11435") == 2
    err = capsys.readouterr().err
    assert "port is `11000 + 434`" in err and "--force" in err
    assert nix_file.read_text() == before
    assert cli(nix_setup, "set", "--force", "port", "11435") == 0
    assert in_root(nix_file).read_text() == before.replace("11000 + 434", "11435")


def test_dry_run_writes_nothing(nix_setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nix_file = nix_setup.parent / "reference-setup.nix"
    before = nix_file.read_text()
    assert cli(nix_setup, "set", "--dry-run", "keep_alive", "1h") == 0
    out = capsys.readouterr().out
    assert "would change" in out and '+      OLLAMA_KEEP_ALIVE = "1h";' in out
    assert nix_file.read_text() == before


def test_unset_and_unset_again(nix_setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nix_file = nix_setup.parent / "reference-setup.nix"
    assert cli(nix_setup, "unset", "environment.OLLAMA_NUM_CTX") == 0
    assert "OLLAMA_NUM_CTX" not in in_root(nix_file).read_text()
    capsys.readouterr()
    assert cli(nix_setup, "unset", "environment.OLLAMA_NUM_CTX") == 0
    assert "is not declared" in capsys.readouterr().out


def test_set_json(nix_setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--root", str(nix_setup.parent / "root"), "--config", str(nix_setup), "--json",
                "set", "kv_cache_type", "q4_0"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "set" and doc["path"] == "kvCacheType" and doc["before"] == '"q8_0"'
    assert doc["after"] == '"q4_0"' and doc["written"] is True and doc["plan"]["changes"] is True


def test_bad_value_is_exit_2(nix_setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(nix_setup, "set", "port", "eleven") == 2
    assert "port takes an integer" in capsys.readouterr().err


def test_set_in_inline_toml_keeps_comments_and_uses_the_files_names(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    shutil.copy(EXAMPLES / "reference-setup.toml", config)
    before = config.read_text()
    assert cli(config, "set", "num_parallel", "8") == 0
    assert in_root(config).read_text() == before.replace('OLLAMA_NUM_PARALLEL = "4" ', 'OLLAMA_NUM_PARALLEL = "8" ')
    assert cli(config, "set", "context_length", "16384") == 0
    assert "kvCacheType = \"q8_0\"                # Memory efficiency" in in_root(config).read_text()
    assert "contextLength = 16384\n" in in_root(config).read_text()
    assert cli(config, "unset", "flash_attention") == 0
    assert "flashAttention" not in in_root(config).read_text()
    assert config.read_text() == before


def test_set_in_a_toml_source_with_snake_case_names(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('source = "decl.toml"\n')
    decl = tmp_path / "decl.toml"
    decl.write_text("[ollama]\nport = 11434  # default\n")
    assert cli(tmp_path / "config.toml", "set", "kv_cache_type", "q8_0") == 0
    assert cli(tmp_path / "config.toml", "set", "environment.OLLAMA_DEBUG", "1") == 0
    assert in_root(decl).read_text() == ('[ollama]\nport = 11434  # default\nkv_cache_type = "q8_0"\n\n'
                                         '[ollama.environment]\nOLLAMA_DEBUG = "1"\n')


def test_syntax_error_in_the_nix_file_is_exit_2_with_a_caret(nix_setup: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    nix_file = nix_setup.parent / "reference-setup.nix"
    nix_file.write_text(nix_file.read_text().replace("port = 11434;", "port = 11434"))
    assert cli(nix_setup, "check") == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"error: {nix_file}:14:10: Nix syntax error")
    assert err[1] == '  |     host = "0.0.0.0";                    # Network accessible'
    assert err[2] == "  |          ^"


def test_missing_attribute_is_exit_2_listing_what_exists(nix_setup: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    nix_setup.write_text(nix_setup.read_text().replace('"custom.services.ollama"', '"services.ollama"'))
    assert cli(nix_setup, "plan") == 2
    err = capsys.readouterr().err
    assert "no attribute services.ollama" in err
    assert "top-level attributes here: custom, environment, networking" in err


@pytest.mark.usefixtures("nix_env")
def test_eval_nix_and_cross_check_agree_on_the_reference(nix_setup: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--root", str(nix_setup.parent / "root"), "--config", str(nix_setup), "--eval", "nix", "--json",
                "check"]) == 0
    doc = json.loads(capsys.readouterr().out)
    num_ctx = next(f for f in doc["findings"] if f["variable"] == "OLLAMA_NUM_CTX")
    assert num_ctx["location"]["line"] == 20  # located from the static reading of the same file
    assert cli(nix_setup, "check", "--cross-check") == 0
    assert "nix-cross-check" not in capsys.readouterr().out


@pytest.mark.usefixtures("nix_env")
def test_cross_check_reports_what_only_nix_evaluates(nix_setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "nix" / "unevaluated.nix", nix_setup.parent / "reference-setup.nix")
    shutil.copy(FIXTURES / "nix" / "imported.nix", nix_setup.parent / "imported.nix")
    assert cli(nix_setup, "check", "--cross-check") == 1  # an unread port is an error: where does it listen?
    out = capsys.readouterr().out
    assert "info[nix-cross-check] port: only Nix evaluated it (= 11434)" in out
    assert "error[nix-unevaluated] port is not read" in out


def test_cross_check_needs_a_nix_declaration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    shutil.copy(EXAMPLES / "reference-setup.toml", config)
    assert cli(config, "check", "--cross-check") == 2
    assert "needs a .nix module file" in capsys.readouterr().err


def test_cross_check_disagreement_is_an_error_at_the_value(nix_setup: Path) -> None:
    answer = {"path": ["custom", "services", "ollama"],
              "value": {"enable": True, "port": 11435, "host": "0.0.0.0", "modelsPath": "/Users/jeridf/.ollama/models",
                        "flashAttention": True, "kvCacheType": "q8_0",
                        "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "4", "OLLAMA_NUM_CTX": "8192"}}}

    class NixSays:
        def run(self, argv, **_: object) -> Completed:  # type: ignore[no-untyped-def]
            assert argv[0] == "nix-instantiate"
            return Completed(tuple(argv), 0, json.dumps(answer), "")

    ctx = Context(GlobalOptions(config=str(nix_setup)), runner=NixSays())
    source = str(nix_setup.parent / "reference-setup.nix")
    [finding] = cross_check(ctx, read_config(ctx), source)
    assert finding.severity.value == "error" and finding.code == "nix-cross-check"
    assert finding.message == "port: the static reader read 11434, Nix evaluates 11435"
    assert finding.location is not None and (finding.location.line, finding.location.col) == (13, 5)


def test_a_flake_is_read_only_with_nix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "flake.nix").write_text("{ outputs = { self }: { }; }\n")
    config = tmp_path / "config.toml"
    config.write_text('source = "flake.nix"\n')
    assert cli(config, "check") == 2
    assert "is a flake: only Nix can evaluate it" in capsys.readouterr().err
    assert cli(config, "set", "port", "1") == 2
    assert "set and unset edit the host module file" in capsys.readouterr().err


def test_flake_evaluation_targets_this_hosts_darwin_configuration(tmp_path: Path) -> None:
    (tmp_path / "flake.nix").write_text("{ outputs = { self }: { }; }\n")
    config = tmp_path / "config.toml"
    config.write_text('source = "flake.nix"\neval = "nix"\n')
    seen: list[tuple[str, ...]] = []

    class NixSays:
        def run(self, argv, **_: object) -> Completed:  # type: ignore[no-untyped-def]
            seen.append(tuple(argv))
            doc = {"path": ["custom", "services", "ollama"], "value": {"port": 11434, "kvCacheType": "q8_0"}}
            return Completed(tuple(argv), 0, json.dumps(doc), "")

    ctx = Context(GlobalOptions(config=str(config)), environ={"OLLAMA_SYNC_NIX_HOST": "mini"}, runner=NixSays())
    loaded = load(ctx)
    assert loaded.declaration.settings.port == 11434 and loaded.declaration.settings.kv_cache_type == "q8_0"
    assert seen[0][:6] == ("nix", "--extra-experimental-features", "nix-command flakes", "eval", "--json",
                           f"{tmp_path}#darwinConfigurations.mini.config")
