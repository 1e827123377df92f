"""The fleet filters on registered results of the shapes Ansible gives them (ok, failed, unreachable, not run)."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

from tests.fleet.netns_bed import COLLECTIONS

FILTER = COLLECTIONS / "ansible_collections" / "ollama_sync" / "fleet" / "plugins" / "filter" / "fleet.py"


def _filters() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ollama_sync_fleet_filter", FILTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _status(listen: str, *, ok: bool = True, loaded: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"changed": False, "ok": ok, "status": {
        "ok": ok, "in_sync": ok, "healthy": True, "server": {"listen": listen, "version": "0.32.15"},
        "loaded_models": [{"name": name} for name in loaded],
        "settings": [{"variable": "OLLAMA_HOST", "declared": listen}]}}


HOSTVARS: dict[str, dict[str, Any]] = {
    "mac": {"ollama_sync_status_result": _status("100.64.0.7:11434", loaded=("llama3.1:8b",))},
    "gpu": {"ollama_sync_status_result": _status("100.64.0.21:11434", ok=False)},
    "broken": {"ollama_sync_status_result": {"failed": True, "msg": "ollama-sync is not installed on this host\n…"}},
    "down": {"ollama_sync_status_result": {"unreachable": True, "changed": False,
                                           "msg": 'Data could not be sent to remote host "x". Make sure this host '
                                                  "can be reached over ssh: ssh: connect to host x port 22: "
                                                  "No route to host"}},
    "skipped": {},
}


def test_rows_say_for_each_host_what_its_result_was() -> None:
    rows = {r["host"]: r for r in _filters().fleet_rows(list(HOSTVARS), HOSTVARS)}
    assert rows["mac"]["reachable"] is True and rows["mac"]["loaded_models"] == ["llama3.1:8b"]
    assert rows["gpu"]["in_sync"] is False and rows["gpu"]["version"] == "0.32.15"
    assert rows["broken"]["reachable"] is True and rows["broken"]["error"] == "ollama-sync is not installed on " \
                                                                              "this host …"
    assert rows["down"]["reachable"] is False
    assert rows["down"]["error"] == "ssh: connect to host x port 22: No route to host"
    assert rows["skipped"]["reachable"] is None and rows["skipped"]["error"] == "not asked (not in this run)"


def test_the_table_has_one_row_per_host_and_counts_the_good_ones() -> None:
    table = _filters().fleet_table(list(HOSTVARS), HOSTVARS).splitlines()
    assert table[0].split()[:3] == ["host", "reachable", "in"]
    assert [line.split()[0] for line in table[2:-1]] == list(HOSTVARS)
    assert table[-1] == "1 of 5 hosts reachable, in sync and healthy"


def test_findings_name_the_exposed_hosts_and_the_models_that_do_not_fit() -> None:
    def doctor(codes: tuple[str, ...], fits: bool) -> dict[str, Any]:
        return {"doctor": {"findings": [{"code": c, "severity": "warning", "message": c} for c in codes],
                           "status": {"server": {"listen": "0.0.0.0:11434"},
                                      "settings": [{"variable": "OLLAMA_HOST", "declared": "0.0.0.0"}]}},
                "memory": {"models": [{"name": "qwen2.5:32b", "readable": True, "fits": fits,
                                       "verdict": "fits" if fits else "does_not_fit"}]}}

    hostvars = {"a": {"ollama_sync_doctor_result": doctor(("exposed-all-interfaces", "file-drift"), True)},
                "b": {"ollama_sync_doctor_result": doctor((), False)}}
    f = _filters()
    rows = {r["host"]: r for r in f.fleet_findings_rows(["a", "b"], hostvars)}
    assert [e["code"] for e in rows["a"]["exposure"]] == ["exposed-all-interfaces"]  # file-drift is not exposure
    assert rows["b"]["exposure"] == [] and rows["b"]["memory"] == [{"model": "qwen2.5:32b",
                                                                    "verdict": "does_not_fit", "fits": False}]
    assert f.fleet_findings(["a", "b"], hostvars).splitlines()[-1] == \
        "exposed: a; does not fit: b (qwen2.5:32b)"
