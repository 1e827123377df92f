"""Reading service files back: plist and systemd parsing, and the env → settings mapping of import."""

from __future__ import annotations

import plistlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_sync.core.importing import NIX_MODULE_KEYS, import_facts
from ollama_sync.core.render.systemd import quote_environment
from ollama_sync.core.servicefile import ServiceFacts, read_plist, read_systemd, split_words
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.errors import ConfigError
from tests.core.nixgen import SURROGATES

UNIT = "/etc/systemd/system/ollama.service"


def facts(**env: str) -> ServiceFacts:
    return ServiceFacts(source="x.plist", backend=Backend.LAUNCHD, environment=tuple(env.items()))


@given(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True),
       st.text(st.characters(blacklist_categories=SURROGATES, blacklist_characters="\x00\r\x0b\x0c"
                             + "".join(map(chr, range(1, 9))) + "".join(map(chr, range(14, 32))) + "\x7f")))
def test_rendered_environment_lines_read_back_exactly(name: str, value: str) -> None:
    line = quote_environment(name, value).removeprefix("Environment=")
    env = read_systemd([(UNIT, f"[Service]\nEnvironment={line}\n")]).environment
    assert env == ((name, value),)


@pytest.mark.parametrize("text,words", [
    ('"A=1" "B=2 3"', ["A=1", "B=2 3"]),
    ("A=1 B=2", ["A=1", "B=2"]),
    (r"'A=x\"y' B=\x41", ['A=x"y', "B=A"]),
    (r'"A=\101\n"', ["A=A\n"]),
    ("A=a\\ b", ["A=a b"]),
])
def test_split_words(text: str, words: list[str]) -> None:
    assert split_words(text) == words


def test_dropins_override_and_reset() -> None:
    unit = "[Unit]\nDescription=x\n[Service]\nEnvironment=A=1 B=2\nExecStart=-/usr/bin/ollama serve\n"
    first = "[Service]\nEnvironment=B=3\n"
    reset = "[Service]\nEnvironment=\nEnvironment=C=%%4\nStandardError=append:/var/log/o%%.log\n"
    env = read_systemd([(UNIT, unit), ("a.conf", first)])
    assert dict(env.environment) == {"A": "1", "B": "3"}
    assert env.binary == "/usr/bin/ollama" and env.scope is Scope.SYSTEM and env.label == "ollama"
    after = read_systemd([(UNIT, unit), ("a.conf", first), ("b.conf", reset)])
    assert after.environment == (("C", "%4"),)
    assert after.log_path == "/var/log/o%.log"


def test_specifiers_are_kept_and_reported() -> None:
    got = read_systemd([(UNIT, "[Service]\nEnvironment=OLLAMA_MODELS=%h/models\n")])
    assert got.environment == (("OLLAMA_MODELS", "%h/models"),)
    assert [f.code for f in got.findings] == ["import-specifier"]
    assert got.findings[0].location is not None and got.findings[0].location.line == 2


def test_environment_file_is_reported_not_read() -> None:
    got = read_systemd([(UNIT, "[Service]\nEnvironmentFile=/etc/ollama.env\n")])
    assert [f.code for f in got.findings] == ["import-not-carried"]


def test_plist_basics_and_foreign_keys() -> None:
    data = plistlib.dumps({"Label": "x", "ProgramArguments": ["/bin/ollama", "serve", "--verbose"],
                           "EnvironmentVariables": {"A": "1", "N": 3}, "Nice": 5,
                           "StandardOutPath": "/tmp/o", "StandardErrorPath": "/tmp/e"})
    got = read_plist(data, "/Library/LaunchDaemons/x.plist")
    assert got.environment == (("A", "1"), ("N", "3"))
    assert got.scope is Scope.SYSTEM and got.log_path == "/tmp/e"
    assert sorted(f.code for f in got.findings) == ["import-arguments", "import-log-paths", "import-not-carried",
                                                   "import-not-string"]


def test_binary_plist_is_read() -> None:
    data = plistlib.dumps({"Label": "x", "ProgramArguments": ["o", "serve"]}, fmt=plistlib.FMT_BINARY)
    assert read_plist(data, "x.plist").binary == "o"


def test_not_a_plist() -> None:
    with pytest.raises(ConfigError, match="not a property list"):
        read_plist(b"<?xml version='1.0'?><plist><dict><key>a</key></plist>", "bad.plist")


@pytest.mark.parametrize("env,settings,rest", [
    ({"OLLAMA_HOST": "0.0.0.0:11434"}, {"host": "0.0.0.0", "port": 11434}, {}),
    ({"OLLAMA_HOST": "[::1]:8080"}, {"host": "::1", "port": 8080}, {}),
    ({"OLLAMA_HOST": "0.0.0.0"}, {}, {"OLLAMA_HOST": "0.0.0.0"}),  # no port: "0.0.0.0:11434" would differ
    ({"OLLAMA_HOST": "http://x:80"}, {"host": "http://x", "port": 80}, {}),  # formats back exactly
    ({"OLLAMA_FLASH_ATTENTION": "1"}, {"flash_attention": True}, {}),
    ({"OLLAMA_FLASH_ATTENTION": "true"}, {}, {"OLLAMA_FLASH_ATTENTION": "true"}),
    ({"OLLAMA_NUM_PARALLEL": "04"}, {}, {"OLLAMA_NUM_PARALLEL": "04"}),
    ({"OLLAMA_CONTEXT_LENGTH": "8192"}, {"context_length": 8192}, {}),
    ({"OLLAMA_ORIGINS": "a,b"}, {"origins": ("a", "b")}, {}),
    ({"OLLAMA_ORIGINS": "a,,b"}, {}, {"OLLAMA_ORIGINS": "a,,b"}),
    ({"OLLAMA_KEEP_ALIVE": "-1"}, {"keep_alive": "-1"}, {}),
    ({"WEIRD": "x y"}, {}, {"WEIRD": "x y"}),
])
def test_named_only_when_exact(env: dict[str, str], settings: dict[str, object], rest: dict[str, str]) -> None:
    imported = import_facts(facts(**env))
    assert dict(imported.settings) == settings
    assert dict(imported.environment) == rest


def test_nix_vocabulary_keeps_other_variables_verbatim() -> None:
    imported = import_facts(facts(OLLAMA_NUM_PARALLEL="4", OLLAMA_KV_CACHE_TYPE="q8_0"), named=NIX_MODULE_KEYS)
    assert dict(imported.settings) == {"kv_cache_type": "q8_0"}
    assert imported.environment == (("OLLAMA_NUM_PARALLEL", "4"),)


def test_foreign_label_is_replaced_with_a_warning() -> None:
    got = import_facts(ServiceFacts("h.plist", Backend.LAUNCHD, (), label="homebrew.mxcl.ollama"))
    assert got.service.label == "com.github.ollama"
    assert [f.code for f in got.findings] == ["import-foreign-service"]
    assert "brew services stop ollama" in (got.findings[0].hint or "")
