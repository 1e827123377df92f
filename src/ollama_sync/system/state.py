"""ollama-sync's state directory: the apply lock, numbered generations of the service file, and the journal.

    <state_dir>/
      lock                 flock(2): one apply (or rollback, or recovery) at a time
      lock.owner           pid and start time of the holder, for the LockTimeout message
      journal.json         present only while a transaction runs (or after it was killed)
      generations/
        0007.json          number, time, sha256, source, result, path, backend, environment
        0007.data          the file's exact bytes
      foreign/
        <name>.<time>      files found at the service path that ollama-sync did not write

Every write is atomic (Files.write_atomic); only the last `KEEP` generations are kept. The directory is
created 0700 and must stay owned by the running user and writable by nobody else (`ensure_state_dir`):
recovery acts on what the journal says, so whoever can write here could choose what runs. Its files are
read without following symbolic links, and written 0600.
"""

from __future__ import annotations

import errno
import math
import os
import posixpath
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, Final

from ollama_sync.errors import LockTimeout, OllamaSyncError, StateError, UsageError
from ollama_sync.system.files import Files

if TYPE_CHECKING:
    from ollama_sync.system.state_records import Generation, Journal

KEEP: Final = 20
JOURNAL: Final = "journal.json"


def sha256(data: bytes | None) -> str:
    """Hex SHA-256 of a file's bytes ("" for an absent file)."""
    import hashlib  # noqa: PLC0415  # only transactions hash; a no-op apply only looks for the journal

    return "" if data is None else hashlib.sha256(data).hexdigest()


