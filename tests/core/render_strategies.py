"""Hypothesis strategies for environment values that stress every format's quoting."""

from __future__ import annotations

from hypothesis import strategies as st

# Characters with a meaning in at least one format, or that no format can hold.
AWKWARD = [*" \"'%$\\\n\t\r;#=,(){}<>&*:/-", *"\x00\x01\x0b\x0c\x1b\x1f\x7f\x85\xa0\u2028\ufeff",
           *"\ufffe\ufdd0\U0001ffff\U0010fffd\U0001f600é日"]
TEMPLATES = ["%(here)s", "%(ENV_HOME)s", "%h", "%%", "$HOME", "${X}", "$$", " ;", " #", "\\n", "\\x41", "]]>",
             "-->", "\r\n"]

values = st.lists(
    st.one_of(st.sampled_from(AWKWARD), st.sampled_from(TEMPLATES), st.characters(codec="utf-8"),
              st.just("\ud800")),
    max_size=12,
).map("".join)

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
any_names = st.one_of(names, st.text(max_size=8))
