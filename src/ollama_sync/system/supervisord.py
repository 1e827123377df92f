"""SupervisorManager: the server as a supervisord program, driven through supervisord's XML-RPC API.

`load` is `supervisorctl reread` + `update <program>` (+ a restart when the section did not change), so a
new section is read and the server restarted from it. The environment supervisord passes is read from the
process (`/proc/<pid>/environ` via psutil); the program's output from its `stdout_logfile`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from ollama_sync.core.observation import RunState, ServiceState
from ollama_sync.core.settings import Backend
from ollama_sync.core.target import Machine, Target
from ollama_sync.errors import OllamaSyncError
from ollama_sync.system.files import Files, file_error
from ollama_sync.system.supervisor_conf import SupervisorConf, read_conf
from ollama_sync.system.supervisor_rpc import (
    ALREADY_STARTED,
    BAD_NAME,
    NOT_RUNNING,
    Fault,
    SupervisorRpc,
)

if TYPE_CHECKING:
    from ollama_sync.system.runner import Runner

# supervisor/states.py ProcessStates → the manager-neutral view
_STATES: Final = {
    "STOPPED": RunState.STOPPED, "EXITED": RunState.STOPPED, "STOPPING": RunState.STOPPED,
    "STARTING": RunState.STARTING, "RUNNING": RunState.RUNNING,
    "BACKOFF": RunState.FAILED, "FATAL": RunState.FAILED, "UNKNOWN": RunState.UNKNOWN,
}
# BACKOFF: exited within startsecs and is being started again; FATAL: gave up after startretries
_CRASH_LOOP: Final = frozenset({"BACKOFF", "FATAL"})
_SUPERVISOR_VARS: Final = ("SUPERVISOR_ENABLED", "SUPERVISOR_PROCESS_NAME", "SUPERVISOR_GROUP_NAME",
                           "SUPERVISOR_SERVER_URL")
_ENV_KEY: Final = re.compile(r"""(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)=(?:"[^"]*"|'[^']*'|[^,]*)""")
_TAIL_BYTES: Final = 256 * 1024


