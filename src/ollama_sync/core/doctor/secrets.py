"""Which environment variables hold secrets (API keys, tokens, passwords, proxy URLs with credentials)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

_SECRET_WORDS: Final = frozenset({"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS",
                                  "CREDENTIAL", "CREDENTIALS", "AUTH"})
_URL_CREDENTIALS: Final = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def is_secret(name: str, value: str) -> bool:
    """True for a secret-looking name (a word such as KEY or TOKEN) or a URL carrying user:password@."""
    words = set(name.upper().split("_"))
    return (bool(words & _SECRET_WORDS) and bool(value)) or bool(_URL_CREDENTIALS.search(value))


def secret_variables(env: Mapping[str, str]) -> list[str]:
    """The names of the variables in env that hold secrets, sorted."""
    return sorted(name for name, value in env.items() if is_secret(name, value))
