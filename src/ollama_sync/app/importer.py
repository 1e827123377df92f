"""`ollama-sync import`: an existing service (file or live) → an equivalent declaration, touching nothing else.

Sources: a launchd plist (hand-made, Homebrew's, nix-darwin's), a systemd unit with its drop-ins, or the
environment the service manager reports for the running service. Output: a TOML config for
ollama-sync, or a Nix module for this project's nix-darwin / home-manager module.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from enum import StrEnum

from ollama_sync.app.context import Context
from ollama_sync.core.file_env import HOMEBREW_ENV_FILE, parse_env_file
from ollama_sync.core.findings import Finding, Location, Severity, sort_findings
from ollama_sync.core.importing import ALL_KEYS, NIX_MODULE_KEYS, Imported, import_facts
from ollama_sync.core.nix.snippet import render_nix_module
from ollama_sync.core.paths import DROPIN_NAME
from ollama_sync.core.render import render
from ollama_sync.core.servicefile import ServiceFacts, check_unit, read_plist, read_systemd
from ollama_sync.core.settings import DEFAULT_LABEL, Backend, Scope, ServiceOptions
from ollama_sync.core.target import default_backend, resolve_target
from ollama_sync.core.validate import validate
from ollama_sync.errors import ConfigError, Unsupported, UsageError
from ollama_sync.system.files import decode_utf8
from ollama_sync.system.service import manager_for

HOMEBREW_LABEL = "homebrew.mxcl.ollama"


class Format(StrEnum):
    """What `import` writes."""

    TOML = "toml"
    NIX = "nix"


@dataclass(frozen=True)
class ImportRequest:
    """What to import and where to write it."""

    source: str | None = None  # a .plist or a systemd unit; None: --live, or found at the usual places
    dropins: tuple[str, ...] = ()  # extra systemd drop-ins, applied after the unit's own
    live: bool = False
    backend: Backend | None = None  # --live: the service manager to ask
    label: str = DEFAULT_LABEL  # --live: the service to ask about
    format: Format = Format.TOML
    output: str | None = None  # None: stdout
    force: bool = False


@dataclass(frozen=True)
class ImportResult:
    """The declaration's text, where it came from, where it went, and what to know about it."""

    source: str
    text: str
    output: str | None
    findings: tuple[Finding, ...]


def import_service(ctx: Context, request: ImportRequest) -> ImportResult:
    """Read the service, build the declaration, validate it, and write it (only to --output, never over a file)."""
    if request.output and ctx.user_files.exists(request.output) and not request.force:
        raise UsageError(f"{request.output} exists; not overwriting it", hint="pass --force, or another --output")
    facts, extra = _facts(ctx, request)
    imported = import_facts(facts, named=NIX_MODULE_KEYS if request.format is Format.NIX else ALL_KEYS)
    if request.format is Format.NIX and imported.service.scope is Scope.SYSTEM:
        extra.append(Finding("import-system-scope", Severity.WARNING, "the service is a system service",
                             "the Nix modules run a per-user service; use --format toml for a system one",
                             Location(facts.source)))
    findings = sort_findings(imported.findings + tuple(extra) + _check(ctx, imported))
    text = _render(imported, request)
    if request.output:
        from ollama_sync.core.trust import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, secret_variables  # noqa: PLC0415  # 23 ms (permission rules): only import writes a file

        secret = bool(secret_variables(dict(imported.environment)))  # a token copied from the service stays private
        mode = PRIVATE_FILE_MODE if secret else PUBLIC_FILE_MODE
        ctx.user_files.write_atomic(request.output, text.encode(), mode=mode)
    return ImportResult(facts.source, text, request.output, findings)


def _check(ctx: Context, imported: Imported) -> tuple[Finding, ...]:
    """What `check` would say about the imported declaration: validation, and what the service file
    cannot carry (a label too long or with characters the backend's file names refuse, NUL, …)."""
    decl = imported.declaration()
    target = resolve_target(decl.service, ctx.machine, decl.service.binary or "ollama")
    return validate(decl) + render(decl, target).findings


def _facts(ctx: Context, request: ImportRequest) -> tuple[ServiceFacts, list[Finding]]:
    if request.live:
        if request.source:
            raise UsageError("give a service file or --live, not both")
        return _live_facts(ctx, request), []
    if request.source:
        return _file_facts(ctx, request.source, request.dropins, explicit=True)
    return _file_facts(ctx, _discover(ctx), request.dropins, explicit=False)


def _file_facts(ctx: Context, path: str, dropins: tuple[str, ...], *, explicit: bool
                ) -> tuple[ServiceFacts, list[Finding]]:
    files = ctx.user_files if explicit else ctx.files
    data = files.read_bytes(path)
    if data is None:
        raise ConfigError(f"service file not found: {path}", hint="name an existing .plist or .service file")
    if path.endswith(".plist") or data.lstrip().startswith((b"<?xml", b"bplist")):
        facts = read_plist(data, path)
        return _with_homebrew_env(ctx, facts) if facts.label == HOMEBREW_LABEL else (facts, [])
    unit = decode_utf8(data, path)
    check_unit(unit, path)
    folder = path + ".d"
    own = [posixpath.join(folder, n) for n in files.list_names(folder) if n.endswith(".conf")]
    units = [(path, unit)]
    for dropin in [*own, *dropins]:
        text = (files if dropin in own else ctx.user_files).read_text(dropin)
        if text is None:
            raise ConfigError(f"drop-in not found: {dropin}")
        units.append((dropin, text))
    return read_systemd(units), _later_dropins([name for name, _ in units[1:]])


