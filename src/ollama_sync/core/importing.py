"""An existing service's facts → the equivalent declaration (pure).

Every variable is carried. A known variable becomes a named setting only when rendering that setting
gives back the very same string (`OLLAMA_FLASH_ATTENTION=1` → flash_attention = true, but "true"
stays verbatim in the environment table); everything else goes to the environment table as written.
So import → render reproduces the environment byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ollama_sync.core.environment import format_host, render_environment
from ollama_sync.core.findings import Finding, Location, Severity
from ollama_sync.core.options import OPTIONS, Kind, Option
from ollama_sync.core.servicefile import ServiceFacts
from ollama_sync.core.settings import DEFAULT_LABEL, Declaration, OllamaSettings, Scope, ServiceOptions

# Labels owned by another manager: adopting them would fight it, so the default label is used instead.
FOREIGN_LABELS: Final = {
    "homebrew.mxcl.": "stop Homebrew's service first: brew services stop ollama",
    "org.nixos.": "remove services.ollama from your nix-darwin configuration before applying",
    "org.nix-community.home.": "remove services.ollama from your home-manager configuration before applying",
    "com.ollama.": "quit the Ollama app and remove it from the login items before applying",
}
ALL_KEYS: Final = frozenset(opt.key for opt in OPTIONS if opt.variable is not None)
# The named options the nix-darwin / home-manager modules of this project declare.
NIX_MODULE_KEYS: Final = frozenset({"host", "port", "models_path", "flash_attention", "kv_cache_type"})


@dataclass(frozen=True)
class Imported:
    """A declaration recovered from a service: named settings, the free table, service options, findings."""

    source: str
    settings: tuple[tuple[str, object], ...]  # option key → value, in the option table's order
    environment: tuple[tuple[str, str], ...]  # everything else, verbatim, sorted by name
    service: ServiceOptions
    findings: tuple[Finding, ...]

    def declaration(self) -> Declaration:
        """The same declaration as the settings model (for validation and rendering)."""
        settings = OllamaSettings(environment=self.environment, **dict(self.settings))  # type: ignore[arg-type]
        return Declaration(settings=settings, service=self.service, source=self.source)


def import_facts(facts: ServiceFacts, *, named: frozenset[str] = ALL_KEYS) -> Imported:
    """The declaration equivalent to facts; only options in named become named settings."""
    env = dict(facts.environment)
    settings: dict[str, object] = {}
    host_port = _host_port(env.get("OLLAMA_HOST")) if {"host", "port"} <= named else None
    if host_port is not None:
        env.pop("OLLAMA_HOST")
        settings.update({k: v for k, v in zip(("host", "port"), host_port, strict=True) if v is not None})
    for opt in OPTIONS:
        if opt.variable is None or opt.key in ("host", "port") or opt.key not in named or opt.variable not in env:
            continue
        value = _named_value(opt, env[opt.variable])
        if value is not None:
            settings[opt.key] = value
            env.pop(opt.variable)
    order = [opt.key for opt in OPTIONS]
    service, findings = _service(facts)
    return Imported(
        source=facts.source,
        settings=tuple(sorted(settings.items(), key=lambda kv: order.index(kv[0]))),
        environment=tuple(sorted(env.items())),
        service=service,
        findings=facts.findings + findings,
    )


def _host_port(value: str | None) -> tuple[str, int | None] | None:
    """host and port that format back to exactly value, or None."""
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and str(int(port)) == port:
        bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if bare and format_host(bare, int(port)) == value:
            return bare, int(port)
    return None


def _named_value(opt: Option, text: str) -> object | None:
    """The setting that renders back to exactly text, or None when none does."""
    value: object | None
    match opt.kind:
        case Kind.BOOL:
            value = {"1": True, "0": False}.get(text)
        case Kind.INT:
            value = int(text) if text.isdigit() and str(int(text)) == text else None
        case Kind.STR | Kind.DURATION:
            value = text if text else None
        case Kind.STR_LIST:
            value = tuple(text.split(",")) if text and "" not in text.split(",") else None
        case _:
            value = None
    if value is None:
        return None
    rendered = render_environment(OllamaSettings(**{opt.key: value}))  # type: ignore[arg-type]
    return value if rendered.get(opt.variable or "") == text else None


def _service(facts: ServiceFacts) -> tuple[ServiceOptions, tuple[Finding, ...]]:
    label = facts.label or DEFAULT_LABEL
    findings: list[Finding] = []
    for prefix, hint in FOREIGN_LABELS.items():
        if label.startswith(prefix):
            findings.append(Finding(
                "import-foreign-service", Severity.WARNING,
                f"{label} is managed by another tool; the declaration uses the label {DEFAULT_LABEL}",
                hint, Location(facts.source)))
            label = DEFAULT_LABEL
    service = ServiceOptions(backend=facts.backend, label=label, binary=facts.binary, scope=facts.scope,
                             log_path=facts.log_path, user=facts.user if facts.scope is Scope.SYSTEM else None)
    return service, tuple(findings)