class SupervisorManager:
    """The supervisord backend; the program section lives in a folder supervisord's [include] reads."""

    backend = Backend.SUPERVISORD

    def __init__(self, runner: Runner, files: Files, machine: Machine, environ: Mapping[str, str],
                 *, rpc: SupervisorRpc | None = None) -> None:
        self.runner = runner  # unused: everything goes through the API
        self.files = files
        self.machine = machine
        self.environ = environ
        self._given_rpc = rpc

    @cached_property
    def conf(self) -> SupervisorConf:
        """supervisord's main config (found once)."""
        return self._given_rpc.conf if self._given_rpc else read_conf(self.files, self.environ)

    @cached_property
    def rpc(self) -> SupervisorRpc:
        """The API client."""
        return self._given_rpc or SupervisorRpc(self.conf)

    def state(self, target: Target) -> ServiceState:
        """Program state, pid, last exit status, crash loop (BACKOFF/FATAL) and the environment of its process.

        supervisord keeps no restart count (runs stays None): a restart shows as another pid.
        """
        info = self._info(target.name)
        if info is None:
            return ServiceState(RunState.NOT_LOADED, enabled=False, domain=self.conf.path,
                                detail=f"supervisord has no program {target.name!r}")
        pid = int(info.get("pid") or 0) or None
        state = _STATES.get(str(info.get("statename")), RunState.UNKNOWN)
        parts = dict.fromkeys(str(x) for x in (info.get("statename"), info.get("description"), info.get("spawnerr"))
                              if x)  # FATAL's description repeats its spawn error
        detail = " ".join(parts)
        env = self._environment(pid, target) if pid else None
        loop = str(info.get("statename")) in _CRASH_LOOP
        # supervisord drops the status of a process that exited within startsecs (process.py finish())
        exit_status = None if loop else int(info.get("exitstatus") or 0)
        reason = f"supervisord: {detail}" if loop else ""
        return ServiceState(state, pid, exit_status, True, env, self.conf.path, detail,
                            crash_loop=loop, crash_reason=reason)

    def load(self, target: Target) -> None:
        """`reread` + `update` for this program; restart it when its section did not change."""
        self._check_included(target)
        if target.log_path:  # supervisord does not create the log folder, and fails to spawn without it
            self.files.mkdir(posixpath.dirname(target.log_path))
        added, changed, removed = self.rpc.call("supervisor.reloadConfig")[0]
        name = target.name
        if name in changed or name in removed:
            self._remove_group(name)
        if name in changed or name in added:
            self.rpc.call("supervisor.addProcessGroup", name)  # autostart=true: supervisord starts it
        elif self._info(name) is None:
            raise OllamaSyncError(f"supervisord did not load program {name!r} from {target.path}",
                                  hint=f"check [include] files in {self.conf.path}")
        else:
            self.restart(target)

    def restart(self, target: Target) -> None:
        """Stop the program (waiting for it to exit), then start it without waiting for startsecs."""
        self._tolerate(NOT_RUNNING, "supervisor.stopProcess", target.name, True)
        self._tolerate(ALREADY_STARTED, "supervisor.startProcess", target.name, False)

    def stop(self, target: Target) -> None:
        """Stop the program and remove its group, so it stays stopped until the next `load`."""
        if self._info(target.name) is not None:
            self._remove_group(target.name)

    def log_tail(self, target: Target, lines: int = 200) -> list[str]:
        """The last lines of the program's stdout log (stderr is redirected into it), oldest first."""
        info = self._info(target.name)
        path = str(info.get("stdout_logfile") or "") if info else ""
        path = path or target.log_path or ""
        if not path:
            return []
        return read_tail(self.files.location(path), lines)

    def _info(self, name: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = self.rpc.call("supervisor.getProcessInfo", name)
        except Fault as fault:
            if fault.faultCode == BAD_NAME:
                return None
            raise _failure(fault, name) from None
        return info

    def _remove_group(self, name: str) -> None:
        self._tolerate(BAD_NAME, "supervisor.stopProcessGroup", name, True)
        self._tolerate(BAD_NAME, "supervisor.removeProcessGroup", name)

    def _tolerate(self, code: int, method: str, *args: Any) -> None:
        try:
            self.rpc.call(method, *args)
        except Fault as fault:
            if fault.faultCode != code:
                raise _failure(fault, str(args[0])) from None

    def _check_included(self, target: Target) -> None:
        if self.conf.includes and not self.conf.includes_path(target.path):
            folder = posixpath.dirname(target.path)
            raise OllamaSyncError(
                f"supervisord does not read {target.path}: [include] files in {self.conf.path} is "
                + " ".join(self.conf.includes),
                hint=f"add {folder}/*.conf to [include] files, or set include_dir in [service]")
        if not self.conf.includes:
            raise OllamaSyncError(f"{self.conf.path} has no [include] section, so supervisord cannot read "
                                  f"{target.path}",
                                  hint=f"add [include] files = {posixpath.dirname(target.path)}/*.conf")

    def _environment(self, pid: int, target: Target) -> tuple[tuple[str, str], ...] | None:
        """What supervisord passed: the process environment less what it inherited from supervisord itself."""
        env = process_environ(pid)
        if env is None:
            return None  # macOS hides other processes' environments; a process may also just have exited
        inherited = process_environ(parent_pid(pid) or 0) or {}
        named = set(program_env_keys(self.files.read_text(target.path, lenient=True) or ""))
        passed = {k: v for k, v in env.items()
                  if k not in _SUPERVISOR_VARS and (k in named or k.startswith("OLLAMA_") or inherited.get(k) != v)}
        return tuple(sorted(passed.items()))


def process_environ(pid: int) -> dict[str, str] | None:
    """A process's environment: /proc/<pid>/environ (cheap, Linux), else psutil; None when it cannot be read."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None  # Linux: the process is gone
        return _psutil_environ(pid)
    except OSError:
        return None
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {name: value for name, _, value in pairs}


def parent_pid(pid: int) -> int | None:
    """The parent's pid (/proc/<pid>/stat, else psutil)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        return int(stat.rsplit(b")", 1)[1].split()[1])  # field 4, after the parenthesised command name
    except (OSError, IndexError, ValueError):
        pass
    import psutil  # noqa: PLC0415  # only where /proc is missing

    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:
        return None


def _psutil_environ(pid: int) -> dict[str, str] | None:
    import psutil  # noqa: PLC0415  # only where /proc is missing

    try:
        return dict(psutil.Process(pid).environ())
    except (psutil.Error, OSError):
        return None


def program_env_keys(section: str) -> list[str]:
    """The variable names in a program section's `environment=` line (pure)."""
    for line in section.splitlines():
        if line.startswith("environment="):
            return [m.group(1) for m in _ENV_KEY.finditer(line[len("environment="):])]
    return []


def read_tail(path: str, lines: int) -> list[str]:
    """The last lines of a text file (reading at most its last 256 KiB); [] when it does not exist."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise file_error("read", path, exc) from None
    text = data.decode("utf-8", errors="replace").splitlines()
    if len(data) >= _TAIL_BYTES and text:
        text = text[1:]  # the first line was cut
    return text[-lines:] if lines else []


def _failure(fault: Fault, name: str) -> OllamaSyncError:
    return OllamaSyncError(f"supervisord: {fault.faultString} (program {name!r})")
