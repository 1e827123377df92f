"""Progress while slow probes run: a rich spinner on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def spinner(first: str, *, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A callback that updates the spinner's text; a no-op when stderr is not a terminal (or quiet)."""
    if quiet or not sys.stderr.isatty():
        yield lambda _text: None
        return
    from rich.console import Console  # noqa: PLC0415  # rich is imported only on a terminal

    with Console(stderr=True).status(first) as status:
        yield status.update
