"""`lsof -nP -iTCP:<port> -sTCP:LISTEN -Fpcn`: who listens on a TCP port (macOS, where psutil needs root).

Field output (lsof(8) OUTPUT FOR OTHER PROGRAMS): one field per line, its first character naming it:
`p` starts a process (PID), `c` its command name, `f` starts a file (fd; always added), `n` the
file's name (`127.0.0.1:11434`, `*:11434`, `[::1]:11434`). lsof exits 1 when nothing matches.
"""

from __future__ import annotations

from ollama_sync.core.network import Listener
from ollama_sync.system.runner import Runner


def lsof_argv(port: int) -> list[str]:
    """The exact command: numeric addresses and ports, listening TCP sockets on port, field output."""
    return ["lsof", "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpcn"]


def parse_fields(text: str) -> list[Listener]:
    """Listeners from `-Fpcn` output: one per (process, socket name)."""
    listeners: list[Listener] = []
    pid: int | None = None
    command = ""
    for line in text.splitlines():
        if not line:
            continue
        tag, value = line[0], line[1:]
        if tag == "p":
            pid, command = (int(value) if value.isdigit() else None), ""
        elif tag == "c":
            command = value.replace("\\x20", " ")  # lsof escapes spaces in names
        elif tag == "n":
            listeners.append(Listener(pid, command, value))
    return listeners


def listeners_on(runner: Runner, port: int) -> list[Listener]:
    """Who listens on port, as lsof sees it (status 1 with no output: nobody)."""
    done = runner.run(lsof_argv(port), ok_codes=(0, 1), timeout=3)
    return parse_fields(done.stdout)
