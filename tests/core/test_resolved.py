"""Declared value vs the server's printed value, judged as the server parses; on real `server config` lines."""

from __future__ import annotations

import pytest

from ollama_sync.core.observation import ServerConfig
from ollama_sync.core.resolved import MAX_DURATION_NS, duration_ns, parse_go_duration, server_agrees
from ollama_sync.system.server_log import parse_server_config
from tests.conftest import require_shared


def real_configs() -> list[ServerConfig]:
    """The `server config` lines quoted in shared/fixtures/ollama/server-config-lines.md (real servers)."""
    text = (require_shared() / "fixtures/ollama/server-config-lines.md").read_text()
    blocks = text.split("```")[1::2]  # the fenced blocks, each as the server wrote it (config line, then more)
    configs = [parse_server_config(block.strip("\n").splitlines()) for block in blocks]
    assert len(configs) == 2 and all(configs)
    return [c for c in configs if c is not None]


def test_real_macos_line_2026() -> None:
    config = real_configs()[0]  # issue #15944, macOS
    assert server_agrees("OLLAMA_CONTEXT_LENGTH", "190000", config.get("OLLAMA_CONTEXT_LENGTH") or "")
    assert server_agrees("OLLAMA_KEEP_ALIVE", "2h", config.get("OLLAMA_KEEP_ALIVE") or "")
    assert server_agrees("OLLAMA_KEEP_ALIVE", "7200", config.get("OLLAMA_KEEP_ALIVE") or "")
    assert not server_agrees("OLLAMA_KEEP_ALIVE", "30m", config.get("OLLAMA_KEEP_ALIVE") or "")
    assert server_agrees("OLLAMA_DEBUG", "1", config.get("OLLAMA_DEBUG") or "")
    assert server_agrees("OLLAMA_FLASH_ATTENTION", "0", config.get("OLLAMA_FLASH_ATTENTION") or "")
    assert not server_agrees("OLLAMA_FLASH_ATTENTION", "1", config.get("OLLAMA_FLASH_ATTENTION") or "")
    assert server_agrees("OLLAMA_HOST", "127.0.0.1:11434", config.get("OLLAMA_HOST") or "")
    assert server_agrees("OLLAMA_MAX_LOADED_MODELS", "1", config.get("OLLAMA_MAX_LOADED_MODELS") or "")


def test_real_windows_line_v0_5_7() -> None:
    config = real_configs()[1]  # issue #9221, v0.5.7
    assert config.version == "0.5.7"
    assert server_agrees("OLLAMA_HOST", "192.168.242.247", config.get("OLLAMA_HOST") or "")
    assert server_agrees("OLLAMA_HOST", "http://192.168.242.247:11434", config.get("OLLAMA_HOST") or "")
    assert not server_agrees("OLLAMA_HOST", "0.0.0.0:11434", config.get("OLLAMA_HOST") or "")
    assert server_agrees("OLLAMA_DEBUG", "0", config.get("OLLAMA_DEBUG") or "")  # older: printed as a bool
    assert server_agrees("OLLAMA_KEEP_ALIVE", "5m", config.get("OLLAMA_KEEP_ALIVE") or "")
    assert server_agrees("OLLAMA_NUM_PARALLEL", "0", config.get("OLLAMA_NUM_PARALLEL") or "")
    origins = config.get("OLLAMA_ORIGINS") or ""
    assert server_agrees("OLLAMA_ORIGINS", "app://*,http://localhost", origins)  # built-ins are listed
    assert not server_agrees("OLLAMA_ORIGINS", "https://app.example", origins)
    assert server_agrees("OLLAMA_KV_CACHE_TYPE", "f16", config.get("OLLAMA_KV_CACHE_TYPE") or "")  # "" = f16


@pytest.mark.parametrize(("name", "declared", "printed", "agrees"), [
    ("OLLAMA_FLASH_ATTENTION", "off", "true", True),  # any non-false string is TRUE
    ("OLLAMA_FLASH_ATTENTION", "'1'", "true", True),  # quotes are stripped
    ("OLLAMA_NUM_PARALLEL", "abc", "1", True),  # invalid: the server warns and uses the default
    ("OLLAMA_NUM_PARALLEL", "4", "1", False),
    ("OLLAMA_KEEP_ALIVE", "-1", "2562047h47m16.854775807s", True),  # negative = forever
    ("OLLAMA_KEEP_ALIVE", "1d", "5m0s", True),  # not a Go duration: 5m, silently
    ("OLLAMA_LOAD_TIMEOUT", "0", "2562047h47m16.854775807s", True),  # <= 0: no timeout
    ("OLLAMA_HOST", "0.0.0.0", "http://0.0.0.0:11434", True),
    ("OLLAMA_HOST", ":1234", "http://:1234", True),
    ("OLLAMA_HOST", "http://1.2.3.4", "http://1.2.3.4:80", True),  # scheme without port: 80
    ("OLLAMA_DEBUG", "2", "DEBUG-4", True),  # TRACE is slog level -8
    ("OLLAMA_KV_CACHE_TYPE", "Q8_0", "q8_0", True),
    ("OLLAMA_REMOTES", "ollama.com,example.com", "[ollama.com example.com]", True),
    ("OLLAMA_MODELS", "/data/models", "/data/models", True),
    ("OLLAMA_MODELS", "/data/models", "/Users/x/.ollama/models", False),
])
def test_parsing_rules(name: str, declared: str, printed: str, agrees: bool) -> None:
    assert server_agrees(name, declared, printed) is agrees


def test_go_durations() -> None:
    assert parse_go_duration("1h30m") == 5400 * 10**9
    assert parse_go_duration("2.5s") == 2_500_000_000
    assert parse_go_duration("0") == 0
    assert parse_go_duration("5") is None and parse_go_duration("1d") is None
    assert duration_ns("OLLAMA_KEEP_ALIVE", "-5m") == MAX_DURATION_NS
    assert duration_ns("OLLAMA_KEEP_ALIVE", "0") == 0
