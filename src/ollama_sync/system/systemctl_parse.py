"""Pure parsers for systemd output: `systemctl show -p …`, its `Environment=` words, `/proc/<pid>/environ`.

`show` prints one `Name=value` per line. A string-list property such as `Environment=` is printed as
space-separated words, each passed through systemd's shell_maybe_quote(): a word holding whitespace,
quotes, `\\`, `` ` ``, `$`, glob or shell characters or control bytes is wrapped in double quotes with
`\\`, `"`, `` ` ``, `$` backslash-escaped and control bytes C-escaped (`\\n`, `\\t`, octal `\\NNN`).
Older releases printed the words unquoted; those still parse when no value holds a space.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field
from typing import Final

from ollama_sync.core.observation import RunState, ServiceState

SHOW_PROPERTIES: Final = ("ActiveState", "SubState", "MainPID", "ExecMainStatus", "ExecMainCode",
                          "UnitFileState", "Environment", "LoadState", "NRestarts", "Result")
_SIMPLE_ESCAPES: Final = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_CLD_KILLED: Final = (2, 3)  # ExecMainCode: 1 CLD_EXITED, 2 CLD_KILLED, 3 CLD_DUMPED (waitid(2) si_code)
_ENABLED: Final = frozenset({"enabled", "enabled-runtime", "linked", "linked-runtime", "alias"})
_DISABLED: Final = frozenset({"disabled", "masked", "masked-runtime"})
_OCTAL: Final = re.compile(r"[0-7]{3}")
_HEX: Final = re.compile(r"[0-9a-fA-F]{2}")


@dataclass(frozen=True)
class ShowFacts:
    """The properties `systemctl show` printed for one unit."""

    load_state: str | None = None  # loaded, not-found, masked, error, bad-setting
    active_state: str | None = None  # active, reloading, inactive, failed, activating, deactivating
    sub_state: str | None = None  # running, exited, dead, failed, auto-restart, start, stop-sigterm, …
    main_pid: int | None = None  # None when 0 (no process)
    exec_main_code: int | None = None  # 0: has not exited; 1 exited; 2 killed; 3 dumped core
    exec_main_status: int | None = None  # the exit status, or the signal number when killed
    unit_file_state: str | None = None
    environment: dict[str, str] | None = None  # None when the property was not printed
    n_restarts: int | None = None
    result: str | None = None  # success, exit-code, signal, start-limit-hit, … (systemd.exec Result=)
    values: dict[str, str] = field(default_factory=dict)  # everything printed, verbatim

    @property
    def last_exit(self) -> int | None:
        """The main process's exit status, -N when signal N ended it, None when it has not exited."""
        if not self.exec_main_code or self.exec_main_status is None:
            return None
        return -self.exec_main_status if self.exec_main_code in _CLD_KILLED else self.exec_main_status

    @property
    def enabled(self) -> bool | None:
        """True/False for enabled/disabled unit files; None for static, generated, transient, unknown."""
        if self.unit_file_state in _ENABLED:
            return True
        return False if self.unit_file_state in _DISABLED else None


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.lstrip("-").isdigit() else None


def parse_show(text: str) -> ShowFacts:
    """Parse `systemctl show <unit> -p …` for one unit."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name not in values:
            values[name] = value
    pid = _int(values.get("MainPID"))
    env = values.get("Environment")
    return ShowFacts(
        load_state=values.get("LoadState"), active_state=values.get("ActiveState"),
        sub_state=values.get("SubState"), main_pid=pid or None,
        exec_main_code=_int(values.get("ExecMainCode")), exec_main_status=_int(values.get("ExecMainStatus")),
        unit_file_state=values.get("UnitFileState") or None,
        environment=None if env is None else environment_dict(split_words(env)),
        n_restarts=_int(values.get("NRestarts")), result=values.get("Result") or None, values=values,
    )


def split_words(value: str) -> list[str]:
    """Split a string-list property into its words, undoing systemd's quoting."""
    words: list[str] = []
    i, n = 0, len(value)
    while i < n:
        if value[i] == " ":
            i += 1
        elif value[i] == '"':
            word, i = _quoted(value, i + 1)
            words.append(word)
        else:
            end = value.find(" ", i)
            end = n if end < 0 else end
            words.append(value[i:end])
            i = end
    return words


def _quoted(value: str, i: int) -> tuple[str, int]:
    """The word starting after an opening quote, and the index after its closing quote."""
    out = bytearray()
    n = len(value)
    while i < n and value[i] != '"':
        if value[i] != "\\" or i + 1 >= n:
            out += value[i].encode("utf-8", errors="replace")
            i += 1
            continue
        nxt = value[i + 1]
        if _OCTAL.match(value, i + 1):
            out.append(int(value[i + 1:i + 4], 8) & 0xFF)
            i += 4
        elif nxt == "x" and _HEX.match(value, i + 2):
            out.append(int(value[i + 2:i + 4], 16))
            i += 4
        else:
            code = _SIMPLE_ESCAPES.get(nxt)
            out += bytes([code]) if code is not None else nxt.encode("utf-8", errors="replace")
            i += 2
    return out.decode("utf-8", errors="replace"), i + 1


