# -*- coding: utf-8 -*-
# Copyright: ollama-sync contributors
# MIT License (see the repository's LICENSE / pyproject.toml)
"""Run ollama-sync's own CLI with ``--json`` on the managed host, and read what it answered.

The modules never re-implement ollama-sync: they call ``ollama-sync --json <command>`` and turn its
document (``{"version": 1, "command": ..., "ok": ..., ...}``) into a module result. A failure is
reported with ollama-sync's own message: the JSON error envelope's ``error.message`` when the CLI
prints one, else the failed transaction's result, else the CLI's stderr.
"""

from __future__ import annotations

import json
import os
import sys

# Where ollama-sync is found when `executable` is not given, after PATH: pipx's and the install role's places.
_CANDIDATES = ("~/.local/bin/ollama-sync", "/opt/ollama-sync/bin/ollama-sync",
               "~/.local/share/ollama-sync/venv/bin/ollama-sync", "/opt/homebrew/bin/ollama-sync",
               "/usr/local/bin/ollama-sync")


def find_executable(module):
    """The ollama-sync program: the `executable` option, else PATH, else next to the module's Python, else the
    usual install places; fails the task, naming the places looked at, when there is none."""
    given = module.params.get("executable")
    if given:
        path = os.path.expanduser(given)
        if not os.access(path, os.X_OK):
            module.fail_json(msg="ollama-sync not found or not executable at %s (option `executable`)" % path)
        return path
    found = module.get_bin_path("ollama-sync")
    if found:
        return found
    beside = os.path.join(os.path.dirname(sys.executable), "ollama-sync")
    for candidate in (beside, *(os.path.expanduser(c) for c in _CANDIDATES)):
        if os.access(candidate, os.X_OK):
            return candidate
    module.fail_json(msg="ollama-sync is not installed on this host (looked in PATH, %s and %s)"
                     % (beside, ", ".join(_CANDIDATES)),
                     hint="install it with the ollama_sync.fleet.install role, or set the `executable` option")
    return None  # not reached: fail_json exits


def run_json(module, executable, args, config=None):
    """Run ``ollama-sync --json [--config FILE] ARGS``; (exit status, the JSON document or None, stderr)."""
    argv = [executable, "--json"] + (["--config", config] if config else []) + list(args)
    rc, out, err = module.run_command(argv, environ_update={"NO_COLOR": "1"})
    doc = None
    text = (out or "").strip()
    if text:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
    return rc, doc, (err or "").strip()


def error_message(doc, stderr, rc):
    """ollama-sync's own words for a failure: the JSON error envelope, else stderr, else the exit status."""
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        error = doc["error"]
        message = str(error.get("message") or "ollama-sync failed")
        where = error.get("location") if isinstance(error.get("location"), dict) else error
        if where.get("file"):
            line = ":%s" % where["line"] if where.get("line") else ""
            message = "%s%s: %s" % (where["file"], line, message)
        if error.get("hint"):
            message += " (hint: %s)" % error["hint"]
        return message
    if stderr:
        return stderr
    return "ollama-sync exited with status %s and printed no JSON document" % rc


def replace_path(value, old, new):
    """The document with every occurrence of the path `old` in its strings replaced by `new`."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [replace_path(item, old, new) for item in value]
    if isinstance(value, dict):
        return dict((key, replace_path(item, old, new)) for key, item in value.items())
    return value


def error_findings(doc):
    """The error-level findings of a plan/apply document, as one line each."""
    lines = []
    for finding in (doc or {}).get("findings") or []:
        if finding.get("severity") == "error":
            lines.append(format_finding(finding))
    return lines


def format_finding(finding):
    """``file:line: severity[code] message`` as ollama-sync prints it (fix on the same line)."""
    where = ""
    loc = finding.get("location")
    if isinstance(loc, dict) and loc.get("file"):
        where = "%s%s: " % (loc["file"], ":%s" % loc["line"] if loc.get("line") else "")
    text = "%s%s[%s] %s" % (where, finding.get("severity"), finding.get("code"), finding.get("message"))
    if finding.get("hint"):
        text += " (fix: %s)" % finding["hint"]
    return text


def default_config_path(environ=None):
    """Where ollama-sync looks for its config without --config: $OLLAMA_SYNC_CONFIG, else
    $XDG_CONFIG_HOME/ollama-sync/config.toml, else ~/.config/ollama-sync/config.toml (macOS too)."""
    env = os.environ if environ is None else environ
    if env.get("OLLAMA_SYNC_CONFIG"):
        return os.path.expanduser(env["OLLAMA_SYNC_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "ollama-sync", "config.toml")
