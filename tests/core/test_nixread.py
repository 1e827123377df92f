"""The static Nix reader: values with file:line:col, findings for what it does not evaluate, clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ollama_sync.core.findings import Location
from ollama_sync.core.nix.evaluate import Scalar
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.options import SourceValue, build_settings
from ollama_sync.errors import ConfigError
from tests.conftest import FIXTURES, REPO

NIX = FIXTURES / "nix"


def plain(value: object) -> object:
    if isinstance(value, SourceValue):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def read(text: str, attribute: str | None = None):  # type: ignore[no-untyped-def]
    return read_nix_text(text, "host.nix", attribute)


def test_reference_module_values_and_locations() -> None:
    path = str(NIX / "reference.nix")
    result = read_nix_text((NIX / "reference.nix").read_text(), path)
    assert result.attribute == ("custom", "services", "ollama")
    assert plain(result.table) == {
        "enable": True, "port": 11434, "host": "0.0.0.0", "flashAttention": True, "kvCacheType": "q8_0",
        "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "4", "OLLAMA_NUM_CTX": "8192"}}
    assert result.table["kvCacheType"].location == Location(path, 15, 5)
    env = result.table["extraEnvironment"].value
    assert isinstance(env, dict) and env["OLLAMA_NUM_CTX"].location == Location(path, 18, 7)
    settings, locations, findings = build_settings(result.table, origin=Location(path), strict=False)
    assert settings.kv_cache_type == "q8_0" and settings.flash_attention is True
    assert dict(settings.environment)["OLLAMA_NUM_PARALLEL"] == "4"
    assert ("environment.OLLAMA_NUM_CTX", Location(path, 18, 7)) in locations
    assert findings == () and result.findings == ()


def test_column_counts_characters_not_bytes() -> None:
    result = read('{ custom.services.ollama = { x = "ü"; host = "h"; }; }')
    assert result.table["host"].location == Location("host.nix", 1, 39)


def test_syntax_error_is_exit_2_with_line_col_and_caret() -> None:
    with pytest.raises(ConfigError) as info:
        read("{\n  custom.services.ollama = {\n    port = 11434\n    host = \"x\";\n  };\n}\n")
    err = info.value
    assert err.exit_code == 2
    assert err.location is not None and err.location.line in (3, 4)
    assert "Nix syntax error" in err.message
    rendered = err.render().splitlines()
    assert rendered[1] == "  | " + err.excerpt if err.excerpt else False
    assert rendered[2] == "  | " + " " * (err.location.col - 1) + "^"  # type: ignore[operator]


def test_syntax_error_caret_points_at_the_column() -> None:
    with pytest.raises(ConfigError) as info:
        read("{ a = 1; b = ; }")
    err = info.value
    assert err.location == Location("host.nix", 1, 14)
    assert err.render().splitlines()[1:3] == ["  | { a = 1; b = ; }", "  | " + " " * 13 + "^"]


def test_missing_attribute_names_the_paths_tried_and_the_top_level_attributes() -> None:
    with pytest.raises(ConfigError) as info:
        read("{ networking.hostName = \"m\"; services.nginx.enable = true; }")
    err = info.value
    assert "custom.services.ollama or services.ollama" in err.message
    assert err.hint is not None and "networking, services" in err.hint


def test_configured_attribute_is_used() -> None:
    text = "{ my.ollama = { port = 1; }; custom.services.ollama = { port = 2; }; }"
    assert plain(read(text, "my.ollama").table) == {"port": 1}
    assert plain(read(text).table) == {"port": 2}
    with pytest.raises(ConfigError, match=r"no attribute my\.other"):
        read(text, "my.other")


def test_nixpkgs_services_ollama_is_the_fallback_and_config_prefix_is_seen() -> None:
    assert read("{ services.ollama.port = 3; }").attribute == ("services", "ollama")
    assert read("{ config.services.ollama.port = 3; }").attribute == ("config", "services", "ollama")


def test_unevaluable_set_itself_is_a_config_error_pointing_at_nix() -> None:
    with pytest.raises(ConfigError) as info:
        read("{ lib, config, ... }: { custom.services.ollama = lib.mkIf config.x.enable { port = 1; }; }")
    assert "without Nix" in info.value.message and "--eval nix" in (info.value.hint or "")
    assert info.value.location == Location("host.nix", 1, 50)


def test_defined_twice_is_an_error_as_in_nix() -> None:
    with pytest.raises(ConfigError, match="'port' is defined twice"):
        read("{ custom.services.ollama = { port = 1; port = 2; }; }")
    with pytest.raises(ConfigError, match="'ollama' is defined twice"):
        read("{ custom.services.ollama.port = 1; custom.services = { ollama = { host = \"h\"; }; }; }")


@pytest.mark.parametrize(("expr", "reason"), [
    ("if true then 1 else 2", "an `if`"),
    ("lib.mkIf true 1", "lib.mkIf"),
    ("config.networking.port", "`config.networking`"),
    ("a.b or 3", "`or` default"),
    ("import ./x.nix", "imports another file"),
    ("(x: x) 1", "a function call"),
    ("pkgs.ollama", "`pkgs.ollama`"),
    ("\"${toString 1}${1}\"", "not a string"),
    ("missing", "undefined variable 'missing'"),
    ("./relative/path", "a path"),
    ("1 - 1", "the operator '-'"),
])
def test_unevaluated_expressions_become_findings_never_guesses(expr: str, reason: str) -> None:
    result = read(f"{{ config, pkgs, lib, ... }}:\nlet a = {{ }}; in {{\n  custom.services.ollama = {{\n"
                  f"    enable = true;\n    port = {expr};\n  }};\n}}\n")
    assert plain(result.table) == {"enable": True}
    [finding] = result.findings
    # port decides where the server listens: not read is an error (nothing is planned), never the default
    assert finding.code == "nix-unevaluated" and finding.severity.value == "error"
    assert finding.location is not None and finding.location.line == 5
    assert reason in finding.message and finding.message.startswith("port is not read")
    assert "--eval nix" in finding.hint


def test_an_unread_option_that_does_not_decide_listening_is_a_warning() -> None:
    result = read("{ config, ... }: { custom.services.ollama = { enable = true; kvCacheType = config.x; }; }")
    [finding] = result.findings
    assert finding.severity.value == "warning" and finding.message.startswith("kvCacheType is not read")
    assert result.unreadable == frozenset({"kvCacheType"})


def test_cycles_are_findings_not_crashes() -> None:
    result = read("let a = b; b = a; in { custom.services.ollama = rec { x = y; y = x; port = a; host = \"h\"; }; }")
    assert plain(result.table) == {"host": "h"}
    assert {f.message.split(" ")[0] for f in result.findings} == {"x", "y", "port"}
    assert all("infinite recursion" in f.message for f in result.findings)


def test_priorities_are_unwrapped_and_remembered() -> None:
    result = read_nix_text((NIX / "priorities.nix").read_text(), "p.nix")
    assert plain(result.table) == {"enable": True, "port": 11434, "host": "0.0.0.0", "flashAttention": True,
                                   "kvCacheType": "q8_0", "extraEnvironment": {"OLLAMA_NUM_PARALLEL": "4"}}
    priority = {name: getattr(result.evaluator.force(attr.thunk), "priority", None)
                for name, attr in result.attrs.attrs.items()}
    assert priority == {"enable": 50, "port": 1000, "host": 10, "flashAttention": 50, "kvCacheType": 50,
                        "extraEnvironment": 1000}


def test_with_lib_and_inherit_from_lib_resolve_mk_functions_but_with_pkgs_does_not() -> None:
    result = read("{ pkgs, lib, ... }: with pkgs; { custom.services.ollama = { port = 1; models = [ ollama ]; }; }")
    assert plain(result.table) == {"port": 1}
    assert "may come from `with pkgs;`" in result.findings[0].message


def test_let_shadowing_true_is_respected() -> None:
    result = read("let true = false; in { custom.services.ollama.enable = true; }")
    assert plain(result.table) == {"enable": False}


def test_strings_corpus_values() -> None:
    result = read_nix_text((NIX / "strings.nix").read_text(), "s.nix")
    env = plain(result.table)["extraEnvironment"]  # type: ignore[index]
    assert env["OLLAMA_UNICODE"] == "naïve café — 模型 🦙"
    assert env["OLLAMA_INDENTED"] == "first line\n  indented jeridf\n${literal} '' quotes \t tab\n"
    assert env["OLLAMA_NUM_PARALLEL"] == "4" and env["OLLAMA_FLOATISH"] == "1.500000"
    assert env["OLLAMA_ESCAPES"] == 'tab\there "quoted" back\\slash ${not} $${kept} a$ ${x}'


def test_values_keep_their_origin_expression() -> None:
    result = read("let p = 11434; in { custom.services.ollama = { port = p; host = \"h\"; }; }")
    port = result.evaluator.force(result.attrs.attrs["port"].thunk)
    assert isinstance(port, Scalar) and result.source.text(port.origin) == "11434"


def test_tree_sitter_is_imported_only_for_nix_declarations() -> None:
    code = ("import sys; from ollama_sync.cli import run; "
            f"rc = run(['--root', {str(REPO / '.demo-lazy')!r}, '--config', "
            f"{str(REPO / 'examples' / 'reference-setup.toml')!r}, 'check']); "
            "print('tree_sitter' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
