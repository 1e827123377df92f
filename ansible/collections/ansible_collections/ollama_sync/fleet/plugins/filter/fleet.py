# -*- coding: utf-8 -*-
# Copyright: ollama-sync contributors
# MIT License (see the repository's pyproject.toml)
"""Fleet views built from what the status and doctor modules registered on each host.

``fleet_rows`` / ``fleet_table``: one row per host — reachable, in sync, healthy, version, listen address,
loaded models. ``fleet_findings_rows`` / ``fleet_findings``: every host's OLLAMA_HOST exposure (the doctor's
own exposure findings) and the memory verdict of the models declared for the host's group.
The verdicts are ollama-sync's; these filters only lay them out.
"""

from __future__ import annotations

# Exposure findings: the declaration's (validate) and the doctor's (what the server really listens on).
EXPOSURE_CODES = ("exposed-all-interfaces", "exposed-to-public-network", "reachable-from-lan", "origins-wildcard",
                  "declared-host-not-local")


def _result(hostvars, host, register):
    try:
        return hostvars[host].get(register)
    except KeyError:
        return None


def _short(message, limit=72):
    """The part of an error that says why (ssh's own words when there are some), on one short line."""
    text = " ".join(str(message or "").split())
    if "ssh: " in text:
        text = text[text.rindex("ssh: "):]
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _yes(value):
    return {True: "yes", False: "NO", None: "?"}.get(value, str(value))


def fleet_rows(hosts, hostvars, register="ollama_sync_status_result"):
    """One dict per host from its registered status result."""
    rows = []
    for host in hosts:
        result = _result(hostvars, host, register)
        row = dict(host=host, reachable=None, in_sync=None, healthy=None, version=None, listen=None,
                   loaded_models=[], error=None)
        if result is None:
            row["error"] = "not asked (not in this run)"
        elif result.get("unreachable"):
            row["reachable"] = False
            row["error"] = _short(result.get("msg") or "unreachable")
        elif result.get("failed") or not result.get("status"):
            row["reachable"] = True
            row["error"] = _short(result.get("msg") or "status failed")
        else:
            doc = result["status"]
            server = doc.get("server") or {}
            row.update(reachable=True, in_sync=doc.get("in_sync"), healthy=doc.get("healthy"),
                       version=server.get("version"), listen=server.get("listen"),
                       loaded_models=[m.get("name") for m in doc.get("loaded_models") or []])
        rows.append(row)
    return rows


def _table(headers, rows):
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fleet_table(hosts, hostvars, register="ollama_sync_status_result"):
    """The fleet as one text table, then a one-line verdict."""
    rows = fleet_rows(hosts, hostvars, register)
    cells = [(r["host"], _yes(r["reachable"]), _yes(r["in_sync"]), _yes(r["healthy"]), r["version"] or "-",
              r["listen"] or "-", ", ".join(r["loaded_models"]) or ("-" if r["error"] is None else r["error"]))
             for r in rows]
    table = _table(("host", "reachable", "in sync", "healthy", "version", "listen", "loaded models"), cells)
    good = sum(1 for r in rows if r["reachable"] and r["in_sync"] and r["healthy"])
    return "%s\n%d of %d hosts reachable, in sync and healthy" % (table, good, len(rows))


def _declared_host(doc):
    for setting in (doc.get("status") or {}).get("settings") or []:
        if setting.get("variable") == "OLLAMA_HOST":
            return setting.get("declared")
    return None


def _memory(memory):
    if not memory:
        return []
    out = []
    for model in memory.get("models") or []:
        verdict = model.get("verdict") if model.get("readable") else "not readable"
        out.append(dict(model=model.get("name"), verdict=verdict, fits=model.get("fits")))
    return out


def fleet_findings_rows(hosts, hostvars, register="ollama_sync_doctor_result"):
    """Per host: declared OLLAMA_HOST, listen address, exposure findings and memory verdicts."""
    rows = []
    for host in hosts:
        result = _result(hostvars, host, register) or {}
        doc = result.get("doctor") or {}
        row = dict(host=host, reachable=not result.get("unreachable") and bool(doc), ollama_host=None, listen=None,
                   exposure=[], memory=[], error=None)
        if not doc:
            row["error"] = _short(result.get("msg") or "not asked")
            rows.append(row)
            continue
        row["ollama_host"] = _declared_host(doc)
        row["listen"] = ((doc.get("status") or {}).get("server") or {}).get("listen")
        row["exposure"] = [dict(code=f.get("code"), severity=f.get("severity"), message=f.get("message"))
                           for f in doc.get("findings") or [] if f.get("code") in EXPOSURE_CODES]
        row["memory"] = _memory(result.get("memory"))
        rows.append(row)
    return rows


def fleet_findings(hosts, hostvars, register="ollama_sync_doctor_result"):
    """Exposure and memory for the whole fleet, as one text table and a verdict line."""
    rows = fleet_findings_rows(hosts, hostvars, register)
    cells = []
    for r in rows:
        exposure = ", ".join("%s[%s]" % (f["severity"], f["code"]) for f in r["exposure"]) or "none found"
        memory = ", ".join("%s: %s" % (m["model"], m["verdict"]) for m in r["memory"]) or "-"
        if r["error"]:
            exposure, memory = r["error"], "-"
        cells.append((r["host"], r["ollama_host"] or "(default)", r["listen"] or "-", exposure, memory))
    table = _table(("host", "OLLAMA_HOST", "listen", "exposure", "memory (declared models)"), cells)
    exposed = [r["host"] for r in rows if r["exposure"]]
    misfit = ["%s (%s)" % (r["host"], m["model"]) for r in rows for m in r["memory"] if m["fits"] is False]
    verdict = ["exposed: %s" % ", ".join(exposed) if exposed else "no host exposed beyond what it declares",
               "does not fit: %s" % ", ".join(misfit) if misfit else "every declared model fits"]
    return table + "\n" + "; ".join(verdict)


class FilterModule(object):
    """ollama_sync.fleet filters."""

    def filters(self):
        return dict(fleet_rows=fleet_rows, fleet_table=fleet_table, fleet_findings_rows=fleet_findings_rows,
                    fleet_findings=fleet_findings)
