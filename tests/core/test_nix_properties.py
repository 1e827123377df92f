"""Property tests: generated sets read back unchanged; `set` changes exactly the bytes of one value."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ollama_sync.core.nix.edit import nix_literal, unwrap
from ollama_sync.core.nix.placement import plan_set
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.options import SourceValue
from ollama_sync.core.setkey import env_string, parse_key
from tests.core.nixgen import gaps, modules, render

PROFILE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def plain(value: object) -> object:
    if isinstance(value, SourceValue):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@PROFILE
@given(modules())
def test_generated_sets_read_back_to_the_same_values(case: tuple[dict[str, Any], str]) -> None:
    value, text = case
    read = read_nix_text(text, "gen.nix")
    assert plain(read.table) == value
    assert read.findings == ()


reference_sets = st.fixed_dictionaries(
    {"enable": st.booleans()},
    optional={"port": st.integers(1, 65535), "host": st.sampled_from(["0.0.0.0", "127.0.0.1", "[::1]"]),
              "kvCacheType": st.sampled_from(["f16", "q8_0", "q4_0"]), "flashAttention": st.booleans(),
              "extraEnvironment": st.dictionaries(st.sampled_from(["OLLAMA_NUM_PARALLEL", "OLLAMA_KEEP_ALIVE",
                                                                    "OLLAMA_NUM_CTX"]),
                                                  st.from_regex(r"[0-9a-z]{1,4}", fullmatch=True), max_size=3)})
NEW_VALUES = {"enable": st.booleans(), "port": st.integers(1, 65535), "host": st.just("100.64.0.1"),
              "kv_cache_type": st.sampled_from(["f16", "q8_0", "q4_0"]), "flash_attention": st.booleans(),
              "environment.OLLAMA_NUM_PARALLEL": st.from_regex(r"[0-9]{1,2}", fullmatch=True),
              "environment.OLLAMA_KEEP_ALIVE": st.sampled_from(["5m", "1h", "-1"])}
FILE_NAMES = {"enable": ("enable",), "port": ("port",), "host": ("host",), "kv_cache_type": ("kvCacheType",),
              "flash_attention": ("flashAttention",), "environment.OLLAMA_NUM_PARALLEL":
              ("extraEnvironment", "OLLAMA_NUM_PARALLEL"), "environment.OLLAMA_KEEP_ALIVE":
              ("extraEnvironment", "OLLAMA_KEEP_ALIVE")}


def _at(table: dict[str, Any], path: tuple[str, ...]) -> object:
    node: object = table
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


@PROFILE
@given(modules(reference_sets), st.sampled_from(sorted(NEW_VALUES)), st.data())
def test_set_changes_exactly_the_bytes_of_that_value(case: tuple[dict[str, Any], str], key: str,
                                                     data: st.DataObject) -> None:
    _, text = case
    new = data.draw(NEW_VALUES[key])
    path = FILE_NAMES[key]
    read = read_nix_text(text, "gen.nix")
    old = text.encode()
    change = plan_set(read, parse_key(key), new)
    expected = new if len(path) == 1 else env_string(new)
    after = plain(read_nix_text(change.data, "gen.nix").table)
    assert isinstance(after, dict)
    assert _at(after, path) == expected
    before = plain(read.table)
    assert isinstance(before, dict)
    declared = _at(before, path) is not None
    if declared:  # replaced in place: the bytes outside the old literal are untouched
        attr = read.attrs.attrs[path[0]]
        if len(path) == 2:
            env = attr.thunk.value
            attr = env.attrs[path[1]]  # type: ignore[union-attr]
        assert attr.expr is not None
        node = unwrap(read.source, attr.expr)
        literal = nix_literal(expected).encode()
        assert change.data == old[:node.start_byte] + literal + old[node.end_byte:]
    else:  # inserted: the old text is kept whole around one insertion
        prefix = next(i for i, (a, b) in enumerate(zip(old + b"\0", change.data, strict=False)) if a != b)
        inserted = len(change.data) - len(old)
        assert change.data[:prefix] + change.data[prefix + inserted:] == old
    _assert_rest_unchanged(before, after, path)


def _assert_rest_unchanged(before: dict[str, Any], after: dict[str, Any], path: tuple[str, ...]) -> None:
    for name in set(before) | set(after):
        if name == path[0] and len(path) == 2:
            rest_before = {k: v for k, v in (before.get(name) or {}).items() if k != path[1]}
            rest_after = {k: v for k, v in (after.get(name) or {}).items() if k != path[1]}
            assert rest_before == rest_after
        elif name != path[0]:
            assert before.get(name) == after.get(name)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_layout_helpers_render_parseable_values(data: st.DataObject) -> None:
    gap = data.draw(gaps())
    text = "{ custom.services.ollama = {" + gap + "x = " + render(data.draw, [1, "a"]) + "; }; }"
    assert plain(read_nix_text(text, "gen.nix").table) == {"x": [1, "a"]}
