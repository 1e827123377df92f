"""The ollama_sync.fleet collection driving ollama-sync on 3 hosts over REAL SSH (tests/fleet/netns_bed.py).

One bed for the module (creating it costs a few seconds); the tests run in file order and each says what
state it starts from. Every host runs the stand-in server (NOT the real Ollama) under its own supervisord.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.netns_bed import Bed, Host, namespace_bed

pytestmark = pytest.mark.slow

SITE = Path(__file__).parent / "playbooks" / "site.yml"
RECAP = re.compile(r"^(\S+)\s*: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


@pytest.fixture(scope="module")
def bed() -> Iterator[Bed]:
    """Three hosts, a controller and a bridge, each in its own namespace (torn down at the end)."""
    with namespace_bed(3) as b:
        yield b


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP: host → ok, changed, unreachable, failed."""
    return {m[1]: {"ok": int(m[2]), "changed": int(m[3]), "unreachable": int(m[4]), "failed": int(m[5])}
            for m in RECAP.finditer(stdout)}


def settings(**values: object) -> str:
    """`-e` JSON: fleet-wide [ollama] settings every host gets (the group's declaration)."""
    return json.dumps({"fleet_settings": values})


def table_rows(stdout: str) -> dict[str, str]:
    """The rows of a table printed by debug (a YAML list of lines, long items wrapped): first cell → line."""
    items: list[str] = []
    for line in stdout.splitlines():
        text = line.strip()
        if text.startswith("- "):
            items.append(text[2:])
        elif items and text and line.startswith("        "):  # a wrapped item goes on, further indented
            items[-1] += " " + text
        else:
            items.append("")
    rows = {}
    for item in items:
        text = item.strip("'\"")
        if re.match(r"^(h\d|down)\s", text):
            rows[text.split()[0]] = text
    return rows


def settled_status(host: Host, timeout: float = 20) -> dict[str, Any]:
    """`status --json` on the host, asked again (within a deadline) while it is not ok: on a loaded machine a
    probe can time out once; the last document is returned either way."""
    deadline = time.monotonic() + timeout
    doc = host.status()
    while not doc["ok"] and time.monotonic() < deadline:
        time.sleep(0.5)
        doc = host.status()
    return doc


def declared(bed: Bed, host: str, variable: str) -> tuple[str | None, str | None]:
    """(declared, server view) of one variable in `ollama-sync status --json` on the host."""
    doc = settled_status(bed.host(host))
    row = next(r for r in doc["settings"] if r["variable"] == variable)
    return row["declared"], row["server"]["value"]


def test_check_mode_touches_nothing_on_any_host(bed: Bed) -> None:
    before = {h.name: h.snapshot() for h in bed.hosts}
    done = bed.playbook(bed.inventory(), SITE, "--check", "--diff")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {h: r["changed"] for h, r in recap(done.stdout).items()} == {"h1": 1, "h2": 1, "h3": 1}
    for host in bed.hosts:  # the diff of each host's own program section, with the path apply will record
        assert f"+++ {host.service_file}" in done.stdout
        assert f'environment=OLLAMA_HOST="{host.address}:11434"' in done.stdout
        assert f"Managed by ollama-sync from {host.config}." in done.stdout
    assert {h.name: h.snapshot() for h in bed.hosts} == before
    assert all(h.server_pid() is None and not h.service_file.exists() for h in bed.hosts)


