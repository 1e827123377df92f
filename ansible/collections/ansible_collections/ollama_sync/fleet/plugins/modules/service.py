#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ollama-sync contributors
# MIT License (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service
short_description: Declare the Ollama server service of a host with ollama-sync (verified apply, plan in check mode)
version_added: "0.1.0"
description:
  - Writes the host's ollama-sync declaration, then runs ollama-sync's own C(apply) on the host
    (C(ollama-sync --json apply --yes)) - lock, backup, atomic write of the launchd plist, systemd unit or
    supervisord program, reload, wait until healthy, verify against what the server resolved, roll back
    if broken. Nothing is re-implemented here; the module reads the CLI's JSON document.
  - In check mode it runs C(ollama-sync --json plan) on a copy of the declaration and touches nothing.
  - With C(--diff) the service-file diff and the findings are shown.
  - C(changed) is true only when apply changed the service (or pulled a model).
  - A failed verification fails the task with ollama-sync's message, after ollama-sync has rolled back.
options:
  service:
    description:
      - The C([service]) table of the ollama-sync config (C(backend), C(label), C(binary), C(scope),
        C(log_path), C(unit_mode), C(user), C(include_dir)), as a dict.
    type: dict
  ollama:
    description:
      - The C([ollama]) table (C(host), C(port), C(models_path), C(flash_attention), C(context_length),
        C(num_parallel), C(keep_alive), C(models), C(environment), ...), as a dict.
      - Any spelling ollama-sync accepts (its own snake_case, nix-darwin or C(services.ollama) names).
    type: dict
  config:
    description:
      - A complete ollama-sync config file (TOML or JSON) to use instead of O(service) and O(ollama).
      - On the controller (copied to O(config_path) on the host) unless O(remote_src=true), in which case
        it is a path on the host and is used where it is.
    type: path
  remote_src:
    description:
      - Whether O(config) is a path on the managed host rather than on the controller.
    type: bool
    default: false
  content:
    description:
      - The text of an ollama-sync config file (TOML). The action plugin fills it from a controller O(config).
    type: str
  config_path:
    description:
      - Where the declaration is written on the host.
      - Default is where ollama-sync looks without C(--config), so C(ollama-sync status) on the host reads it
        (C($OLLAMA_SYNC_CONFIG), else C($XDG_CONFIG_HOME/ollama-sync/config.toml), else
        C(~/.config/ollama-sync/config.toml)).
    type: path
  state:
    description:
      - V(present) runs the service as declared; V(absent) stops it and removes its file (C(enable = false)).
      - V(absent) needs the declaration as O(service)/O(ollama).
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description:
      - Seconds to wait for the server to answer after the reload (C(apply --timeout)).
    type: float
    default: 60
  lock_timeout:
    description:
      - Seconds to wait for another apply on the host to finish (C(apply --lock-timeout)).
    type: float
    default: 30
  pull_models:
    description:
      - Pull the models declared in O(ollama) (C(models)) after a successful apply (C(false) passes C(--no-models)).
    type: bool
    default: true
  executable:
    description:
      - Path of C(ollama-sync) on the host. Default is PATH, then next to the module's Python,
        then C(~/.local/bin), C(/opt/ollama-sync/bin).
    type: path
attributes:
  check_mode:
    description: Runs C(ollama-sync plan); nothing on the host is touched.
    support: full
  diff_mode:
    description: Shows the unified diff of the service file and the findings.
    support: full
  platform:
    description: macOS (launchd) and Linux (systemd, supervisord).
    platforms: posix
    support: full
author:
  - ollama-sync contributors (@ollama-sync)
"""

EXAMPLES = r"""
- name: Ollama on every host, settings from group and host vars
  ollama_sync.fleet.service:
    service: "{{ ollama_sync_service }}"
    ollama: "{{ ollama_sync_ollama }}"
    timeout: 60

- name: A declaration file kept next to the playbook
  ollama_sync.fleet.service:
    config: "files/{{ inventory_hostname }}.toml"

- name: The host's own nix-darwin declaration
  ollama_sync.fleet.service:
    config: ~/.config/ollama-sync/config.toml
    remote_src: true

