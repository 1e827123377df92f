"""What each renderer refuses, and why: one row per rule, with the finding it produces."""

from __future__ import annotations

import plistlib
from dataclasses import replace

import pytest

from ollama_sync.core.findings import Location
from ollama_sync.core.render import MARKER, is_ours, launchd, render, systemd
from ollama_sync.core.settings import Declaration, OllamaSettings
from tests.core import systemd_syntax
from tests.core.render_cases import TARGETS, render_with

ALL = sorted(TARGETS)


@pytest.mark.parametrize(("case", "value", "why"), [
    ("launchd-agent", "a\x01b", "control character"),
    ("launchd-agent", "a\rb", "carriage return"),
    ("launchd-agent", "\ufffe", "control character"),
    ("systemd-system", "a\x1bb", "control character"),
    ("systemd-system", "a\rb", "control character"),
    ("systemd-dropin", "a\x7f", "control character"),
    ("systemd-system", "\ufdd0", "non-character"),
    ("systemd-system", "x\U0001ffff", "non-character"),
    ("supervisord", "a\nb", "line break"),
    ("supervisord", "a\rb", "line break"),
    ("supervisord", "it's \"both\"", "both quote characters"),
    ("supervisord", "'edge", "starts or ends with a quote"),
    ("supervisord", 'edge"', "starts or ends with a quote"),
    ("supervisord", "a ;comment", "comment"),
    ("supervisord", "a\t#comment", "comment"),
    ("supervisord", "a\u2028;x", "comment"),
    ("supervisord", "at %(here)s", "%(here)s"),
    *[(case, "a\x00b", "NUL") for case in ALL],
    *[(case, "\udc80", "surrogate") for case in ALL],
])
def test_unsafe_value_is_rejected_with_a_finding(case: str, value: str, why: str) -> None:
    rendered = render_with(TARGETS[case], {"OLLAMA_X": value})
    assert rendered.content is None
    (finding,) = rendered.findings
    assert (finding.code, finding.severity.value, finding.variable) == ("unsafe-value", "error", "OLLAMA_X")
    assert finding.message.startswith("OLLAMA_X: ") and why in finding.message
    assert "OLLAMA_X" in finding.hint


@pytest.mark.parametrize(("case", "value"), [
    ("supervisord", "a;b#c"),  # no white space before: not a comment
    ("supervisord", "tab\tinside"),
    ("supervisord", "esc\x1b and del\x7f"),  # other control characters pass through exactly
    ("supervisord", "100%(x)s"),
    ("systemd-system", "line\nbreak\ttab"),
    ("launchd-agent", "line\nbreak\ttab"),
])
def test_awkward_but_representable_values_render(case: str, value: str) -> None:
    assert render_with(TARGETS[case], {"OLLAMA_X": value}).content is not None


@pytest.mark.parametrize(("case", "changes", "field", "why"), [
    ("launchd-agent", {"binary": "ollama"}, "binary", "absolute path"),
    ("systemd-system", {"binary": "ollama"}, "binary", "absolute path"),
    ("systemd-system", {"binary": "/opt/o'brien/ollama"}, "binary", "quote or backslash"),
    ("systemd-system", {"binary": "/opt/a\\b/ollama"}, "binary", "quote or backslash"),
    ("systemd-system", {"binary": "/opt/$x/ollama"}, "binary", "'$'"),
    ("systemd-system", {"log_path": "/var/log/o.log "}, "log_path", "white space"),
    ("systemd-system", {"log_path": "/var/log/../o.log"}, "log_path", "'..'"),
    ("supervisord", {"binary": "/opt/a ;b/ollama"}, "binary", "comment"),
    ("supervisord", {"log_path": "/var/%(here)s/o.log"}, "log_path", "%(here)s"),
    *[(case, {"log_path": "logs/o.log"}, "log_path", "absolute path") for case in ALL if case != "systemd-dropin"],
    *[(case, {"binary": "/opt/ol\nlama"}, "binary", "control character") for case in ALL],
    *[(case, {"name": "com/evil"}, "label", "names the service file") for case in ALL],
    *[(case, {"user": "bad user"}, "user", "user name") for case in ALL],
])
def test_unsafe_target_field_is_rejected_with_a_finding(case: str, changes: dict[str, str], field: str,
                                                        why: str) -> None:
    rendered = render_with(TARGETS[case], {"OLLAMA_X": "1"}, **changes)
    assert rendered.content is None
    messages = [f.message for f in rendered.findings]
    assert any(m.startswith(f"[service] {field}: ") and why in m for m in messages), messages
    assert all(f.code == "unsafe-value" and f.variable is None for f in rendered.findings)