def test_apply_on_all_hosts_then_a_second_run_changes_nothing(bed: Bed) -> None:
    done = bed.playbook(bed.inventory(), SITE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {h: r["changed"] for h, r in recap(done.stdout).items()} == {"h1": 1, "h2": 1, "h3": 1}
    for host in bed.hosts:
        doc = settled_status(host)
        assert doc["ok"] and doc["in_sync"] and doc["healthy"], doc
        assert doc["server"]["listen"] == f"{host.address}:11434"
        assert host.config.exists()
    pids = {h.name: h.server_pid() for h in bed.hosts}
    again = bed.playbook(bed.inventory(), SITE)
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap(again.stdout) == {h: {"ok": 1, "changed": 0, "unreachable": 0, "failed": 0}
                                   for h in ("h1", "h2", "h3")}
    assert {h.name: h.server_pid() for h in bed.hosts} == pids  # nothing was restarted


def test_a_host_whose_port_is_taken_fails_alone_and_nothing_there_is_touched(bed: Bed) -> None:
    # From: all three applied on 11434. Now h2 moves to a port something else holds on h2.
    h2 = bed.host("h2")
    before = h2.service_file.read_text(), h2.server_pid()
    bed.block_port(h2, 11500)
    inventory = bed.inventory(overrides={"h2": {"ollama_sync_port": 11500}})
    done = bed.playbook(inventory, SITE, "-e", settings(num_parallel=2))
    assert done.returncode != 0
    rows = recap(done.stdout)
    assert rows["h2"]["failed"] == 1 and rows["h2"]["changed"] == 0, done.stdout
    assert rows["h1"]["changed"] == 1 and rows["h3"]["changed"] == 1, done.stdout
    text = " ".join(done.stdout.split())  # the YAML callback wraps long messages
    assert "nothing was touched: 10.77.0.12:11500 is already taken" in text, text  # ollama-sync's own check
    assert (h2.service_file.read_text(), h2.server_pid()) == before
    assert h2.api_version(11434) == "0.32.15"
    assert declared(bed, "h1", "OLLAMA_NUM_PARALLEL") == ("2", "2")
    assert declared(bed, "h3", "OLLAMA_NUM_PARALLEL") == ("2", "2")


def test_a_host_whose_new_server_fails_is_rolled_back_while_the_others_apply(bed: Bed) -> None:
    # From: h1, h3 on num_parallel 2 (generation 2). The stand-in is told (STANDIN_FAIL, passed through the
    # service environment) to exit at start on h3 only: health fails there, ollama-sync restores generation 2.
    h3 = bed.host("h3")
    before = h3.service_file.read_text()
    inventory = bed.inventory(overrides={"h3": {"fleet_host_settings": {"environment":
                                                                         {"STANDIN_FAIL": "exit-at-start"}}}})
    done = bed.playbook(inventory, SITE, "-e", settings(num_parallel=3), "--limit", "h1,h3")
    assert done.returncode != 0
    rows = recap(done.stdout)
    assert rows["h3"]["failed"] == 1 and rows["h1"]["changed"] == 1, done.stdout
    text = " ".join(done.stdout.split())
    assert "apply failed:" in text and "rolled back to generation 2" in text, text
    assert "rolled_back_to: 2" in text
    assert h3.service_file.read_text() == before  # the previous generation, restored
    assert h3.api_version(11434) == "0.32.15"  # and serving again
    assert declared(bed, "h1", "OLLAMA_NUM_PARALLEL") == ("3", "3")


def test_limit_applies_to_the_named_host_only(bed: Bed) -> None:
    # From: h1 on num_parallel 3, h3 on 2 (its failed generation rolled back), h2 on its first generation.
    untouched = {name: bed.host(name).snapshot() for name in ("h2", "h3")}
    done = bed.playbook(bed.inventory(), SITE, "--limit", "h1", "-e", settings(num_parallel=5))
    assert done.returncode == 0, done.stdout + done.stderr
    assert recap(done.stdout) == {"h1": {"ok": 1, "changed": 1, "unreachable": 0, "failed": 0}}
    assert declared(bed, "h1", "OLLAMA_NUM_PARALLEL") == ("5", "5")
    assert {name: bed.host(name).snapshot() for name in ("h2", "h3")} == untouched


def test_serial_rollout_stops_at_the_first_failing_batch(bed: Bed) -> None:
    # serial: 1 and max_fail_percentage: 0 — h1 applies, h2 fails (port still taken), h3 is never started.
    h3_before = bed.host("h3").snapshot()
    inventory = bed.inventory(overrides={"h2": {"ollama_sync_port": 11500}})
    done = bed.playbook(inventory, SITE, "-e", json.dumps({"fleet_serial": 1, "fleet_max_fail": 0}),
                        "-e", settings(num_parallel=4))
    assert done.returncode != 0
    rows = recap(done.stdout)
    assert rows["h1"]["changed"] == 1 and rows["h2"]["failed"] == 1, done.stdout
    assert "h3" not in rows or rows["h3"]["ok"] == 0, done.stdout
    assert done.stdout.index("[h1]") < done.stdout.index("[h2]")  # one batch after the other
    assert declared(bed, "h1", "OLLAMA_NUM_PARALLEL") == ("4", "4")
    assert bed.host("h3").snapshot() == h3_before
    # h2 back on its free port: the rest of the rollout converges.
    rest = bed.playbook(bed.inventory(), SITE, "--limit", "h2,h3", "-e", settings(num_parallel=4))
    assert rest.returncode == 0, rest.stdout + rest.stderr
    assert {h: r["changed"] for h, r in recap(rest.stdout).items()} == {"h2": 1, "h3": 1}
    for host in bed.hosts:
        doc = settled_status(host)
        assert doc["ok"], (host.name, doc["in_sync"], doc["healthy"], doc["problems"], doc["service"])


def test_status_summary_shows_every_host_and_a_down_host_as_unreachable(bed: Bed) -> None:
    inventory = bed.inventory(extra_hosts={"down": "10.77.0.99"})  # on the bridge, nobody there
    started = time.monotonic()
    done = bed.playbook(inventory, "ollama_sync.fleet.summary", timeout=120)
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"the summary took {elapsed:.0f} s: a down host must not hang it"
    table = table_rows(done.stdout)
    assert set(table) == {"h1", "h2", "h3", "down"}, done.stdout
    for host in bed.hosts:
        row = table[host.name]
        assert "0.32.15" in row and f"{host.address}:" in row, row
    assert re.search(r"down\s+NO\b", table["down"]), table["down"]
    assert re.search(r"h1\s+yes\s+yes\s+yes\b", table["h1"]), table["h1"]
    assert "of 4 hosts reachable, in sync and healthy" in done.stdout


def test_fleet_findings_exposure_and_memory_per_group(bed: Bed) -> None:
    from tests.gguf_models import build_models_dir  # noqa: PLC0415  # gguf/numpy: only this test

    for host in bed.hosts:
        build_models_dir(host.folder)  # llama3.1, gemma3, qwen2.5 GGUF headers in the host's models folder
    h3 = bed.host("h3")
    exposed = bed.inventory(overrides={"h3": {"ollama_sync_address": "0.0.0.0"}})
    applied = bed.playbook(exposed, SITE, "--limit", "h3")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    inventory = bed.inventory(group_vars={"ollama_sync_ollama": {"models": ["llama3.1", "qwen2.5"]}},
                              overrides={"h3": {"ollama_sync_address": "0.0.0.0"}})
    done = bed.playbook(inventory, "ollama_sync.fleet.findings", timeout=150)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = table_rows(done.stdout)
    assert set(rows) == {"h1", "h2", "h3"}, done.stdout
    assert "exposed-all-interfaces" in rows["h3"] and "0.0.0.0:11434" in rows["h3"], rows["h3"]
    assert "exposed-all-interfaces" not in rows["h1"], rows["h1"]
    for name, row in rows.items():  # each host's verdicts are ollama-sync's own, as `memory --json` gives them
        direct = json.loads(bed.host(name).ollama_sync("--json", "memory", "llama3.1", "qwen2.5").stdout)
        for model in direct["models"]:
            assert f"{model['name']}: {model['verdict']}" in row, (row, model)
    assert "exposed: h3" in done.stdout
    assert h3.status()["server"]["listen"] == "0.0.0.0:11434"


VARIANTS = Path(__file__).parent / "playbooks" / "variants.yml"


def test_a_config_file_from_the_controller_then_the_same_file_on_the_host(bed: Bed) -> None:
    h1 = bed.host("h1")
    toml = bed.folder / "controller-files" / "h1.toml"  # on the controller: the action plugin sends its text
    toml.parent.mkdir(exist_ok=True)
    toml.write_text(f'[service]\nbackend = "supervisord"\nbinary = "{bed.ollama}"\ninclude_dir = "{h1.include_dir}"\n\n'
                    f'[ollama]\nhost = "{h1.address}"\nport = 11434\nmodels_path = "{h1.models}"\nkeep_alive = "7m"\n')
    done = bed.playbook(bed.inventory(), VARIANTS, "--limit", "h1", "-e", json.dumps({"fleet_config": str(toml)}))
    assert done.returncode == 0, done.stdout + done.stderr
    assert recap(done.stdout)["h1"]["changed"] == 1
    assert h1.config.read_text() == toml.read_text()  # written where ollama-sync looks on the host
    assert declared(bed, "h1", "OLLAMA_KEEP_ALIVE") == ("7m", "7m0s")  # the server logs Go's duration
    on_host = json.dumps({"fleet_config": str(h1.config), "fleet_remote_src": True})
    again = bed.playbook(bed.inventory(), VARIANTS, "--limit", "h1", "-e", on_host)
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap(again.stdout)["h1"]["changed"] == 0  # the same declaration, read where it is


def test_state_absent_stops_the_service_and_removes_its_file(bed: Bed) -> None:
    h2 = bed.host("h2")
    assert h2.server_pid() is not None and h2.service_file.exists()
    args = ("--limit", "h2", "-e", json.dumps({"fleet_state": "absent"}))
    done = bed.playbook(bed.inventory(), VARIANTS, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert recap(done.stdout)["h2"]["changed"] == 1
    assert not h2.service_file.exists() and h2.server_pid() is None
    assert h2.api_version(11434) is None
    again = bed.playbook(bed.inventory(), VARIANTS, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap(again.stdout)["h2"]["changed"] == 0


def test_an_invalid_setting_fails_that_host_with_ollama_sync_s_message_and_leaves_it_as_it_was(bed: Bed) -> None:
    h3 = bed.host("h3")
    before = h3.snapshot()
    inventory = bed.inventory(overrides={"h3": {"fleet_host_settings": {"num_parallel": "many"}}})
    for mode in (("--check",), ()):
        done = bed.playbook(inventory, SITE, "--limit", "h1,h3", *mode)
        assert done.returncode != 0
        rows = recap(done.stdout)
        assert rows["h3"]["failed"] == 1 and rows["h1"]["failed"] == 0, done.stdout
        text = " ".join(done.stdout.split())
        # ollama-sync's JSON error: the file apply reads (in check mode too, not the module's copy) and the line
        assert f"msg: '{h3.config}:" in text and "'num_parallel' must be a whole number" in text, text
        assert h3.snapshot() == before  # the previous declaration is back: it matches what runs
