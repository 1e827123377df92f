"""Bounded waiting between retries, with the sleep and the clock injected so tests never really wait."""

from __future__ import annotations

from collections.abc import Callable


class Pacer:
    """Doubling pauses (0.1 s, 0.2 s, … at most 1 s) until `limit` seconds have passed since creation."""

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float], limit: float, *,
                 first: float = 0.1, longest: float = 1.0) -> None:
        self._sleep, self._clock, self._limit = sleep, clock, limit
        self._start = clock()
        self._delay, self._longest = first, longest

    def pause(self) -> bool:
        """Sleep before the next attempt; False (without sleeping) once the time is used up."""
        remaining = self._limit - (self._clock() - self._start)
        if remaining <= 0:
            return False
        self._sleep(min(self._delay, remaining))
        self._delay = min(self._delay * 2, self._longest)
        return True
