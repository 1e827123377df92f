"""What launchctl's exit statuses and messages mean: a typed outcome per call, and readable explanations.

launchctl exits with the error number it prints (launchctl(1), EXIT STATUS); numbers from 107 up are
launchd/XPC errors, lower ones errno values. Legacy `load`/`unload` exit 0 even when they fail, so
their outcome is read from the text alone. Sources: ../shared/fixtures/macos/SEMANTICS.md §3–4.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from ollama_sync.errors import CommandError
from ollama_sync.system.runner import Completed


class Outcome(StrEnum):
    """The kind of answer launchctl gave."""

    OK = "ok"
    NOT_LOADED = "not loaded"  # 3 ESRCH (bootout), 113 (print, kickstart, list)
    IN_PROGRESS = "in progress"  # 36: a bootout still draining
    DISABLED = "disabled"  # 119
    DOMAIN_UNSUPPORTED = "domain unsupported"  # 112/125: no gui/<uid> (SSH, headless)
    ALREADY_LOADED = "already loaded"  # 37, or legacy "service already loaded"
    IO_ERROR = "input/output error"  # 5: launchd's catch-all (already loaded, draining, bad plist, …)
    INVALID_PLIST = "invalid property list"  # 109
    BAD_PERMISSIONS = "bad ownership or permissions"  # 122
    SESSION_MISMATCH = "session type mismatch"  # 134: LimitLoadToSessionType excludes the domain
    NOT_PERMITTED = "not permitted"  # 1: another user's domain without root
    USAGE = "usage error"  # 64: unknown target specifier or flag
    VERB_MISSING = "subcommand missing"  # a launchctl older than the modern verbs
    FAILED = "failed"


# The text wins over the number: a 2017 bootstrap printed "Invalid property list" and exited 133.
_TEXT: Final[tuple[tuple[Outcome, re.Pattern[str]], ...]] = (
    (Outcome.VERB_MISSING, re.compile(r"unknown subcommand|unrecognized subcommand|unknown command", re.I)),
    (Outcome.INVALID_PLIST, re.compile(r"Invalid property list")),
    (Outcome.BAD_PERMISSIONS, re.compile(r"bad ownership/permissions|Dubious (?:ownership|permissions)")),
    (Outcome.DISABLED, re.compile(r"Service is disabled")),
    (Outcome.DOMAIN_UNSUPPORTED, re.compile(r"Domain does not support specified action|Could not find domain")),
    (Outcome.NOT_LOADED, re.compile(r"Could not find (?:service|specified service)|No such process")),
    (Outcome.IN_PROGRESS, re.compile(r"Operation now in progress")),
    (Outcome.ALREADY_LOADED, re.compile(
        r"service already loaded|already bootstrapped|Operation already in progress", re.I)),
    (Outcome.SESSION_MISMATCH, re.compile(r"cannot load in requested session", re.I)),
    (Outcome.NOT_PERMITTED, re.compile(r"Operation not permitted")),
    (Outcome.USAGE, re.compile(r"Unrecognized target specifier|^Usage:", re.M)),
    (Outcome.IO_ERROR, re.compile(r"Input/output error")),
)
_CODES: Final = {
    3: Outcome.NOT_LOADED, 113: Outcome.NOT_LOADED, 36: Outcome.IN_PROGRESS, 119: Outcome.DISABLED,
    112: Outcome.DOMAIN_UNSUPPORTED, 125: Outcome.DOMAIN_UNSUPPORTED, 37: Outcome.ALREADY_LOADED,
    5: Outcome.IO_ERROR, 109: Outcome.INVALID_PLIST, 122: Outcome.BAD_PERMISSIONS,
    134: Outcome.SESSION_MISMATCH, 1: Outcome.NOT_PERMITTED, 64: Outcome.USAGE,
}
_FAILED_N: Final = re.compile(r"failed: (\d+): ")  # `Bootstrap failed: 5: …`, `Load failed: 134: …`


def classify(returncode: int, output: str) -> Outcome:
    """The outcome of one launchctl call from its exit status and text."""
    if returncode == 0:
        return Outcome.OK
    for outcome, pattern in _TEXT:
        if pattern.search(output):
            return outcome
    numbered = _FAILED_N.search(output)
    if numbered and int(numbered.group(1)) in _CODES:
        return _CODES[int(numbered.group(1))]
    return _CODES.get(returncode, Outcome.FAILED)


_ERRORS: Final = {
    1: "Operation not permitted",
    3: "No such process",
    5: "Input/output error",
    36: "Operation now in progress",
    37: "Operation already in progress",
    64: "usage error",
    109: "Invalid property list",
    111: "Invalid or missing Program/ProgramArguments",
    112: "Could not find specified domain",
    113: "Could not find specified service",
    119: "Service is disabled",
    122: "Path had bad ownership/permissions",
    125: "Domain does not support specified action",
    134: "Service cannot load in requested session",
    161: "Service cannot be launched because of BTM policy",
}
_HINTS: Final = {
    Outcome.IO_ERROR: "launchd's catch-all error: the label may still be loaded or stopping, or the plist is "
                      "unreadable, not owned by you, group/world-writable, or quarantined; run the command "
                      "as root for launchd's detailed reason",
    Outcome.INVALID_PLIST: "the property list does not parse; check it with `plutil -lint`",
    Outcome.BAD_PERMISSIONS: "the plist must be owned by the loading user and not group- or world-writable "
                             "(chmod 644)",
    Outcome.DISABLED: "the service is disabled; `launchctl enable <domain>/<label>` allows it again",
    Outcome.DOMAIN_UNSUPPORTED: "no GUI login session for this user (SSH or headless); the user/<uid> domain "
                                "works without one",
    Outcome.SESSION_MISMATCH: "the plist's LimitLoadToSessionType leaves out this domain's session (user/<uid> "
                              "over SSH is `Background`, gui/<uid> is `Aqua`); ollama-sync writes all five session "
                              "types, so `ollama-sync apply` rewrites a plist made by hand or by an older version",
    Outcome.NOT_PERMITTED: "acting on another user's or the system domain needs root (sudo)",
    Outcome.VERB_MISSING: "this launchctl predates bootstrap/bootout (macOS 10.10)",
}


def explain_error(code: int) -> str:
    """The launchd/errno text for a launchctl error number."""
    return _ERRORS.get(code, f"launchd error {code}")


def hint_for(outcome: Outcome) -> str | None:
    """What usually causes an outcome and what fixes it (None when there is nothing useful to add)."""
    return _HINTS.get(outcome)


def failure(done: Completed, outcome: Outcome, extra: str = "") -> CommandError:
    """A CommandError for a launchctl call (argv, status, its own words), with the usual cause as the hint."""
    error = CommandError(done.argv, done.returncode, done.stdout, done.stderr)
    error.hint = "; ".join(h for h in (hint_for(outcome), extra) if h) or None
    return error


_SYSEXITS: Final = {
    64: "EX_USAGE: command line usage error",
    65: "EX_DATAERR: data format error",
    66: "EX_NOINPUT: cannot open input",
    67: "EX_NOUSER: addressee unknown",
    68: "EX_NOHOST: host name unknown",
    69: "EX_UNAVAILABLE: service unavailable",
    70: "EX_SOFTWARE: internal software error",
    71: "EX_OSERR: system error",
    72: "EX_OSFILE: critical OS file missing",
    73: "EX_CANTCREAT: cannot create output file",
    74: "EX_IOERR: input/output error",
    75: "EX_TEMPFAIL: temporary failure",
    76: "EX_PROTOCOL: remote error in protocol",
    77: "EX_NOPERM: permission denied",
    78: "EX_CONFIG: launchd could not find or execute the program, or could not set up the job "
        "(missing or non-executable binary, unusable log path or working directory)",
}
_SIGNALS: Final = {  # macOS numbering (it differs from Linux for BUS, USR1, USR2, SYS)
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 8: "SIGFPE",
    9: "SIGKILL", 10: "SIGBUS", 11: "SIGSEGV", 12: "SIGSYS", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
    30: "SIGUSR1", 31: "SIGUSR2",
}
_SIGNAL_NOTES: Final = {
    9: "killed (out of memory, or a forced stop)",
    15: "asked to stop",
    6: "aborted (a crash)",
    11: "crashed (segmentation fault)",
    10: "crashed (bus error)",
}


def explain_exit(code: int | None) -> str:
    """Meaning of a last exit status as launchd reports it (negative: the signal that stopped the job)."""
    if code is None:
        return "never exited"
    if code < 0:
        number = -code
        name = _SIGNALS.get(number, f"signal {number}")
        note = _SIGNAL_NOTES.get(number)
        return f"terminated by {name} ({number})" + (f": {note}" if note else "")
    if code == 0:
        return "0 (exited normally)"
    if code in _SYSEXITS:
        return f"{code} ({_SYSEXITS[code]})"
    if code == 1:
        return "1 (a general error; the server prints the reason to its log)"
    return f"{code} (the program's own exit status; see its log)"
