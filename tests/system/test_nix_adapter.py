"""The Nix adapter: the argv it runs, how Nix's failures read, and real evaluation of a module file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ollama_sync.errors import ConfigError, Unsupported
from ollama_sync.system.nix import Nix
from ollama_sync.system.runner import Completed, SubprocessRunner
from tests.fakes import FakeRunner
from tests.nixenv import nix_env  # noqa: F401  # fixture


class AnyArgv(FakeRunner):
    """Answers every command with one response and records it."""

    def __init__(self, stdout: str = "", rc: int = 0, stderr: str = "") -> None:
        super().__init__()
        self.answer = (stdout, rc, stderr)

    def run(self, argv, *, ok_codes=(0,), timeout=30.0, input_text=None, env=None):  # type: ignore[no-untyped-def]
        self.add(argv, Completed(tuple(argv), self.answer[1], self.answer[0], self.answer[2]))
        return super().run(argv, ok_codes=ok_codes, timeout=timeout, input_text=input_text, env=env)


def test_flake_evaluation_argv() -> None:
    runner = AnyArgv(json.dumps({"path": ["custom", "services", "ollama"], "value": {"port": 1}}))
    value = Nix(runner).eval_flake("/home/me/dots", "darwinConfigurations.mini", [("custom", "services", "ollama")])
    argv = runner.calls[0]
    assert argv[:6] == ("nix", "--extra-experimental-features", "nix-command flakes", "eval", "--json",
                        "/home/me/dots#darwinConfigurations.mini.config")
    assert argv[6] == "--apply" and '[["custom", "services", "ollama"]]' in argv[7]
    assert value.path == ("custom", "services", "ollama") and value.value == {"port": 1}


def test_module_evaluation_uses_the_dummy_store() -> None:
    runner = AnyArgv(json.dumps({"path": None, "top": ["networking"]}))
    value = Nix(runner).eval_module("/h/default.nix", [("services", "ollama")])
    assert runner.calls[0][:6] == ("nix-instantiate", "--store", "dummy://", "--eval", "--strict", "--json")
    assert value.path is None and value.top == ("networking",)


def test_nix_failure_is_a_config_error_with_nix_message() -> None:
    runner = AnyArgv(rc=1, stderr="error: attribute 'foo' missing\n\n       at /h.nix:3:5:\n")
    with pytest.raises(ConfigError, match=r"attribute 'foo' missing \(at /h.nix:3:5:\)"):
        Nix(runner).eval_module("/h.nix", [("x",)])


def test_missing_nix_is_unsupported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not Nix.available({"PATH": str(tmp_path)})
    with pytest.raises(Unsupported, match="nix-instantiate is not installed"):
        Nix(SubprocessRunner()).eval_module("/h.nix", [("x",)])


@pytest.mark.usefixtures("nix_env")
def test_real_parse_check(tmp_path: Path) -> None:
    nix = Nix(SubprocessRunner())
    nix.check_parse("{ a = 1; /* c */ }\n", "ok.nix")
    with pytest.raises(ConfigError, match="does not parse with Nix: syntax error"):
        nix.check_parse("{ a = 1 }", "bad.nix")


@pytest.mark.usefixtures("nix_env")
def test_real_module_evaluation_with_stub_arguments(tmp_path: Path) -> None:
    module = tmp_path / "host.nix"
    module.write_text("{ config, pkgs, lib, inputs, ... }: {\n"
                      "  services.ollama = lib.mkMerge [ { enable = true; package = pkgs.ollama; }\n"
                      "    { port = lib.mkDefault 1; host = lib.mkIf false \"x\"; models = \"/m\"; } ];\n}\n")
    value = Nix(SubprocessRunner()).eval_module(str(module), [("custom", "services", "ollama"), ("services", "ollama")])
    assert value.path == ("services", "ollama")
    assert value.value == {"enable": True, "port": 1, "models": "/m"}


NESTED = """{ config, lib, pkgs, ... }: {
  services.ollama = lib.mkMerge [
    { enable = true; package = pkgs.ollama; environmentVariables.A = "1"; }
    (lib.mkIf true (lib.mkMerge [
      { environmentVariables.B = "2"; port = lib.mkDefault 1; }
      (lib.mkIf false { environmentVariables.C = "3"; })
      { environmentVariables = lib.mkMerge [ { D = "4"; } (lib.mkIf false { E = "5"; }) ]; }
    ]))
    { port = lib.mkForce 7; loadModels = [ "a" ]; }
    { loadModels = [ "b" ]; host = lib.mkIf false "x"; }
    (lib.mkIf false { enable = false; })
  ];
}
"""


@pytest.mark.usefixtures("nix_env")
def test_nested_mkmerge_mkif_merge_as_the_module_system_does(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Worked out by hand with lib/modules.nix's rules (dischargeProperties, filterOverrides): every
    # mkIf true/mkMerge level is flattened, false ones vanish at any depth, mkForce (50) beats mkDefault
    # (1000), listOf definitions are concatenated. Checked once against the real nixpkgs lib's
    # evalModules (nix-community/nixpkgs.lib de42d442, freeform attrsOf anything): same values.
    monkeypatch.setenv("NIX_PATH", "")
    module = tmp_path / "host.nix"
    module.write_text(NESTED)
    value = Nix(SubprocessRunner()).eval_module(str(module), [("services", "ollama")])
    assert value.lib == "stub"
    assert value.value == {"enable": True, "port": 7, "loadModels": ["a", "b"],
                           "environmentVariables": {"A": "1", "B": "2", "D": "4"}}


@pytest.mark.usefixtures("nix_env")
def test_mkif_false_set_at_the_path_is_absent_not_an_error(tmp_path: Path) -> None:
    module = tmp_path / "host.nix"
    module.write_text("{ lib, ... }: { custom.services.ollama = lib.mkIf false { enable = true; };\n"
                      "  services.ollama = lib.mkMerge [ (lib.mkIf false { port = 1; }) { enable = true; } ]; }\n")
    value = Nix(SubprocessRunner()).eval_module(str(module), [("custom", "services", "ollama"),
                                                              ("services", "ollama")])
    assert value.path == ("services", "ollama") and value.value == {"enable": True}


@pytest.mark.parametrize(("body", "message", "hint"), [
    ('services.ollama = lib.mkMerge [ { port = 1; } { port = 2; } ];',
     "The option `services.ollama.port' has conflicting definition values: 1 and 2", "lib.mkForce"),
    ('services.ollama.enable = lib.mkIf "yes" true;', "mkIf called with a non-Boolean condition",
     "must be true or false"),
    ("services.ollama.enable = config.networking.hostName == \"gpu\";", "attribute 'networking' missing",
     "point `source` at the flake"),
])
@pytest.mark.usefixtures("nix_env")
def test_evaluation_errors_say_what_to_do(tmp_path: Path, body: str, message: str, hint: str) -> None:
    module = tmp_path / "host.nix"
    module.write_text(f"{{ config, lib, ... }}: {{ {body} }}\n")
    with pytest.raises(ConfigError) as err:
        Nix(SubprocessRunner()).eval_module(str(module), [("services", "ollama")])
    assert message in str(err.value) and hint in (err.value.hint or "")
    assert "--eval static" not in (err.value.hint or "")  # the other mode would guess; the fix is in the file