def environment_dict(words: list[str]) -> dict[str, str]:
    """`NAME=value` words → {NAME: value}; a later assignment wins, as in systemd."""
    env: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if sep and name:
            env[name] = value
    return env


def parse_environ(data: bytes) -> dict[str, str]:
    """`/proc/<pid>/environ` (NUL-separated `NAME=value`) → {NAME: value}."""
    entries = data.decode("utf-8", errors="replace").split("\0")
    return environment_dict([entry for entry in entries if entry])


def run_state(facts: ShowFacts) -> RunState:
    """systemd's ActiveState/SubState as a RunState."""
    if facts.load_state in ("not-found", "masked") and facts.active_state in (None, "inactive"):
        return RunState.NOT_LOADED
    match facts.active_state:
        case "active" | "reloading":
            return RunState.RUNNING if facts.main_pid else RunState.STOPPED  # `exited`: a oneshot
        case "activating":
            return RunState.STARTING  # includes `auto-restart`: waiting to start again after an exit
        case "failed":
            return RunState.FAILED
        case "inactive" | "deactivating":
            return RunState.STOPPED
    return RunState.UNKNOWN


def service_state(facts: ShowFacts, *, domain: str, detail: str = "") -> ServiceState:
    """The ServiceState for parsed `show` output, with the environment systemd passes."""
    notes = [detail] if detail else []
    if facts.sub_state and facts.active_state:
        notes.append(f"{facts.active_state} ({facts.sub_state})")
    if facts.n_restarts:
        notes.append(f"restarted {facts.n_restarts} times by systemd")
    if facts.last_exit not in (None, 0):
        notes.append(f"last exit: {explain_status(facts)}")
    if facts.load_state not in (None, "loaded", "not-found"):
        notes.append(f"unit {facts.load_state}")
    env = None if facts.environment is None else tuple(sorted(facts.environment.items()))
    loop = is_crash_loop(facts)
    reason = ""
    if loop:
        reason = f"systemd: {facts.active_state} ({facts.sub_state}), last exit: {explain_status(facts)}"
        if facts.n_restarts:
            reason += f", restarted {facts.n_restarts} times"
    return ServiceState(state=run_state(facts), pid=facts.main_pid, last_exit=facts.last_exit,
                        enabled=facts.enabled, environment=env, domain=domain, detail="; ".join(notes),
                        runs=facts.n_restarts, crash_loop=loop, crash_reason=reason)


def is_crash_loop(facts: ShowFacts) -> bool:
    """systemd waits to start a server that failed again (`auto-restart`), or gave up (`start-limit-hit`)."""
    if facts.sub_state == "auto-restart" and facts.last_exit not in (None, 0):
        return True
    return facts.active_state == "failed" and facts.result == "start-limit-hit"


def explain_status(facts: ShowFacts) -> str:
    """`status 1`, or `signal 9 (SIGKILL)` / `signal 6 (SIGABRT), core dumped`."""
    if facts.exec_main_code in _CLD_KILLED and facts.exec_main_status is not None:
        number = facts.exec_main_status
        try:
            name = signal.Signals(number).name  # Linux numbering: this output comes from this machine
        except ValueError:
            name = f"signal {number}"
        core = ", core dumped" if facts.exec_main_code == 3 else ""
        return f"signal {number} ({name}){core}"
    return f"status {facts.exec_main_status}"


_FAILURE_HINTS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"has not been booted with systemd|Host is down"),
     'this machine does not run systemd; choose backend = "supervisord"'),
    (re.compile(r"Failed to connect to (?:user scope )?bus|DBUS_SESSION_BUS_ADDRESS|XDG_RUNTIME_DIR"),
     "no systemd user manager is reachable from this session (su, sudo, cron, SSH without lingering); "
     "log in normally or run `loginctl enable-linger $USER`"),
    (re.compile(r"Access denied|Interactive authentication required|Permission denied"),
     'system units need root: run with sudo, or declare scope = "user"'),
    (re.compile(r"Unit \S+ not found|No such file or directory"),
     "systemd does not know the unit; `ollama-sync apply` writes it and runs daemon-reload"),
    (re.compile(r"Job for \S+ failed|control process exited with error code"),
     "the server did not start; its log says why (`ollama-sync status`, or journalctl -u <unit>)"),
)


def failure_hint(output: str) -> str | None:
    """The usual cause of a systemctl/journalctl failure, read from what it printed."""
    for pattern, hint in _FAILURE_HINTS:
        if pattern.search(output):
            return hint
    return None


def is_manager_unreachable(output: str) -> bool:
    """True when systemctl could not talk to systemd at all (no systemd, no user bus)."""
    return failure_hint(output) in (_FAILURE_HINTS[0][1], _FAILURE_HINTS[1][1])
