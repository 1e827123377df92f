"""`import` refuses what is not a launchd job or a systemd service unit, with one clear error, and judges
what it imports as `check` would (issue #11)."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from ollama_sync.cli import run

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>Label</key><string>x</string>'
ARGS = "<key>ProgramArguments</key><array><string>/opt/homebrew/bin/ollama</string><string>serve</string></array>"

PLISTS = {
    "bad date": (HEAD + "<key>D</key><date>yesterday</date>" + ARGS + "</dict></plist>", "<date> must look like"),
    "unknown encoding": ('<?xml version="1.0" encoding="evil-99"?><plist version="1.0"><dict></dict></plist>',
                         "unknown encoding: evil-99"),
    "stray key": (HEAD + "<key>x</key></dict></plist>", "missing value for key 'x'"),
    "key in an array": (HEAD + "<key>A</key><array><key>x</key></array></dict></plist>", "unexpected key"),
    "integer ProgramArguments": (HEAD + "<key>ProgramArguments</key><integer>1</integer></dict></plist>",
                                 "ProgramArguments must be an array of strings"),
    "dict ProgramArguments": (HEAD + "<key>ProgramArguments</key><dict/></dict></plist>",
                              "ProgramArguments must be an array of strings"),
    "string ProgramArguments": (HEAD + "<key>ProgramArguments</key><string>/</string></dict></plist>",
                                "ProgramArguments must be an array of strings"),
    "no program": (HEAD + "</dict></plist>", "ProgramArguments must be an array of strings"),
    "array environment value": (HEAD + ARGS + "<key>EnvironmentVariables</key><dict><key>A</key><array/>"
                                "</dict></dict></plist>", "EnvironmentVariables.A is an <array>, not a string"),
    "integer label": ('<?xml version="1.0"?><plist version="1.0"><dict><key>Label</key><integer>1</integer>'
                      + ARGS + "</dict></plist>", "Label must be a string"),
    "huge integer": (HEAD + "<key>N</key><integer>" + "9" * 5000 + "</integer>" + ARGS + "</dict></plist>",
                     "Exceeds the limit"),
    "array at the top": ('<?xml version="1.0"?><plist version="1.0"><array/></plist>', "not a dictionary"),
}


def _import(tmp_path: Path, path: Path, *args: str) -> int:
    return run(["--root", str(tmp_path / "root"), "import", str(path), *args])


@pytest.mark.parametrize("name", sorted(PLISTS))
def test_a_malformed_plist_is_one_clear_error(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    text, words = PLISTS[name]
    path = tmp_path / "com.github.ollama.plist"
    path.write_text(text)
    assert _import(tmp_path, path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and words in err
    assert "Traceback" not in err and "NoneType" not in err


def _nested_binary_plist(depth: int) -> bytes:
    """A binary plist of arrays nested depth deep, written by hand (plistlib itself cannot write one):
    object i is a one-element array holding object i + 1 (2-byte refs); the last is empty."""
    objects = [b"\xa1" + (i + 1).to_bytes(2, "big") for i in range(depth - 1)] + [b"\xa0"]
    offsets, body = [], b""
    for obj in objects:
        offsets.append(8 + len(body))
        body += obj
    table = b"".join(offset.to_bytes(4, "big") for offset in offsets)
    trailer = bytes(6) + bytes([4, 2]) + depth.to_bytes(8, "big") + bytes(8) + (8 + len(body)).to_bytes(8, "big")
    return b"bplist00" + body + table + trailer


def test_a_deep_binary_plist_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plistlib.loads(_nested_binary_plist(3)) == [[[]]]  # the builder writes what plistlib reads
    path = tmp_path / "deep.plist"
    path.write_bytes(_nested_binary_plist(5000))
    assert _import(tmp_path, path) == 2
    assert "not a property list: nested too deeply" in capsys.readouterr().err


UNITS = {
    "empty": (b"", "no [Service] section (sections: none)"),
    "random bytes": (bytes(range(256)) * 4, "not valid UTF-8"),
    "random text": (b"lorem ipsum\ndolor=sit\n", "no [Service] section"),
    "supervisord section": (b'[program:ollama]\ncommand=/usr/bin/ollama serve\nenvironment=A="1"\n',
                            "no [Service] section (sections: [program:ollama])"),
    "no ExecStart": (b"[Service]\nEnvironment=OLLAMA_HOST=0.0.0.0\n", "[Service] has no ExecStart="),
}


@pytest.mark.parametrize("name", sorted(UNITS))
def test_what_is_not_a_service_unit_is_refused(tmp_path: Path, name: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    data, words = UNITS[name]
    path = tmp_path / "ollama.service"
    path.write_bytes(data)
    assert _import(tmp_path, path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:") and words in err


def test_import_judges_the_label_as_check_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{'a' * 240}.service"
    path.write_text("[Service]\nExecStart=/usr/bin/ollama serve\n")
    assert _import(tmp_path, path) == 1
    assert "label: is 240 characters long; systemd allows at most 236" in capsys.readouterr().err


def test_import_judges_values_as_check_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ollama.service"
    path.write_text('[Service]\nExecStart=/usr/bin/ollama serve\nEnvironment="OLLAMA_HOST=0.0.0.0:99999"\n')
    assert _import(tmp_path, path) == 1
    assert "error[invalid-port]" in capsys.readouterr().err
