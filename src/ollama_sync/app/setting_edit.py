"""`ollama-sync set KEY VALUE` / `unset KEY`: edit the declaration file in place, then verify and write it.

The edited text is parsed again (and, for Nix, by `nix-instantiate --parse` when Nix is installed)
and read back with the flavor's semantics (core/nix/flavor.py): the server's environment (and enable,
models) must be exactly the intended one — the old declaration with only this key changed — and hold
the new value, or nothing is written.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from ollama_sync.app.context import Context
from ollama_sync.app.declaration import read_config, resolve_source
from ollama_sync.app.nixsource import is_flake, resolve_flavor
from ollama_sync.app.toml_edit import toml_set, toml_unset
from ollama_sync.core.config import ToolConfig, parse_config
from ollama_sync.core.environment import render_environment
from ollama_sync.core.findings import Location
from ollama_sync.core.nix.edit import nix_literal
from ollama_sync.core.nix.flavor import Flavor, module_table
from ollama_sync.core.nix.placement import Change, plan_set, plan_unset
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.options import SourceValue, build_settings
from ollama_sync.core.setkey import SettingKey, parse_key, parse_value, split_address
from ollama_sync.core.settings import OllamaSettings
from ollama_sync.core.tomlread import parse_toml
from ollama_sync.errors import ConfigError, OllamaSyncError, UsageError
from ollama_sync.system.nix import Nix

_MISSING = object()


@dataclass(frozen=True)
class EditResult:
    """What `set`/`unset` changed: the file, the key path as the file writes it, old and new values."""

    file: str
    key: str
    path: str  # e.g. "extraEnvironment.OLLAMA_NUM_PARALLEL"
    before: str | None
    after: str | None
    old_text: str
    new_text: str
    written: bool

    @property
    def changed(self) -> bool:
        """True when the file's text differs."""
        return self.old_text != self.new_text

    def diff(self) -> str:
        """A unified diff of the declaration file."""
        return "".join(difflib.unified_diff(self.old_text.splitlines(keepends=True),
                                            self.new_text.splitlines(keepends=True),
                                            fromfile=self.file, tofile=self.file))


def set_setting(ctx: Context, key_text: str, value_text: str, *, force: bool = False,
                dry_run: bool = False) -> EditResult:
    """Set one setting in the declaration file."""
    key = parse_key(key_text)
    refuse_unwritable(value_text)  # as typed: `0\x1f` must not be parsed into port 0
    value = parse_value(key, value_text)
    refuse_unwritable(value)  # as parsed: a list written as JSON may hold \u0000
    return _edit(ctx, key, value, force=force, dry_run=dry_run)


def refuse_unwritable(value: object) -> None:
    """A UsageError for a value no declaration file can hold exactly: NUL and other control characters,
    or bytes that are not UTF-8 (a command-line argument in another encoding arrives as lone surrogates)."""
    texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
        if isinstance(value, (list, tuple)) else []
    for text in texts:
        if "\x00" in text:
            raise UsageError("the value contains a NUL character, which no declaration or environment can hold",
                             hint="remove the \\u0000 from the value")
        control = next((ch for ch in text if ch < " " and ch not in "\t\n\r"), None)
        if control is not None:  # a plist (XML 1.0) cannot hold it, and `0\x1f` must not quietly become port 0
            raise UsageError(f"the value contains the control character U+{ord(control):04X}",
                             hint="remove it; only tab and newline are accepted")
        bad = next((ch for ch in text if "\udc80" <= ch <= "\udcff" or "\ud800" <= ch <= "\udfff"), None)
        if bad is not None:
            byte = f" (byte 0x{ord(bad) - 0xDC00:02x})" if "\udc80" <= bad <= "\udcff" else ""
            raise UsageError(f"the value is not valid UTF-8{byte}", hint="pass the value as UTF-8 text")


