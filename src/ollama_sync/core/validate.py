"""Validation: a declaration and an Ollama release → findings, judged the way that release's server parses.

Finding codes are stable; README.md lists them. Severity: `error` when the server would misread a value
or the file cannot be written correctly; `warning` when a setting has no effect or is risky; `info` for
what is worth knowing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Final

from ollama_sync.core import catalog
from ollama_sync.core.catalog import Reader, Variable, VarKind
from ollama_sync.core.environment import duplicated_variables, render_environment
from ollama_sync.core.findings import Finding, Severity, sort_findings
from ollama_sync.core.hostport import binds_all_interfaces, parse_host, strip_value
from ollama_sync.core.options import option_by_key
from ollama_sync.core.settings import Declaration
from ollama_sync.core.version import Version
from ollama_sync.errors import Location

_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_GO_DURATION_RE: Final = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+\Z")
_TRUE: Final = ("1", "t", "T", "TRUE", "true", "True")
_FALSE: Final = ("0", "f", "F", "FALSE", "false", "False")
_MEANT_FALSE: Final = ("off", "no", "n", "disable", "disabled", "none", "null", "nil")


def validate(decl: Declaration, version: Version | None = None) -> tuple[Finding, ...]:
    """Every finding for a declaration, judged against version (the newest known when None)."""
    judged = version or catalog.NEWEST
    env = render_environment(decl.settings)
    findings: list[Finding] = []
    for name, value in env.items():
        loc = _locate(decl, name)
        findings.extend(_check_variable(name, value, judged, loc))
    findings.extend(_check_combinations(decl, env, judged))
    for name in duplicated_variables(decl.settings):
        findings.append(Finding(
            "duplicate-variable", Severity.ERROR,
            f"{name} is set both by a setting and in the environment table",
            f"remove environment.{name}, or the setting that renders it", _locate(decl, name), name))
    if decl.settings.port is not None and not 0 < decl.settings.port <= 65535:
        findings.append(Finding("invalid-port", Severity.ERROR, f"port {decl.settings.port} is not a TCP port",
                                "use a port from 1 to 65535, e.g. 11434", decl.location_of("port"), "OLLAMA_HOST"))
    return sort_findings(findings)


def _locate(decl: Declaration, name: str) -> Location | None:
    """Where the declaration sets a variable: its environment entry, or the setting that renders it."""
    loc = decl.location_of(f"environment.{name}")
    if loc is not None:
        return loc
    for key in ("host", "port", "models_path", "flash_attention", "kv_cache_type", "context_length",
                "num_parallel", "keep_alive", "origins", "max_loaded_models"):
        if option_by_key(key).variable == name and decl.location_of(key) is not None:
            return decl.location_of(key)
    return decl.location_of("environment")


def _check_variable(name: str, value: str, version: Version, loc: Location | None) -> Iterator[Finding]:
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
        yield from _unknown(name, loc)
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
    if value != value.strip() or (value.strip()[:1] in "\"'" and value.strip()):
        yield Finding("value-stripped", Severity.WARNING,
                      f"{name}={value!r}: the server strips surrounding spaces and quotes and reads "
                      f"{strip_value(value)!r}", f"write {strip_value(value)!r}", loc, name)
    yield from _check_value(var, strip_value(value), version, loc)


def _unknown(name: str, loc: Location | None) -> Iterator[Finding]:
    if not name.startswith("OLLAMA_"):
        yield Finding("passthrough-variable", Severity.INFO,
                      f"{name} is not an Ollama variable; it is passed to the server as it is", "", loc, name)
        return
    meant = catalog.MISTAKES.get(name)
    if meant is None:
        names = [v.name for v in catalog.CATALOG if v.reader is Reader.SERVER]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        meant = close[0] if close else None
    hint = f"did you mean {meant}? rename it" if meant else "remove it: no Ollama release reads it"
    yield Finding("unknown-variable", Severity.WARNING,
                  f"{name} is not read by `ollama serve`: setting it has no effect", hint, loc, name)


def _lifetime(var: Variable, version: Version, loc: Location | None) -> Finding:
    if var.removed is not None and version >= var.removed:
        return Finding("removed-variable", Severity.WARNING,
                       f"{var.name} was removed in Ollama {var.removed}; {version} ignores it",
                       f"remove {var.name}", loc, var.name)
    return Finding("not-yet-available", Severity.WARNING,
                   f"{var.name} arrived in Ollama {var.since}; the installed {version} ignores it",
                   f"upgrade Ollama to {var.since} or later, or remove {var.name}", loc, var.name)


def _check_value(var: Variable, value: str, version: Version, loc: Location | None) -> Iterator[Finding]:
    match var.kind:
        case VarKind.BOOL:
            yield from _check_bool(var, value, loc)
        case VarKind.UINT:
            if value and not value.isdigit():
                yield Finding("invalid-number", Severity.ERROR,
                              f"{var.name}={value!r} is not a whole number: the server logs a warning and "
                              f"uses {var.default}", f"write a decimal number such as {var.default or '1'}",
                              loc, var.name)
        case VarKind.DURATION:
            if value and not (_GO_DURATION_RE.match(value) or re.fullmatch(r"[-+]?\d+", value)):
                yield Finding("invalid-duration", Severity.ERROR,
                              f"{var.name}={value!r} is not a duration: the server silently uses "
                              f"{var.default}", 'write e.g. "30m", "2h", "-1" (forever) or seconds', loc, var.name)
        case VarKind.HOST:
            yield from _check_host(var, value, loc)
        case VarKind.ENUM:
            yield from _check_kv_type(var, value, version, loc)
        case VarKind.LOGLEVEL:
            if value and value not in _TRUE + _FALSE and not re.fullmatch(r"-?\d+", value):
                yield Finding("invalid-log-level", Severity.WARNING,
                              f"{var.name}={value!r} is neither a boolean nor a level: the server logs at INFO",
                              'write "1" (debug) or "2" (trace)', loc, var.name)
        case _:
            return


def _check_bool(var: Variable, value: str, loc: Location | None) -> Iterator[Finding]:
    if not value or value in _TRUE + _FALSE:
        return
    severity = Severity.ERROR if value.lower() in _MEANT_FALSE else Severity.WARNING
    yield Finding("invalid-bool", severity,
                  f"{var.name}={value!r} is read as TRUE: any value but 0/false/f turns it on",
                  'write "1" to turn it on or "0" to turn it off', loc, var.name)


def _check_host(var: Variable, value: str, loc: Location | None) -> Iterator[Finding]:
    hp = parse_host(value)
    if hp.port_fallback:
        yield Finding("invalid-port", Severity.ERROR,
                      f"{var.name}={value!r} has an invalid port: the server listens on {hp.listen}",
                      "use a port from 1 to 65535", loc, var.name)
    elif "://" in value and value.split("://", 1)[1].count(":") == 0 and hp.port in (80, 443):
        yield Finding("host-default-port", Severity.WARNING,
                      f"{var.name}={value!r} has a scheme and no port: the server listens on port {hp.port}, "
                      "not 11434", f"write it without the scheme, or add the port: {hp.host or '0.0.0.0'}:11434",
                      loc, var.name)


def _check_kv_type(var: Variable, value: str, version: Version, loc: Location | None) -> Iterator[Finding]:
    allowed = catalog.kv_cache_types(version)
    if value and value.lower() not in allowed:
        effect = ("the server warns and uses f16" if version < catalog.LLAMA_SERVER_ERA
                  else "llama-server refuses to start and models fail to load")
        yield Finding("invalid-kv-cache-type", Severity.ERROR,
                      f"{var.name}={value!r} is not accepted by Ollama {version}: {effect}",
                      "use one of: " + ", ".join(allowed), loc, var.name)


def _check_combinations(decl: Declaration, env: dict[str, str], version: Version) -> Iterator[Finding]:
    kv = strip_value(env.get("OLLAMA_KV_CACHE_TYPE", "")).lower()
    fa = strip_value(env.get("OLLAMA_FLASH_ATTENTION", ""))
    if kv and kv not in ("f16", "f32", "bf16") and (not fa or fa in _FALSE):
        yield Finding("kv-cache-without-flash-attention", Severity.WARNING,
                      f"OLLAMA_KV_CACHE_TYPE={kv} needs flash attention; without it the server ignores it "
                      "and uses f16 for many models", "ollama-sync set flash_attention true",
                      _locate(decl, "OLLAMA_KV_CACHE_TYPE"), "OLLAMA_KV_CACHE_TYPE")
    host = env.get("OLLAMA_HOST")
    if host is not None and binds_all_interfaces(parse_host(host)):
        yield Finding("exposed-all-interfaces", Severity.WARNING,
                      f"OLLAMA_HOST={host} listens on every network interface, and the Ollama API has no "
                      "authentication: anyone who can reach this machine can use it",
                      "bind to a private address instead, e.g. your Tailscale address: "
                      "ollama-sync set host $(tailscale ip -4)", _locate(decl, "OLLAMA_HOST"), "OLLAMA_HOST")
    origins = [o.strip() for o in strip_value(env.get("OLLAMA_ORIGINS", "")).split(",")]
    if "*" in origins:
        yield Finding("origins-wildcard", Severity.WARNING,
                      "OLLAMA_ORIGINS=* lets every web page you visit call the API from your browser",
                      "list the origins you need, e.g. origins = [\"https://app.example\"]",
                      _locate(decl, "OLLAMA_ORIGINS"), "OLLAMA_ORIGINS")
