"""supervisord's main config file: where it is, how to reach its XML-RPC server, and what it includes.

The file is found from `OLLAMA_SYNC_SUPERVISOR_CONF`, else at the standard places supervisord and
supervisorctl search (supervisord(8) "Configuration File"). The parsing functions are pure (text in).
"""

from __future__ import annotations

import configparser
import fnmatch
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.findings import Location
from ollama_sync.errors import ConfigError, Unsupported
from ollama_sync.system.files import Files

CONF_ENV: Final = "OLLAMA_SYNC_SUPERVISOR_CONF"
STANDARD_CONFS: Final = (
    "/etc/supervisor/supervisord.conf",  # Debian/Ubuntu package
    "/etc/supervisord.conf",  # RHEL, pip installs
    "/usr/local/etc/supervisord.conf",  # Homebrew (Intel), FreeBSD
    "/opt/homebrew/etc/supervisord.conf",  # Homebrew (Apple silicon)
)
_EXPANSION: Final = re.compile(r"%\((here|ENV_[A-Za-z0-9_]+)\)s")
Getter = Callable[[str, str], "str | None"]


@dataclass(frozen=True)
class SupervisorConf:
    """What ollama-sync needs from supervisord.conf: the server URL, credentials and [include] globs."""

    path: str
    serverurl: str  # unix:///run/supervisor.sock or http://127.0.0.1:9001
    username: str | None = None
    password: str | None = None
    includes: tuple[str, ...] = ()  # absolute glob patterns

    def includes_path(self, path: str) -> bool:
        """True when a program file at path is read by supervisord (matches an [include] pattern)."""
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.includes)


def find_conf(files: Files, environ: Mapping[str, str]) -> str:
    """The supervisord config file to use; Unsupported when none exists."""
    named = environ.get(CONF_ENV)
    if named:
        if not files.exists(named):
            raise Unsupported(f"{CONF_ENV}={named}: no such file",
                              hint="point it at the supervisord.conf your supervisord runs with")
        return named
    for path in STANDARD_CONFS:
        if files.exists(path):
            return path
    raise Unsupported("no supervisord config found (looked in " + ", ".join(STANDARD_CONFS) + ")",
                      hint=f"set {CONF_ENV}=/path/to/supervisord.conf")


def read_conf(files: Files, environ: Mapping[str, str]) -> SupervisorConf:
    """Find and parse supervisord's main config."""
    path = find_conf(files, environ)
    return parse_conf(files.read_text(path, lenient=True) or "", path, environ)


def parse_conf(text: str, path: str, environ: Mapping[str, str]) -> SupervisorConf:
    """supervisord.conf text → SupervisorConf; `%(here)s` and `%(ENV_X)s` are expanded as supervisord does."""
    parser = configparser.RawConfigParser(strict=False, inline_comment_prefixes=(";", "#"))
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise ConfigError(f"cannot parse supervisord config: {exc.message.splitlines()[0]}",
                          location=Location(path, getattr(exc, "lineno", None))) from None
    here = posixpath.dirname(path)

    def get(section: str, key: str) -> str | None:
        if not parser.has_option(section, key):
            return None
        return _expand(parser.get(section, key), here, environ)

    serverurl = get("supervisorctl", "serverurl") or _default_url(get)
    user = get("supervisorctl", "username") or get("unix_http_server", "username") or get("inet_http_server",
                                                                                          "username")
    password = get("supervisorctl", "password") or get("unix_http_server", "password") or get(
        "inet_http_server", "password")
    includes = tuple(posixpath.normpath(posixpath.join(here, pattern))
                     for pattern in (get("include", "files") or "").split())
    return SupervisorConf(path, serverurl, user, password, includes)


def _default_url(get: Getter) -> str:
    """No serverurl: the unix socket when one is configured, else the inet port, else supervisorctl's default."""
    socket_file = get("unix_http_server", "file")
    if socket_file:
        return f"unix://{socket_file}"
    port = get("inet_http_server", "port")
    if port:
        host, _, number = str(port).rpartition(":")
        return f"http://{host or '127.0.0.1'}:{number}"
    return "http://localhost:9001"


def _expand(value: str, here: str, environ: Mapping[str, str]) -> str:
    """supervisord's `%(here)s` / `%(ENV_NAME)s` expansion; `%%` is a literal percent."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return here if name == "here" else environ.get(name[4:], "")

    return _EXPANSION.sub(replace, value).replace("%%", "%")
