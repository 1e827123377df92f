"""`ollama-sync set KEY VALUE` / `unset KEY`: edit the declaration file in place, then verify and write it.

The edited text is parsed again (and, for Nix, by `nix-instantiate --parse` when Nix is installed)
and read back: the key must hold the new value (or be gone) before the file is replaced atomically.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from ollama_sync.app.context import Context
from ollama_sync.app.declaration import read_config, resolve_source
from ollama_sync.app.nixsource import is_flake
from ollama_sync.app.toml_edit import toml_set, toml_unset
from ollama_sync.core.config import ToolConfig, parse_config
from ollama_sync.core.findings import Location
from ollama_sync.core.nix.placement import plan_set, plan_unset
from ollama_sync.core.nix.read import read_nix_text
from ollama_sync.core.options import SourceValue, build_settings
from ollama_sync.core.setkey import SettingKey, parse_key, parse_value
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
    value = parse_value(key, value_text)
    return _edit(ctx, key, value, force=force, dry_run=dry_run)


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
    change = plan_set(read, key, value, force=force) if value is not _MISSING else plan_unset(read, key)
    if change is None:
        return EditResult(file, key.label, key.label, None, None, text, text, False)
    new_text = change.data.decode("utf-8")
    after = read_nix_text(new_text, file, ".".join(read.attribute))  # parses again: a syntax error raises here
    _verify(after.table, change.path, change.written, file)
    build_settings(after.table, origin=Location(file), strict=False)
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
    build_settings(table, origin=Location(file), strict=True)
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


def _show(value: object) -> str:
    from ollama_sync.core.nix.edit import nix_literal  # noqa: PLC0415

    return nix_literal(value)


def _mode(ctx: Context, file: str) -> int:
    """Keep the file's permission bits."""
    try:
        return ctx.user_files.real(file).stat().st_mode & 0o7777
    except OSError:
        return 0o644
