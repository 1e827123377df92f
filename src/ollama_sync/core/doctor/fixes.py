"""The exact commands a finding tells the user to run, per service manager (pure).

launchd commands name the domain the manager reported (`gui/501`, or `user/501` over SSH), else the
scope's usual one; systemd ones carry `--user` or `sudo` by scope; supervisord ones the program name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Target


@dataclass(frozen=True)
class FixCommands:
    """Commands for one service on one machine."""

    target: Target
    uid: int
    domain: str | None = None  # launchd domain reported by the manager

    @property
    def _launchd_service(self) -> str:
        domain = self.domain or ("system" if self.target.scope is Scope.SYSTEM else f"gui/{self.uid}")
        return f"{domain}/{self.target.name}"

    @property
    def _sudo(self) -> str:
        return "sudo " if self.target.scope is Scope.SYSTEM else ""

    @property
    def _systemctl(self) -> str:
        return "sudo systemctl" if self.target.scope is Scope.SYSTEM else "systemctl --user"

    def restart(self) -> str:
        """Restart the server with the file the manager has."""
        match self.target.backend:
            case Backend.LAUNCHD:
                return f"{self._sudo}launchctl kickstart -k {self._launchd_service}"
            case Backend.SYSTEMD:
                return f"{self._systemctl} restart {self.target.name}"
            case Backend.SUPERVISORD:
                return f"supervisorctl restart {self.target.name}"

    def enable(self) -> str:
        """Allow the manager to start the service again."""
        match self.target.backend:
            case Backend.LAUNCHD:
                return f"{self._sudo}launchctl enable {self._launchd_service} && ollama-sync apply"
            case Backend.SYSTEMD:
                return f"{self._systemctl} enable --now {self.target.name}"
            case Backend.SUPERVISORD:
                return "ollama-sync apply"

    def stop(self) -> str:
        """Stop the service and keep it from starting again."""
        match self.target.backend:
            case Backend.LAUNCHD:
                return f"{self._sudo}launchctl bootout {self._launchd_service}"
            case Backend.SYSTEMD:
                return f"{self._systemctl} disable --now {self.target.name}"
            case Backend.SUPERVISORD:
                return f"supervisorctl stop {self.target.name}"

    def logs(self) -> str:
        """Show the server's recent output."""
        if self.target.log_path:
            return f"tail -n 50 {self.target.log_path}"
        match self.target.backend:
            case Backend.SYSTEMD:
                flag = "" if self.target.scope is Scope.SYSTEM else "--user "
                return f"{self._sudo}journalctl {flag}-u {self.target.name} -n 50"
            case Backend.SUPERVISORD:
                return f"supervisorctl tail {self.target.name}"
            case Backend.LAUNCHD:
                return f"log show --last 10m --predicate 'process == \"launchd\"' | grep {self.target.name}"

    def chown(self, user: str, path: str, *, recursive: bool = False) -> str:
        """Give a path to a user."""
        flag = "-R " if recursive else ""
        return f"sudo chown {flag}{user} {path}"
