"""Per-flavor tables: a `services.ollama` declaration → the exact environment its module gives the server.

Expected values are worked out by hand from each module's `environment` expression (not by running
ollama-sync's code):
- NixOS: nixpkgs nixos/modules/services/misc/ollama.nix @ 071a30aead7675355a957e8a9f9295aa24c6d91c:
  environmentVariables // { HOME = home; OLLAMA_MODELS = models; OLLAMA_HOST = "${host}:${toString port}"; }
  // optionalAttrs (rocmOverrideGfx != null) { HSA_OVERRIDE_GFX_VERSION = rocmOverrideGfx; }
  with home = "/var/lib/ollama", models = "${home}/models", host = "127.0.0.1", port = 11434.
- home-manager: modules/services/ollama.nix @ 313aabfb207cacdf30e6c0508b401893466889e4:
  environmentVariables // { OLLAMA_HOST = "${host}:${toString port}"; } (systemd: OLLAMA_HOST last wins).
- nix-darwin PR #972: environmentVariables // { OLLAMA_HOST = …; } // optionalAttrs (models != null)
  { OLLAMA_MODELS = models; }.
"""

from __future__ import annotations

import pytest

from ollama_sync.core.config import ToolConfig, parse_config
from ollama_sync.core.environment import render_environment
from ollama_sync.core.findings import Finding, Location
from ollama_sync.core.nix.flavor import Flavor, detect, module_table
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.options import build_settings
from ollama_sync.core.settings import OllamaSettings, ServiceOptions
from ollama_sync.errors import ConfigError

HERE = Location("host.nix")


def settings_of(text: str, flavor: Flavor) -> tuple[OllamaSettings, tuple[Finding, ...]]:
    read = read_nix_text(text, "host.nix")
    table, findings = module_table(flavor, read.table, origin=HERE, unreadable=read.unreadable)
    settings, _, more = build_settings(table, origin=HERE, strict=False)
    return settings, read.findings + findings + more


def env_of(body: str, flavor: Flavor) -> dict[str, str]:
    return render_environment(settings_of(f"{{ services.ollama = {{ {body} }}; }}", flavor)[0])


NIXOS_DEFAULTS = {"HOME": "/var/lib/ollama", "OLLAMA_MODELS": "/var/lib/ollama/models",
                  "OLLAMA_HOST": "127.0.0.1:11434"}

NIXOS_TABLE = [
    ("enable = true;", NIXOS_DEFAULTS),
    # OLLAMA_HOST in environmentVariables is overwritten by the module's own (set after it)
    ('enable = true; environmentVariables.OLLAMA_HOST = "0.0.0.0:11434";', NIXOS_DEFAULTS),
    ('enable = true; host = "0.0.0.0";', {**NIXOS_DEFAULTS, "OLLAMA_HOST": "0.0.0.0:11434"}),
    ('host = "[::]"; port = 8080;', {**NIXOS_DEFAULTS, "OLLAMA_HOST": "[::]:8080"}),
    ('host = "::";', {**NIXOS_DEFAULTS, "OLLAMA_HOST": ":::11434"}),  # the module does not bracket it
    ('home = "/srv/ollama";', {"HOME": "/srv/ollama", "OLLAMA_MODELS": "/srv/ollama/models",
                               "OLLAMA_HOST": "127.0.0.1:11434"}),
    ('home = "/srv/ollama"; models = "/data/models";',
     {"HOME": "/srv/ollama", "OLLAMA_MODELS": "/data/models", "OLLAMA_HOST": "127.0.0.1:11434"}),
    ('rocmOverrideGfx = "10.3.0";', {**NIXOS_DEFAULTS, "HSA_OVERRIDE_GFX_VERSION": "10.3.0"}),
    ('environmentVariables = { HSA_OVERRIDE_GFX_VERSION = "9"; }; rocmOverrideGfx = "10.3.0";',
     {**NIXOS_DEFAULTS, "HSA_OVERRIDE_GFX_VERSION": "10.3.0"}),
    ('environmentVariables = { HSA_OVERRIDE_GFX_VERSION = "9"; };',  # null rocmOverrideGfx: kept
     {**NIXOS_DEFAULTS, "HSA_OVERRIDE_GFX_VERSION": "9"}),
    ('acceleration = "rocm";', NIXOS_DEFAULTS),  # picks the package build, no variable
    ('acceleration = false;', NIXOS_DEFAULTS),
    ('environmentVariables = { OLLAMA_MODELS = "/x"; HOME = "/h"; OLLAMA_NUM_PARALLEL = "4"; };',
     {**NIXOS_DEFAULTS, "OLLAMA_NUM_PARALLEL": "4"}),
    ('loadModels = [ "llama3.2" ]; syncModels = true; openFirewall = true; user = "ollama";', NIXOS_DEFAULTS),
]


