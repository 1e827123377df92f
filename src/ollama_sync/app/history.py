"""`ollama-sync history`: the recorded generations of the service file, and which one is on disk now."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_sync.app.context import Context
from ollama_sync.system.state import StateStore, sha256
from ollama_sync.system.state_records import Generation


@dataclass(frozen=True)
class History:
    """Kept generations, oldest first, and the number of the one whose bytes are on disk (if any)."""

    state_dir: str
    generations: tuple[Generation, ...]
    current: int | None


def history(ctx: Context) -> History:
    """Read the state directory (under --root when given); nothing is changed."""
    store = StateStore(ctx.files, ctx.machine.state_dir)
    gens = tuple(store.generations())
    return History(ctx.machine.state_dir, gens, current_generation(ctx, gens))


def current_generation(ctx: Context, gens: tuple[Generation, ...] | list[Generation]) -> int | None:
    """The newest generation whose bytes are what its path holds now."""
    for gen in reversed(gens):
        if sha256(ctx.files.read_bytes(gen.path)) == gen.hash:
            return gen.number
    return None
