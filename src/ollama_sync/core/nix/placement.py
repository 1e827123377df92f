"""Where `set`/`unset` edit a Nix declaration, in the file's own option names (pure).

Decisions: a setting is edited where the file declares it — under its own option name, or, when the
file declares its variable in the environment set (the seed's `extraEnvironment.OLLAMA_NUM_PARALLEL`),
there. A setting the file does not declare is added under the vocabulary the file speaks: the
reference module (`custom.services.ollama`) has dedicated options only for enable, host, port,
modelsPath, flashAttention and kvCacheType, the nixpkgs / nix-darwin / home-manager `services.ollama`
modules only for enable, host, port, models and loadModels; everything else goes into the module's
environment set (`extraEnvironment` / `environmentVariables`), which every such module has.

The flavor (core/nix/flavor.py) decides what a module owns: NixOS's, home-manager's and nix-darwin's
services.ollama set OLLAMA_HOST from host/port (NixOS also OLLAMA_MODELS from models), after
environmentVariables, so `set host`/`set port` edit those options there, and a variable the module
overrides, or a key it has no option for, is refused with the reason. Where the address is declared as
OLLAMA_HOST in an environment set (custom and ollama-sync flavors), `set host`/`set port`/`unset`
rewrite only the part they own (`0.0.0.0:11434` + `set port 1234` → `0.0.0.0:1234`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ollama_sync.core.findings import Location
from ollama_sync.core.nix.edit import (
    Edit,
    apply_edits,
    insert_binding,
    is_literal,
    remove_binding,
    replace_list,
    replace_node,
    unwrap,
)
from ollama_sync.core.nix.evaluate import Attr, AttrsV, Home, NotStatic
from ollama_sync.core.nix.flavor import MODULES, Flavor, owned_options
from ollama_sync.core.nix.read import NixRead, excerpt, plain
from ollama_sync.core.options import find_option
from ollama_sync.core.setkey import (
    ADDRESS_KEYS,
    ENV_TABLE_NAMES,
    SettingKey,
    edit_address,
    env_string,
    split_address,
)
from ollama_sync.errors import UsageError

REFERENCE: Final = {"enable": "enable", "host": "host", "port": "port", "models_path": "modelsPath",
                    "flash_attention": "flashAttention", "kv_cache_type": "kvCacheType"}
NIXPKGS: Final = {"enable": "enable", "host": "host", "port": "port", "models_path": "models",
                  "models": "loadModels"}
OLLAMA_SYNC: Final = {**REFERENCE, "models": "models"}
# Variables a module sets itself after environmentVariables, and the key that owns each instead.
_MODULE_VARIABLES: Final = {
    Flavor.NIXOS: {"OLLAMA_HOST": "host and port", "OLLAMA_MODELS": "models_path", "HOME": "the `home` option"},
    Flavor.HOME_MANAGER: {"OLLAMA_HOST": "host and port"},
    Flavor.NIX_DARWIN: {"OLLAMA_HOST": "host and port", "OLLAMA_MODELS": "models_path"},
}


@dataclass(frozen=True)
class Change:
    """An edit of the file: the new bytes, the attribute path edited (inside the set) and the value written."""

    data: bytes
    path: tuple[str, ...]
    written: object  # None for unset
    location: Location
    before: str | None  # the old expression's text, when there was one


def plan_set(read: NixRead, key: SettingKey, value: object, *, force: bool = False,
             flavor: Flavor = Flavor.CUSTOM) -> Change:
    """The file with key set to value: the old literal replaced, or a new binding inserted."""
    _refuse_unowned(key, flavor)
    holder = _address_holder(read, key, flavor)
    found = holder or _declared(read, key, flavor)
    if found is not None:
        path, attr = found
        if holder is not None or (len(path) > 1 and _is_address(key)):
            written: object = edit_address(_current_string(read, key, attr), key.option.key, value)
        else:
            written = value if len(path) == 1 else env_string(value)
        edits = _replacement(read, key, attr, written, force=force)
        return Change(apply_edits(read.source.data, edits), path, written, read.source.location(attr.key),
                      read.source.text(attr.expr) if attr.expr is not None else None)
    home, key_path, written = _insertion(read, key, value, flavor)
    edit = insert_binding(read.source, home, key_path, written)
    path = (*_home_path(read, home), *key_path)
    return Change(apply_edits(read.source.data, [edit]), path, written, read.source.location_at(edit[0]), None)


def plan_unset(read: NixRead, key: SettingKey, flavor: Flavor = Flavor.CUSTOM) -> Change | None:
    """The file without key's bindings; None when the file does not declare it.

    host or port declared inside OLLAMA_HOST: only that part goes (the variable when nothing is left).
    """
    _refuse_unowned(key, flavor)
    holder = _address_holder(read, key, flavor)
    found = holder or _declared(read, key, flavor)
    if found is None:
        return None
    path, attr = found
    if holder is not None or (len(path) > 1 and _is_address(key)):
        rest = edit_address(_current_string(read, key, attr), key.option.key, None)
        if rest is not None:
            spliced = _replacement(read, key, attr, rest, force=False)
            return Change(apply_edits(read.source.data, spliced), path, rest, read.source.location(attr.key),
                          read.source.text(attr.expr) if attr.expr is not None else None)
    edits: dict[int, Edit] = {}
    for binding in attr.bindings:
        edit = remove_binding(read.source, binding, attr.key)
        edits[edit[0]] = edit
    return Change(apply_edits(read.source.data, list(edits.values())), path, None,
                  read.source.location(attr.key), read.source.text(attr.bindings[0]))


def _is_address(key: SettingKey) -> bool:
    return key.variable is None and key.option.key in ADDRESS_KEYS


def _address_holder(read: NixRead, key: SettingKey, flavor: Flavor) -> tuple[tuple[str, ...], Attr] | None:
    """A named `host` written with its own port (`host = "0.0.0.0:11434"`) and no named `port`: the port
    lives in host's text, so `set port`/`unset port` edit it there (custom and ollama-sync flavors)."""
    attrs = read.attrs.attrs
    if not _is_address(key) or flavor in MODULES or "port" in attrs or "host" not in attrs:
        return None
    try:
        value = plain(read.evaluator, read.evaluator.force(attrs["host"].thunk), attrs["host"].key)
    except NotStatic:
        return None
    if not isinstance(value, str) or split_address(value).port is None:
        return None
    return ("host",), attrs["host"]