def unset_setting(ctx: Context, key_text: str, *, dry_run: bool = False) -> EditResult:
    """Remove one setting from the declaration file (nothing changes when it is not declared)."""
    return _edit(ctx, parse_key(key_text), _MISSING, force=False, dry_run=dry_run)


def _edit(ctx: Context, key: SettingKey, value: object, *, force: bool, dry_run: bool) -> EditResult:
    config = read_config(ctx)
    if config.inline is not None:
        file, kind = config.path, "config"
    else:
        file = resolve_source(config)
        kind = "nix" if file.endswith(".nix") else "toml"
    with ctx.user_files.locked(file):  # read, edit and write as one step: concurrent edits wait their turn
        text = ctx.user_files.read_text(file)
        if text is None:
            raise ConfigError(f"declaration not found: {file}", location=config.source_location)
        if kind == "nix":
            result = _edit_nix(ctx, config, file, text, key, value=value, force=force)
        else:
            result = _edit_toml(file, text, key, value, inline=kind == "config")
        if result.changed and not dry_run:
            ctx.user_files.write_atomic(file, result.new_text.encode("utf-8"), mode=_mode(ctx, file))
            return replace(result, written=True)
        return result


def _edit_nix(ctx: Context, config: ToolConfig, file: str, text: str, key: SettingKey, *, value: object,
              force: bool) -> EditResult:
    if is_flake(file):
        raise UsageError(f"{file} is a flake: set and unset edit the host module file",
                         hint="point `source` at the module that declares the settings")
    read = read_nix_text(text, file, config.attribute)
    flavor, _ = resolve_flavor(config, read.attribute, read.table, read.top)
    if value is not _MISSING:
        change: Change | None = plan_set(read, key, value, force=force, flavor=flavor)
    else:
        change = plan_unset(read, key, flavor)
    if change is None:
        return EditResult(file, key.label, key.label, None, None, text, text, False)
    new_text = change.data.decode("utf-8")
    after = read_nix_text(new_text, file, ".".join(read.attribute))  # parses again: a syntax error raises here
    _verify(after.table, change.path, change.written, file)
    intended = _meaning(_with(read.table, change.path, change.written), file, flavor, read.unreadable)
    _require(intended, _meaning(after.table, file, flavor, after.unreadable), key, value, file, flavor=flavor)
    if Nix.available(ctx.environ):
        Nix(ctx.runner).check_parse(new_text, file)
    return EditResult(file, key.label, ".".join(change.path), change.before,
                      None if change.written is None else _show(change.written), text, new_text, False)


def _edit_toml(file: str, text: str, key: SettingKey, value: object, *, inline: bool) -> EditResult:
    change = toml_set(text, file, key, value) if value is not _MISSING else toml_unset(text, file, key)
    if change is None:
        return EditResult(file, key.label, key.label, None, None, text, text, False)
    doc = parse_toml(change.text, file)  # the new text must still be TOML, and a valid declaration
    if inline:
        parse_config(change.text, file)
    table = doc["ollama"].value
    assert isinstance(table, dict)
    _verify(table, change.path, change.written, file)
    old = parse_toml(text, file)["ollama"].value
    assert isinstance(old, dict)
    intended = _meaning(_with(old, change.path, change.written), file, None, frozenset())
    _require(intended, _meaning(table, file, None, frozenset()), key, value, file, flavor=None)
    before = None if change.before is None else _show(change.before)
    return EditResult(file, key.label, ".".join(change.path), before,
                      None if change.written is None else _show(change.written), text, change.text, False)


def _verify(table: dict[str, SourceValue], path: tuple[str, ...], expected: object, file: str) -> None:
    """Read the edited key back: it must hold the value written, or be gone after unset."""
    current: object = table
    for part in path:
        current = current.get(part) if isinstance(current, dict) else None
        current = current.value if isinstance(current, SourceValue) else current
    got = [v.value if isinstance(v, SourceValue) else v for v in current] if isinstance(current, list) else current
    want = list(expected) if isinstance(expected, tuple) else expected
    if got != want:
        raise OllamaSyncError(f"internal check failed: after the edit {'.'.join(path)} reads {got!r}, "
                              f"not {want!r}; {file} was not changed", hint="please report this with the file")


