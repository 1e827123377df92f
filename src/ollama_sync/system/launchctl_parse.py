"""Pure parsers for launchctl output: `print <service>`, `print-disabled`, `list` and `list <label>`.

`print` output "is NOT API" (launchctl(1)): only the top-level `key = value` lines and the block named
exactly `environment` are read, found by nesting depth rather than by indentation (pasted and old
outputs use spaces instead of tabs). Formats: ../shared/fixtures/macos/SEMANTICS.md §4–5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from ollama_sync.core.observation import RunState, ServiceState
from ollama_sync.system.launchctl_errors import explain_exit

_OPEN: Final = re.compile(r"^(?P<key>.+?) =>? \{$")  # `environment = {`, `name => {` (event triggers)
_LEADING_INT: Final = re.compile(r"^(-?\d+)")
_SIGNAL: Final = re.compile(r":\s*(\d+)\s*$")  # `last terminating signal = Terminated: 15`
_STATES: Final = {
    "running": RunState.RUNNING,
    "not running": RunState.STOPPED,
    "spawn scheduled": RunState.STARTING,  # the throttle window before a respawn
    "spawning": RunState.STARTING,
    "SIGTERMed": RunState.STOPPED,  # being stopped
    "SIGKILLed": RunState.STOPPED,
    "exited": RunState.STOPPED,
}
_POLITE_STOPS: Final = (0, -15)  # exit 0, or SIGTERM from bootout/kickstart -k: not a failure


@dataclass(frozen=True)
class PrintFacts:
    """What `launchctl print <domain>/<label>` says about one service."""

    target: str  # the first line's name: `gui/501/<label>` (a bare label on old releases)
    state: str | None = None  # `running`, `not running`, `spawn scheduled`, …
    pid: int | None = None
    last_exit: int | None = None  # exit code, or -N after terminating signal N; None: never exited / not shown
    never_exited: bool = False
    environment: dict[str, str] | None = None  # the `environment` block: what launchd passes (None: absent)
    program: str | None = None
    arguments: tuple[str, ...] = ()
    domain: str | None = None  # `gui/501`, `user/501`, `system`
    path: str | None = None  # the plist launchd loaded
    stdout_path: str | None = None
    stderr_path: str | None = None
    properties: tuple[str, ...] = ()  # `keepalive`, `runatload`, …
    runs: int | None = None
    scalars: dict[str, str] = field(default_factory=dict)  # every top-level `key = value`


def _sections(text: str) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """The header name, the top-level scalars and the lines directly inside each top-level block."""
    header = ""
    scalars: dict[str, str] = {}
    blocks: dict[str, list[str]] = {}
    depth = 0
    block: str | None = None
    for raw in text.splitlines():
        line = raw.lstrip()
        bare = line.rstrip()
        if not bare:
            continue
        if bare == "}":
            depth = max(depth - 1, 0)
            block = None if depth <= 1 else block
            continue
        opened = _OPEN.match(bare)
        if opened:
            if depth == 0:
                header = opened.group("key")
            elif depth == 1:
                block = opened.group("key")
                blocks[block] = []
            depth += 1
        elif depth == 1:
            key, sep, value = line.partition(" = ")
            if sep:
                scalars.setdefault(key, value)
        elif depth == 2 and block is not None:
            blocks[block].append(line)
    return header, scalars, blocks


def _env_entries(lines: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(" => ")
        if not sep and line.rstrip().endswith(" =>"):  # an empty value, trailing space trimmed
            key, sep, value = line.rstrip()[:-3], " => ", ""
        if sep:
            env[key] = value
    return env


def _int(text: str | None) -> int | None:
    match = _LEADING_INT.match(text.strip()) if text else None
    return int(match.group(1)) if match else None


def _domain(header: str, scalar: str | None) -> str | None:
    """`gui/501` from the header `gui/501/<label>`, else the `domain = …` line without its `[asid]`."""
    parts = header.split("/")
    if len(parts) >= 3 and parts[0] in ("gui", "user", "pid", "login"):
        return "/".join(parts[:2])
    if header.startswith("system/"):
        return "system"
    if scalar is None:
        return None
    value = scalar.split(" [")[0].strip()
    return "system" if value == "com.apple.xpc.launchd.domain.system" else value


def parse_print(text: str) -> PrintFacts:
    """Parse `launchctl print <domain>/<label>` (stdout of a successful call)."""
    header, scalars, blocks = _sections(text)
    exit_text = scalars.get("last exit code")
    last_exit = _int(exit_text)
    signal = _SIGNAL.search(scalars.get("last terminating signal", ""))
    if last_exit is None and signal:
        last_exit = -int(signal.group(1))
    env = blocks.get("environment")
    props = scalars.get("properties")
    return PrintFacts(
        target=header,
        state=scalars.get("state"),
        pid=_int(scalars.get("pid")),
        last_exit=last_exit,
        never_exited=exit_text is not None and "never exited" in exit_text,
        environment=None if env is None else _env_entries(env),
        program=scalars.get("program"),
        arguments=tuple(line.rstrip() for line in blocks.get("arguments", [])),
        domain=_domain(header, scalars.get("domain")),
        path=scalars.get("path"),
        stdout_path=scalars.get("stdout path"),
        stderr_path=scalars.get("stderr path"),
        properties=tuple(p.strip() for p in props.split("|")) if props else (),
        runs=_int(scalars.get("runs")),
        scalars=scalars,
    )


def run_state(state: str | None, pid: int | None, last_exit: int | None) -> RunState:
    """launchd's `state` as a RunState; a stopped job whose last exit was an error counts as failed."""
    if state is None:
        return RunState.RUNNING if pid else RunState.UNKNOWN
    mapped = _STATES.get(state, RunState.UNKNOWN)
    if mapped is RunState.STOPPED and state == "not running" and last_exit not in (None, *_POLITE_STOPS):
        return RunState.FAILED  # KeepAlive jobs land here between crash-loop respawns
    return mapped


