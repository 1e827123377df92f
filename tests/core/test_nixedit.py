"""Write-back: `set`/`unset` edits splice exactly one value or add one line, in the file's own names."""

from __future__ import annotations

import pytest

from ollama_sync.core.nix.edit import nix_key, nix_literal
from ollama_sync.core.nix.placement import plan_set, plan_unset
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.setkey import parse_key, parse_value
from ollama_sync.errors import UsageError
from tests.conftest import FIXTURES

REFERENCE = (FIXTURES / "nix" / "reference.nix").read_text()


def set_(text: str, key: str, value: str, *, force: bool = False) -> str:
    read = read_nix_text(text, "host.nix")
    parsed = parse_key(key)
    return plan_set(read, parsed, parse_value(parsed, value), force=force).data.decode()


def unset(text: str, key: str) -> str:
    change = plan_unset(read_nix_text(text, "host.nix"), parse_key(key))
    return text if change is None else change.data.decode()


def test_replacing_a_literal_keeps_the_comment_and_its_alignment() -> None:
    out = set_(REFERENCE, "kv_cache_type", "q4_0")
    old, new = 'kvCacheType = "q8_0";                 #', 'kvCacheType = "q4_0";                 #'
    assert out == REFERENCE.replace(old, new)


def test_a_setting_declared_as_an_environment_variable_is_edited_there() -> None:
    out = set_(REFERENCE, "num_parallel", "8")
    assert out == REFERENCE.replace('OLLAMA_NUM_PARALLEL = "4";', 'OLLAMA_NUM_PARALLEL = "8";')


def test_a_missing_setting_goes_into_extra_environment_with_the_siblings_indentation() -> None:
    out = set_(REFERENCE, "environment.OLLAMA_KEEP_ALIVE", "30m")
    assert out == REFERENCE.replace(
        '      OLLAMA_NUM_CTX = "8192";            # 8192 token context window\n',
        '      OLLAMA_NUM_CTX = "8192";            # 8192 token context window\n'
        '      OLLAMA_KEEP_ALIVE = "30m";\n')
    assert set_(REFERENCE, "keep_alive", "30m") == out


def test_a_missing_dedicated_option_of_the_reference_module_is_added_by_its_name() -> None:
    out = set_(REFERENCE, "models_path", "/Volumes/models")
    assert '      OLLAMA_NUM_CTX = "8192";            # 8192 token context window\n    };\n' \
           '    modelsPath = "/Volumes/models";\n  };' in out


def test_reference_module_has_no_models_list() -> None:
    with pytest.raises(UsageError, match="reference module has no option for models"):
        set_(REFERENCE, "models", "llama3.2,phi4")


def test_nixpkgs_module_gets_its_own_names() -> None:
    text = (FIXTURES / "nix" / "nixpkgs_module.nix").read_text()
    out = set_(text, "flash_attention", "false")
    assert 'OLLAMA_FLASH_ATTENTION = "0";' in out
    out = set_(text, "models", "a,b")
    assert 'loadModels = [ "a" "b" ];' in out
    out = set_(text, "models_path", "/m")
    assert 'models = "/m";' in out
    out = set_(text, "keep_alive", "1h")
    assert '      OLLAMA_KV_CACHE_TYPE = "q8_0";\n      OLLAMA_KEEP_ALIVE = "1h";\n    };' in out


def test_priority_wrappers_are_kept() -> None:
    text = '{ lib, ... }: { custom.services.ollama = { port = lib.mkForce 11434; host = lib.mkOverride 10 ("h"); }; }'
    assert set_(text, "port", "1") == text.replace("mkForce 11434", "mkForce 1")
    assert set_(text, "host", "x") == text.replace('("h")', '("x")')


@pytest.mark.parametrize("expr", ["port", '"${toString 11434}"', "lib.mkIf true 1", "if true then 1 else 2"])
def test_expressions_are_not_replaced_without_force(expr: str) -> None:
    text = f"{{ lib, ... }}: let port = 11434; in {{ custom.services.ollama = {{ port = {expr}; }}; }}"
    with pytest.raises(UsageError, match="not a literal; refusing"):
        set_(text, "port", "1")
    assert set_(text, "port", "1", force=True) == text.replace(f"port = {expr};", "port = 1;")


