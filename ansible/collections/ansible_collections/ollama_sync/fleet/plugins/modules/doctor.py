#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ollama-sync contributors
# MIT License (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: doctor
short_description: Every ollama-sync check on the host, as facts (ollama-sync doctor --json)
version_added: "0.1.0"
description:
  - Runs C(ollama-sync --json doctor) on the host and returns its document as the fact
    C(ollama_sync_doctor) and as RV(doctor); RV(ok) is false when any finding is an error.
  - With O(models), also C(ollama-sync --json memory MODEL...), the memory verdict of those models
    under the declared settings, as RV(memory).
  - Changes nothing.
options:
  config:
    description:
      - The ollama-sync config on the host. Default is where ollama-sync looks without C(--config).
    type: path
  models:
    description:
      - Models (as installed on the host, e.g. C(llama3.1:8b)) to judge with C(ollama-sync memory).
    type: list
    elements: str
    default: []
  fail_when_not_ok:
    description:
      - Fail the task when a finding is an error (or a model does not fit).
    type: bool
    default: false
  executable:
    description:
      - Path of C(ollama-sync) on the host (default as for M(ollama_sync.fleet.service)).
    type: path
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
  facts:
    description: Sets C(ollama_sync_doctor).
    support: full
  platform:
    description: macOS and Linux.
    platforms: posix
    support: full
author:
  - ollama-sync contributors (@ollama-sync)
"""

EXAMPLES = r"""
- name: Every check, and whether the group's models fit
  ollama_sync.fleet.doctor:
    models: "{{ ollama_sync_ollama.models | default([]) }}"
"""

RETURN = r"""
ok:
  description: No error-level finding (and every model in O(models) fits).
  returned: always
  type: bool
doctor:
  description: The C(doctor --json) document; C(findings) (code, severity, message, hint), C(status).
  returned: success
  type: dict
memory:
  description:
    - The C(memory --json) document for O(models); C(models) has one row per model with C(fits) and
      C(verdict); C(host) the memory found.
  returned: when O(models) is not empty
  type: dict
ansible_facts:
  description: C(ollama_sync_doctor), the doctor document with C(memory) added.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ollama_sync.fleet.plugins.module_utils.cli import error_message, find_executable, run_json


def main():
    module = AnsibleModule(
        argument_spec=dict(config=dict(type="path"), models=dict(type="list", elements="str", default=[]),
                           fail_when_not_ok=dict(type="bool", default=False), executable=dict(type="path")),
        supports_check_mode=True,
    )
    executable = find_executable(module)
    config = module.params["config"]
    rc, doc, stderr = run_json(module, executable, ["doctor"], config=config)
    if not isinstance(doc, dict) or doc.get("command") != "doctor" or "findings" not in doc:
        module.fail_json(msg=error_message(doc, stderr, rc), rc=rc, stderr=stderr)
    ok = bool(doc.get("ok"))
    memory = None
    if module.params["models"]:
        mrc, memory, merr = run_json(module, executable, ["memory"] + module.params["models"], config=config)
        if not isinstance(memory, dict) or memory.get("command") != "memory":
            module.fail_json(msg=error_message(memory, merr, mrc), rc=mrc, stderr=merr, doctor=doc)
        ok = ok and bool(memory.get("ok"))
    facts = dict(doc, memory=memory)
    result = dict(changed=False, ok=ok, doctor=doc, memory=memory, ansible_facts=dict(ollama_sync_doctor=facts))
    if module.params["fail_when_not_ok"] and not ok:
        module.fail_json(msg="ollama-sync doctor: error-level findings (see doctor.findings)", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