- name: No Ollama service on this host
  ollama_sync.fleet.service:
    service: {backend: systemd}
    ollama: {}
    state: absent
"""

RETURN = r"""
changed:
  description: True only when apply changed the service (or pulled a model); in check mode, when plan has changes.
  returned: always
  type: bool
config_path:
  description: The declaration ollama-sync read on the host.
  returned: always
  type: str
config_written:
  description: Whether the declaration file on the host was (or, in check mode, would be) rewritten.
  returned: always
  type: bool
config_restored:
  description:
    - True when apply failed and the previous declaration file was put back (or the new one removed), so the
      host's declaration matches the service ollama-sync kept or rolled back to.
  returned: when apply failed after the declaration was rewritten
  type: bool
plan:
  description: The C(ollama-sync --json plan) document (check mode).
  returned: check mode
  type: dict
apply:
  description:
    - The C(ollama-sync --json apply) document; C(outcome) has the generation written and C(rolled_back_to);
      C(outcome.attempt.verification) what was verified; C(models) the pulls.
  returned: not in check mode
  type: dict
findings:
  description: ollama-sync's findings (code, severity, message, hint, variable, location).
  returned: always
  type: list
  elements: dict
service_file:
  description: The service file (plist, unit or program section).
  returned: when ollama-sync answered
  type: str
backend:
  description: launchd, systemd or supervisord.
  returned: when ollama-sync answered
  type: str
rolled_back_to:
  description: The generation ollama-sync restored after a failed verification (null when none).
  returned: when apply failed after writing
  type: int
conflict:
  description:
    - What holds the declared address when ollama-sync refused to apply before touching anything
      (C(listen), C(message), C(fix), C(holders)).
  returned: when the declared port is taken
  type: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ollama_sync.fleet.plugins.module_utils.cli import (
    default_config_path,
    error_findings,
    error_message,
    find_executable,
    format_finding,
    replace_path,
    run_json,
)
from ansible_collections.ollama_sync.fleet.plugins.module_utils.config_toml import config_document


