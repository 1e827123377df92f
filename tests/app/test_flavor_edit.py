"""`set`/`unset` with the flavor's meaning: refusals with the reason, lists keeping layout and comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.setting_edit import set_setting, unset_setting
from ollama_sync.errors import UsageError

HM = """{ config, pkgs, ... }:
{
  home.stateVersion = "24.05";
  services.ollama = {
    enable = true;
    environmentVariables.OLLAMA_NUM_PARALLEL = "4";
  };
}
"""
NIXOS = """{ config, ... }:
{
  services.ollama = {
    enable = true;
    loadModels = [
      "llama3.2" # small and quick
      # the big ones
      "qwen3:32b"
      "gemma3"
    ];
    environmentVariables = {
      OLLAMA_HOST = "0.0.0.0:11434"; # ignored by NixOS
    };
  };
}
"""


def setup(tmp_path: Path, name: str, text: str, flavor: str | None = None) -> Context:
    (tmp_path / name).write_text(text)
    config = tmp_path / "config.toml"
    config.write_text(f'source = "{name}"\n' + (f'flavor = "{flavor}"\n' if flavor else ""))
    return Context(GlobalOptions(config=str(config)))


@pytest.mark.parametrize(("key", "value", "message"), [
    ("models", "llama3.2", "home-manager's services.ollama (modules/services/ollama.nix) has no option for models"),
    ("environment.OLLAMA_HOST", "0.0.0.0", "sets OLLAMA_HOST itself, after environmentVariables"),
])
def test_home_manager_refuses_keys_its_module_lacks(tmp_path: Path, key: str, value: str, message: str) -> None:
    ctx = setup(tmp_path, "home.nix", HM)  # auto: home.stateVersion says home-manager
    with pytest.raises(UsageError) as err:
        set_setting(ctx, key, value)
    assert message in str(err.value)
    assert (tmp_path / "home.nix").read_text() == HM


def test_home_manager_models_path_goes_to_the_environment(tmp_path: Path) -> None:
    ctx = setup(tmp_path, "home.nix", HM)
    result = set_setting(ctx, "models_path", "/Volumes/models")
    assert result.path == "environmentVariables.OLLAMA_MODELS"
    assert 'OLLAMA_MODELS = "/Volumes/models";' in (tmp_path / "home.nix").read_text()


def test_nixos_set_port_writes_the_option_not_the_ignored_variable(tmp_path: Path) -> None:
    ctx = setup(tmp_path, "host.nix", NIXOS, "nixos")
    result = set_setting(ctx, "port", "11500")
    text = (tmp_path / "host.nix").read_text()
    assert result.path == "port" and "port = 11500;" in text
    assert 'OLLAMA_HOST = "0.0.0.0:11434"; # ignored by NixOS' in text  # untouched


def test_nixos_refuses_models_in_the_environment(tmp_path: Path) -> None:
    ctx = setup(tmp_path, "host.nix", NIXOS, "nixos")
    with pytest.raises(UsageError, match=r"sets OLLAMA_MODELS itself") as err:
        set_setting(ctx, "environment.OLLAMA_MODELS", "/x")
    assert err.value.hint == "set models_path instead (ollama-sync set …)"


def test_nix_list_keeps_layout_and_comments(tmp_path: Path) -> None:
    ctx = setup(tmp_path, "host.nix", NIXOS, "nixos")
    set_setting(ctx, "models", "llama3.2,gemma3,mistral")
    assert (tmp_path / "host.nix").read_text() == NIXOS.replace('      "qwen3:32b"\n', "").replace(
        '      "gemma3"\n', '      "gemma3"\n      "mistral"\n')


def test_toml_list_keeps_layout_and_comments(tmp_path: Path) -> None:
    text = '[ollama]\nmodels = [\n  "llama3.2", # small\n  "qwen3:32b",\n  "gemma3",\n]\n'
    ctx = setup(tmp_path, "decl.toml", text)
    set_setting(ctx, "models", "llama3.2,gemma3,mistral")
    assert (tmp_path / "decl.toml").read_text() == \
        '[ollama]\nmodels = [\n  "llama3.2", # small\n  "gemma3",\n  "mistral",\n]\n'


def test_toml_unset_port_inside_ollama_host(tmp_path: Path) -> None:
    text = '[ollama]\nenable = true\n\n[ollama.environment]\nOLLAMA_HOST = "0.0.0.0:11500" # LAN\n'
    ctx = setup(tmp_path, "decl.toml", text)
    result = unset_setting(ctx, "port")
    assert result.after == '"0.0.0.0"'
    assert (tmp_path / "decl.toml").read_text() == text.replace("0.0.0.0:11500", "0.0.0.0")
