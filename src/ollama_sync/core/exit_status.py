"""What a server process's last exit status means, for status and doctor (sysexits(3), signals, systemd).

launchd reports `last exit code = N` or `-N` after signal N; systemd `ExecMainStatus` (with its own
200–243 codes when it could not even start the program); supervisord `exitstatus`.
"""

from __future__ import annotations

from typing import Final

SIGNALS: Final = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
                  9: "SIGKILL", 10: "SIGBUS/SIGUSR1", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"}
_SIGNAL_MEANING: Final = {
    9: "killed (SIGKILL): out of memory (the kernel or jetsam), or a forced stop",
    15: "stopped (SIGTERM): a normal stop or restart",
    2: "interrupted (SIGINT)",
    6: "aborted (SIGABRT): the server crashed",
    11: "crashed (SIGSEGV)",
}
_CODES: Final = {
    0: "exited normally",
    1: "failed: `ollama serve` printed `Error: …` (e.g. address already in use); see the server log",
    2: "usage error: the program was started with arguments it does not accept",
    64: "EX_USAGE: the command line was wrong",
    69: "EX_UNAVAILABLE: a service the program needs is unavailable",
    70: "EX_SOFTWARE: internal software error",
    71: "EX_OSERR: an operating-system error (e.g. cannot fork)",
    73: "EX_CANTCREAT: cannot create an output file (e.g. the log file)",
    74: "EX_IOERR: input/output error",
    75: "EX_TEMPFAIL: temporary failure",
    77: "EX_NOPERM: permission denied",
    78: "EX_CONFIG: configuration error — launchd could not start the job as configured "
        "(program path missing or not executable, log folder missing, a bad key in the plist)",
    126: "the program exists but could not be executed (permissions, wrong architecture)",
    127: "the program was not found",
    200: "systemd EXIT_CHDIR: the working directory is missing",
    203: "systemd EXIT_EXEC: the program could not be executed (missing binary or not executable)",
    209: "systemd EXIT_STDOUT: the log file given to StandardOutput= could not be opened",
    217: "systemd EXIT_USER: the User= account does not exist",
    226: "systemd EXIT_NAMESPACE: a sandboxing path could not be set up",
}


def explain_exit_status(code: int) -> str:
    """A one-line meaning of an exit status (negative: the signal that ended the process)."""
    if code < 0:
        return _signal(-code)
    if 128 < code < 160:
        return _signal(code - 128) + " (status 128+N)"
    return _CODES.get(code, f"exited with status {code}")


def _signal(number: int) -> str:
    return _SIGNAL_MEANING.get(number, f"ended by signal {number} ({SIGNALS.get(number, 'unknown')})")


def is_failure(code: int | None) -> bool:
    """True when an exit status means something went wrong (not exit 0 and not a polite SIGTERM)."""
    return code is not None and code not in (0, -15, 143)
