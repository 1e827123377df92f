"""Other Ollama servers on this machine: `ollama serve` processes and the Ollama desktop app (psutil).

Homebrew's `brew services` runs `/opt/homebrew/opt/ollama/bin/ollama serve`; the desktop app runs
`Ollama.app/Contents/Resources/ollama serve` and, when its server cannot bind, kills every other
`ollama serve` (ollama-server-facts.md §6). Both fight a managed service for port 11434.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_sync.core.machine_facts import OllamaProcess


def ollama_processes() -> tuple[OllamaProcess, ...]:
    """Every `ollama serve` process and any running Ollama.app, by pid."""
    import psutil  # noqa: PLC0415  # imported only when processes are listed

    from ollama_sync.core.machine_facts import OllamaProcess, classify_process  # noqa: PLC0415  # doctor only

    found: list[OllamaProcess] = []
    for proc in psutil.process_iter(["pid", "ppid", "cmdline", "exe"]):
        info = proc.info
        args = tuple(info.get("cmdline") or ())
        if not args:
            continue
        is_server, is_app, kind = classify_process(args, info.get("exe") or "")
        if is_server or is_app:
            found.append(OllamaProcess(info["pid"], info.get("ppid"), " ".join(args), kind, is_app))
    return tuple(sorted(found, key=lambda p: p.pid))


def descendants(pid: int) -> frozenset[int]:
    """pid and every process below it (a service manager may start the server through a wrapper)."""
    import psutil  # noqa: PLC0415  # 16 ms (psutil): only when processes are listed

    try:
        return frozenset({pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))})
    except (psutil.Error, OSError):
        return frozenset({pid})


def started_at(pid: int) -> float | None:
    """When a process started (seconds since the epoch), or None when it is gone or hidden."""
    import psutil  # noqa: PLC0415  # 16 ms (psutil): only when processes are listed

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return None
