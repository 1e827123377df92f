"""The option mapping: one table, three vocabularies (snake_case, the reference Nix module, services.ollama)."""

from __future__ import annotations

import pytest

from ollama_sync.core.environment import render_environment
from ollama_sync.core.findings import Location
from ollama_sync.core.options import OPTIONS, Kind, all_names, build_settings, find_option
from ollama_sync.core.settings import OllamaSettings
from ollama_sync.core.tomlread import parse_toml
from ollama_sync.errors import ConfigError

FILE = "decl.toml"


def settings_of(body: str, *, strict: bool = True) -> OllamaSettings:
    table = parse_toml("[ollama]\n" + body, FILE)["ollama"].value
    assert isinstance(table, dict)
    return build_settings(table, origin=Location(FILE), strict=strict)[0]


SNAKE = """
host = "0.0.0.0"
port = 11434
models_path = "/Users/jeridf/.ollama/models"
flash_attention = true
kv_cache_type = "q8_0"
models = ["llama3.2", "qwen2.5:7b"]
[ollama.environment]
OLLAMA_NUM_PARALLEL = "4"
"""

REFERENCE_NIX = """
host = "0.0.0.0"
port = 11434
modelsPath = "/Users/jeridf/.ollama/models"
flashAttention = true
kvCacheType = "q8_0"
loadModels = ["llama3.2", "qwen2.5:7b"]
[ollama.extraEnvironment]
OLLAMA_NUM_PARALLEL = "4"
"""

# nix-darwin / home-manager / NixOS `services.ollama`: no flash-attention or KV options, so those two
# variables go in environmentVariables, as users of those modules write them.
SERVICES_OLLAMA = """
host = "0.0.0.0"
port = 11434
models = "/Users/jeridf/.ollama/models"
loadModels = ["llama3.2", "qwen2.5:7b"]
[ollama.environmentVariables]
OLLAMA_NUM_PARALLEL = "4"
"""


def test_snake_case_and_the_reference_nix_names_give_identical_settings() -> None:
    assert settings_of(SNAKE) == settings_of(REFERENCE_NIX)


def test_services_ollama_names_give_identical_settings_for_the_options_they_have() -> None:
    snake = settings_of(SNAKE.replace("flash_attention = true\nkv_cache_type = \"q8_0\"\n", ""))
    assert settings_of(SERVICES_OLLAMA) == snake
    assert snake.models_path == "/Users/jeridf/.ollama/models"
    assert snake.models == ("llama3.2", "qwen2.5:7b")


def test_all_three_vocabularies_render_the_same_environment() -> None:
    services = SERVICES_OLLAMA + 'OLLAMA_FLASH_ATTENTION = "1"\nOLLAMA_KV_CACHE_TYPE = "q8_0"\n'
    envs = [render_environment(settings_of(body)) for body in (SNAKE, REFERENCE_NIX, services)]
    assert envs[0] == envs[1] == envs[2]
    assert envs[0]["OLLAMA_HOST"] == "0.0.0.0:11434"


def test_one_table_every_name_maps_to_exactly_one_option_except_models() -> None:
    seen: dict[str, list[str]] = {}
    for opt in OPTIONS:
        for name in opt.names:
            seen.setdefault(name, []).append(opt.key)
    shared = {name: keys for name, keys in seen.items() if len(keys) > 1}
    assert shared == {"models": ["models_path", "models"]}  # told apart by the value's shape
    assert find_option("models", "/srv/models").key == "models_path"  # type: ignore[union-attr]
    assert find_option("models", ["llama3.2"]).key == "models"  # type: ignore[union-attr]
    for name in ("flashAttention", "kvCacheType", "modelsPath", "extraEnvironment", "environmentVariables",
                 "loadModels", "host", "port"):
        assert name in all_names()


def test_every_option_with_a_variable_is_rendered_to_it() -> None:
    for opt in OPTIONS:
        if opt.variable is None or opt.kind is Kind.ENV:
            continue
        value = {Kind.BOOL: True, Kind.INT: 5, Kind.STR: "x", Kind.DURATION: "5m", Kind.STR_LIST: ("a",)}[opt.kind]
        env = render_environment(OllamaSettings(**{opt.key: value}))  # type: ignore[arg-type]
        assert opt.variable in env, opt.key


def test_the_same_setting_under_two_names_is_an_error_at_the_second() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of('modelsPath = "/a"\nmodels_path = "/b"\n')
    assert caught.value.location == Location(FILE, 3)
    assert "declared twice" in caught.value.message


@pytest.mark.parametrize(("body", "line", "message", "hint"), [
    ('port = "eleven"\n', 2, "'port' must be a whole number, not text (\"eleven\")", "port = 4"),
    ("flashAttention = 1\n", 2, "'flashAttention' must be a boolean (true or false), not a number (1)",
     "flashAttention = true"),
    ('origins = "*"\n', 2, "'origins' must be a list of strings", 'origins = ["…"]'),
    ("[ollama.environment]\nOLLAMA_DEBUG = true\n", 3, "environment variable OLLAMA_DEBUG must be a string",
     'OLLAMA_DEBUG = "1"'),
    ("environment = 5\n", 2, "'environment' must be a table of strings", "environment = {"),
    ("keep_alive = true\n", 2, "'keep_alive' must be a duration", 'keep_alive = "30m"'),
])
def test_wrong_types_name_the_line_and_the_fix(body: str, line: int, message: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of(body)
    assert caught.value.location == Location(FILE, line)
    assert message in caught.value.message
    assert caught.value.hint is not None and hint in caught.value.hint


def test_numbers_in_strings_and_seconds_are_accepted() -> None:
    settings = settings_of('port = "11434"\nkeep_alive = 300\n[ollama.environment]\nOLLAMA_NUM_PARALLEL = 4\n')
    assert (settings.port, settings.keep_alive, settings.environment) == (11434, "300",
                                                                          (("OLLAMA_NUM_PARALLEL", "4"),))


def test_unknown_option_in_toml_is_an_error_with_did_you_mean() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of('kvCachType = "q8_0"\n')
    assert caught.value.location == Location(FILE, 2)
    assert caught.value.message.endswith("unknown option 'kvCachType'")
    assert caught.value.hint == "did you mean 'kvCacheType'?"


def test_nix_module_options_are_findings_not_errors_outside_toml() -> None:
    table = parse_toml('[ollama]\nacceleration = "cuda"\nfrobnicate = 1\n', FILE)["ollama"].value
    assert isinstance(table, dict)
    _, _, findings = build_settings(table, origin=Location(FILE), strict=False)
    assert [(f.code, f.severity.value, f.location) for f in findings] == [
        ("nix-only-option", "info", Location(FILE, 2)), ("unknown-option", "warning", Location(FILE, 3))]
