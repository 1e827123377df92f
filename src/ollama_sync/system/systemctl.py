"""systemd: load, restart, stop and inspect the unit with `systemctl [--user]`, its log with journalctl.

A full unit (ollama-sync owns the service) is enabled on load and disabled on stop. A drop-in (the unit
belongs to Ollama's installer, which rewrites it on upgrade) only changes the environment: enabling the
installer's unit stays the installer's business, so load and stop leave it as they find it.
`systemctl restart` waits for the start job, so no polling is needed here; health is the caller's check.
"""

from __future__ import annotations

from ollama_sync.core.observation import RunState, ServiceState
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target
from ollama_sync.errors import CommandError, OllamaSyncError
from ollama_sync.system.files import Files
from ollama_sync.system.log_file import tail_lines
from ollama_sync.system.runner import Completed, Runner
from ollama_sync.system.systemctl_parse import (
    SHOW_PROPERTIES,
    failure_hint,
    is_manager_unreachable,
    parse_environ,
    parse_show,
    service_state,
)

SYSTEMCTL = "systemctl"
JOURNALCTL = "journalctl"


class SystemdManager:
    """The ServiceManager for systemd (Linux), user or system units."""

    backend = Backend.SYSTEMD

    def __init__(self, runner: Runner, files: Files, machine: Machine) -> None:
        self._runner, self._files, self._machine = runner, files, machine

    @staticmethod
    def unit(target: Target) -> str:
        """The unit name: `<name>.service`."""
        return f"{target.name}.service"

    @staticmethod
    def systemctl_argv(target: Target, *args: str) -> list[str]:
        """`systemctl [--user] args…` for the target's scope."""
        return [SYSTEMCTL, *(["--user"] if target.scope is Scope.USER else []), *args]

    def load(self, target: Target) -> None:
        """daemon-reload (systemd rereads unit files and drop-ins), enable a full unit, restart."""
        self._run(self.systemctl_argv(target, "daemon-reload"))
        if not target.dropin:
            self._run(self.systemctl_argv(target, "enable", self.unit(target)))
        self.restart(target)

    def restart(self, target: Target) -> None:
        """`systemctl restart`: stops the server if running, starts it from the loaded unit."""
        self._run(self.systemctl_argv(target, "restart", self.unit(target)))

    def stop(self, target: Target) -> None:
        """Stop the server; a full unit is also disabled so it does not start at the next boot/login."""
        self._run(self.systemctl_argv(target, "stop", self.unit(target)))
        if not target.dropin:
            self._run(self.systemctl_argv(target, "disable", self.unit(target)))

    def state(self, target: Target) -> ServiceState:
        """`systemctl show -p …`: state, pid, last exit, enablement and the Environment= systemd passes."""
        domain = target.scope.value
        argv = self.systemctl_argv(target, "show", self.unit(target), "-p", ",".join(SHOW_PROPERTIES),
                                   "--no-pager")
        done = self._runner.run(argv, ok_codes=None)
        if done.returncode != 0:
            if is_manager_unreachable(done.output):
                reason = done.output.strip().splitlines()[0] if done.output.strip() else "no systemd"
                return ServiceState(RunState.UNKNOWN, domain=domain,
                                    detail=f"systemd is not reachable: {reason}; {failure_hint(done.output)}")
            raise self._error(done)
        return service_state(parse_show(done.stdout), domain=domain)

    def is_active(self, target: Target) -> str:
        """`systemctl is-active`: active, activating, inactive, failed, … (its exit status is not an error)."""
        done = self._runner.run(self.systemctl_argv(target, "is-active", self.unit(target)), ok_codes=None)
        words = done.stdout.split()
        if not words:
            raise self._error(done)
        return words[0]

    def live_environment(self, pid: int) -> dict[str, str] | None:
        """The running server's real environment from /proc/<pid>/environ; None when it cannot be read."""
        try:
            data = self._files.read_bytes(f"/proc/{pid}/environ")
        except OllamaSyncError:  # another user's process: permission denied
            return None
        return None if data is None else parse_environ(data)

    def log_tail(self, target: Target, lines: int = 200) -> list[str]:
        """The unit's log file when one is set, else its journal (`journalctl -u … -o cat`)."""
        if target.log_path:
            return tail_lines(self._files, target.log_path, lines)
        argv = [JOURNALCTL, *(["--user"] if target.scope is Scope.USER else []), "-u", self.unit(target),
                "-n", str(lines), "--no-pager", "-o", "cat"]
        done = self._run(argv)
        return [line for line in done.stdout.splitlines() if line != "-- No entries --"]

    def _run(self, argv: list[str]) -> Completed:
        done = self._runner.run(argv, ok_codes=None)
        if done.returncode != 0:
            raise self._error(done)
        return done

    @staticmethod
    def _error(done: Completed) -> CommandError:
        error = CommandError(done.argv, done.returncode, done.stdout, done.stderr)
        error.hint = failure_hint(done.output)
        return error
