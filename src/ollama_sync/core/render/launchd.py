"""launchd: the LaunchAgent / LaunchDaemon property list, in plain XML (launchd.plist(5)).

XML 1.0 cannot hold most C0 control characters at all, and every XML reader turns a carriage return
into a line feed, so values holding them are rejected; everything else (quotes, `&`, `<`, spaces at
either end, tabs, line feeds, any other Unicode) is carried exactly by plistlib's escaping.
"""

from __future__ import annotations

import plistlib
import re
from typing import Final

from ollama_sync.core.render import SERVICE, Problem, marker_comment
from ollama_sync.core.settings import Scope
from ollama_sync.core.target import Target

# Every session type, as Homebrew's service.rb writes for each `brew services` plist: an agent bootstrapped
# into user/<uid> over SSH (session Background) loads, and so does the same plist at a later GUI login (Aqua).
# Without the key launchd assumes Aqua and refuses user/<uid>: "Service cannot load in requested session".
SESSION_TYPES: Final = ("Aqua", "Background", "LoginWindow", "StandardIO", "System")
_XML_UNSAFE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff\ud800-\udfff]")


def unsafe_values(env: dict[str, str], target: Target) -> list[Problem]:
    """Values an XML property list cannot carry exactly (control characters, CR, non-characters)."""
    why = "contains a control character or carriage return an XML property list cannot hold exactly"
    problems = [(name, why) for name, value in env.items() if _XML_UNSAFE.search(value)]
    fields = {"binary": target.binary, "log_path": target.log_path or "", "user": target.user or ""}
    problems += [(SERVICE + field, why) for field, text in fields.items() if _XML_UNSAFE.search(text)]
    if not target.binary.startswith("/"):
        problems.append((SERVICE + "binary", "must be an absolute path: launchd does not search your PATH"))
    return problems


def plist_dict(env: dict[str, str], target: Target) -> dict[str, object]:
    """The property list as a dict (keys sorted when written)."""
    plist: dict[str, object] = {
        "Label": target.name,
        "ProgramArguments": [target.binary, "serve"],
        "EnvironmentVariables": dict(sorted(env.items())),
        "RunAtLoad": True,
        "KeepAlive": True,
        "ProcessType": "Interactive" if target.scope is Scope.USER else "Standard",
    }
    if target.scope is Scope.USER:
        plist["LimitLoadToSessionType"] = list(SESSION_TYPES)
    if target.log_path:
        plist["StandardOutPath"] = target.log_path
        plist["StandardErrorPath"] = target.log_path
    if target.user and target.scope is Scope.SYSTEM:
        plist["UserName"] = target.user
    return plist


def render_plist(env: dict[str, str], target: Target, source: str) -> bytes:
    """The XML plist, byte-stable: sorted keys, and a marker comment naming the declaration."""
    body = plistlib.dumps(plist_dict(env, target), fmt=plistlib.FMT_XML, sort_keys=True)
    head, sep, rest = body.partition(b"<plist")
    return head + xml_comment(marker_comment(source)).encode() + b"\n" + sep + rest


def xml_comment(text: str) -> str:
    """An XML comment; '--' cannot appear inside one, so every '-' before another '-' gets a space."""
    return "<!-- " + re.sub("-(?=-)", "- ", text) + " -->"
