"""The bind errors `ollama serve` prints (Go's `listen tcp …: bind: <strerror>`), recognised per platform."""

from __future__ import annotations

import pytest

from ollama_sync.system.server_log import LogEventKind, find_events


@pytest.mark.parametrize(("line", "kind"), [
    ("Error: listen tcp 100.101.102.103:11434: bind: cannot assign requested address",  # Linux EADDRNOTAVAIL
     LogEventKind.ADDRESS_NOT_AVAILABLE),
    ("Error: listen tcp 100.101.102.103:11434: bind: can't assign requested address",  # macOS EADDRNOTAVAIL
     LogEventKind.ADDRESS_NOT_AVAILABLE),
    ("Error: listen tcp 100.101.102.103:11434: bind: The requested address is not valid in its context.",
     LogEventKind.ADDRESS_NOT_AVAILABLE),  # Windows WSAEADDRNOTAVAIL
    ("Error: listen tcp 127.0.0.1:11434: bind: address already in use", LogEventKind.ADDRESS_IN_USE),
])
def test_bind_errors_are_told_apart(line: str, kind: LogEventKind) -> None:
    (event,) = find_events(["time=… level=INFO msg=\"starting\"", line])
    assert (event.kind, event.line_number, event.text) == (kind, 2, line)