def service_state(facts: PrintFacts, *, domain: str, enabled: bool | None, detail: str = "") -> ServiceState:
    """The ServiceState for a parsed `print`, with what launchd passes as the environment."""
    state = run_state(facts.state, facts.pid, facts.last_exit)
    notes = [detail] if detail else []
    if state is RunState.UNKNOWN and facts.state:
        notes.append(f"launchd state: {facts.state}")
    if facts.last_exit not in (None, 0):
        notes.append(f"last exit: {explain_exit(facts.last_exit)}")
    env = None if facts.environment is None else tuple(sorted(facts.environment.items()))
    loop = is_crash_loop(facts)
    reason = crash_loop_reason(facts) if loop else ""
    return ServiceState(state=state, pid=facts.pid, last_exit=facts.last_exit, enabled=enabled,
                        environment=env, domain=domain, detail="; ".join(notes), runs=facts.runs,
                        crash_loop=loop, crash_reason=reason)


def is_crash_loop(facts: PrintFacts) -> bool:
    """KeepAlive waiting to respawn a server that exited with an error: `spawn scheduled` (the throttle window).

    Not a loop: the first scheduled launch (no exit yet), and exit 0 or SIGTERM — what `ollama serve` ends
    with when bootout or `kickstart -k` stop it (it catches SIGTERM and returns cleanly). A job respawned
    over and over shows a growing `runs` (ryantm/agenix#308: `spawn scheduled`, `runs = 640`), which the
    caller compares between two looks (observation.restarted_since); that also catches a loop seen while
    `running` (leeguooooo/iphone-use#28: `state = running`, `runs = 38771`, `last exit code = 1`).
    """
    if facts.pid is not None or facts.last_exit in (None, *_POLITE_STOPS):
        return False
    return facts.state == "spawn scheduled"


def crash_loop_reason(facts: PrintFacts) -> str:
    """launchd's own words for a crash loop, with the last exit explained."""
    runs = f" after {facts.runs} runs" if facts.runs is not None else ""
    throttle = facts.scalars.get("minimum runtime", "10").split()[0]
    return (f"launchd: {facts.state}{runs} (KeepAlive starts it again at most every {throttle} s), "
            f"last exit: {explain_exit(facts.last_exit)}")