def _with_homebrew_env(ctx: Context, facts: ServiceFacts) -> tuple[ServiceFacts, list[Finding]]:
    """Homebrew's service also gets ~/.homebrew/services/ollama.env (Homebrew ≥ 6.0.15): merged over the plist's."""
    path = posixpath.join(ctx.machine.home, HOMEBREW_ENV_FILE)
    text = ctx.files.read_text(path)
    if text is None:
        return facts, []
    extra, bad = parse_env_file(text)
    merged = {**dict(facts.environment), **extra}
    findings = [Finding("import-homebrew-env", Severity.INFO,
                        f"merged {len(extra)} variable(s) from {path}, which Homebrew adds to `brew services` on "
                        "every start (Homebrew ≥ 6.0.15)", "after `ollama-sync apply`, remove the file or stop "
                        "Homebrew's service (brew services stop ollama)", Location(path))]
    findings += [Finding("import-unreadable-line", Severity.WARNING, f"{path}:{number}: not a KEY=VALUE line; "
                         "left out", "write it as KEY=VALUE", Location(path, number)) for number in bad]
    return replace(facts, environment=tuple(merged.items())), findings


def _later_dropins(dropins: list[str]) -> list[Finding]:
    """Drop-ins systemd applies after ollama-sync's own: they would override the declaration."""
    return [Finding("import-remove-dropin", Severity.WARNING,
                    f"{path} sorts after {DROPIN_NAME}, so systemd would let it override the declaration",
                    "after `ollama-sync apply`, delete it (its settings are in the declaration now)", Location(path))
            for path in dropins if posixpath.basename(path) > DROPIN_NAME]


def _discover(ctx: Context) -> str:
    """The one existing service file at the usual places; several or none is a usage error."""
    home = ctx.machine.home
    candidates = [posixpath.join(home, "Library/LaunchAgents", f"{label}.plist") for label in (
        DEFAULT_LABEL, "homebrew.mxcl.ollama", "org.nixos.ollama", "org.nix-community.home.ollama")]
    candidates += [f"/Library/LaunchDaemons/{DEFAULT_LABEL}.plist", "/etc/systemd/system/ollama.service",
                   posixpath.join(home, ".config/systemd/user/ollama.service")]
    found = [path for path in candidates if ctx.files.exists(path)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError("no Ollama service file found at the usual places",
                         hint="name one: ollama-sync import PATH (or --live for the running service)")
    raise UsageError("several Ollama service files found: " + ", ".join(found),
                     hint="name the one to import: ollama-sync import PATH")


def _live_facts(ctx: Context, request: ImportRequest) -> ServiceFacts:

    backend = request.backend or default_backend(ctx.machine)
    service = ServiceOptions(backend=backend, label=request.label)
    target = resolve_target(service, ctx.machine, "ollama")
    state = manager_for(ctx, backend).state(target)
    if state.environment is None:
        raise Unsupported(f"{backend.value} does not report the environment of {target.name} ({state.state.value})",
                          hint="import its service file instead: ollama-sync import PATH")
    return ServiceFacts(source=f"{backend.value}:{target.name}", backend=backend, environment=state.environment,
                        label=request.label, scope=Scope.USER)


def _render(imported: Imported, request: ImportRequest) -> str:
    where = request.output or "FILE"
    if request.format is Format.NIX:
        return render_nix_module(imported, (
            f"Imported by ollama-sync from {imported.source}.\n"
            "Add this file to `imports`, next to ollama-sync's module (darwinModules.default or "
            "homeManagerModules.default);\n`darwin-rebuild switch` then applies and verifies it."))
    return _render_toml(imported, f"Imported by ollama-sync from {imported.source}.\n"
                        f"Review it, then: ollama-sync --config {where} plan && ollama-sync --config {where} apply")


def _render_toml(imported: Imported, comment: str) -> str:
    """The declaration as an ollama-sync config file (tomlkit keeps the layout readable)."""
    import tomlkit  # noqa: PLC0415  # only import writes TOML

    doc = tomlkit.document()
    for line in comment.splitlines():
        doc.add(tomlkit.comment(line))
    service = tomlkit.table()
    svc = imported.service
    for key, value in (("backend", svc.backend.value if svc.backend else None), ("label", svc.label),
                       ("binary", svc.binary), ("scope", svc.scope.value if svc.scope is Scope.SYSTEM else None),
                       ("log_path", svc.log_path), ("user", svc.user)):
        if value is not None:
            service[key] = value
    doc["service"] = service
    ollama = tomlkit.table()
    ollama["enable"] = True
    for key, setting in imported.settings:
        ollama[key] = list(setting) if isinstance(setting, tuple) else setting
    doc["ollama"] = ollama
    text = tomlkit.dumps(doc)
    if imported.environment:  # written line by line: tomlkit's table append is quadratic (40,000 variables)
        lines = (f"{tomlkit.key(name).as_string()} = {tomlkit.string(value).as_string()}\n"
                 for name, value in imported.environment)
        text += "\n[ollama.environment]\n" + "".join(lines)
    return text
