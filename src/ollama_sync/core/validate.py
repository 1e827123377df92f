"""Validation: a declaration and an Ollama release → findings, judged the way that release's server parses.

Finding codes are stable; README.md lists them. Severity: `error` when the server would misread a value
or the file cannot be written correctly; `warning` when a setting has no effect or is risky; `info` for
what is worth knowing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Final

from ollama_sync.core import catalog
from ollama_sync.core.catalog import Reader, Variable, VarKind
from ollama_sync.core.environment import duplicated_variables, render_environment
from ollama_sync.core.findings import Finding, Location, Severity, sort_findings
from ollama_sync.core.hostport import (
    GO_INT,
    HostPort,
    binds_all_interfaces,
    go_parse_ip,
    parse_host,
    strip_value,
)
from ollama_sync.core.models import model_name_problem
from ollama_sync.core.options import OPTIONS
from ollama_sync.core.settings import Declaration
from ollama_sync.core.version import Version

_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Patterns other than _NAME_RE are compiled on first use (re caches them): they keep CLI start-up cheap.
_DURATION_PART: Final = r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)"
_HOSTNAME: Final = r"[A-Za-z0-9._-]+\Z"
_NS: Final = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
              "h": 3600 * 10**9}
_INT64_MAX: Final = 2**63 - 1
_TRUE: Final = ("1", "t", "T", "TRUE", "true", "True")  # strconv.ParseBool
_FALSE: Final = ("0", "f", "F", "FALSE", "false", "False")
_MEANT_FALSE: Final = ("off", "no", "n", "disable", "disabled", "none", "null", "nil")
_UNQUANTIZED: Final = ("f16", "f32", "bf16")
# difflib costs about 1 ms per unknown name: "did you mean" only for declarations up to this many variables.
MAX_SUGGESTING: Final = 200
_FA_HINT: Final = "add flash_attention = true (flashAttention = true) to the declaration"


def validate(decl: Declaration, version: Version | None = None) -> tuple[Finding, ...]:
    """Every finding for a declaration, judged against version (the newest known when None)."""
    judged = version or catalog.NEWEST
    env = render_environment(decl.settings)
    findings: list[Finding] = []
    suggest = len(env) <= MAX_SUGGESTING  # past that, unknown names are not typos; keeps validation linear
    for name, value in env.items():
        findings.extend(_check_variable(name, value, judged, _locate(decl, name), suggest=suggest))
    findings.extend(_check_combinations(decl, env, judged))
    findings.extend(_check_models(decl))
    for name in duplicated_variables(decl.settings):
        findings.append(Finding(
            "duplicate-variable", Severity.ERROR,
            f"{name} is set both by a setting and in the environment table",
            f"remove environment.{name}, or the setting that renders it", _locate(decl, name), name))
    return sort_findings(_port_at_port_line(decl, findings))


def _check_models(decl: Declaration) -> Iterator[Finding]:
    """A declared model name the server would refuse (`models sync` would fail on it after apply)."""
    for name in decl.settings.models:
        problem = model_name_problem(name)
        if problem is not None:
            yield Finding("invalid-model-name", Severity.ERROR, f"model name {name!r} {problem}",
                          "write a name as `ollama pull` takes it, e.g. llama3.2:3b or namespace/model:tag",
                          decl.location_of("models"))


def _locate(decl: Declaration, name: str) -> Location | None:
    """Where the declaration sets a variable: its environment entry, or the setting that renders it."""
    loc = decl.location_of(f"environment.{name}")
    if loc is not None:
        return loc
    for opt in OPTIONS:
        if opt.variable == name and decl.location_of(opt.key) is not None:
            return decl.location_of(opt.key)
    return decl.location_of("environment")


def _port_at_port_line(decl: Declaration, findings: list[Finding]) -> list[Finding]:
    """A bad port is reported at the `port` line when the port comes from that setting."""
    port_loc = decl.location_of("port")
    if port_loc is None or decl.location_of("environment.OLLAMA_HOST") is not None:
        return findings
    return [Finding(f.code, f.severity, f.message, f.hint, port_loc, f.variable) if f.code == "invalid-port"
            else f for f in findings]


def _check_variable(name: str, value: str, version: Version, loc: Location | None, *,
                    suggest: bool = True) -> Iterator[Finding]:
    if not _NAME_RE.match(name):
        yield Finding("invalid-variable-name", Severity.ERROR, f"{name!r} is not a valid environment variable name",
                      "use letters, digits and underscores, not starting with a digit", loc, name)
        return
    if "\x00" in value:
        yield Finding("unsafe-value", Severity.ERROR, f"{name} contains a NUL character",
                      "no environment value can hold NUL; remove it", loc, name)
        return
    var = catalog.lookup(name)
    if var is None:
        yield _unknown(name, loc, suggest=suggest)
        return
    if var.reader is not Reader.SERVER:
        yield Finding("client-only-variable", Severity.WARNING,
                      f"{name} is read by the {var.reader.value} ({var.doc}), not by `ollama serve`",
                      f"remove {name} from the server's declaration; set it where you run the {var.reader.value}",
                      loc, name)
        return
    if not var.is_read_by(version):
        yield _lifetime(var, version, loc)
        return
    if var.raw:
        if value != value.strip() or ", " in value:
            yield Finding("value-not-stripped", Severity.WARNING,
                          f"{name}={value!r}: the server reads this variable as written, spaces included",
                          f"write {','.join(part.strip() for part in value.split(','))!r}", loc, name)
        yield from _check_value(var, value, version, loc)
        return
    stripped = strip_value(value)
    if stripped != value:
        yield Finding("value-stripped", Severity.WARNING,
                      f"{name}={value!r}: the server strips surrounding spaces and quotes and reads {stripped!r}",
                      f"write {stripped!r}", loc, name)
    yield from _check_value(var, stripped, version, loc)


def _unknown(name: str, loc: Location | None, *, suggest: bool) -> Finding:
    if not name.startswith("OLLAMA_"):
        return Finding("passthrough-variable", Severity.INFO,
                       f"{name} is not an Ollama variable; it is passed to the server as it is", "", loc, name)
    option = catalog.MODEL_OPTIONS.get(name)
    if option is not None:
        hint = f"{option} is a per-model option: set PARAMETER {option} in a Modelfile, or pass it per request"
    else:
        meant = catalog.MISTAKES.get(name) or (_closest(name) if suggest else None)
        hint = f"did you mean {meant}? rename it" if meant else "remove it: no Ollama release reads it"
    return Finding("unknown-variable", Severity.WARNING,
                   f"{name} is not read by `ollama serve`: setting it has no effect", hint, loc, name)


@cache
def _server_names() -> list[str]:
    return [var.name for var in catalog.CATALOG if var.reader is Reader.SERVER]


def _closest(name: str) -> str | None:
    import difflib  # noqa: PLC0415  # only for unknown names

    close = difflib.get_close_matches(name, _server_names(), n=1, cutoff=0.75)
    return close[0] if close else None


def _lifetime(var: Variable, version: Version, loc: Location | None) -> Finding:
    if var.removed is not None and version >= var.removed:
        return Finding("removed-variable", Severity.WARNING,
                       f"{var.name} has had no effect since Ollama {var.removed}; {version} ignores it",
                       f"remove {var.name}", loc, var.name)
    return Finding("not-yet-available", Severity.WARNING,
                   f"{var.name} arrived in Ollama {var.since}; {version} ignores it",
                   f"upgrade Ollama to {var.since} or later, or remove {var.name}", loc, var.name)


def _check_value(var: Variable, value: str, version: Version, loc: Location | None) -> Iterator[Finding]:
    if not value:
        return  # empty means "unset": the default applies
    default = var.default_at(version)
    match var.kind:
        case VarKind.BOOL:
            yield from _check_bool(var, value, loc)
        case VarKind.UINT if not (value.isascii() and value.isdigit() and int(value) < 2**64):
            yield Finding("invalid-number", Severity.ERROR,
                          f"{var.name}={value!r} is not a whole number: the server logs a warning and uses "
                          f"{default or 'its default'}", f"write a decimal number such as {default or '1'}",
                          loc, var.name)
        case VarKind.DURATION if not _is_go_duration(value):
            yield Finding("invalid-duration", Severity.ERROR,
                          f"{var.name}={value!r} is not a duration: the server silently uses {default}",
                          'write e.g. "30m", "2h", "-1" (forever) or a number of seconds', loc, var.name)
        case VarKind.HOST:
            yield from _check_host(var, value, loc)
        case VarKind.ENUM:
            yield from _check_kv_type(var, value, version, loc)
        case VarKind.LOGLEVEL if value not in _TRUE + _FALSE and not re.match(GO_INT, value):
            yield Finding("invalid-log-level", Severity.WARNING,
                          f"{var.name}={value!r} is neither a boolean nor a level: the server logs at INFO",
                          'write "1" (debug) or "2" (trace)', loc, var.name)
        case VarKind.PATH if not value.startswith("/"):
            yield Finding("path-not-absolute", Severity.WARNING,
                          f"{var.name}={value!r} is not an absolute path: service managers expand neither ~ "
                          "nor $VARIABLES, and a relative path depends on the service's working directory",
                          "write the full path, e.g. /Users/you/.ollama/models", loc, var.name)
        case _:
            return


def _check_bool(var: Variable, value: str, loc: Location | None) -> Iterator[Finding]:
    if value in _TRUE + _FALSE:
        return
    meant_false = value.lower() in _MEANT_FALSE
    yield Finding("invalid-bool", Severity.ERROR if meant_false else Severity.WARNING,
                  f"{var.name}={value!r} is read as TRUE: the server turns it on for any value but "
                  "0/f/F/false/FALSE/False", 'write "1" to turn it on or "0" to turn it off', loc, var.name)


def _is_go_duration(value: str) -> bool:
    """time.ParseDuration accepts it, else strconv.ParseInt (seconds) does, without overflow."""
    if re.match(GO_INT, value):  # ParseDuration takes only "0" unitless; ParseInt the rest (× 1s)
        return abs(int(value)) * _NS["s"] <= _INT64_MAX
    body = value[1:] if value[:1] in "+-" else value
    total = 0
    pos = 0
    while pos < len(body):
        part = re.compile(_DURATION_PART).match(body, pos)
        if part is None or part.group(1) in ("", "."):
            return False
        whole, _, fraction = part.group(1).partition(".")
        unit = _NS[part.group(2)]
        total += int(whole or 0) * unit + int(fraction or 0) * unit // 10 ** len(fraction)
        pos = part.end()
    return pos > 0 and total <= _INT64_MAX + (value[:1] == "-")


APP_GATEWAY_PORT: Final = 11435  # Ollama ≥ 0.33: Ollama.app's gateway (app/gateway), refused for OLLAMA_HOST


def _check_host(var: Variable, value: str, loc: Location | None) -> Iterator[Finding]:
    hp = parse_host(value)
    if hp.port_fallback:
        yield Finding("invalid-port", Severity.ERROR,
                      f"{var.name}={value!r} has an invalid port: the server logs a warning and listens on "
                      f"{hp.listen}", "use a port from 1 to 65535, e.g. 11434", loc, var.name)
    elif hp.port == 0:
        yield Finding("invalid-port", Severity.ERROR,
                      f"{var.name}={value!r} has port 0: the server listens on a random free port",
                      "use a port from 1 to 65535, e.g. 11434", loc, var.name)
    elif hp.port_defaulted and hp.scheme in ("http", "https") and "://" in value:
        yield Finding("host-default-port", Severity.WARNING,
                      f"{var.name}={value!r} has a scheme and no port: the server listens on port {hp.port}, "
                      "not 11434", f"write it without the scheme, or add the port: {_with_port(hp)}",
                      loc, var.name)
    elif hp.port == APP_GATEWAY_PORT:
        yield Finding("app-gateway-port", Severity.WARNING,
                      f"{var.name}={value!r} uses port {APP_GATEWAY_PORT}: from Ollama 0.33 the macOS desktop app "
                      f"runs its gateway on 127.0.0.1:{APP_GATEWAY_PORT} and refuses that port for OLLAMA_HOST",
                      "use another port, e.g. ollama-sync set port 11436 (or keep 11434)", loc, var.name)
    if not _valid_host(hp):
        yield Finding("invalid-host", Severity.ERROR,
                      f"{var.name}={value!r}: the server would try to listen on {hp.listen!r} and fail to start",
                      'write host = "ADDRESS" and port = PORT separately, e.g. host = "127.0.0.1"', loc, var.name)


def _with_port(hp: HostPort) -> str:
    return HostPort("http", hp.host or "0.0.0.0", 11434).listen


def _valid_host(hp: HostPort) -> bool:
    return hp.host == "" or go_parse_ip(hp.host) is not None or bool(re.match(_HOSTNAME, hp.host))


def _check_kv_type(var: Variable, value: str, version: Version, loc: Location | None) -> Iterator[Finding]:
    allowed = catalog.kv_cache_types(version)
    if value.lower() not in allowed:
        effect = ("the server warns and uses f16" if version < catalog.LLAMA_SERVER_ERA
                  else "llama-server refuses it and models fail to load")
        yield Finding("invalid-kv-cache-type", Severity.ERROR,
                      f"{var.name}={value!r} is not accepted by Ollama {version}: {effect}",
                      "use one of: " + ", ".join(allowed), loc, var.name)


def _check_combinations(decl: Declaration, env: dict[str, str], version: Version) -> Iterator[Finding]:
    yield from _check_kv_needs_fa(decl, env, version)
    host = env.get("OLLAMA_HOST")
    if host is not None and binds_all_interfaces(parse_host(host)):
        yield Finding("exposed-all-interfaces", Severity.WARNING,
                      f"OLLAMA_HOST={host} listens on every network interface, and the Ollama API has no "
                      "authentication: anyone who can reach this machine can use it",
                      'bind to a private address instead, e.g. your Tailscale address: host = "100.x.y.z" '
                      "(see `tailscale ip -4`)", _locate(decl, "OLLAMA_HOST"), "OLLAMA_HOST")
    origins = [o.strip() for o in strip_value(env.get("OLLAMA_ORIGINS", "")).split(",")]
    if "*" in origins:
        yield Finding("origins-wildcard", Severity.WARNING,
                      "OLLAMA_ORIGINS=* lets every web page you visit call the API from your browser",
                      'list the origins you need, e.g. origins = ["https://app.example"]',
                      _locate(decl, "OLLAMA_ORIGINS"), "OLLAMA_ORIGINS")


def _check_kv_needs_fa(decl: Declaration, env: dict[str, str], version: Version) -> Iterator[Finding]:
    """A quantized KV cache needs flash attention; what happens without it depends on the release."""
    kv = strip_value(env.get("OLLAMA_KV_CACHE_TYPE", "")).lower()
    if not kv or kv in _UNQUANTIZED or kv not in catalog.kv_cache_types(version):
        return  # unset, not quantized, or already an invalid-kv-cache-type
    fa = strip_value(env.get("OLLAMA_FLASH_ATTENTION", ""))
    loc = _locate(decl, "OLLAMA_KV_CACHE_TYPE")
    llama_server = version >= catalog.LLAMA_SERVER_ERA
    if fa in _FALSE:
        effect = ("llama-server cannot quantize the V cache without it" if llama_server
                  else "the server ignores the cache type and uses f16")
        yield Finding("kv-cache-without-flash-attention", Severity.WARNING,
                      f"OLLAMA_KV_CACHE_TYPE={kv} with flash attention turned off: {effect}",
                      _FA_HINT, loc, "OLLAMA_KV_CACHE_TYPE")
    elif not fa and llama_server:
        yield Finding("kv-cache-without-flash-attention", Severity.INFO,
                      f"OLLAMA_KV_CACHE_TYPE={kv} without OLLAMA_FLASH_ATTENTION: llama-server turns flash "
                      "attention on where the GPU supports it; elsewhere the quantized cache fails",
                      _FA_HINT, loc, "OLLAMA_KV_CACHE_TYPE")
    elif not fa:
        yield Finding("kv-cache-without-flash-attention", Severity.WARNING,
                      f"OLLAMA_KV_CACHE_TYPE={kv} needs flash attention, which is not turned on: for many "
                      "models the server ignores the cache type and uses f16", _FA_HINT, loc,
                      "OLLAMA_KV_CACHE_TYPE")