@pytest.mark.parametrize(("body", "expected"), NIXOS_TABLE)
def test_nixos_environment(body: str, expected: dict[str, str]) -> None:
    assert env_of(body, Flavor.NIXOS) == dict(sorted(expected.items()))


HM_TABLE = [
    ("enable = true;", {"OLLAMA_HOST": "127.0.0.1:11434"}),
    ('environmentVariables.OLLAMA_HOST = "0.0.0.0";', {"OLLAMA_HOST": "127.0.0.1:11434"}),
    ('host = "0.0.0.0"; port = 11500;', {"OLLAMA_HOST": "0.0.0.0:11500"}),
    ('environmentVariables = { OLLAMA_MODELS = "/Volumes/m"; OLLAMA_FLASH_ATTENTION = "1"; };',
     {"OLLAMA_HOST": "127.0.0.1:11434", "OLLAMA_MODELS": "/Volumes/m", "OLLAMA_FLASH_ATTENTION": "1"}),
    ('acceleration = "cuda";', {"OLLAMA_HOST": "127.0.0.1:11434"}),
]


@pytest.mark.parametrize(("body", "expected"), HM_TABLE)
def test_home_manager_environment(body: str, expected: dict[str, str]) -> None:
    assert env_of(body, Flavor.HOME_MANAGER) == dict(sorted(expected.items()))


DARWIN_TABLE = [
    ("enable = true;", {"OLLAMA_HOST": "127.0.0.1:11434"}),
    ('models = "/Volumes/models";', {"OLLAMA_HOST": "127.0.0.1:11434", "OLLAMA_MODELS": "/Volumes/models"}),
    ("models = null;", {"OLLAMA_HOST": "127.0.0.1:11434"}),
    ('environmentVariables = { OLLAMA_MODELS = "/a"; OLLAMA_HOST = "0.0.0.0"; }; models = "/b";',
     {"OLLAMA_HOST": "127.0.0.1:11434", "OLLAMA_MODELS": "/b"}),
    ('environmentVariables.OLLAMA_MODELS = "/a";', {"OLLAMA_HOST": "127.0.0.1:11434", "OLLAMA_MODELS": "/a"}),
]


@pytest.mark.parametrize(("body", "expected"), DARWIN_TABLE)
def test_nix_darwin_environment(body: str, expected: dict[str, str]) -> None:
    assert env_of(body, Flavor.NIX_DARWIN) == dict(sorted(expected.items()))


def test_custom_flavor_reads_the_reference_module_as_written() -> None:
    text = ('{ custom.services.ollama = { enable = true; host = "0.0.0.0"; port = 11434; modelsPath = "/m";'
            ' extraEnvironment.OLLAMA_NUM_PARALLEL = "4"; }; }')
    read = read_nix_text(text, "host.nix")
    table, _ = module_table(Flavor.CUSTOM, read.table, origin=HERE)
    settings = build_settings(table, origin=HERE, strict=False)[0]
    assert render_environment(settings) == {"OLLAMA_HOST": "0.0.0.0:11434", "OLLAMA_MODELS": "/m",
                                            "OLLAMA_NUM_PARALLEL": "4"}


def test_enable_defaults_to_false_in_the_modules() -> None:
    for flavor in (Flavor.NIXOS, Flavor.HOME_MANAGER, Flavor.NIX_DARWIN):
        settings, _ = settings_of('{ services.ollama.host = "0.0.0.0"; }', flavor)
        assert settings.enable is False, flavor
    settings, _ = settings_of("{ services.ollama.enable = true; }", Flavor.NIXOS)
    assert settings.enable is True


def test_load_models_are_the_models_to_pull_on_nixos() -> None:
    settings, _ = settings_of('{ services.ollama.loadModels = [ "llama3.2" "qwen3:8b" ]; }', Flavor.NIXOS)
    assert settings.models == ("llama3.2", "qwen3:8b")


def test_an_ignored_variable_is_a_warning_at_its_line() -> None:
    text = '{ services.ollama = {\n  environmentVariables = {\n    OLLAMA_HOST = "0.0.0.0";\n  };\n}; }'
    _, findings = settings_of(text, Flavor.NIXOS)
    [ignored] = [f for f in findings if f.code == "nix-ignored-variable"]
    assert ignored.location == Location("host.nix", 3, 5)
    assert "sets OLLAMA_HOST after environmentVariables" in ignored.message
    assert "services.ollama.host" in ignored.hint


