"""Every reader of outside input, fed hostile input: only the tool's own errors, never a crash or a hang.

A hang is a Hypothesis deadline failure (5 s per example); a crash is any exception other than the
tool's own (`OllamaSyncError`, and `GgufError` / `ModelInfoError` that `memory` turns into findings).
"""

from __future__ import annotations

import contextlib
import json
import plistlib
import struct

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ollama_sync.core.jsonread import parse_json
from ollama_sync.core.memory.model_info import ModelInfoError, model_info
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.servicefile import check_unit, read_plist, read_systemd
from ollama_sync.core.tomlread import parse_toml
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.files import decode_utf8
from ollama_sync.system.gguf_header import GgufError, read_header
from ollama_sync.system.server_log import parse_env_map, parse_server_config
from tests.fuzz.conftest import FUZZ

# Text that stresses readers: their own syntax characters, deep brackets, long digits, odd Unicode.
SYNTAX = st.sampled_from([*'{}[]()=;:,."\'\\$#\n\t /-+*<>!?@&|~', "${", "''", "\\u0000", "\ufeff", "\x00",
                          "9" * 30, "[" * 200, "{ a = " * 120])
HOSTILE_TEXT = st.lists(st.one_of(SYNTAX, st.text(max_size=8)), max_size=60).map("".join)


def _nested(depth: int, open_: str, close: str, inner: str = "1") -> str:
    return open_ * depth + inner + close * depth


def _ok(action: object, *args: object) -> None:
    with contextlib.suppress(OllamaSyncError):
        action(*args)  # type: ignore[operator]  # a reader


@FUZZ
@given(st.one_of(HOSTILE_TEXT, st.integers(0, 5000).map(lambda d: "x = " + _nested(d, "[", "]", "")),
                 st.integers(0, 5000).map(lambda d: "x = " + _nested(d, "{a=", "}"))))
def test_toml_reader(text: str) -> None:
    _ok(parse_toml, "[ollama]\n" + text, "c.toml")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=3), children, max_size=3), max_leaves=20)


@FUZZ
@given(st.one_of(HOSTILE_TEXT, JSON_VALUES.map(lambda v: json.dumps({"ollama": v})),
                 st.integers(0, 5000).map(lambda d: '{"ollama": ' + _nested(d, "[", "]", "") + "}"),
                 st.integers(0, 6000).map(lambda n: '{"ollama": {"port": ' + "9" * n + "}}"),
                 st.text(max_size=4).map(lambda k: json.dumps(k).join(['{"ollama": {', ': 1, ', ": 2}}"]))))
def test_json_reader(text: str) -> None:
    _ok(parse_json, text, "d.json")


NIX_TEMPLATES = st.sampled_from([
    "{ x = { port = %s; }; }", "{ x = %s; }", "{ config, ... }: { x.host = %s; }", "%s",
    "{ x = { models = [ %s ]; }; }", "let a = %s; in { x = { port = a; }; }", '{ x = { host = "${%s}"; }; }'])
NIX_EXPRS = st.one_of(HOSTILE_TEXT, st.integers(-2**70, 2**70).map(str),
                      st.integers(0, 3000).map(lambda d: _nested(d, "(", ")")),
                      st.integers(0, 3000).map(lambda d: _nested(d, "[ ", " ]", "")),
                      st.integers(0, 3000).map(lambda d: "+".join(["1"] * (d + 1))),
                      st.integers(0, 3000).map(lambda d: "a" + ".b" * d),
                      st.integers(0, 3000).map(lambda d: _nested(d, "{ a = ", "; }")))


@FUZZ
@given(NIX_TEMPLATES, NIX_EXPRS)
def test_static_nix_reader(template: str, expr: str) -> None:
    _ok(read_nix_text, template.replace("%s", expr), "d.nix", "x")


@FUZZ
@given(st.binary(max_size=400))
def test_static_nix_reader_on_bytes(data: bytes) -> None:
    try:
        text = decode_utf8(data, "d.nix")
    except OllamaSyncError:
        return
    _ok(read_nix_text, text, "d.nix", "x")


PLIST_VALUES = st.recursive(st.booleans() | st.integers(-2**63, 2**64 - 1) | st.floats(allow_nan=False)
                            | st.text(max_size=5) | st.binary(max_size=5),
                            lambda children: st.lists(children, max_size=3)
                            | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=15)
PLIST_DOCS = st.fixed_dictionaries({}, optional={
    "Label": PLIST_VALUES, "ProgramArguments": PLIST_VALUES, "Program": PLIST_VALUES,
    "EnvironmentVariables": PLIST_VALUES, "StandardErrorPath": PLIST_VALUES, "UserName": PLIST_VALUES})