def _argument_spec():
    return dict(
        service=dict(type="dict"),
        ollama=dict(type="dict"),
        config=dict(type="path"),
        remote_src=dict(type="bool", default=False),
        content=dict(type="str"),
        config_path=dict(type="path"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        timeout=dict(type="float", default=60.0),
        lock_timeout=dict(type="float", default=30.0),
        pull_models=dict(type="bool", default=True),
        executable=dict(type="path"),
    )


def _declaration(module):
    """(config file the CLI reads, text to write there or None when the file is used as it is)."""
    p = module.params
    if p["config"] and p["remote_src"]:
        if p["state"] == "absent":
            module.fail_json(msg="state=absent needs the declaration as service:/ollama: options "
                                 "(a config file cannot be switched off from here)")
        return p["config"], None
    path = p["config_path"] or default_config_path()
    if p["content"] is not None:
        if p["state"] == "absent":
            module.fail_json(msg="state=absent needs the declaration as service:/ollama: options, not a file")
        return path, p["content"]
    ollama = dict(p["ollama"] or {})
    if p["state"] == "absent":
        ollama["enable"] = False
    try:
        return path, config_document(p["service"], ollama)
    except ValueError as exc:
        module.fail_json(msg="cannot write the declaration: %s" % exc)
    return None, None  # not reached


def _read(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _write(module, path, text):
    """Write the declaration atomically (temporary file in the same folder, then rename)."""
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    module.atomic_move(tmp, path)


def _diff_text(doc):
    findings = "".join("%s\n" % format_finding(f) for f in doc.get("findings") or [])
    diff = doc.get("diff") or ""
    if not diff:
        diff = "%s\n" % (doc.get("noop_reason") or "no change to the service file")
    return diff + (("findings:\n" + findings) if findings else "")


def _failure(doc, stderr, rc):
    """ollama-sync's message for a failed plan/apply."""
    if not isinstance(doc, dict) or "findings" not in doc:
        return error_message(doc, stderr, rc)
    blocking = error_findings(doc)
    if blocking and not doc.get("outcome"):
        return "blocked by %d error-level finding(s), nothing was touched: %s" % (len(blocking), "; ".join(blocking))
    conflict = doc.get("conflict") or {}
    if conflict:  # ollama-sync found the port taken before touching anything
        text = "nothing was touched: %s" % conflict.get("message")
        return text + (" (fix: %s)" % conflict["fix"] if conflict.get("fix") else "")
    outcome = doc.get("outcome") or {}
    if outcome and not outcome.get("ok"):
        generation = outcome.get("generation") or {}
        attempt = outcome.get("attempt") or {}
        text = "apply failed: %s" % (generation.get("result") or attempt.get("reason") or "the new server failed")
        if outcome.get("rolled_back_to") is not None:
            text += "; rolled back to generation %s" % outcome["rolled_back_to"]
        elif generation:
            text += "; no previous version: the new service was stopped and its file removed"
        return text
    restart = doc.get("restart") or {}
    if restart and not restart.get("ok"):
        return "restart failed at %s: %s" % (restart.get("failed_step"), restart.get("reason"))
    models = doc.get("models") or {}
    failed = [m for m in models.get("pulled") or [] if not m.get("ok")]
    if failed:
        return "models not pulled: %s" % "; ".join("%s: %s" % (m.get("name"), m.get("error")) for m in failed)
    return error_message(None, stderr, rc)


def main():
    module = AnsibleModule(
        argument_spec=_argument_spec(),
        mutually_exclusive=[("config", "content"), ("config", "service"), ("config", "ollama"),
                            ("content", "service"), ("content", "ollama")],
        required_one_of=[("config", "content", "service", "ollama")],
        supports_check_mode=True,
    )
    p = module.params
    executable = find_executable(module)
    path, text = _declaration(module)
    written = text is not None and _read(path) != text
    result = dict(changed=False, config_path=path, config_written=written, findings=[])

    if module.check_mode:
        read_from = path
        if written:  # plan the new declaration from a copy in the module's own temporary folder
            read_from = os.path.join(module.tmpdir, os.path.basename(path))
            with open(read_from, "w", encoding="utf-8") as handle:
                handle.write(text)
        rc, doc, stderr = run_json(module, executable, ["plan"], config=read_from)
        if read_from != path:  # name the file apply will read (and record in the service file), not the copy
            doc, stderr = replace_path(doc, read_from, path), stderr.replace(read_from, path)
        _report(module, result, "plan", rc, doc, stderr, changed_key="changes")
        return

    previous = _read(path) if written else None
    if written:
        _write(module, path, text)
    args = ["apply", "--yes", "--timeout", str(p["timeout"]), "--lock-timeout", str(p["lock_timeout"])]
    if not p["pull_models"]:
        args.append("--no-models")
    rc, doc, stderr = run_json(module, executable, args, config=path)

    def restore():
        """A failed apply leaves the previous declaration, matching the service ollama-sync kept or restored."""
        if not written:
            return
        if previous is None:
            os.unlink(path)
        else:
            _write(module, path, previous)
        result["config_written"] = False
        result["config_restored"] = True

    _report(module, result, "apply", rc, doc, stderr, changed_key="changed", on_failure=restore)


def _report(module, result, command, rc, doc, stderr, changed_key, on_failure=None):
    if not isinstance(doc, dict) or doc.get("command") != command or "findings" not in doc:
        if on_failure:
            on_failure()
        result["rc"] = rc
        module.fail_json(msg=error_message(doc, stderr, rc), stderr=stderr, **result)
    result[command] = doc
    result["findings"] = doc.get("findings") or []
    result["service_file"] = doc.get("path")
    result["backend"] = doc.get("backend")
    pulled = [m for m in (doc.get("models") or {}).get("pulled") or [] if m.get("ok")]
    result["changed"] = bool(doc.get(changed_key)) or bool(pulled)
    if module._diff:
        result["diff"] = dict(prepared=_diff_text(doc))
    outcome = doc.get("outcome") or {}
    if outcome:
        result["rolled_back_to"] = outcome.get("rolled_back_to")
    if doc.get("conflict"):
        result["conflict"] = doc["conflict"]
    if rc != 0 or not doc.get("ok", False):
        if on_failure:
            on_failure()
        result["rc"] = rc
        module.fail_json(msg=_failure(doc, stderr, rc), stderr=stderr, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
