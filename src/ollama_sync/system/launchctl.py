"""launchd: load, restart, stop and inspect the agent with modern `launchctl` verbs in an explicit domain.

User scope uses `gui/<uid>`, falling back to `user/<uid>` when launchctl answers 112/125 (no GUI login:
SSH, headless); system scope uses `system`. `bootout` is asynchronous, so it is repeated with a bounded
backoff while launchctl says 36 or `print` still lists the job; `bootstrap` straight after it can fail
with 5 and is retried the same way; 119 (disabled) is answered by `enable` and one retry. A launchctl
without the modern verbs (before macOS 10.10; Ollama needs macOS 14) is an error that says so.

A 112/125 from `bootout gui/<uid>/<label>` does not prove the job is gone (a locked screen, sudo, macOS 26
answer 125 for a domain that exists): `print` is asked, and a job still listed there stops the load or
stop with a clear message instead of a second copy being bootstrapped into `user/<uid>`. A job running
in `user/<uid>` carries a warning: launchd does not load it again after a reboot until the user logs in
at the screen (nix-community/home-manager#9656, reverted in #9660).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from ollama_sync.core.observation import RunState, ServiceState
from ollama_sync.core.settings import Backend, Scope
from ollama_sync.core.target import Machine, Target
from ollama_sync.errors import OllamaSyncError, Unsupported
from ollama_sync.system.files import Files
from ollama_sync.system.launchctl_errors import Outcome, classify, failure
from ollama_sync.system.launchctl_parse import parse_print, parse_print_disabled, service_state
from ollama_sync.system.log_file import tail_lines
from ollama_sync.system.pacer import Pacer
from ollama_sync.system.runner import Completed, Runner

LAUNCHCTL = "launchctl"


class _DomainUnavailable(Exception):
    """launchctl said 112/125 for a domain: try the next candidate."""

    def __init__(self, domain: str, done: Completed) -> None:
        super().__init__(domain)
        self.done = done


class LaunchdManager:
    """The ServiceManager for launchd (macOS)."""

    backend = Backend.LAUNCHD

    def __init__(self, runner: Runner, files: Files, machine: Machine, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 max_wait: float = 10.0) -> None:
        self._runner, self._files, self._machine = runner, files, machine
        self._sleep, self._clock, self.max_wait = sleep, clock, max_wait
        self._gui_unavailable = False

    # -- domains ---------------------------------------------------------------------------------

    def domains(self, target: Target) -> list[str]:
        """Candidate domains, preferred first: `system`, or `gui/<uid>` then `user/<uid>`."""
        if target.scope is Scope.SYSTEM:
            return ["system"]
        uid = self._machine.uid
        return [f"user/{uid}"] if self._gui_unavailable else [f"gui/{uid}", f"user/{uid}"]

    def _fallback_note(self) -> str:
        uid = self._machine.uid
        if not self._gui_unavailable:
            return ""
        return f"gui/{uid} is unavailable (no GUI login session: SSH or headless); used user/{uid}"

    def _in_preferred_domain(self, target: Target, action: Callable[[str], None]) -> None:
        """Run action in the preferred domain; on 112/125 from gui/<uid>, again in user/<uid>."""
        for domain in self.domains(target):
            try:
                action(domain)
                return
            except _DomainUnavailable:  # only gui/<uid> raises it; user/<uid> comes next
                continue

    # -- the ServiceManager protocol -------------------------------------------------------------

    def load(self, target: Target) -> None:
        """Boot the job out wherever it is loaded, then enable and bootstrap the plist on disk."""
        self._bootout_everywhere(target)
        self._in_preferred_domain(target, lambda domain: self._enable_and_bootstrap(domain, target))

    def restart(self, target: Target) -> None:
        """`kickstart -k` in the domain where the job is loaded (the plist launchd already has)."""
        if self._kickstart_where_loaded(target):
            return
        where = " or ".join(self.domains(target))
        raise OllamaSyncError(f"{target.name} is not loaded in launchd ({where}); there is nothing to restart",
                              hint="`ollama-sync apply` loads it")

    def stop(self, target: Target) -> None:
        """Boot the job out of every domain, then disable it so launchd does not load it at the next login."""
        self._bootout_everywhere(target)
        self._in_preferred_domain(target, lambda domain: self._set_enabled(domain, target, enabled=False))

    def state(self, target: Target) -> ServiceState:
        """`print <domain>/<label>` in each candidate domain; the first that knows the job wins."""
        for domain in list(self.domains(target)):
            done = self._launchctl("print", f"{domain}/{target.name}")
            try:
                outcome = self._outcome(done, domain)
            except _DomainUnavailable:
                continue
            if outcome is Outcome.OK:
                facts = parse_print(done.stdout)
                state = service_state(facts, domain=domain, enabled=self._is_enabled(domain, target.name),
                                      detail=self._fallback_note())
                return dataclasses.replace(state, warnings=self._domain_warnings(domain))
            if outcome is not Outcome.NOT_LOADED:
                raise failure(done, outcome)
        domain = self.domains(target)[0]
        return ServiceState(RunState.NOT_LOADED, enabled=self._is_enabled(domain, target.name), domain=domain,
                            detail=self._fallback_note())

    def log_tail(self, target: Target, lines: int = 200) -> list[str]:
        """The newest lines of the plist's StandardErrorPath (launchd keeps no log of its own for it)."""
        return tail_lines(self._files, target.log_path, lines) if target.log_path else []

    # -- steps -----------------------------------------------------------------------------------

    def _bootout_everywhere(self, target: Target) -> None:
        """Boot out of every candidate domain, so the job never runs twice (gui/ and user/)."""
        for domain in list(self.domains(target)):
            try:
                self._bootout(domain, target)
            except _DomainUnavailable as refused:
                self._refuse_if_still_loaded(domain, target, refused.done)

    def _refuse_if_still_loaded(self, domain: str, target: Target, refused: Completed) -> None:
        """112/125 from bootout: the domain may still hold the job (screen locked, sudo, macOS 26); ask `print`."""
        done = self._launchctl("print", f"{domain}/{target.name}")
        if classify(done.returncode, done.output) is not Outcome.OK:
            return  # 113: not loaded there; 112/125: the domain itself is unreachable, so nothing runs in it
        pid = parse_print(done.stdout).pid
        running = f", pid {pid}" if pid else ""
        said = next((line for line in refused.output.splitlines() if line.strip()), f"exit {refused.returncode}")
        raise OllamaSyncError(
            f"launchctl refused to boot {target.name} out of {domain} ({said}), yet `launchctl print "
            f"{domain}/{target.name}` shows it loaded{running}: it keeps running as it was, and ollama-sync will "
            f"not start a second copy in user/{self._machine.uid} (two servers would fight over one port)",
            hint=f"run ollama-sync in {self._machine.user}'s desktop session (Terminal on the Mac, screen unlocked, "
                 f"no sudo), or stop the job there first: launchctl bootout {domain}/{target.name}")

    def _domain_warnings(self, domain: str) -> tuple[str, ...]:
        """What running in user/<uid> means after a reboot (home-manager#9656: not rediscovered)."""
        if not domain.startswith("user/"):
            return ()
        uid = self._machine.uid
        return (f"loaded in user/{uid}, not gui/{uid} (no GUI login: SSH or headless): after a reboot launchd "
                f"does not load it again until {self._machine.user} logs in at the Mac's screen (it then runs in "
                f"gui/{uid}); for a server that must come back unattended, turn on automatic login or declare "
                "scope = \"system\" (a LaunchDaemon)",)

    def _bootout(self, domain: str, target: Target) -> None:
        """Boot out and wait (bounded) until launchd no longer lists the job."""
        pacer = self._pacer()
        while True:
            done = self._launchctl("bootout", f"{domain}/{target.name}")
            outcome = self._outcome(done, domain)
            if outcome is Outcome.NOT_LOADED:
                return
            if outcome not in (Outcome.OK, Outcome.IN_PROGRESS):
                raise failure(done, outcome)
            if outcome is Outcome.OK and not self._is_listed(domain, target.name):
                return
            if not pacer.pause():
                raise OllamaSyncError(
                    f"launchd is still stopping {target.name} in {domain} after {self.max_wait:g} s",
                    hint=f"check `launchctl print {domain}/{target.name}`; the server may ignore SIGTERM")

    def _kickstart_where_loaded(self, target: Target) -> bool:
        for domain in self.domains(target):
            done = self._launchctl("kickstart", "-k", f"{domain}/{target.name}")
            try:
                outcome = self._outcome(done, domain)
            except _DomainUnavailable:
                continue
            if outcome is Outcome.OK:
                return True
            if outcome is not Outcome.NOT_LOADED:
                raise failure(done, outcome)
        return False

    def _enable_and_bootstrap(self, domain: str, target: Target) -> None:
        self._set_enabled(domain, target, enabled=True)
        plist = self._plist(target)
        pacer = self._pacer()
        enabled_again = False
        while True:
            done = self._launchctl("bootstrap", domain, plist)
            outcome = self._outcome(done, domain)
            if outcome is Outcome.OK:
                return
            if outcome is Outcome.DISABLED and not enabled_again:
                self._set_enabled(domain, target, enabled=True)  # 119: enable, then retry once
                enabled_again = True
            elif outcome not in (Outcome.IO_ERROR, Outcome.ALREADY_LOADED) or not pacer.pause():
                raise failure(done, outcome, self._permission_note(target))

    def _set_enabled(self, domain: str, target: Target, *, enabled: bool) -> None:
        done = self._launchctl("enable" if enabled else "disable", f"{domain}/{target.name}")
        outcome = self._outcome(done, domain)
        if outcome is not Outcome.OK:
            raise failure(done, outcome)

    def _is_listed(self, domain: str, label: str) -> bool:
        done = self._launchctl("print", f"{domain}/{label}")
        outcome = classify(done.returncode, done.output)
        if outcome in (Outcome.NOT_LOADED, Outcome.DOMAIN_UNSUPPORTED):
            return False
        if outcome is not Outcome.OK:
            raise failure(done, outcome)
        return True

    def _is_enabled(self, domain: str, label: str) -> bool | None:
        """From `print-disabled`: a label without an override is enabled (our plists carry no Disabled key)."""
        done = self._launchctl("print-disabled", domain)
        if done.returncode != 0:
            return None
        return not parse_print_disabled(done.stdout).get(label, False)

    # -- plumbing --------------------------------------------------------------------------------

    def _launchctl(self, *args: str) -> Completed:
        try:
            return self._runner.run([LAUNCHCTL, *args], ok_codes=None)
        except Unsupported:
            if self._machine.system == "Darwin":
                raise
            raise Unsupported(f"the declaration targets launchd, the macOS service manager, and this machine "
                              f"({self._machine.system}) has no launchd",
                              hint='pick the service manager this machine has: backend = "systemd" (or '
                                   '"supervisord") under [service] in the config, or --backend systemd; '
                                   "`ollama-sync render --backend systemd` shows the unit") from None

    def _pacer(self) -> Pacer:
        return Pacer(self._sleep, self._clock, self.max_wait)

    def _plist(self, target: Target) -> str:
        return self._files.location(target.path)

    def _outcome(self, done: Completed, domain: str) -> Outcome:
        """Classify; a missing gui/<uid> domain becomes the exception its caller handles."""
        outcome = classify(done.returncode, done.output)
        if outcome is Outcome.DOMAIN_UNSUPPORTED and domain.startswith("gui/"):
            self._gui_unavailable = True
            raise _DomainUnavailable(domain, done)
        return outcome

    def _permission_note(self, target: Target) -> str:
        """launchd refuses agents not owned by the user or writable by others; say so when that is the case."""
        try:
            info = self._files.real(target.path).stat()
        except OSError:
            return f"{target.path} cannot be read"
        problems = []
        if target.scope is Scope.USER and info.st_uid != self._machine.uid:
            problems.append(f"owned by uid {info.st_uid}, not {self._machine.uid}")
        if info.st_mode & 0o022:
            problems.append(f"mode {info.st_mode & 0o777:o} is group/world-writable")
        return f"{target.path} is " + " and ".join(problems) if problems else ""
