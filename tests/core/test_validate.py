"""Validation: one table row per finding code, each produced from a real TOML declaration.

Every row checks the code, severity, variable, a piece of the message and of the hint, and the file:line
the finding points at. Line 1 of each declaration is `[ollama]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import ollama_sync.core.validate as validate_module
from ollama_sync.core import catalog
from ollama_sync.core.findings import Finding, Location, Severity
from ollama_sync.core.options import build_settings
from ollama_sync.core.settings import Declaration
from ollama_sync.core.tomlread import parse_toml
from ollama_sync.core.validate import validate
from ollama_sync.core.version import v

FILE = "decl.toml"


def declare(body: str) -> Declaration:
    """A Declaration read from `[ollama]` + body, with real line numbers."""
    doc = parse_toml("[ollama]\n" + body, FILE)
    table = doc["ollama"].value
    assert isinstance(table, dict)
    settings, locations, _ = build_settings(table, origin=Location(FILE))
    return Declaration(settings=settings, source=FILE, locations=locations)


def findings_for(body: str, version: str | None = None) -> tuple[Finding, ...]:
    return validate(declare(body), None if version is None else v(version))


@dataclass(frozen=True)
class Row:
    code: str
    body: str
    severity: Severity
    variable: str | None
    message: str
    hint: str
    line: int | None
    version: str | None = None


ROWS = {
    "unknown-variable did-you-mean": Row(
        "unknown-variable", '[ollama.environment]\nOLLAMA_NUM_CTX = "8192"\n', Severity.WARNING,
        "OLLAMA_NUM_CTX", "OLLAMA_NUM_CTX is not read by `ollama serve`: setting it has no effect",
        "did you mean OLLAMA_CONTEXT_LENGTH?", 3),
    "unknown-variable close match": Row(
        "unknown-variable", 'environment = { OLLAMA_KEEPALIVE = "5m" }\n', Severity.WARNING,
        "OLLAMA_KEEPALIVE", "not read by `ollama serve`", "did you mean OLLAMA_KEEP_ALIVE?", 2),
    "unknown-variable model option": Row(
        "unknown-variable", 'environment = { OLLAMA_NUM_GPU = "99" }\n', Severity.WARNING,
        "OLLAMA_NUM_GPU", "no effect", "PARAMETER num_gpu in a Modelfile", 2),
    "client-only-variable": Row(
        "client-only-variable", 'environment = { OLLAMA_NOHISTORY = "1" }\n', Severity.WARNING,
        "OLLAMA_NOHISTORY", "read by the client", "set it where you run the client", 2),
    "client-only-variable (desktop app)": Row(
        "client-only-variable", 'environment = { OLLAMA_CORS = "1" }\n', Severity.WARNING,
        "OLLAMA_CORS", "read by the app", "remove OLLAMA_CORS", 2),
    "removed-variable": Row(
        "removed-variable", 'environment = { OLLAMA_NEW_ENGINE = "1" }\n', Severity.WARNING,
        "OLLAMA_NEW_ENGINE", "no effect since Ollama 0.30.0; 0.32.0 ignores it", "remove OLLAMA_NEW_ENGINE", 2,
        "0.32.0"),
    "not-yet-available": Row(
        "not-yet-available", "context_length = 8192\n", Severity.WARNING, "OLLAMA_CONTEXT_LENGTH",
        "OLLAMA_CONTEXT_LENGTH arrived in Ollama 0.5.13; 0.5.7 ignores it", "upgrade Ollama to 0.5.13", 2,
        "0.5.7"),
    "invalid-bool off is TRUE": Row(
        "invalid-bool", 'environment = { OLLAMA_FLASH_ATTENTION = "off" }\n', Severity.ERROR,
        "OLLAMA_FLASH_ATTENTION", "OLLAMA_FLASH_ATTENTION='off' is read as TRUE", 'write "1"', 2),
    "invalid-bool yes": Row(
        "invalid-bool", 'environment = { OLLAMA_NOPRUNE = "yes" }\n', Severity.WARNING,
        "OLLAMA_NOPRUNE", "is read as TRUE", '"0" to turn it off', 2),
    "invalid-number": Row(
        "invalid-number", 'environment = { OLLAMA_NUM_PARALLEL = "four" }\n', Severity.ERROR,
        "OLLAMA_NUM_PARALLEL", "not a whole number: the server logs a warning and uses 1", "decimal number", 2),
    "invalid-number negative setting": Row(
        "invalid-number", "num_parallel = -1\n", Severity.ERROR, "OLLAMA_NUM_PARALLEL",
        "OLLAMA_NUM_PARALLEL='-1' is not a whole number", "decimal number", 2),
    "invalid-number context default by release": Row(
        "invalid-number", 'environment = { OLLAMA_CONTEXT_LENGTH = "8k" }\n', Severity.ERROR,
        "OLLAMA_CONTEXT_LENGTH", "uses 2048", "decimal number", 2, "0.6.0"),
    "invalid-duration": Row(
        "invalid-duration", 'keep_alive = "1d"\n', Severity.ERROR, "OLLAMA_KEEP_ALIVE",
        "OLLAMA_KEEP_ALIVE='1d' is not a duration: the server silently uses 5m", '"30m"', 2),
    "invalid-port in host": Row(
        "invalid-port", 'host = "0.0.0.0:70000"\n', Severity.ERROR, "OLLAMA_HOST",
        "invalid port: the server logs a warning and listens on 0.0.0.0:11434", "1 to 65535", 2),
    "invalid-port from the port setting": Row(
        "invalid-port", 'host = "127.0.0.1"\nport = 99999\n', Severity.ERROR, "OLLAMA_HOST",
        "invalid port", "1 to 65535", 3),
    "invalid-port zero": Row(
        "invalid-port", "port = 0\n", Severity.ERROR, "OLLAMA_HOST", "random free port", "1 to 65535", 2),
    "host-default-port": Row(
        "host-default-port", 'environment = { OLLAMA_HOST = "http://100.64.0.1" }\n', Severity.WARNING,
        "OLLAMA_HOST", "the server listens on port 80, not 11434", "100.64.0.1:11434", 2),
    "app-gateway-port": Row(
        "app-gateway-port", "port = 11435\n", Severity.WARNING, "OLLAMA_HOST",
        "from Ollama 0.33 the macOS desktop app runs its gateway on 127.0.0.1:11435", "ollama-sync set port 11436",
        2),
    "invalid-host": Row(
        "invalid-host", 'host = "127.0.0.1:11434"\nport = 11434\n', Severity.ERROR, "OLLAMA_HOST",
        "fail to start", "host = \"ADDRESS\" and port = PORT", 2),
    "invalid-kv-cache-type classic era": Row(
        "invalid-kv-cache-type", 'kv_cache_type = "q5_1"\nflash_attention = true\n', Severity.ERROR,
        "OLLAMA_KV_CACHE_TYPE", "not accepted by Ollama 0.24.0: the server warns and uses f16",
        "use one of: f16, q8_0, q4_0", 2, "0.24.0"),
    "invalid-kv-cache-type llama-server era": Row(
        "invalid-kv-cache-type", 'kvCacheType = "f8_0"\nflashAttention = true\n', Severity.ERROR,
        "OLLAMA_KV_CACHE_TYPE", "llama-server refuses it", "q5_1", 2, "0.30.0"),
    "kv-cache-without-flash-attention unset": Row(
        "kv-cache-without-flash-attention", 'kv_cache_type = "q8_0"\n', Severity.WARNING,
        "OLLAMA_KV_CACHE_TYPE", "needs flash attention", "flash_attention = true", 2, "0.24.0"),
    "kv-cache-without-flash-attention off": Row(
        "kv-cache-without-flash-attention", 'kv_cache_type = "q4_0"\nflash_attention = false\n',
        Severity.WARNING, "OLLAMA_KV_CACHE_TYPE", "flash attention turned off", "flash_attention = true", 2),
    "kv-cache-without-flash-attention llama-server auto": Row(
        "kv-cache-without-flash-attention", 'kv_cache_type = "q8_0"\n', Severity.INFO,
        "OLLAMA_KV_CACHE_TYPE", "llama-server turns flash attention on", "flash_attention = true", 2, "0.30.0"),
    "exposed-all-interfaces 0.0.0.0": Row(
        "exposed-all-interfaces", 'host = "0.0.0.0"\n', Severity.WARNING, "OLLAMA_HOST",
        "listens on every network interface, and the Ollama API has no authentication", "Tailscale", 2),
    "exposed-all-interfaces ::": Row(
        "exposed-all-interfaces", 'host = "::"\nport = 11434\n', Severity.WARNING, "OLLAMA_HOST",
        "OLLAMA_HOST=[::]:11434 listens on every network interface", "private address", 2),
    "exposed-all-interfaces empty host": Row(
        "exposed-all-interfaces", 'environment = { OLLAMA_HOST = ":11434" }\n', Severity.WARNING,
        "OLLAMA_HOST", "every network interface", "tailscale ip -4", 2),
    "origins-wildcard": Row(
        "origins-wildcard", 'origins = ["http://a.example", "*"]\n', Severity.WARNING, "OLLAMA_ORIGINS",
        "every web page you visit", "list the origins you need", 2),
    "duplicate-variable": Row(
        "duplicate-variable", 'context_length = 8192\n[ollama.environment]\nOLLAMA_CONTEXT_LENGTH = "4096"\n',
        Severity.ERROR, "OLLAMA_CONTEXT_LENGTH", "set both by a setting and in the environment table",
        "remove environment.OLLAMA_CONTEXT_LENGTH", 4),
    "value-stripped": Row(
        "value-stripped", "environment = { OLLAMA_MODELS = \"'/srv/models'\" }\n", Severity.WARNING,
        "OLLAMA_MODELS", "strips surrounding spaces and quotes and reads '/srv/models'", "write '/srv/models'", 2),
    "value-not-stripped": Row(
        "value-not-stripped", 'environment = { OLLAMA_EXPERIMENT = "a, b" }\n', Severity.WARNING,
        "OLLAMA_EXPERIMENT", "reads this variable as written, spaces included", "write 'a,b'", 2),
    "passthrough-variable": Row(
        "passthrough-variable", 'environment = { HTTPS_PROXYY = "http://proxy:3128" }\n', Severity.INFO,
        "HTTPS_PROXYY", "not an Ollama variable; it is passed to the server as it is", "", 2),
    "invalid-variable-name": Row(
        "invalid-variable-name", 'environment = { "OLLAMA-HOST" = "x" }\n', Severity.ERROR, "OLLAMA-HOST",
        "'OLLAMA-HOST' is not a valid environment variable name", "letters, digits and underscores", 2),
    "unsafe-value": Row(
        "unsafe-value", 'environment = { OLLAMA_MODELS = "/a\\u0000b" }\n', Severity.ERROR, "OLLAMA_MODELS",
        "contains a NUL character", "remove it", 2),
    "invalid-log-level": Row(
        "invalid-log-level", 'environment = { OLLAMA_DEBUG = "verbose" }\n', Severity.WARNING, "OLLAMA_DEBUG",
        "neither a boolean nor a level: the server logs at INFO", '"1" (debug)', 2),
    "path-not-absolute": Row(
        "path-not-absolute", 'modelsPath = "~/models"\n', Severity.WARNING, "OLLAMA_MODELS",
        "expand neither ~ nor $VARIABLES", "full path", 2),
    "invalid-model-name": Row(
        "invalid-model-name", 'models = ["llama3.2", "../../etc/passwd"]\n', Severity.ERROR, None,
        "model name '../../etc/passwd' has more than three /-separated parts", "as `ollama pull` takes it", 2),
}


@pytest.mark.parametrize("row", list(ROWS.values()), ids=list(ROWS))
def test_finding_code(row: Row) -> None:
    found = [f for f in findings_for(row.body, row.version) if f.code == row.code]
    assert len(found) == 1, findings_for(row.body, row.version)
    finding = found[0]
    assert finding.severity is row.severity
    assert finding.variable == row.variable
    assert row.message in finding.message
    assert row.hint in finding.hint
    assert finding.location == Location(FILE, row.line)


def test_every_validation_code_has_a_row() -> None:
    source = Path(validate_module.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'Finding\(\s*"([a-z-]+)"', source))
    assert codes == {row.code for row in ROWS.values()}


@pytest.mark.parametrize("value", ["1", "true", "0", "FALSE", "t", ""])
def test_valid_bools_give_no_finding(value: str) -> None:
    assert findings_for(f'environment = {{ OLLAMA_SCHED_SPREAD = "{value}" }}\n') == ()


@pytest.mark.parametrize("value", ["5m", "1h30m", "-1", "0", "300", ".5s", "1.5h", "10µs", "+2h"])
def test_valid_durations_give_no_finding(value: str) -> None:
    assert findings_for(f'keep_alive = "{value}"\n') == ()


@pytest.mark.parametrize("value", ["1d", "1w", "???", "5 m", "1e3s", "99999999999", "2562048h", "m"])
def test_invalid_durations(value: str) -> None:
    assert [f.code for f in findings_for(f'keep_alive = "{value}"\n')] == ["invalid-duration"]


@pytest.mark.parametrize("value", ["-1", "0x10", "0o10", "1_000", "١٢", "18446744073709551616", "+4"])
def test_invalid_numbers_as_parseuint_rejects_them(value: str) -> None:
    assert [f.code for f in findings_for(f'environment = {{ OLLAMA_MAX_QUEUE = "{value}" }}\n')] == ["invalid-number"]


def test_kv_cache_type_q5_1_is_accepted_from_the_llama_server_era() -> None:
    body = 'kv_cache_type = "q5_1"\nflash_attention = true\n'
    assert [f.code for f in findings_for(body, "0.24.0")] == ["invalid-kv-cache-type"]
    assert findings_for(body, "0.30.0") == ()
    assert findings_for(body) == ()  # the newest release when the version is unknown


def test_kv_cache_type_before_it_existed_is_not_yet_available() -> None:
    codes = [f.code for f in findings_for('kv_cache_type = "q8_0"\nflash_attention = true\n', "0.4.7")]
    assert codes == ["not-yet-available"]


def test_flash_attention_off_string_counts_as_on_for_the_kv_check() -> None:
    codes = {f.code for f in findings_for('kv_cache_type = "q8_0"\nenvironment = { OLLAMA_FLASH_ATTENTION = '
                                          '"off" }\n', "0.24.0")}
    assert codes == {"invalid-bool"}  # the server reads "off" as on, so the KV type is used


def test_unknown_version_is_judged_against_the_newest() -> None:
    body = 'environment = { OLLAMA_REGISTRY_MAXSTREAMS = "2" }\n'
    assert [f.code for f in findings_for(body)] == ["removed-variable"]
    assert str(catalog.NEWEST) in findings_for(body)[0].message
    assert findings_for(body, "0.31.1") == ()


def test_reference_setup_findings() -> None:
    body = ('port = 11434\nhost = "0.0.0.0"\nmodelsPath = "/Users/jeridf/.ollama/models"\nflashAttention = true\n'
            'kvCacheType = "q8_0"\n[ollama.extraEnvironment]\nOLLAMA_NUM_PARALLEL = "4"\nOLLAMA_NUM_CTX = "8192"\n')
    assert [(f.code, f.variable) for f in findings_for(body)] == [
        ("exposed-all-interfaces", "OLLAMA_HOST"), ("unknown-variable", "OLLAMA_NUM_CTX")]


def test_clean_declaration_has_no_findings() -> None:
    body = ('host = "100.64.0.1"\nport = 11434\nflash_attention = true\nkv_cache_type = "q8_0"\n'
            'context_length = 8192\nnum_parallel = 2\nkeep_alive = "30m"\nmax_loaded_models = 2\n'
            'origins = ["https://app.example"]\nmodels_path = "/srv/ollama"\n')
    assert findings_for(body) == ()