Meaning = tuple[dict[str, str], bool, tuple[str, ...]]  # the server's environment, enable, models to pull


def _meaning(table: dict[str, SourceValue], file: str, flavor: Flavor | None, unreadable: frozenset[str]
             ) -> Meaning:
    """What a declaration gives the server, read with the flavor's module (None: ollama-sync's TOML)."""
    origin = Location(file)
    if flavor is not None:
        table = module_table(flavor, table, origin=origin, unreadable=unreadable)[0]
    settings = build_settings(table, origin=origin, strict=flavor is None)[0]
    return render_environment(settings), settings.enable, settings.models


def _with(table: dict[str, SourceValue], path: tuple[str, ...], value: object) -> dict[str, SourceValue]:
    """A copy of table with path set to value (removed when value is None): the intended declaration."""
    out = dict(table)
    if len(path) == 1:
        if value is None:
            out.pop(path[0], None)
        else:
            out[path[0]] = SourceValue(list(value) if isinstance(value, tuple) else value)
        return out
    inner = out.get(path[0])
    nested = inner.value if inner is not None and isinstance(inner.value, dict) else {}
    out[path[0]] = SourceValue(_with(nested, path[1:], value), inner.location if inner is not None else None)
    return out


def _require(intended: Meaning, got: Meaning, key: SettingKey, value: object, file: str, *,
             flavor: Flavor | None) -> None:
    """The edited file must mean exactly the intended declaration, with key holding its new value."""
    reader = f"flavor {flavor.value!r}" if flavor is not None else "ollama-sync"
    if got != intended:
        raise OllamaSyncError(f"internal check failed: after the edit {file} would give the server "
                              f"{_difference(intended, got)} (read as {reader}); nothing was written",
                              hint="please report this with the file")
    if value is _MISSING:
        return
    problem = _not_held(key, value, got)
    if problem:
        raise UsageError(f"{key.label} = {_show(value)} would not reach the server ({problem}, read as {reader}); "
                         f"{file} was not changed", hint="edit the file by hand, or set `flavor` in the config "
                         "if another module reads it")


def _difference(intended: Meaning, got: Meaning) -> str:
    names = ("environment", "enable", "models")
    for name, want, have in zip(names, intended, got, strict=True):
        if want != have:
            return f"{name} {have!r} instead of {want!r}"
    return "something else"


def _not_held(key: SettingKey, value: object, got: Meaning) -> str | None:
    """Why the read-back meaning does not hold key = value, or None when it does."""
    env, enable, models = got
    if key.variable is not None:
        return None if env.get(key.variable) == value else f"{key.variable} is {env.get(key.variable)!r}"
    option = key.option.key
    if option == "enable":
        return None if enable == value else f"enable is {enable}"
    if option == "models":
        return None if list(models) == list(value) else f"models are {list(models)}"  # type: ignore[call-overload]
    address = env.get("OLLAMA_HOST")
    if option in ("host", "port"):
        if address is None:
            return "OLLAMA_HOST is not set"
        parts = split_address(address)
        held = parts.port == str(value) if option == "port" else parts.host.strip("[]") == str(value).strip("[]")
        return None if held or address.startswith(f"{value}:") else f"OLLAMA_HOST is {address!r}"
    variable = key.option.variable
    want = render_environment(OllamaSettings(**{option: _typed(value)})).get(variable or "")  # type: ignore[arg-type]
    return None if variable is None or env.get(variable) == want else f"{variable} is {env.get(variable)!r}"


def _typed(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _show(value: object) -> str:

    return nix_literal(value)


def _mode(ctx: Context, file: str) -> int:
    """Keep the file's permission bits."""
    try:
        return ctx.user_files.real(file).stat().st_mode & 0o7777
    except OSError:
        return 0o644