def _mutate(data: bytes, cuts: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for at, byte in cuts:
        if out:
            out[at % len(out)] = byte
    return bytes(out)


@FUZZ
@given(PLIST_DOCS, st.sampled_from([plistlib.FMT_XML, plistlib.FMT_BINARY]),
       st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4))
def test_plist_reader(doc: dict[str, object], fmt: plistlib.PlistFormat, cuts: list[tuple[int, int]]) -> None:
    try:
        data = plistlib.dumps(doc, fmt=fmt)
    except (ValueError, OverflowError):  # plistlib cannot write it (control characters in XML, 2**64 - 1)
        assume(False)
    _ok(read_plist, _mutate(data, cuts), "p.plist")


@FUZZ
@given(st.one_of(HOSTILE_TEXT, st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_plist_reader_on_text(text: str) -> None:
    _ok(read_plist, ('<?xml version="1.0"?><plist version="1.0">' + text).encode(), "p.plist")


UNIT_LINES = st.one_of(st.sampled_from(["[Service]", "[Unit]", "[program:ollama]", "ExecStart=/usr/bin/ollama serve",
                                        "Environment=", "\\", "#", "EnvironmentFile=/x", "StandardError=file:/x"]),
                       st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["Environment", "ExecStart", "User"]),
                                 HOSTILE_TEXT))


@FUZZ
@given(st.lists(UNIT_LINES, max_size=12).map("\n".join))
def test_systemd_unit_reader(text: str) -> None:
    _ok(check_unit, text, "u.service")
    _ok(read_systemd, [("u.service", text)])


@FUZZ
@given(st.lists(st.one_of(HOSTILE_TEXT, HOSTILE_TEXT.map(lambda t: f'msg="server config" env="map[{t}]"')),
                max_size=20))
def test_server_log_reader(lines: list[str]) -> None:
    parse_server_config(lines)
    for line in lines:
        parse_env_map(line)


def _gguf(fields: dict[str, tuple[int, object]], tensors: int, string_len: int | None) -> bytes:
    """A small GGUF v3 header: metadata (key → (type, value)) and `tensors` one-dimensional f32 tensors."""
    def string(text: str, length: int | None = None) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw) if length is None else length) + raw

    body = b""
    for key, (vtype, value) in fields.items():
        body += string(key) + struct.pack("<I", vtype)
        if vtype == 8:
            body += string(str(value), string_len)
        elif vtype == 9:
            items = list(value)  # type: ignore[call-overload]  # a list of int32
            body += struct.pack("<IQ", 5, len(items)) + b"".join(struct.pack("<i", i) for i in items)
        else:
            body += struct.pack({4: "<I", 5: "<i", 10: "<Q", 11: "<q"}[vtype], value)
    for i in range(tensors):
        body += string(f"blk.{i}.attn_q.weight") + struct.pack("<IQIQ", 1, 64, 0, 0)
    return b"GGUF" + struct.pack("<IQQ", 3, tensors, len(fields)) + body


U32, I32, U64, I64 = 4, 5, 10, 11
NUMBERS = st.one_of(st.sampled_from([0, 1, 2, 32, 4096, 2**31 - 1, 2**32 - 1]), st.integers(0, 2**32 - 1))
SIGNED = st.integers(-2**31, 2**31 - 1)


@FUZZ
@given(st.fixed_dictionaries({
    "block_count": st.tuples(st.just(U32), NUMBERS), "embedding_length": st.tuples(st.just(U32), NUMBERS),
    "attention.head_count": st.one_of(st.tuples(st.just(I32), SIGNED),
                                      st.tuples(st.just(9), st.lists(SIGNED, max_size=40))),
    "attention.head_count_kv": st.tuples(st.just(I32), SIGNED),
    "context_length": st.one_of(st.tuples(st.just(U64), st.integers(0, 2**64 - 1)),
                                st.tuples(st.just(I64), st.integers(-2**63, 2**63 - 1))),
    "attention.key_length": st.tuples(st.just(I32), SIGNED),
}), st.integers(0, 40), st.one_of(st.none(), st.sampled_from([2**63, 2**64 - 1, 2**40])),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3), st.integers(0, 400))
def test_gguf_header_reader(tmp_path_factory: pytest.TempPathFactory, fields: dict[str, tuple[int, object]],
                            tensors: int, string_len: int | None, cuts: list[tuple[int, int]], cut_at: int) -> None:
    meta = {"general.architecture": (8, "llama"), **{f"llama.{k}": v for k, v in fields.items()}}
    data = _mutate(_gguf(meta, tensors, string_len), cuts)
    path = tmp_path_factory.mktemp("gguf") / "blob"
    path.write_bytes(data[:len(data) - cut_at] if cut_at < len(data) // 4 else data)
    try:
        header = read_header(path)
        model_info(header)
    except (GgufError, ModelInfoError, OSError):
        pass
