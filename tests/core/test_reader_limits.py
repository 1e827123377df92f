"""Hostile declarations: every reader answers with a ConfigError at file:line, never a crash (issue #11).

Over-deep nesting, over-long numbers, duplicate JSON keys, empty or comment-only Nix, byte-order marks
and integers Nix refuses; where Nix is the authority, real nix-instantiate says the same.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ollama_sync.core.jsonread import parse_json
from ollama_sync.core.limits import INT_MAX, MAX_DEPTH
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.tomlread import parse_toml
from ollama_sync.errors import ConfigError
from tests.nixenv import nix_env  # noqa: F401  # fixture

DEEP = 5000  # far past Python's recursion limit: the reader must refuse, not recurse


def _error(action: object, *args: str) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        action(*args)  # type: ignore[operator]  # a reader function
    return err.value


@pytest.mark.parametrize("text", [
    '{"ollama": {"x": ' + "[" * DEEP + "]" * DEEP + "}}",
    '{"ollama": {"x": ' + '{"a":' * DEEP + "1" + "}" * DEEP + "}}",
    '{"ollama": {"x": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}}",  # parses, then refused
])
def test_json_nesting_is_bounded(text: str) -> None:
    err = _error(parse_json, text, "d.json")
    assert "nested more than 100 levels" in err.message and err.location is not None
    assert err.location.line == 1


def test_json_nesting_within_the_limit_reads() -> None:
    depth = MAX_DEPTH - 3
    doc = parse_json('{"ollama": {"x": ' + "[" * depth + "]" * depth + "}}", "d.json")
    assert "x" in doc["ollama"].value  # type: ignore[operator]


@pytest.mark.parametrize("number", ["9" * 5000, "9" * 21, "-" + "9" * 21, str(INT_MAX + 1)])
def test_json_numbers_past_64_bits_are_refused(number: str) -> None:
    err = _error(parse_json, '{"ollama":\n {"port": ' + number + "}}", "d.json")
    assert err.location is not None and err.location.line == 2
    assert "digits" in err.message


def test_json_duplicate_keys_are_an_error_at_the_second() -> None:
    err = _error(parse_json, '{"ollama": {\n "port": 1,\n "port": 2}}', "d.json")
    assert err.message == 'd.json:3:2: duplicate key "port"'
    assert err.hint is not None and "line 2" in err.hint


@pytest.mark.parametrize("body", [
    "x = " + "[" * DEEP + "]" * DEEP,
    "x = " + "{a=" * DEEP + "1" + "}" * DEEP,
    "x = " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
])
def test_toml_nesting_is_bounded(body: str) -> None:
    err = _error(parse_toml, "[ollama]\n" + body + "\n", "c.toml")
    assert "nested more than 100 levels" in err.message
    assert err.location is not None and err.location.line == 2


@pytest.mark.parametrize("number", ["9" * 5000, str(INT_MAX + 1), str(-INT_MAX - 2)])
def test_toml_integers_past_64_bits_are_refused(number: str) -> None:
    # TOML 1.0: "if an integer cannot be represented losslessly, an error must be thrown" (64-bit signed)
    err = _error(parse_toml, "[ollama]\nport = " + number + "\n", "c.toml")
    assert err.location is not None and err.location.line == 2


def test_toml_largest_integer_reads() -> None:
    assert parse_toml(f"port = {INT_MAX}\n", "c.toml")["port"].value == INT_MAX


NIX_REFUSED = {  # Nix's own message for each (nix-instantiate 2.8), and ours
    "empty": ("", "unexpected end of file"),
    "comment-only": ("# only a comment\n", "unexpected end of file"),
    "byte-order mark": ("\ufeff{ x = { port = 1; }; }", "unexpected invalid token"),
    "26-digit integer": ("{ x = { port = 12345678901234567890123456; }; }", "invalid integer"),
    "2^63": ("{ x = { port = 9223372036854775808; }; }", "invalid integer"),
    "2^63 in an unused binding": ("{ y = 9223372036854775808; x = { port = 1; }; }", "invalid integer"),
}


@pytest.mark.parametrize("name", sorted(NIX_REFUSED))
def test_static_nix_reader_refuses_what_nix_refuses(name: str) -> None:
    text, words = NIX_REFUSED[name]
    err = _error(read_nix_text, text, "d.nix", "x")
    assert words in err.message and err.location is not None and err.location.line == 1


@pytest.mark.usefixtures("nix_env")
@pytest.mark.parametrize("name", sorted(NIX_REFUSED))
def test_real_nix_refuses_them_too(name: str, tmp_path: Path) -> None:
    text, words = NIX_REFUSED[name]
    path = tmp_path / "d.nix"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(["nix-instantiate", "--eval", "--strict", "--store", "dummy://", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and words in done.stderr


@pytest.mark.usefixtures("nix_env")
def test_nix_and_the_static_reader_agree_on_the_largest_integer(tmp_path: Path) -> None:
    path = tmp_path / "d.nix"
    path.write_text(f"{{ x = {{ port = {INT_MAX}; }}; }}")
    done = subprocess.run(["nix-instantiate", "--eval", "--strict", "--store", "dummy://", "-A", "x.port",
                           str(path)], capture_output=True, text=True, timeout=60, check=True)
    assert int(done.stdout) == INT_MAX
    assert read_nix_text(path.read_text(), str(path), "x").table["port"].value == INT_MAX


@pytest.mark.parametrize("expr", [
    "{ x = " + "{ a = " * DEEP + "1;" + " };" * DEEP + " }",
    "{ x = { models = " + "[" * DEEP + "]" * DEEP + "; }; }",
    "{ x = { port = " + "(" * DEEP + "1" + ")" * DEEP + "; }; }",
    "{ x = { port = " + "+".join(["1"] * DEEP) + "; }; }",
    "{ x = { port = " + "let a = 1; in " * DEEP + "a; }; }",
    '{ x = { host = ' + '"${' * 1000 + '"a"' + '}"' * 1000 + "; }; }",
    "{ x = " + "{ a = " * DEEP + "1;",  # broken and deep: the syntax error is found without recursion
])
def test_nix_nesting_is_bounded(expr: str) -> None:
    err = _error(read_nix_text, expr, "d.nix", "x")
    assert err.location is not None and err.location.line == 1
    assert any(words in err.message for words in ("nested more than", "syntax error", "operators in a row"))


@pytest.mark.parametrize("chain", ["+".join(["1"] * 100_000), "-" * 100_000 + "1", "a" + ".b" * 100_000])
def test_a_long_operator_chain_is_refused_before_the_quadratic_parse(chain: str) -> None:
    err = _error(read_nix_text, "{ x = { port =\n" + chain + "; }; }", "d.nix", "x")
    assert "more than 1000 operators in a row" in err.message
    assert err.location is not None and err.location.line == 2