def test_a_value_from_a_let_binding_is_not_in_place() -> None:
    text = "let p = 1; in { custom.services.ollama = { port = p; }; }"
    with pytest.raises(UsageError, match="`p`"):
        set_(text, "port", "2")


def test_insert_into_a_one_line_set_and_into_empty_sets() -> None:
    assert set_('{ custom.services.ollama = { port = 1; }; }', "host", "h") == \
        '{ custom.services.ollama = { port = 1; host = "h"; }; }'
    assert set_('{ custom.services.ollama = { }; }', "port", "2") == '{ custom.services.ollama = { port = 2; }; }'
    assert set_('{ custom.services.ollama = {}; }', "port", "2") == '{ custom.services.ollama = { port = 2; }; }'
    assert set_('{\n  custom.services.ollama = {\n  };\n}\n', "port", "2") == \
        '{\n  custom.services.ollama = {\n    port = 2;\n  };\n}\n'


def test_insert_next_to_dotted_paths_uses_the_dotted_prefix() -> None:
    text = "{\n\tcustom.services.ollama.enable = true; # on\n\tcustom.services.ollama.port = 1;\n\tother = 2;\n}\n"
    assert set_(text, "host", "h") == text.replace(
        "port = 1;\n", 'port = 1;\n\tcustom.services.ollama.host = "h";\n')


def test_crlf_files_stay_crlf() -> None:
    text = '{\r\n  custom.services.ollama = {\r\n    port = 1; # c\r\n  };\r\n}\r\n'
    assert set_(text, "host", "h") == text.replace("# c\r\n", '# c\r\n    host = "h";\r\n')


def test_unset_removes_the_line_with_its_comment() -> None:
    out = unset(REFERENCE, "environment.OLLAMA_NUM_CTX")
    assert out == REFERENCE.replace('      OLLAMA_NUM_CTX = "8192";            # 8192 token context window\n', "")
    assert unset(REFERENCE, "flash_attention") == \
        REFERENCE.replace("    flashAttention = true;                # Performance optimization\n", "")
    assert unset(REFERENCE, "context_length") == REFERENCE  # not declared: nothing to do


def test_unset_on_one_line_and_in_inherit() -> None:
    assert unset('{ custom.services.ollama = { port = 1; host = "h"; }; }', "port") == \
        '{ custom.services.ollama = { host = "h"; }; }'
    text = 'let port = 1; host = "h"; in { custom.services.ollama = { inherit port host; enable = true; }; }'
    assert unset(text, "port") == text.replace("inherit port host;", "inherit host;")


def test_unset_an_option_defined_across_dotted_paths_removes_every_binding() -> None:
    text = ("{\n  custom.services.ollama.extraEnvironment.A = \"1\";\n  custom.services.ollama.port = 1;\n"
            "  custom.services.ollama.extraEnvironment.B = \"2\";\n}\n")
    read = read_nix_text(text, "h.nix")
    attr = read.attrs.attrs["extraEnvironment"]
    assert len(attr.bindings) == 2
    assert unset(text, "environment.B") == text.replace('  custom.services.ollama.extraEnvironment.B = "2";\n', "")


def test_literals_and_keys() -> None:
    assert nix_literal('a"b\\c${x}\n') == '"a\\"b\\\\c\\${x}\\n"'
    assert nix_literal([1, True, None, "s"]) == '[ 1 true null "s" ]'
    assert nix_key("OLLAMA_X") == "OLLAMA_X" and nix_key("with") == '"with"' and nix_key("a.b") == '"a.b"'


@pytest.mark.parametrize(("key", "value", "message"), [
    ("port", "abc", "takes an integer"), ("flash_attention", "maybe", "true or false"),
    ("nonsense", "1", "unknown key"), ("environment", "x", "one variable at a time"),
    ("extraEnvironment.OLLAMA_X", "1", None), ("environment.BAD-NAME", "1", "invalid variable name"),
])
def test_keys_and_values_from_the_command_line(key: str, value: str, message: str | None) -> None:
    if message is None:
        assert parse_value(parse_key(key), value) == "1"
        return
    with pytest.raises(UsageError, match=message):
        parse_value(parse_key(key), value)
