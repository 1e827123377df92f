"""`set`/`unset` on a TOML declaration ([ollama] inline in the config, or a .toml source), with tomlkit.

tomlkit keeps comments, alignment and key order; the same decisions as for Nix apply: edit a setting
where the file declares it (its own name, or its variable in the environment table), else add it in
the file's vocabulary (camelCase names when the file uses them, ollama-sync's snake_case otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from ollama_sync.core.findings import Location
from ollama_sync.core.options import find_option, show_value
from ollama_sync.core.setkey import ADDRESS_KEYS, ENV_TABLE_NAMES, SettingKey, edit_address, env_string, split_address
from ollama_sync.errors import ConfigError


@dataclass(frozen=True)
class TomlChange:
    """The new text, the key path edited inside [ollama], the value written and the old one."""

    text: str
    path: tuple[str, ...]
    written: object
    before: object


def toml_set(text: str, file: str, key: SettingKey, value: object) -> TomlChange:
    """The text with key set to value inside [ollama].

    host/port declared inside an address (OLLAMA_HOST, or a host written with its port): only their part
    of it changes. A list keeps its layout and comments: items are removed and appended in place.
    """
    doc, table = _ollama(text, file)
    holder = _address_holder(table, key)
    found = holder or _declared(table, key)
    if found is not None:
        path = found
        if holder is not None or (len(path) > 1 and _is_address(key)):
            written: object = edit_address(_current(table, path, file), key.option.key, value)
        else:
            written = value if len(path) == 1 else env_string(value)
    elif key.variable is None:
        path = (key.option.nix_name if _camel(table) else key.option.key,)
        written = value
    else:
        env_name = next((n for n in ENV_TABLE_NAMES if n in table), None)
        path = (env_name or ("extraEnvironment" if _camel(table) else "environment"), key.variable)
        written = env_string(value)
    container: Any = table
    for part in path[:-1]:
        if part not in container:
            container[part] = tomlkit.table()
        container = container[part]
    before = container.get(path[-1])
    before_value = _unwrap(before)
    if isinstance(before, tomlkit.items.Array) and isinstance(written, list | tuple):
        _edit_array(before, list(written))
    else:
        container[path[-1]] = written
    return TomlChange(tomlkit.dumps(doc), path, written, before_value)


def _edit_array(array: Any, new: list[object]) -> None:
    """Make array hold new, keeping the items (and comments) that stay: remove the others, append the rest."""
    old = [_unwrap(item) for item in array]
    kept = [v for v in old if v in new]
    if kept != [v for v in new if v in kept] or len(set(map(str, old))) != len(old):  # reordered or duplicates
        array.clear()
        array.extend(new)
        return
    for index in reversed(range(len(old))):
        if old[index] not in new:
            del array[index]
    for value in new:
        if value not in kept:
            array.append(value)


def _is_address(key: SettingKey) -> bool:
    return key.variable is None and key.option.key in ADDRESS_KEYS


def _address_holder(table: Any, key: SettingKey) -> tuple[str, ...] | None:
    """A `host` written with its own port and no `port`: port (and host) edit that text."""
    if not _is_address(key) or "port" in table or "host" not in table:
        return None
    host = _unwrap(table["host"])
    return ("host",) if isinstance(host, str) and split_address(host).port is not None else None


def _current(table: Any, path: tuple[str, ...], file: str) -> str:
    container: Any = table
    for part in path:
        container = container[part]
    value = _unwrap(container)
    if not isinstance(value, str):
        raise ConfigError(f"{'.'.join(path)} must be a string, not {show_value(value)}", location=Location(file))
    return value


def toml_unset(text: str, file: str, key: SettingKey) -> TomlChange | None:
    """The text without key; None when [ollama] does not declare it (host/port: only their part of an address)."""
    doc, table = _ollama(text, file)
    holder = _address_holder(table, key)
    path = holder or _declared(table, key)
    if path is None:
        return None
    container: Any = table
    for part in path[:-1]:
        container = container[part]
    before = container[path[-1]]
    if holder is not None or (len(path) > 1 and _is_address(key)):
        rest = edit_address(_current(table, path, file), key.option.key, None)
        if rest is not None:
            container[path[-1]] = rest
            return TomlChange(tomlkit.dumps(doc), path, rest, _unwrap(before))
    del container[path[-1]]
    return TomlChange(tomlkit.dumps(doc), path, None, _unwrap(before))


def _ollama(text: str, file: str) -> tuple[tomlkit.TOMLDocument, Any]:
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", location=Location(file)) from None
    table = doc.get("ollama")
    if table is None or not hasattr(table, "keys"):
        raise ConfigError(f"{file} has no [ollama] table", location=Location(file, 1),
                          hint="put the settings under [ollama]")
    return doc, table


def _declared(table: Any, key: SettingKey) -> tuple[str, ...] | None:
    if key.variable is None:
        for name in table:
            if name in key.option.names and name not in ENV_TABLE_NAMES:
                option = find_option(name, _unwrap(table[name]))
                if option is not None and option.key == key.option.key:
                    return (name,)
    variable = key.env_name
    for env_name in ENV_TABLE_NAMES if variable else ():
        env = table.get(env_name)
        if env is not None and hasattr(env, "keys") and variable is not None and variable in env:
            return (env_name, variable)
    return None


def _camel(table: Any) -> bool:
    """True when the file speaks the Nix module's vocabulary (flashAttention, extraEnvironment, …)."""
    return any(name != name.lower() for name in table)


def _unwrap(item: object) -> object:
    unwrap = getattr(item, "unwrap", None)
    return unwrap() if callable(unwrap) else item
