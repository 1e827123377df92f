"""launchctl before macOS 10.10 (no bootstrap/bootout/print): legacy `load -w`, `unload`, `list <label>`.

Legacy load/unload exit 0 even when they fail (launchctl(1)), so their outcome is read from what they
print. They pick the domain from the caller's context (over SSH: the background session).
"""

from __future__ import annotations

from collections.abc import Callable

from ollama_sync.core.observation import RunState, ServiceState
from ollama_sync.system.launchctl_errors import Outcome, classify, explain_exit, failure
from ollama_sync.system.launchctl_parse import parse_list_job, run_state
from ollama_sync.system.pacer import Pacer
from ollama_sync.system.runner import Completed

LEGACY_NOTE = "legacy launchctl (before macOS 10.10): the environment launchd passes cannot be read"


class LegacyLaunchctl:
    """Load, stop and inspect a job with the legacy subcommands."""

    def __init__(self, launchctl: Callable[..., Completed], pacer: Callable[[], Pacer]) -> None:
        self._launchctl = launchctl
        self._pacer = pacer

    def load(self, plist: str) -> None:
        """`unload` (until gone), then `load -w` (which also clears a Disabled override)."""
        self._unload(plist, persist=False)
        pacer = self._pacer()
        while True:
            done = self._launchctl("load", "-w", plist)
            outcome = classify(done.returncode, done.output, legacy=True)
            if outcome is Outcome.OK:
                return
            if outcome not in (Outcome.ALREADY_LOADED, Outcome.IO_ERROR) or not pacer.pause():
                raise failure(done, outcome)

    def restart(self, plist: str) -> None:
        """There is no kickstart: unload and load again."""
        self.load(plist)

    def stop(self, plist: str) -> None:
        """`unload -w`: stop and mark disabled so it is not loaded at the next login."""
        self._unload(plist, persist=True)

    def state(self, label: str) -> ServiceState:
        """`launchctl list <label>`: pid and last exit status, no environment."""
        done = self._launchctl("list", label)
        outcome = classify(done.returncode, done.output)
        if outcome is Outcome.NOT_LOADED:
            return ServiceState(RunState.NOT_LOADED, detail=LEGACY_NOTE)
        if outcome is not Outcome.OK:
            raise failure(done, outcome)
        job = parse_list_job(done.stdout)
        state = run_state("running" if job.pid else "not running", job.pid, job.last_exit)
        notes = [LEGACY_NOTE]
        if job.last_exit not in (None, 0):
            notes.append(f"last exit: {explain_exit(job.last_exit)}")
        return ServiceState(state, pid=job.pid, last_exit=job.last_exit, detail="; ".join(notes))

    def _unload(self, plist: str, *, persist: bool) -> None:
        pacer = self._pacer()
        while True:
            done = self._launchctl("unload", *(["-w"] if persist else []), plist)
            outcome = classify(done.returncode, done.output, legacy=True)
            if outcome in (Outcome.OK, Outcome.NOT_LOADED):
                return
            if outcome is not Outcome.IN_PROGRESS or not pacer.pause():
                raise failure(done, outcome)
