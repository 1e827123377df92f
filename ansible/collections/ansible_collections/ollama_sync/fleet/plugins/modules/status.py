#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ollama-sync contributors
# MIT License (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: status
short_description: What really runs on the host, as facts (ollama-sync status --json)
version_added: "0.1.0"
description:
  - Runs C(ollama-sync --json status) on the host and returns its document as the fact
    C(ollama_sync_status) and as RV(status); RV(ok) is ollama-sync's verdict (in sync and healthy).
  - A host that is not in sync or not healthy is reported, not failed, unless O(fail_when_not_ok=true).
  - Changes nothing.
options:
  config:
    description:
      - The ollama-sync config on the host. Default is where ollama-sync looks without C(--config).
    type: path
  fail_when_not_ok:
    description:
      - Fail the task when ollama-sync says the host is not in sync or not healthy.
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
    description: Sets C(ollama_sync_status).
    support: full
  platform:
    description: macOS and Linux.
    platforms: posix
    support: full
author:
  - ollama-sync contributors (@ollama-sync)
"""

EXAMPLES = r"""
- name: Ask every host what runs
  ollama_sync.fleet.status:

- name: The listen address of each host
  ansible.builtin.debug:
    msg: "{{ ollama_sync_status.server.listen }}"
"""

RETURN = r"""
ok:
  description: In sync and healthy (ollama-sync's own verdict).
  returned: always
  type: bool
status:
  description:
    - The C(status --json) document; C(in_sync), C(healthy), C(service) (manager, state, pid, file),
      C(settings) (declared, file, manager and server views per variable), C(server) (C(listen), C(version),
      C(addresses)), C(loaded_models), C(installed_models), C(problems).
  returned: success
  type: dict
ansible_facts:
  description: C(ollama_sync_status), the same document.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ollama_sync.fleet.plugins.module_utils.cli import error_message, find_executable, run_json


def main():
    module = AnsibleModule(
        argument_spec=dict(config=dict(type="path"), fail_when_not_ok=dict(type="bool", default=False),
                           executable=dict(type="path")),
        supports_check_mode=True,
    )
    executable = find_executable(module)
    rc, doc, stderr = run_json(module, executable, ["status"], config=module.params["config"])
    if not isinstance(doc, dict) or doc.get("command") != "status" or "in_sync" not in doc:
        module.fail_json(msg=error_message(doc, stderr, rc), rc=rc, stderr=stderr)
    ok = bool(doc.get("ok"))
    result = dict(changed=False, ok=ok, status=doc, ansible_facts=dict(ollama_sync_status=doc))
    if module.params["fail_when_not_ok"] and not ok:
        module.fail_json(msg="ollama-sync status: not in sync or not healthy (run `ollama-sync doctor`)", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