def test_finding_points_at_the_declaration_line() -> None:
    where = Location("/etc/ollama-sync/config.toml", 12, 1)
    decl = Declaration(OllamaSettings(environment=(("OLLAMA_X", "a\x01"),)),
                       locations=(("environment.OLLAMA_X", where),))
    (finding,) = render(decl, TARGETS["launchd-agent"]).findings
    assert finding.location == where


def test_finding_for_a_named_setting_points_at_that_setting() -> None:
    where = Location("c.toml", 3, 1)
    decl = Declaration(OllamaSettings(models_path="/m\rx"), locations=(("models_path", where),))
    (finding,) = render(decl, TARGETS["systemd-system"]).findings
    assert (finding.variable, finding.location) == ("OLLAMA_MODELS", where)


def test_one_finding_per_variable_even_with_several_problems() -> None:
    rendered = render_with(TARGETS["supervisord"], {"OLLAMA_X": "'a\n\"", "OLLAMA_Y": "ok"})
    assert [f.variable for f in rendered.findings] == ["OLLAMA_X"]


@pytest.mark.parametrize("source", ["a--b", "a---b", "ends-with-", "--", "x<!-- y -->"])
def test_plist_comment_never_holds_a_double_dash(source: str) -> None:
    comment = launchd.xml_comment(source)
    body = comment.removeprefix("<!--").removesuffix("-->")  # XML 1.0: no "--" inside, no "-" at the end
    assert comment.startswith("<!--") and "--" not in body and not body.endswith("-")
    decl = Declaration(OllamaSettings(environment=(("OLLAMA_X", "1"),)), source=source)
    content = render(decl, TARGETS["launchd-agent"]).content
    assert content is not None and plistlib.loads(content)["EnvironmentVariables"] == {"OLLAMA_X": "1"}


@pytest.mark.parametrize("source", ["/a\nb.toml", "/a\rb.toml", "/a\x00\u2028b", "/é/ok.toml"])
def test_marker_line_escapes_line_breaks_in_the_source(source: str) -> None:
    for case in ALL:
        decl = Declaration(OllamaSettings(environment=(("OLLAMA_X", "1"),)), source=source)
        content = render(decl, TARGETS[case]).content
        assert content is not None and is_ours(content)
        marked = [line for line in content.splitlines() if MARKER.encode() in line]
        assert len(marked) == 1
        assert len(content.decode().splitlines()) == len(content.splitlines())


def test_systemd_escapes_only_what_it_must() -> None:
    assert systemd.quote_environment("A", 'x "y" \\ 50% $HOME\t\n') == \
        'Environment="A=x \\"y\\" \\\\ 50%% $HOME\\t\\n"'
    assert systemd.exec_word("/usr/bin/ollama") == "/usr/bin/ollama"
    assert systemd.exec_word("/opt/my apps/100%/ollama") == '"/opt/my apps/100%%/ollama"'
    assert systemd_syntax.words(systemd.exec_word("/opt/my apps/100%/ollama")) == ["/opt/my apps/100%%/ollama"]


def test_user_appears_only_where_the_scope_uses_it() -> None:
    for case, expected in (("launchd-agent", False), ("launchd-daemon", True), ("systemd-system", True),
                           ("supervisord", True)):
        target = replace(TARGETS[case], user="svc")
        content = render_with(target, {"OLLAMA_X": "1"}).content
        assert content is not None
        assert (b"svc" in content) is expected, case
    user_unit = render_with(replace(TARGETS["systemd-user"], user="svc"), {"OLLAMA_X": "1"}).content
    assert user_unit is not None and b"User=" not in user_unit


def test_is_ours_recognises_only_marked_files() -> None:
    assert is_ours(f"# {MARKER} from x".encode())
    assert not is_ours(b"[Service]\nExecStart=/usr/bin/ollama serve\n")