def parse_domain_services(text: str) -> list[ListEntry]:
    """The `services = {` block of `launchctl print <domain>`: `<pid> <last exit|-> <label>` per line.

    pid 0 means not running (as `launchctl print system` shows idle daemons); the status column reads as
    `launchctl list`'s: the last exit status, negative for the signal that stopped the job, `-` for none.
    """
    _, _, blocks = _sections(text)
    entries = []
    for line in blocks.get("services", []):
        fields = line.split(None, 2)
        if len(fields) != 3 or not re.fullmatch(r"\d+", fields[0]):
            continue
        pid, status, label = fields
        entries.append(ListEntry(label.strip(), int(pid) or None, None if status == "-" else _int(status)))
    return entries


def parse_print_disabled(text: str) -> dict[str, bool]:
    """`print-disabled <domain>` → {label: is_disabled}; `=> disabled|enabled` (Big Sur+) or `=> true|false`."""
    found: dict[str, bool] = {}
    for line in text.splitlines():
        match = re.match(r'\s*"([^"]+)" => (\w+)', line)
        if match and match.group(2) in ("disabled", "true", "enabled", "false"):
            found[match.group(1)] = match.group(2) in ("disabled", "true")
    return found


@dataclass(frozen=True)
class ListEntry:
    """One job as `launchctl list` shows it."""

    label: str
    pid: int | None  # None: not running (`-`)
    status: int | None  # last exit status: the exit code, or -N when signal N stopped it (launchctl(1))


@dataclass(frozen=True)
class ListedJob:
    """`launchctl list <label>`: the job's dictionary (`{ "Key" = value; … };`)."""

    label: str | None
    pid: int | None  # present only while running
    last_exit_status: int | None  # the raw wait(2) status: exit 1 shows as 256, SIGTERM as 15
    program: str | None
    arguments: tuple[str, ...]
    values: dict[str, str]  # every scalar, strings unquoted

    @property
    def last_exit(self) -> int | None:
        """The exit code, or -N for signal N (the table's convention)."""
        raw = self.last_exit_status
        if raw is None:
            return None
        return -(raw & 0x7F) if raw & 0x7F else raw >> 8


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\(.)', r"\1", value[1:-1])
    return value


def parse_list_job(text: str) -> ListedJob:
    """Parse `launchctl list <label>` (nested dictionaries are skipped, arrays kept as argv)."""
    values: dict[str, str] = {}
    arrays: dict[str, list[str]] = {}
    depth = 0  # inside a nested dictionary (skipped)
    array: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if depth:
            depth += line.endswith("{") - (line == "};")
        elif not line or line in ("{", "};"):  # the outer braces
            continue
        elif line.endswith("= {"):
            depth = 1
        elif line == ");":
            array = None
        elif array is not None:
            arrays[array].append(_unquote(line.rstrip(";")))
        else:
            key, sep, value = line.partition(" = ")
            if value == "(":
                array = _unquote(key)
                arrays[array] = []
            elif sep:
                values[_unquote(key)] = _unquote(value.rstrip(";"))
    return ListedJob(label=values.get("Label"), pid=_int(values.get("PID")),
                     last_exit_status=_int(values.get("LastExitStatus")), program=values.get("Program"),
                     arguments=tuple(arrays.get("ProgramArguments", ())), values=values)


def parse_list(text: str) -> list[ListEntry]:
    """`launchctl list` (table, header optional, tabs or spaces) or `launchctl list <label>` (one entry)."""
    if text.lstrip().startswith("{"):
        job = parse_list_job(text)
        return [ListEntry(job.label or "", job.pid, job.last_exit)]
    entries = []
    for line in text.splitlines():
        fields = line.split(None, 2)
        if len(fields) != 3 or fields[:2] == ["PID", "Status"]:
            continue
        pid, status, label = fields
        entries.append(ListEntry(label.strip(), None if pid == "-" else _int(pid), _int(status)))
    return entries
