"""ollama-sync: declare the Ollama server service once, then plan, apply and verify it."""

__version__ = "0.1.0"
