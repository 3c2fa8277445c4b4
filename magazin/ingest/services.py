"""Run an ingest against the catalog; a rejected SIP goes to quarantine with its report."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.utils import timezone

from magazin.catalog.models import Tenant
from magazin.catalog.services import DjangoCatalog
from magazin.core.config import Home
from magazin.core.formats.identify import Identifier
from magazin.core.i18n import N_
from magazin.core.ids import new_ulid, now
from magazin.core.ingest import Ingest, IngestRequest, IngestResult
from magazin.core.problems import RejectedSIP
from magazin.core.quarantine import write_report
from magazin.core.staging import Progress
from magazin.xdomea.inbox import retry_quarantined

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
    req.invalid_files = a_tenant(req.tenant).invalid_files
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


def a_tenant(slug: str) -> Tenant:
    """The tenant an ingest goes to (its settings decide, e.g. what an invalid file means)."""
    return Tenant.objects.filter(slug=slug).first() or Tenant(slug=slug)


class QuarantineError(Exception):
    """A quarantine entry cannot be retried or discarded (it is closed already)."""


def retry_entry(
    home: Home, q: QuarantineEntry, user: str, progress: Progress | None = None
) -> tuple[dict, bool]:
    """Put a quarantined SIP (or xdomea message) through ingest again; returns the result as
    the CLI prints it and whether it went in. Still refused: the entry stays open with the
    new problems."""
    if q.status != "open":
        raise QuarantineError(
            N_("quarantine entry {entry} is {status} already").format(entry=q.qid, status=q.status)
        )
    if q.request.get("xdomea"):
        handled = retry_quarantined(home, q, user)
        ok = handled.status not in ("rejected", "partial")
        return {**handled.as_dict(), "quarantine_retried": q.qid}, ok
    req = request_from_dict(q.request)
    req.user = user
    result, _ = run_ingest(home, req, progress, quarantine=False)
    if result.status != "rejected":
        q.status, q.resolved = "retried", timezone.now()
        q.note, q.resolved_by = f"ingested as accession {result.accession}", user
        _remove_upload(home, q.sip_path)
    else:
        q.problems = [p.as_dict() for p in result.errors]
    q.save()
    data = result.as_dict()
    data["quarantine"] = q.qid
    data["sip"] = q.sip_path
    return data, result.status != "rejected"


def discard_entry(home: Home, q: QuarantineEntry, user: str, reason: str = "") -> None:
    """Close a quarantine entry without ingest. The entry and its report are kept; an upload
    (ours, under MAGAZIN_HOME/uploads) is removed, a SIP elsewhere is left where it is."""
    if q.status != "open":
        raise QuarantineError(
            N_("quarantine entry {entry} is {status} already").format(entry=q.qid, status=q.status)
        )
    q.status, q.resolved = "discarded", timezone.now()
    q.note, q.resolved_by = reason, user
    q.save()
    _remove_upload(home, q.sip_path)


def _remove_upload(home: Home, sip_path: str) -> None:
    p = Path(sip_path).absolute()
    uploads = home.uploads.absolute()
    if p.is_relative_to(uploads) and p != uploads:
        shutil.rmtree(uploads / p.relative_to(uploads).parts[0], ignore_errors=True)