def _current_string(read: NixRead, key: SettingKey, attr: Attr) -> str:
    """OLLAMA_HOST's current text, to rewrite only the part key owns; an expression is refused."""
    try:
        value = plain(read.evaluator, read.evaluator.force(attr.thunk), attr.key)
    except NotStatic as exc:
        value = exc
    if not isinstance(value, str):
        where = read.source.location(attr.key)
        raise UsageError(f"{key.label} lives in OLLAMA_HOST at {where}, which is not a literal string; refusing "
                         "to guess the rest of the address", hint="edit that line by hand")
    return value


def _refuse_unowned(key: SettingKey, flavor: Flavor) -> None:
    """A key the flavor's module has no option for, or a variable the module sets itself: refused, with why."""
    module = MODULES.get(flavor)
    if module is None:
        return
    if key.variable is None and key.option.key in owned_options(flavor):
        return
    variable = key.env_name
    if variable is None:
        raise UsageError(f"{module.name} has no option for {key.label}",
                         hint="the real module system would reject the file; pull models another way "
                              "(ollama-sync models sync) or use a module that has the option")
    owner = _MODULE_VARIABLES[flavor].get(variable)
    if owner is not None:
        raise UsageError(f"{module.name} sets {variable} itself, after environmentVariables: a value there "
                         "is ignored", hint=f"set {owner} instead (ollama-sync set …)")


def style(read: NixRead) -> dict[str, str]:
    """The dedicated option names of the module the file is written for."""
    names = set(read.attrs.attrs)
    if names & {"environmentVariables", "loadModels"}:
        return NIXPKGS
    if names & {"extraEnvironment", "flashAttention", "kvCacheType", "modelsPath"}:
        return REFERENCE
    return NIXPKGS if read.attribute[-2:] == ("services", "ollama") and "custom" not in read.attribute else REFERENCE


def names_for(read: NixRead, flavor: Flavor) -> dict[str, str]:
    """ollama-sync key → the option name the flavor's module has for it."""
    if flavor in MODULES:
        return owned_options(flavor)
    if flavor is Flavor.OLLAMA_SYNC:
        return OLLAMA_SYNC
    return style(read)


def _env_tables(flavor: Flavor) -> tuple[str, ...]:
    return ("environmentVariables",) if flavor in MODULES else ENV_TABLE_NAMES


