"""Reading existing service files back: a launchd plist, or a systemd unit and its drop-ins → `ServiceFacts`.

Pure (bytes and text in, facts out). `ollama-sync import` uses these to adopt a hand-made, Homebrew,
nix-darwin or installer-made service without losing a variable. Parsing follows launchd.plist(5)
and systemd.exec(5)/systemd.syntax(7): `Environment=` words are unquoted and C-unescaped, then `%%`
becomes `%`; an empty `Environment=` resets the list; later assignments win.
"""

from __future__ import annotations

import plistlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from xml.parsers.expat import ExpatError

from ollama_sync.core.findings import Finding, Location, Severity
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.errors import ConfigError

# launchd keys ollama-sync renders itself (others are reported as not carried).
_RENDERED_KEYS: Final = frozenset({
    "Label", "ProgramArguments", "Program", "EnvironmentVariables", "RunAtLoad", "KeepAlive", "ProcessType",
    "StandardOutPath", "StandardErrorPath", "UserName", "LimitLoadToSessionType"})
_SIMPLE_ESCAPES: Final = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                          "s": " ", "\\": "\\", '"': '"', "'": "'"}
_HEX_ESCAPES: Final = {"x": 2, "u": 4, "U": 8}
_SPECIFIER: Final = re.compile(r"%(.)")
_WS: Final = " \t\r"  # systemd's WHITESPACE; str.strip() would also eat Unicode spaces that are data


@dataclass(frozen=True)
class ServiceFacts:
    """What an existing service file says: how `ollama serve` is run and with which environment."""

    source: str
    backend: Backend
    environment: tuple[tuple[str, str], ...]  # in the order the file gives them, duplicates resolved
    label: str | None = None
    binary: str | None = None
    log_path: str | None = None
    user: str | None = None
    scope: Scope = Scope.USER
    findings: tuple[Finding, ...] = ()


def read_plist(data: bytes, path: str) -> ServiceFacts:
    """A launchd property list (XML or binary) → facts; an unreadable plist or one that is not a launchd
    job (no string Label, no ProgramArguments array of strings or Program string) is a ConfigError."""
    plist = _load_plist(data, path)
    if not isinstance(plist, dict):
        raise ConfigError("the property list is not a dictionary", location=Location(path),
                          hint="a launchd job is a <dict> with Label and ProgramArguments")
    findings: list[Finding] = []
    env = _plist_environment(plist.get("EnvironmentVariables", {}), path, findings)
    args = _program_arguments(plist, path)
    binary = args[0]
    if args[1:] != ["serve"]:
        findings.append(_note("import-arguments", f"the program arguments `{' '.join(args)}` are not "
                              "`<ollama> serve`",
                              "ollama-sync always runs `<binary> serve`; other arguments are dropped", path))
    findings += [_note("import-not-carried", f"launchd key {key!r} is not carried",
                       "ollama-sync renders its own launchd keys; add it back by hand if you need it", path)
                 for key in sorted(set(plist) - _RENDERED_KEYS)]
    return ServiceFacts(
        source=path, backend=Backend.LAUNCHD, environment=env, label=_str_or_none(plist.get("Label")),
        binary=binary, log_path=_plist_log_path(plist, path, findings), user=_str_or_none(plist.get("UserName")),
        scope=Scope.SYSTEM if "/LaunchDaemons/" in path else Scope.USER, findings=tuple(findings))


def _load_plist(data: bytes, path: str) -> object:
    try:
        return plistlib.loads(data)
    except (plistlib.InvalidFileException, ExpatError, ValueError) as exc:
        why = str(exc)
    except LookupError as exc:  # <?xml encoding="…"?> names an encoding Python does not know
        why = str(exc)
    except RecursionError:  # a binary plist nested past the stack
        why = "nested too deeply"
    except (AttributeError, TypeError, IndexError, KeyError, OverflowError, MemoryError):
        # plistlib's own bugs on malformed input: a <date> that is not ISO 8601 gives AttributeError,
        # binary offsets past the end IndexError, unhashable keys TypeError.
        why = "a malformed value (a <date> must look like 2024-01-31T12:00:00Z)"
    raise ConfigError(f"not a property list: {why}", location=Location(path), hint="check it with `plutil -lint`")


