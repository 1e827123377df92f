# -*- coding: utf-8 -*-
# Copyright: ollama-sync contributors
# MIT License (see the repository's pyproject.toml)
"""Controller side of ollama_sync.fleet.service: a ``config:`` file on the controller is read here and sent
to the host as ``content`` (the module writes it where ollama-sync looks); everything else runs on the host."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Read a controller-side declaration, then run the module on the host."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        config = args.get("config")
        if config and not boolean(args.get("remote_src", False), strict=False):
            try:
                source = self._find_needle("files", config)
            except AnsibleActionFail as exc:
                result.update(failed=True, msg="config %s not found on the controller: %s" % (config, exc))
                return result
            with open(source, "rb") as handle:
                args["content"] = to_text(handle.read(), errors="surrogate_or_strict")
            del args["config"]
            args.pop("remote_src", None)
        result.update(self._execute_module(module_name="ollama_sync.fleet.service", module_args=args,
                                           task_vars=task_vars))
        return result