def _declared(read: NixRead, key: SettingKey, flavor: Flavor) -> tuple[tuple[str, ...], Attr] | None:
    attrs = read.attrs.attrs
    if key.variable is None:
        if flavor in MODULES:
            name = owned_options(flavor).get(key.option.key)
            if name is not None:  # the module owns it: only its option counts (its variable there is ignored)
                return ((name,), attrs[name]) if name in attrs else None
        else:
            for name, attr in attrs.items():
                if name in key.option.names and _means(read, name, attr) == key.option.key:
                    return (name,), attr
    variable = key.env_name
    for table_name in _env_tables(flavor) if variable else ():
        env = _env_set(read, table_name)
        if env is not None and variable in env.attrs:
            return (table_name, variable), env.attrs[variable]
    return None


def _means(read: NixRead, name: str, attr: Attr) -> str | None:
    """The option a name stands for; `models` is the path in nixpkgs' module and the list in ours."""
    try:
        value = plain(read.evaluator, read.evaluator.force(attr.thunk), attr.key)
    except NotStatic:
        value = None if name != "models" or style(read) is NIXPKGS else []
    option = find_option(name, value)
    return option.key if option is not None else None


def _env_set(read: NixRead, name: str) -> AttrsV | None:
    attr = read.attrs.attrs.get(name)
    if attr is None:
        return None
    try:
        value = read.evaluator.force(attr.thunk)
    except NotStatic as exc:
        raise UsageError(f"{name} is not read statically (`{excerpt(read.source, exc.node)}`)",
                         hint="edit the file by hand") from None
    return value if isinstance(value, AttrsV) else None


def _replacement(read: NixRead, key: SettingKey, attr: Attr, value: object, *, force: bool) -> list[Edit]:
    source = read.source
    where = source.location(attr.key)
    if attr.expr is None or attr.bindings[0].type != "binding":
        raise UsageError(f"{key.label} is declared at {where} by `{excerpt(source, attr.bindings[0])}`, "
                         "not as one value", hint="edit that line by hand")
    target = unwrap(source, attr.expr)
    try:
        origin = getattr(read.evaluator.force(attr.thunk), "origin", None)
    except NotStatic:
        origin = None
    in_place = origin is not None and (origin.start_byte, origin.end_byte) == (target.start_byte, target.end_byte)
    if not (in_place and is_literal(source, target)) and not force:
        raise UsageError(f"{key.label} is `{excerpt(source, target)}` at {source.location(target)}: an expression, "
                         "not a literal; refusing to replace it", hint="pass --force to replace the expression "
                         "with the value, or edit the file by hand")
    if target.type == "list_expression" and isinstance(value, list | tuple) and in_place:
        return replace_list(source, target, list(value))
    return [replace_node(target, value)]


def _insertion(read: NixRead, key: SettingKey, value: object, flavor: Flavor
               ) -> tuple[Home, tuple[str, ...], object]:
    names = names_for(read, flavor)
    if key.variable is None and key.option.key in names:
        return _home(read.attrs), (names[key.option.key],), value
    variable = key.env_name
    if variable is None:
        module = "the nixpkgs services.ollama" if names is NIXPKGS else "the reference"
        raise UsageError(f"{module} module has no option for {key.label}", hint="add it to the file by hand")
    for table_name in _env_tables(flavor):
        if table_name in read.attrs.attrs:
            env = _env_set(read, table_name)
            if env is None or not env.homes:
                raise UsageError(f"{table_name} is not an attribute set written in the file",
                                 hint="edit the file by hand")
            return _home(env), (variable,), env_string(value)
    table = "environmentVariables" if names is NIXPKGS or flavor in MODULES else "extraEnvironment"
    return _home(read.attrs), (table, variable), env_string(value)


def _home(attrs: AttrsV) -> Home:
    """Where to add a binding: the set's first literal `{ … }`, else its last dotted-path home."""
    return next((h for h in attrs.homes if not h.prefix and h.container.type != "let_expression"), attrs.homes[-1])


def _home_path(read: NixRead, home: Home) -> tuple[str, ...]:
    """The path inside the selected set at which a home's bindings land ("extraEnvironment" or ())."""
    for name in ENV_TABLE_NAMES:
        env = read.attrs.attrs.get(name)
        if env is not None and isinstance(env.thunk.value, AttrsV) and home in env.thunk.value.homes:
            return (name,)
    return ()
