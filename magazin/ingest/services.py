"""Run an ingest against the catalog; a rejected SIP goes to quarantine with its report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from magazin.catalog.services import DjangoCatalog
from magazin.core.config import Home
from magazin.core.formats.identify import Identifier
from magazin.core.ids import new_ulid, now
from magazin.core.ingest import Ingest, IngestRequest, IngestResult
from magazin.core.problems import RejectedSIP
from magazin.core.quarantine import write_report
from magazin.core.staging import Progress

from .models import QuarantineEntry


def request_dict(req: IngestRequest) -> dict:
    return {
        "path": str(Path(req.path).absolute()),
        "tenant": req.tenant,
        "fonds": req.fonds,
        "table": str(Path(req.table).absolute()) if req.table else None,
        "mapping": req.mapping,
        "unlisted": req.unlisted,
        "user": req.user,
        "source": req.source,
    }


def request_from_dict(d: dict) -> IngestRequest:
    return IngestRequest(
        Path(d["path"]),
        d["tenant"],
        d["fonds"],
        Path(d["table"]) if d.get("table") else None,
        d.get("mapping") or {},
        d.get("unlisted") or "reject",
        d.get("user") or "magazin",
        d.get("source"),
    )


def run_ingest(
    home: Home,
    req: IngestRequest,
    progress: Progress | None = None,
    quarantine: bool = True,
    identifier: Identifier | None = None,
) -> tuple[IngestResult, QuarantineEntry | None]:
    try:
        return Ingest(home, DjangoCatalog(), progress, identifier).run(req), None
    except RejectedSIP as e:
        result = IngestResult("rejected", None, [], e.problems, [])
        if not quarantine:
            return result, None
        qid, created = new_ulid(), now()
        rd = request_dict(req)
        write_report(home.quarantine, qid, created, rd["path"], rd, e.problems)
        entry = QuarantineEntry.objects.create(
            qid=qid,
            created=dt.datetime.fromisoformat(created),
            sip_path=rd["path"],
            tenant=req.tenant,
            fonds=req.fonds,
            request=rd,
            problems=[p.as_dict() for p in e.problems],
        )
        return result, entry
