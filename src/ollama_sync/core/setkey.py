"""`ollama-sync set KEY VALUE` / `unset KEY`: the key and value from the command line, typed (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Final

from ollama_sync.core.options import OPTIONS, Kind, Option, find_option, option_by_key
from ollama_sync.errors import UsageError

_TRUE: Final = frozenset({"true", "yes", "on", "1"})
_FALSE: Final = frozenset({"false", "no", "off", "0"})
ENV_TABLE_NAMES: Final = ("environment", "extraEnvironment", "environmentVariables")


@dataclass(frozen=True)
class SettingKey:
    """A settings name: an option, or one variable of the free environment table (`environment.NAME`)."""

    option: Option
    variable: str | None = None  # set for environment.NAME

    @property
    def label(self) -> str:
        """How the key is shown back to the user."""
        return f"environment.{self.variable}" if self.variable else self.option.key

    @property
    def env_name(self) -> str | None:
        """The variable this key sets when written into an environment table."""
        return self.variable or self.option.variable


def parse_key(text: str) -> SettingKey:
    """num_parallel, flashAttention, environment.OLLAMA_KEEP_ALIVE, … → SettingKey; unknown → UsageError."""
    head, _, variable = text.partition(".")
    if variable:
        if head not in ENV_TABLE_NAMES:
            raise UsageError(f"unknown key {text!r}", hint="a variable is set as environment.NAME")
        if not variable.replace("_", "").isalnum():
            raise UsageError(f"invalid variable name {variable!r}", hint="letters, digits and _ only")
        return SettingKey(option_by_key("environment"), variable)
    option = _by_key(text) or find_option(text)  # `models` is the key of the list, not nixpkgs' models path
    if option is None:
        keys = ", ".join(o.key for o in OPTIONS)
        raise UsageError(f"unknown key {text!r}", hint=f"keys: {keys}, environment.NAME")
    if option.kind is Kind.ENV:
        raise UsageError("set one variable at a time", hint="ollama-sync set environment.OLLAMA_KEEP_ALIVE 30m")
    return SettingKey(option)


def _by_key(text: str) -> Option | None:
    try:
        return option_by_key(text)
    except KeyError:
        return None


def parse_value(key: SettingKey, text: str) -> object:
    """The command-line value typed for the key's option (a variable's value stays a string)."""
    if key.variable is not None:
        return text
    kind = key.option.kind
    if kind is Kind.BOOL:
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise UsageError(f"{key.label} takes true or false, not {text!r}")
    if kind is Kind.INT:
        try:
            return int(text.strip())
        except ValueError:
            raise UsageError(f"{key.label} takes an integer, not {text!r}") from None
    if kind is Kind.STR_LIST:
        return _list(key, text)
    return text


def _list(key: SettingKey, text: str) -> list[str]:
    if text.strip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{key.label}: invalid list {text!r}: {exc.msg}") from None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return items
        raise UsageError(f"{key.label} takes a list of strings")
    return [part.strip() for part in text.split(",") if part.strip()]


def env_string(value: object) -> str:
    """A typed value as the variable's string ("1"/"0" for booleans, comma-joined lists)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


ADDRESS_KEYS: Final = frozenset({"host", "port"})
LOOPBACK: Final = "127.0.0.1"


@dataclass(frozen=True)
class Address:
    """OLLAMA_HOST as written, in parts: `scheme://` prefix, host, `:port` (None: not written), `/path`."""

    scheme: str  # "" or "http://"
    host: str  # as written, brackets included ("[::1]")
    port: str | None
    path: str  # "" or "/…"

    def text(self) -> str:
        """The parts joined back; a bare IPv6 host gets brackets when a port follows it."""
        host = self.host
        if self.port is not None and ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{self.scheme}{host}{'' if self.port is None else ':' + self.port}{self.path}"


def split_address(text: str) -> Address:
    """Split OLLAMA_HOST text into its written parts (structure only; hostport.parse_host gives the meaning)."""
    scheme, sep, rest = text.partition("://")
    prefix = scheme + sep if sep else ""
    rest = rest if sep else text
    hostport, slash, path = rest.partition("/")
    path = slash + path if slash else ""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close >= 0:
            tail = hostport[close + 1:]
            port = tail[1:] if tail.startswith(":") else None
            return Address(prefix, hostport[:close + 1], port, path)
    if hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
        return Address(prefix, host, port, path)
    return Address(prefix, hostport, None, path)  # a bare name, IPv4 or (unbracketed) IPv6 address


def edit_address(current: str, key: str, value: object) -> str | None:
    """OLLAMA_HOST with only the part key owns changed: host or port set to value, or removed (value None).

    Removing the host keeps a written port on the loopback address (as `host` unset with `port` set
    renders); an address left with neither part is gone (None): the server's default applies.
    """
    address = split_address(current)
    if key == "port":
        if value is not None:
            return replace(address, port=str(value)).text()
        address = replace(address, port=None)
    elif value is not None:
        return replace(address, host=str(value)).text()
    elif address.port is not None:
        return replace(address, host=LOOPBACK).text()
    else:
        return None
    return address.text() if address.host else None  # "" alone: the server's default applies
