"""Renderers: a declaration and a target → the bytes of the platform's native service file (pure).

Each backend module has `unsafe_values(env, target)` (what its format cannot carry exactly) and a
render function. A value is either written so that the service manager's own parser reads back exactly
the declared text, or the file is not rendered and an `unsafe-value` finding says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.environment import render_environment
from ollama_sync.core.findings import Finding, Severity
from ollama_sync.core.settings import Backend, Declaration
from ollama_sync.core.target import Target

MARKER: Final = "Managed by ollama-sync"
SERVICE: Final = "service."  # problem keys with this prefix name a [service] field, not a variable

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_CONTROL: Final = re.compile("[\x00-\x1f\x7f]")
_LABEL: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")  # safe as a file name, unit name and program name
_USER: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")  # a POSIX portable user name
# The longest label whose service file and watcher files still have legal names: a file name is at most
# 255 bytes (NAME_MAX), a systemd unit name at most 255 characters (UNIT_NAME_MAX - 1, systemd unit-name.h);
# the longest names built from a label are `<label>.watch.plist`, `<label>-sync-watch.service`, `<label>.conf`.
LABEL_MAX: Final[dict[Backend, int]] = {
    Backend.LAUNCHD: 255 - len(".watch.plist"),
    Backend.SYSTEMD: 255 - len("-sync-watch.service"),
    Backend.SUPERVISORD: 255 - len(".conf"),
}

Problem = tuple[str, str]  # (variable name, or SERVICE + field name; why it cannot be rendered)


@dataclass(frozen=True)
class Rendered:
    """A rendered service file, or the findings that stopped it from being rendered safely."""

    target: Target
    content: bytes | None
    findings: tuple[Finding, ...] = ()


def render(decl: Declaration, target: Target) -> Rendered:
    """Render the service file for target's backend; unsafe values yield error findings and no content."""

    env = render_environment(decl.settings)
    problems = common_problems(env, target)
    # Only the target's renderer is imported: each pulls in its own parser (plistlib, shlex, …).
    match target.backend:
        case Backend.LAUNCHD:
            from ollama_sync.core.render import launchd  # noqa: PLC0415  # import cycle: it imports this package

            problems += launchd.unsafe_values(env, target)
            content = None if problems else launchd.render_plist(env, target, decl.source)
        case Backend.SYSTEMD:
            from ollama_sync.core.render import systemd  # noqa: PLC0415  # import cycle: it imports this package

            problems += systemd.unsafe_values(env, target)
            content = None if problems else systemd.render_unit(env, target, decl.source)
        case Backend.SUPERVISORD:
            from ollama_sync.core.render import supervisord  # noqa: PLC0415  # import cycle: it imports this package

            problems += supervisord.unsafe_values(env, target)
            content = None if problems else supervisord.render_program(env, target, decl.source)
    return Rendered(target, content, tuple(_finding(key, why, decl, target) for key, why in _unique(problems)))


def common_problems(env: dict[str, str], target: Target) -> list[Problem]:
    """What no backend can carry: bad variable names, NUL, text that is not Unicode, control characters
    in the target's paths and names. A variable gets only its first problem."""
    problems: list[Problem] = []
    for name, value in env.items():
        if not _NAME.match(name):
            problems.append((name, "is not a valid environment variable name (letters, digits, _)"))
        elif "\x00" in value:
            problems.append((name, "contains a NUL character, which no environment can hold"))
        elif _SURROGATE.search(value):
            problems.append((name, "contains a lone surrogate, which is not valid Unicode text"))
    fields = {"binary": target.binary, "log_path": target.log_path or "", "user": target.user or "",
              "label": target.name}
    for field, text in fields.items():
        if _CONTROL.search(text) or _SURROGATE.search(text):
            problems.append((SERVICE + field, "contains a control character or invalid Unicode"))
    if target.log_path is not None and not target.log_path.startswith("/"):
        problems.append((SERVICE + "log_path", "must be an absolute path (or start with ~/)"))
    if not _LABEL.match(target.name):
        problems.append((SERVICE + "label", "must be letters, digits, '.', '_' or '-' (it names the service file)"))
    elif len(target.name) > LABEL_MAX[target.backend]:
        problems.append((SERVICE + "label", f"is {len(target.name)} characters long; {target.backend.value} allows "
                                            f"at most {LABEL_MAX[target.backend]} (it names the service file)"))
    if target.user is not None and not _USER.match(target.user):
        problems.append((SERVICE + "user", "is not a portable user name (letters, digits, '.', '_', '-')"))
    return problems


def marker_comment(source: str) -> str:
    """The marker text naming the declaration; always one printable line (plan relies on that)."""
    return f"{MARKER} from {printable(source)}. Edit the declaration, then run: ollama-sync apply"


def printable(text: str) -> str:
    """text as one printable line: control characters, surrogates and non-characters as Python escapes."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def binds_tailscale(env: dict[str, str]) -> bool:
    """True when OLLAMA_HOST is a Tailscale address (100.64.0.0/10, fd7a:115c:a1e0::/48) or a MagicDNS
    `*.ts.net` name: it exists only once tailscaled is up, so the service must wait for it and retry."""
    from ollama_sync.core.hostport import parse_host  # noqa: PLC0415  # keep import light

    host = parse_host(env.get("OLLAMA_HOST", "")).host.rstrip(".").lower()
    if host.endswith(".ts.net"):
        return True
    if not (host.startswith("100.") or ":" in host):
        return False  # the common hosts (127.0.0.1, 0.0.0.0, names) never need ipaddress imported
    from ollama_sync.core.network import is_tailscale_ip  # noqa: PLC0415  # 11 ms (ipaddress): only for a Tailscale address

    return is_tailscale_ip(host)


def is_ours(content: bytes) -> bool:
    """True when a file on disk was written by ollama-sync (it carries the marker)."""
    return MARKER.encode() in content


def _unique(problems: list[Problem]) -> list[Problem]:
    """The first problem per key: one finding per variable or field is enough to act on."""
    seen: dict[str, str] = {}
    for key, why in problems:
        seen.setdefault(key, why)
    return list(seen.items())


def _finding(key: str, why: str, decl: Declaration, target: Target) -> Finding:
    if key.startswith(SERVICE):
        field = key.removeprefix(SERVICE)
        return Finding("unsafe-value", Severity.ERROR, f"[service] {field}: {why}",
                       f"change {field} in [service], or pick another backend than {target.backend.value}",
                       decl.location_of(field), None)
    return Finding("unsafe-value", Severity.ERROR, f"{key}: {why}",
                   f"change the value of {key}, or pick another backend than {target.backend.value}",
                   decl.location_of(_setting_key(key, decl)), key)


def _setting_key(variable: str, decl: Declaration) -> str:
    """The settings key that produced variable, for locating a finding."""
    from ollama_sync.core.options import OPTIONS  # noqa: PLC0415  # 3 ms: only for an unsafe value

    if decl.location_of(f"environment.{variable}") is not None:
        return f"environment.{variable}"
    for opt in OPTIONS:
        if opt.variable == variable and decl.location_of(opt.key) is not None:
            return opt.key
    return "environment"
