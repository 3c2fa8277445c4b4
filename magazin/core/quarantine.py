"""Quarantine reports: MAGAZIN_HOME/quarantine/<id>/report.json and report.txt.

The SIP itself stays where it was delivered, untouched; the report names it, every problem
(file, reason, code) and the request, so that `quarantine retry` can run it again."""

from __future__ import annotations

import json
from pathlib import Path

from .problems import Problem


def write_report(
    qdir: Path,
    qid: str,
    created: str,
    sip: str,
    request: dict,
    problems: list[Problem],
    summary: str = "The SIP was rejected; nothing was stored.",
) -> Path:
    d = qdir / qid
    d.mkdir(parents=True, exist_ok=True)
    report = {
        "id": qid,
        "created": created,
        "sip": sip,
        "request": request,
        "problems": [p.as_dict() for p in problems],
    }
    (d / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    lines = [
        f"Quarantine {qid}",
        f"SIP:      {sip}",
        f"Date:     {created}",
        f"Tenant:   {request.get('tenant', '')}   Fonds: {request.get('fonds', '')}",
        "",
        f"{summary} {len(problems)} problem(s):",
        "",
    ]
    for p in problems:
        lines.append(f"- {p.path}: {p.reason} [{p.code}]")
    (d / "report.txt").write_text("\n".join(lines) + "\n", "utf-8")
    return d