@pytest.mark.parametrize(("flavor", "body", "message"), [
    (Flavor.HOME_MANAGER, 'loadModels = [ "x" ];', "home-manager's services.ollama"),
    (Flavor.HOME_MANAGER, 'models = "/m";', "has no option 'models'"),
    (Flavor.HOME_MANAGER, 'home = "/h";', "has no option 'home'"),
    (Flavor.NIX_DARWIN, 'loadModels = [ "x" ];', "nix-darwin's services.ollama (PR #972"),
    (Flavor.NIXOS, 'modelsPath = "/m";', "NixOS's services.ollama"),
    (Flavor.NIXOS, 'listenAddress = "0.0.0.0:1";', "Use `services.ollama.host`"),
    (Flavor.NIXOS, "port = \"11434\";", "not of type `16 bit unsigned integer"),
    (Flavor.NIXOS, "environmentVariables.OLLAMA_NUM_PARALLEL = 4;", "not of type `string'"),
    (Flavor.HOME_MANAGER, 'acceleration = "vulkan";', "acceleration = 'vulkan' is not accepted"),
])
def test_options_the_module_lacks_are_errors_naming_it(flavor: Flavor, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        env_of(body, flavor)
    assert message in str(err.value)


def test_unread_home_leaves_its_variables_unknown_with_an_error() -> None:
    text = "{ config, ... }: { services.ollama = { enable = true; home = config.users.users.me.home; }; }"
    settings, findings = settings_of(text, Flavor.NIXOS)
    env = render_environment(settings)
    assert "HOME" not in env and "OLLAMA_MODELS" not in env  # not guessed as /var/lib/ollama
    assert {f.message.split(" ")[0] for f in findings if f.code == "nix-unevaluated-derived"} == {
        "HOME", "OLLAMA_MODELS"}


@pytest.mark.parametrize(("attribute", "body", "top", "flavor"), [
    (("services", "ollama-sync"), "enable = true;", "", Flavor.OLLAMA_SYNC),
    (("custom", "services", "ollama"), "enable = true;", "", Flavor.CUSTOM),
    (("services", "ollama"), 'extraEnvironment.A = "1";', "", Flavor.CUSTOM),
    (("services", "ollama"), 'home = "/h";', "", Flavor.NIXOS),
    (("services", "ollama"), 'loadModels = [ ];', "", Flavor.NIXOS),
    (("services", "ollama"), "enable = true;", 'home.stateVersion = "24.05";', Flavor.HOME_MANAGER),
    (("services", "ollama"), "enable = true;", "homebrew.enable = true;", Flavor.NIX_DARWIN),
    (("services", "ollama"), 'models = "/m";', "", Flavor.NIX_DARWIN),
    (("services", "ollama"), "enable = true;", 'boot.loader.grub.device = "/dev/sda";', Flavor.NIXOS),
    (("config", "services", "ollama"), "enable = true;", "boot.x = 1;", Flavor.NIXOS),
])
def test_auto_detection(attribute: tuple[str, ...], body: str, top: str, flavor: Flavor) -> None:
    path = ".".join(attribute)
    read = read_nix_text(f"{{ {top} {path} = {{ {body} }}; }}", "host.nix")
    chosen, finding = detect(read.attribute, read.table, read.top)
    assert chosen is flavor
    assert finding.severity.value == "info" and f"read as flavor {flavor.value!r}" in finding.message


def test_auto_detection_that_cannot_tell_warns_and_says_how_to_choose() -> None:
    read = read_nix_text('{ services.ollama = { enable = true; host = "0.0.0.0"; }; }', "host.nix")
    chosen, finding = detect(read.attribute, read.table, read.top)
    assert chosen is Flavor.NIXOS and finding.severity.value == "warning"
    assert 'flavor = "nixos", "home-manager" or "nix-darwin"' in finding.hint


def test_config_flavor_key() -> None:
    config = parse_config('source = "host.nix"\nflavor = "home-manager"\n', "c.toml")
    assert isinstance(config, ToolConfig) and config.flavor is Flavor.HOME_MANAGER
    assert config.service == ServiceOptions()
    with pytest.raises(ConfigError, match=r"flavor' must be one of auto, nixos"):
        parse_config('source = "host.nix"\nflavor = "nixpkgs"\n', "c.toml")
    with pytest.raises(ConfigError, match=r"not a \.nix file"):
        parse_config('source = "d.toml"\nflavor = "nixos"\n', "c.toml")