def _state_hint(exc: OSError, where: str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the disk holding {where} is full: free some space, then run the command again"
    if exc.errno == errno.EROFS:
        return f"{where} is on a read-only file system: set OLLAMA_SYNC_STATE_DIR to a writable folder"
    return f"check the owner and mode of {where} (ls -ld), or set OLLAMA_SYNC_STATE_DIR to a folder you can write"


def ensure_state_dir(files: Files, state_dir: str) -> None:
    """Create the state directory 0700 when absent; refuse one that is not a folder, or that others could write."""
    from ollama_sync.core.trust import STATE_DIR_MODE, state_dir_fix, state_dir_problem  # noqa: PLC0415  # 25 ms (permission rules): only when the state dir is created or checked
    from ollama_sync.system.permissions import stat_path  # noqa: PLC0415  # 11 ms: as above

    where = files.location(state_dir)
    if not os.path.isabs(state_dir):
        raise StateError(f"the state directory {state_dir} (OLLAMA_SYNC_STATE_DIR) is a relative path",
                         hint="set OLLAMA_SYNC_STATE_DIR to an absolute path (or unset it for the default)")
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        os.mkdir(where, STATE_DIR_MODE)
        os.chmod(where, STATE_DIR_MODE)  # exactly 0700, whatever the umask
    except FileExistsError:
        pass
    except OSError as exc:
        raise StateError(f"cannot create the state directory {where}: {exc.strerror}",
                         hint="set OLLAMA_SYNC_STATE_DIR to a folder you can write") from None
    found = stat_path(files, state_dir)
    if found is None:
        raise StateError(f"cannot read the state directory {where}")
    item = replace(found, path=where)  # messages name the real path (under --root, inside the root)
    problem = state_dir_problem(item, os.getuid())
    if problem is not None:
        raise StateError(f"{problem}; ollama-sync refuses to use it: whoever can write it chooses what runs",
                         hint=state_dir_fix(item, os.getuid()))


class StateStore:
    """Reads and writes the state directory through Files (so --root sandboxes it too).

    json and the record types are imported inside the methods that use them: a no-op apply only asks
    `journal()`, which finds no file, and pays for neither (bench/bench_apply.py).
    """

    def __init__(self, files: Files, state_dir: str) -> None:
        self.files = files
        self.dir = state_dir

    def _path(self, *parts: str) -> str:
        return posixpath.join(self.dir, *parts)

    @contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        """Hold the apply lock; LockTimeout names the holder when it is not free within timeout seconds.

        flock(2) on a file opened read-only, without following a symbolic link (stdlib fcntl, not the
        filelock package: it opens the file for writing and truncates it, through a symlink when the lock is
        one, reports a lock file it cannot create as a timeout, and its open descriptor would keep the state
        file system from being remounted read-only). The kernel drops the lock when the process dies.
        """
        if not math.isfinite(timeout) or timeout < 0:
            raise UsageError(f"the lock timeout must be a number of seconds >= 0, not {timeout}",
                             hint="e.g. --lock-timeout 30")
        ensure_state_dir(self.files, self.dir)
        fd = self._open_lock_file()
        try:
            self._acquire(fd, timeout)
            self.files.write_atomic(self._path("lock.owner"), f"pid {os.getpid()} since {time.ctime()}\n".encode(),
                                    mode=0o600)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _acquire(self, fd: int, timeout: float) -> None:
        import fcntl  # noqa: PLC0415  # only transactions lock

        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            except OSError as exc:
                raise StateError(f"cannot lock {self.files.location(self._path('lock'))}: {exc.strerror}",
                                 hint=_state_hint(exc, self.files.location(self.dir))) from None
        owner = (self.files.read_private(self._path("lock.owner")) or b"").decode(errors="replace").strip()
        raise LockTimeout(f"another ollama-sync transaction holds the lock ({owner or 'unknown holder'}); "
                          f"waited {timeout:g} s", hint="wait for it to finish, or raise --lock-timeout")

    def _open_lock_file(self) -> int:
        """The lock file, created 0600 if absent, opened read-only; never through a symbolic link."""
        path = self.files.location(self._path("lock"))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StateError(f"the lock file {path} is a symbolic link; ollama-sync does not follow links in "
                                 "its state", hint=f"inspect it, then delete it: rm {path}") from None
            raise StateError(f"cannot create the lock file {path}: {exc.strerror}",
                             hint=_state_hint(exc, self.files.location(self.dir))) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StateError(f"the lock file {path} is not a regular file", hint="inspect it, then remove it")
        return fd

    # generations

    def generations(self) -> list[Generation]:
        """Every kept generation, oldest first."""
        import json  # noqa: PLC0415  # 2 ms (json): a no-op apply reads no generation

        from ollama_sync.system.state_records import Generation  # noqa: PLC0415  # 8 ms: a no-op apply reads no generation

        folder = self.files.real(self._path("generations"))
        if not folder.is_dir():
            return []
        found = []
        for name in sorted(os.listdir(folder)):
            if name.endswith(".json"):
                meta = self.files.read_private(self._path("generations", name))
                try:
                    found.append(Generation(**json.loads(meta or b"")))
                except (ValueError, TypeError):
                    continue  # a torn or foreign file: not a generation
        return sorted(found, key=lambda g: g.number)

    def newest(self, result: str | None = None) -> Generation | None:
        """The newest kept generation (with that result, when given), reading records newest first, or None."""
        folder = self.files.location(self._path("generations"))  # a str: pathlib costs 3 ms to import
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json")) if os.path.isdir(folder) else []
        if not names:
            return None
        import json  # noqa: PLC0415  # 1.5 ms (json): `plan` with no generation kept reads no record

        from ollama_sync.system.state_records import Generation  # noqa: PLC0415  # 1.7 ms (state_records): as above

        for name in reversed(names):
            try:
                gen = Generation(**json.loads(self.files.read_text(self._path("generations", name)) or ""))
            except (ValueError, TypeError):
                continue
            if result is None or gen.result == result:
                return gen
        return None

    def generation(self, number: int) -> Generation:
        """One generation; OllamaSyncError when it is not kept."""
        for gen in self.generations():
            if gen.number == number:
                return gen
        kept = ", ".join(str(g.number) for g in self.generations()) or "none"
        raise OllamaSyncError(f"no generation {number} (kept: {kept})", hint="see `ollama-sync history`")

    def content(self, number: int) -> bytes:
        """The exact bytes of a generation."""
        data = self.files.read_private(self._path("generations", f"{number:04d}.data"))
        if data is None:
            raise OllamaSyncError(f"generation {number} has lost its content")
        return data

    def add(self, content: bytes, *, source: str, result: str, target: dict[str, Any],
            environment: dict[str, str] | None) -> Generation:
        """Record a new generation (content first, so metadata never points at missing bytes)."""
        from ollama_sync.system.state_records import Generation  # noqa: PLC0415  # 8-10 ms (state_records): a no-op apply records nothing

        existing = self.generations()
        number = (existing[-1].number + 1) if existing else 1
        gen = Generation(number, time.time(), sha256(content), source, result, str(target["path"]),
                         str(target["backend"]), environment, target)
        self.files.write_atomic(self._path("generations", f"{number:04d}.data"), content, mode=0o600)
        self._write_meta(gen)
        self._prune([*existing, gen])
        return gen

    def set_result(self, number: int, result: str) -> Generation:
        """Record how a generation's transaction ended."""

        gen = replace(self.generation(number), result=result)
        self._write_meta(gen)
        return gen

    def _write_meta(self, gen: Generation) -> None:
        import json  # noqa: PLC0415  # 2 ms (json): a no-op apply writes nothing

        data = json.dumps(gen.to_json(), indent=1, sort_keys=True).encode()
        self.files.write_atomic(self._path("generations", f"{gen.number:04d}.json"), data, mode=0o600)

    def _prune(self, gens: list[Generation]) -> None:
        for old in gens[:-KEEP]:
            self.files.remove(self._path("generations", f"{old.number:04d}.json"))
            self.files.remove(self._path("generations", f"{old.number:04d}.data"))

    def keep_foreign(self, path: str, content: bytes) -> str:
        """Keep a copy of a file ollama-sync did not write; return where (a machine path)."""
        stamp = time.strftime("%Y%m%dT%H%M%S")
        copy = self._path("foreign", f"{posixpath.basename(path)}.{stamp}")
        self.files.write_atomic(copy, content, mode=0o600)
        return copy

    # journal

    @property
    def journal_location(self) -> str:
        """Where the journal really is (inside the root under --root), for messages."""
        return self.files.location(self._path(JOURNAL))

    def has_journal(self) -> bool:
        """True when a transaction is running or was interrupted (cheap: the file is not read)."""
        return self.files.exists(self._path(JOURNAL))

    def journal(self) -> Journal | None:
        """The interrupted (or running) transaction, if any."""
        ensure_state_dir(self.files, self.dir)
        text = self.files.read_private(self._path(JOURNAL))
        if text is None:
            return None
        import json  # noqa: PLC0415  # only when a journal exists

        from ollama_sync.system.state_records import Journal  # noqa: PLC0415  # 2 ms: only when a journal exists

        try:
            return Journal(**json.loads(text))
        except (ValueError, TypeError):
            raise StateError(f"unreadable journal {self.journal_location}",
                             hint=f"inspect it, then delete it: rm {self.journal_location}") from None

    def write_journal(self, journal: Journal) -> Journal:
        """Persist the journal (atomically, so it is always a complete old or new one)."""
        import json  # noqa: PLC0415  # 2 ms (json): only transactions write a journal

        data = json.dumps(asdict(journal), indent=1, sort_keys=True).encode()
        self.files.write_atomic(self._path(JOURNAL), data, mode=0o600)
        return journal

    def clear_journal(self) -> None:
        """The transaction is over."""
        self.files.remove(self._path(JOURNAL))