def _program_arguments(plist: dict[str, object], path: str) -> list[str]:
    """ProgramArguments (or Program): a non-empty array of strings, as launchd requires."""
    args = plist.get("ProgramArguments")
    if args is None and isinstance(plist.get("Program"), str):
        args = [plist["Program"]]
    if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args) or not args[0]:
        raise ConfigError("not a launchd job: ProgramArguments must be an array of strings (or Program a string)",
                          location=Location(path), hint="<key>ProgramArguments</key><array><string>/path/to/"
                          "ollama</string><string>serve</string></array>")
    if "Label" in plist and not isinstance(plist["Label"], str):
        raise ConfigError("not a launchd job: Label must be a string", location=Location(path),
                          hint="<key>Label</key><string>com.github.ollama</string>")
    return args


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _plist_environment(raw: object, path: str, findings: list[Finding]) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        raise ConfigError("EnvironmentVariables is not a dictionary", location=Location(path))
    env: list[tuple[str, str]] = []
    for name, value in raw.items():
        if not isinstance(name, str):
            raise ConfigError(f"EnvironmentVariables has a key that is {_plist_type(name)}, not a string",
                              location=Location(path), hint="variable names are <key>NAME</key>")
        if not isinstance(value, (str, int, float)):  # bool is an int; <array>, <dict>, <data>, <date> are not
            raise ConfigError(f"EnvironmentVariables.{name} is {_plist_type(value)}, not a string",
                              location=Location(path), hint="launchd passes only strings: <string>…</string>")
        if not isinstance(value, str):
            findings.append(Finding("import-not-string", Severity.WARNING,
                                    f"{name} is a {type(value).__name__} in the plist; carried as text",
                                    "launchd passes only strings; check the value", Location(path), name))
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        env.append((name, text))
    return tuple(env)


def _plist_type(value: object) -> str:
    """The plist element a Python value came from, for messages (never a Python repr)."""
    kinds = ((bool, "a <true/> or <false/>"), (int, "an <integer>"), (float, "a <real>"), (str, "a <string>"),
             (bytes, "a <data>"), (list, "an <array>"), (dict, "a <dict>"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "a <date>")  # plistlib: datetime


def _plist_log_path(plist: dict[str, object], path: str, findings: list[Finding]) -> str | None:
    out, err = _str_or_none(plist.get("StandardOutPath")), _str_or_none(plist.get("StandardErrorPath"))
    if out and err and out != err:
        findings.append(_note("import-log-paths", f"stdout goes to {out} and stderr to {err}",
                              f"ollama-sync writes both to one file; {err} (the server logs to stderr) is kept",
                              path))
    return err or out


def _note(code: str, message: str, hint: str, path: str) -> Finding:
    return Finding(code, Severity.INFO, message, hint, Location(path))


def read_systemd(files: Sequence[tuple[str, str]]) -> ServiceFacts:
    """A unit and its drop-ins, in the order systemd applies them (unit first, drop-ins by name) → facts."""
    if not files:
        raise ConfigError("no systemd unit to import")
    env: dict[str, str] = {}
    values: dict[str, tuple[str, str]] = {}  # ExecStart / User / StandardError… → (value, file)
    findings: list[Finding] = []
    for path, text in files:
        for key, value, line in _service_assignments(text):
            where = Location(path, line)
            if key == "Environment":
                _apply_environment(value, env, where, findings)
            elif key in ("EnvironmentFile", "UnsetEnvironment", "PassEnvironment"):
                findings.append(Finding("import-not-carried", Severity.WARNING, f"{key}={value} is not carried",
                                        "move those variables into the declaration's environment table", where))
            else:
                values[key] = (value, path)
    return ServiceFacts(
        source=files[0][0], backend=Backend.SYSTEMD, environment=tuple(env.items()),
        label=_unit_stem(files[0][0]), binary=_exec_binary(values.get("ExecStart", ("", ""))[0]),
        log_path=_systemd_log_path(values), user=values.get("User", (None, ""))[0],
        scope=Scope.USER if "/systemd/user/" in files[0][0] else Scope.SYSTEM, findings=tuple(findings))


def check_unit(text: str, path: str) -> None:
    """A ConfigError unless text is a systemd service unit: a [Service] section with ExecStart=.

    What `import` must not mistake for a unit: an empty file, random text, a supervisord program section.
    """
    sections = {line.strip(_WS) for line in text.split("\n") if line.strip(_WS).startswith("[")}
    if "[Service]" not in sections:
        found = ", ".join(sorted(sections)[:3]) or "none"
        raise ConfigError(f"not a systemd service unit: no [Service] section (sections: {found})",
                          location=Location(path, 1), hint="name a .service unit file (systemctl cat ollama)")
    if not any(key == "ExecStart" and value for key, value, _ in _service_assignments(text)):
        raise ConfigError("not a systemd service unit: [Service] has no ExecStart=", location=Location(path),
                          hint="a unit that runs Ollama has ExecStart=/path/to/ollama serve")


def _service_assignments(text: str) -> list[tuple[str, str, int]]:
    """`Key=value` lines of the [Service] section, continuation lines joined, with their line numbers."""
    result: list[tuple[str, str, int]] = []
    section, pending, start = "", "", 0
    for number, raw in enumerate(text.split("\n"), start=1):  # not splitlines(): NEL, U+2028 are data
        line = raw.strip(_WS) if not pending else raw.rstrip(_WS)
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending, start = pending + line[:-1] + " ", start or number
            continue
        line, first = pending + line, start or number
        pending, start = "", 0
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Service" and "=" in line:
            key, _, value = line.partition("=")
            result.append((key.strip(_WS), value.strip(_WS), first))
    return result


def _apply_environment(value: str, env: dict[str, str], where: Location, findings: list[Finding]) -> None:
    if not value:
        env.clear()  # an empty assignment resets the list (systemd.exec(5))
        return
    for word in split_words(value):
        name, sep, val = _expand_specifiers(word, where, findings).partition("=")
        if not sep or not name:
            findings.append(Finding("import-ignored", Severity.WARNING, f"{word!r} is not NAME=value",
                                    "systemd ignores it too", where))
            continue
        env.pop(name, None)  # a later assignment moves the variable to the end, as systemd orders it
        env[name] = val


def _expand_specifiers(word: str, where: Location, findings: list[Finding]) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1) == "%":
            return "%"
        findings.append(Finding("import-specifier", Severity.WARNING,
                                f"specifier %{match.group(1)} in {word!r} is kept as written",
                                "systemd expands it per unit; write the value it stands for", where))
        return match.group(0)

    return _SPECIFIER.sub(one, word)


