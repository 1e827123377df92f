"""Settings → the server's environment: the seed document's mapping table, host/port joining, clashes."""

from __future__ import annotations

import pytest

from ollama_sync.core.environment import duplicated_variables, format_host, render_environment
from ollama_sync.core.hostport import parse_host
from ollama_sync.core.settings import OllamaSettings


def test_seed_mapping_table() -> None:
    settings = OllamaSettings(host="0.0.0.0", port=11434, models_path="/Users/jeridf/.ollama/models",
                              flash_attention=True, kv_cache_type="q8_0",
                              environment=(("OLLAMA_NUM_CTX", "8192"), ("OLLAMA_NUM_PARALLEL", "4")))
    assert render_environment(settings) == {
        "OLLAMA_FLASH_ATTENTION": "1",
        "OLLAMA_HOST": "0.0.0.0:11434",
        "OLLAMA_KV_CACHE_TYPE": "q8_0",
        "OLLAMA_MODELS": "/Users/jeridf/.ollama/models",
        "OLLAMA_NUM_CTX": "8192",
        "OLLAMA_NUM_PARALLEL": "4",
    }


def test_every_named_setting_renders_its_variable() -> None:
    settings = OllamaSettings(flash_attention=False, context_length=8192, num_parallel=2, keep_alive="30m",
                              origins=("https://a.example", "https://b.example"), max_loaded_models=3)
    assert render_environment(settings) == {
        "OLLAMA_CONTEXT_LENGTH": "8192", "OLLAMA_FLASH_ATTENTION": "0", "OLLAMA_KEEP_ALIVE": "30m",
        "OLLAMA_MAX_LOADED_MODELS": "3", "OLLAMA_NUM_PARALLEL": "2",
        "OLLAMA_ORIGINS": "https://a.example,https://b.example",
    }
    assert render_environment(OllamaSettings()) == {}


@pytest.mark.parametrize(("host", "port", "expected"), [
    (None, None, None),
    ("0.0.0.0", None, "0.0.0.0:11434"),
    (None, 8080, "127.0.0.1:8080"),
    ("100.64.0.1", 11434, "100.64.0.1:11434"),
    ("::1", None, "[::1]:11434"),
    ("::", 11434, "[::]:11434"),
    ("[::1]", 1234, "[::1]:1234"),
    ("0.0.0.0:11434", None, "0.0.0.0:11434"),  # the FAQ's form, kept as written
    ("[::1]:1337", None, "[::1]:1337"),
    ("http://box", None, "http://box"),
    ("http://box/", 80, "http://box:80"),
    ("", 11434, ":11434"),
])
def test_format_host(host: str | None, port: int | None, expected: str | None) -> None:
    assert format_host(host, port) == expected


@pytest.mark.parametrize(("host", "port"), [("0.0.0.0", 11434), ("::1", 8080), ("example.com", 1), ("", 11434)])
def test_format_host_round_trips_through_the_servers_parser(host: str, port: int) -> None:
    text = format_host(host, port)
    assert text is not None
    hp = parse_host(text)
    assert (hp.host, hp.port, hp.port_fallback) == (host, port, False)


def test_a_setting_wins_over_the_free_table_and_the_clash_is_reported() -> None:
    settings = OllamaSettings(context_length=8192, environment=(("OLLAMA_CONTEXT_LENGTH", "4096"),
                                                                ("OLLAMA_DEBUG", "1")))
    assert render_environment(settings)["OLLAMA_CONTEXT_LENGTH"] == "8192"
    assert duplicated_variables(settings) == ("OLLAMA_CONTEXT_LENGTH",)
    assert duplicated_variables(OllamaSettings(environment=(("OLLAMA_DEBUG", "1"),))) == ()
