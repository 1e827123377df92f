# -*- coding: utf-8 -*-
# Copyright: ollama-sync contributors
# MIT License (see the repository's pyproject.toml)
"""The ollama-sync config file (TOML) for the ``service:`` and ``ollama:`` options.

Hand-written because the module runs with the managed host's Python, whose standard library reads
TOML (tomllib) but cannot write it, and ollama-sync's own writer (tomlkit) may live in another
virtualenv. Only what a config needs: tables, strings, integers, floats, booleans, arrays, and one
level of sub-tables (``[ollama.environment]``). A JSON string is a valid TOML basic string, so
strings are written with ``json.dumps``. ollama-sync validates the file it reads, naming line and fix.
"""

from __future__ import annotations

import json
import math
import re

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name):
    name = str(name)
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value, where):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("%s: %r is not a number a config can hold" % (where, value))
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item, where) for item in value) + "]"
    raise ValueError("%s: a %s cannot be written (strings, numbers, booleans and lists only)"
                     % (where, type(value).__name__))


def _table(name, values):
    head = ["[%s]" % name]
    subtables = []
    for key in sorted(values):
        value = values[key]
        if value is None:
            continue
        if isinstance(value, dict):
            subtables.append((key, value))
            continue
        head.append("%s = %s" % (_key(key), _value(value, "%s.%s" % (name, key))))
    out = "\n".join(head) + "\n"
    for key, sub in subtables:
        for inner in sub.values():
            if isinstance(inner, dict):
                raise ValueError("%s.%s: tables nest one level only" % (name, key))
        out += "\n" + _table("%s.%s" % (name, _key(key)), sub)
    return out


def config_document(service, ollama):
    """The config file text: a ``[service]`` table (when given) and the ``[ollama]`` table."""
    parts = ["# Written by the ollama_sync.fleet.service Ansible module; edit the playbook's variables instead.\n"]
    if service:
        parts.append(_table("service", service))
    parts.append(_table("ollama", ollama or {}))
    return "\n".join(parts)