def split_words(text: str) -> list[str]:
    """systemd's word splitting with unquoting and C unescaping (extract_first_word, relaxed)."""
    words: list[str] = []
    current: list[str] | None = None
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is None and ch in " \t":
            if current is not None:
                words.append("".join(current))
            current, i = None, i + 1
            continue
        current = current if current is not None else []
        if ch == "\\" and i + 1 < len(text):
            decoded, i = _unescape(text, i + 1)
            current.append(decoded)
            continue
        if quote is None and ch in "\"'":
            quote = ch
        elif ch == quote:
            quote = None
        else:
            current.append(ch)
        i += 1
    if current is not None:
        words.append("".join(current))
    return words


def _unescape(text: str, i: int) -> tuple[str, int]:
    """The character a backslash escape at text[i] stands for, and the index after it."""
    ch = text[i]
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch], i + 1
    width = _HEX_ESCAPES.get(ch)
    if width and re.fullmatch(r"[0-9A-Fa-f]+", text[i + 1:i + 1 + width] or "x"):
        return chr(int(text[i + 1:i + 1 + width], 16)), i + 1 + width
    if re.fullmatch(r"[0-7]{3}", text[i:i + 3]):
        return chr(int(text[i:i + 3], 8)), i + 3
    return ch, i + 1  # relaxed: an unknown escape stands for the character itself


def _unit_stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.removesuffix(".service")


def _exec_binary(exec_start: str) -> str | None:
    words = split_words(exec_start)
    if not words:
        return None
    return words[0].lstrip("@-:+!") or None


def _systemd_log_path(values: dict[str, tuple[str, str]]) -> str | None:
    for key in ("StandardError", "StandardOutput"):
        kind, _, target = values.get(key, ("", ""))[0].partition(":")
        if kind in ("append", "file", "truncate") and target:
            return target.replace("%%", "%")
    return None
