"""Owners, groups and modes of paths, and the accounts whose access doctor judges (os.stat, pwd).

Permission checks are done for the SERVICE's user, from mode bits (core/machine_facts.can_access), not with
os.access: ollama-sync may run as another user (or as root, for whom os.access says yes to everything).
"""

from __future__ import annotations

import os
import posixpath
import pwd
import stat

from ollama_sync.core.machine_facts import Account, PathStat
from ollama_sync.system.files import Files


def stat_path(files: Files, path: str) -> PathStat | None:
    """The owner, group and mode of a machine path (under --root when set), or None when absent."""
    try:
        st = os.stat(files.location(path))
    except OSError:
        return None
    return PathStat(path, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode))


def stat_chain(files: Files, path: str) -> tuple[PathStat, ...] | None:
    """Stats from "/" down to path (all must exist), or None when some part is missing."""
    parts = posixpath.normpath(path).split("/")
    chain: list[PathStat] = []
    for depth in range(1, len(parts) + 1):
        current = "/".join(parts[:depth]) or "/"
        item = stat_path(files, current)
        if item is None:
            return None
        chain.append(item)
    return tuple(chain)


def account(name: str) -> Account | None:
    """A user account by name (or numeric uid), with all its groups; None when unknown here."""
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, ValueError):
        return None
    try:
        gids = os.getgrouplist(entry.pw_name, entry.pw_gid)
    except OSError:
        gids = [entry.pw_gid]
    groups = (entry.pw_gid, *(g for g in gids if g != entry.pw_gid))
    return Account(entry.pw_name, entry.pw_uid, tuple(groups), entry.pw_dir)
