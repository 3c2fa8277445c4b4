"""The e-records desk's operations: agencies, processes, appraisal and the 0502.

Appraisal rules: A on an object makes its parents A; a decision on an object passes down to
descendants that have no decision of their own; V on an object that holds something decided A
on its own is refused; objects left undecided become V only by an explicit confirmation
(`confirm_rest_v`). Every decision keeps who made it, when, and on what basis.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from magazin.catalog.models import Fonds, Tenant, Unit
from magazin.catalog.services import iso
from magazin.core.aip.xml import parse_xml
from magazin.core.config import Home
from magazin.core.i18n import N_
from magazin.core.xdomea import write
from magazin.core.xdomea.objects import Sgo
from magazin.core.xdomea.schemas import SchemaError

from .keeping import keeping, messages_dir, store_agency
from .models import Agency, Process, ProcessMessage, ProcessObject


class XdomeaError(Exception):
    """A request the desk refuses (exit code 1), with the reason."""


# -- agencies -------------------------------------------------------------------------------


def create_agency(
    home: Home,
    tenant: str,
    code: str,
    *,
    user: str,
    name: str,
    fonds: str,
    inbox: Path,
    outbox: Path,
    two_step: bool = False,
    partial_takeover: bool = False,
    authority_id: str = "",
) -> Agency:
    t = Tenant.objects.filter(slug=tenant).first()
    if t is None:
        raise XdomeaError(N_("tenant {tenant!r} does not exist").format(tenant=tenant))
    f = Fonds.objects.filter(tenant=t, code=fonds).first()
    if f is None:
        raise XdomeaError(
            N_("fonds {fonds!r} does not exist in tenant {tenant}").format(
                fonds=fonds, tenant=tenant
            )
        )
    if not code or "/" in code or len(code) > 100 or code in (".", ".."):
        raise XdomeaError(N_("agency code {code!r}: 1-100 characters, no '/'").format(code=code))
    if Agency.objects.filter(tenant=t, code=code).exists():
        raise XdomeaError(
            N_("agency {code!r} exists already in tenant {tenant}").format(code=code, tenant=tenant)
        )
    inbox, outbox = Path(inbox).absolute(), Path(outbox).absolute()
    if inbox == outbox:
        raise XdomeaError(N_("inbox and outbox must be different folders"))
    for what, d in (("inbox", inbox), ("outbox", outbox)):
        if d.exists() and not d.is_dir():
            raise XdomeaError(N_("{what} {d}: exists and is not a folder").format(what=what, d=d))
        d.mkdir(parents=True, exist_ok=True)
    taken = Agency.objects.filter(inbox=str(inbox)).first()
    if taken is not None:
        raise XdomeaError(
            N_("inbox {inbox} is the inbox of agency {taken} already").format(
                inbox=inbox, taken=taken
            )
        )
    with transaction.atomic():  # the row goes if its record cannot be stored
        agency = Agency.objects.create(
            tenant=t,
            code=code,
            name=name,
            fonds=f,
            inbox=str(inbox),
            outbox=str(outbox),
            two_step=two_step,
            partial_takeover=partial_takeover,
            authority_id=authority_id,
            created=timezone.now(),
        )
        store_agency(home, agency, user)
    return agency


def agency_dict(a: Agency) -> dict:
    return {
        "tenant": a.tenant.slug,
        "code": a.code,
        "name": a.name,
        "fonds": a.fonds.code,
        "inbox": a.inbox,
        "outbox": a.outbox,
        "two_step": a.two_step,
        "partial_takeover": a.partial_takeover,
        "authority_id": a.authority_id or None,
    }


# -- processes ------------------------------------------------------------------------------


def get_process(process_id: str, tenant: str | None = None) -> Process:
    qs = Process.objects.select_related("agency", "agency__tenant").filter(process_id=process_id)
    if tenant:
        qs = qs.filter(agency__tenant__slug=tenant)
    found = list(qs[:2])
    if not found:
        raise XdomeaError(N_("no xdomea process {process_id!r}").format(process_id=process_id))
    if len(found) > 1:
        raise XdomeaError(
            N_("process {process_id!r} exists in several tenants: give --tenant").format(
                process_id=process_id
            )
        )
    return found[0]


def message_dict(m: ProcessMessage) -> dict:
    return {
        "code": m.code,
        "name": m.name,
        "direction": m.direction,
        "status": m.status,
        "time": iso(m.time),
        "error": m.error or None,
        "quarantine": m.quarantine or None,
    }


def process_summary(p: Process) -> dict:
    objs = list(p.items.all())
    roots = [o for o in objs if o.parent_id is None]
    return {
        "process_id": p.process_id,
        "agency": p.agency.code,
        "tenant": p.agency.tenant.slug,
        "version": p.version,
        "state": p.state,
        "two_step": p.two_step,
        "created": iso(p.created),
        "updated": iso(p.updated),
        "error": p.error or None,
        "objects": len(objs),
        "roots": len(roots),
        "decisions": {
            k: sum(1 for o in objs if o.decision == v)
            for k, v in (("A", "A"), ("V", "V"), ("undecided", ""))
        },
        "stored": sum(1 for o in roots if o.delivered == "stored"),
        "messages": [message_dict(m) for m in p.messages.all()],
    }


def stored_aids(agency: Agency, ids: list[str]) -> dict[str, str]:
    """The AIDs of stored objects (root and child units) by xdomea ID, from the catalog."""
    out: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        keys = [f"xdomea:{x}" for x in ids[i : i + 500]]
        qs = Unit.objects.filter(tenant=agency.tenant, fonds=agency.fonds, source_key__in=keys)
        for key, aid in qs.values_list("source_key", "aid"):
            out[key.removeprefix("xdomea:")] = aid
    return out


def object_tree(p: Process) -> list[dict]:
    objs = list(p.items.all())
    aids = stored_aids(p.agency, [o.idsgo for o in objs if o.delivered == "stored"])
    kids: dict[int | None, list[ProcessObject]] = {}
    for o in objs:
        kids.setdefault(o.parent_id, []).append(o)

    def one(o: ProcessObject) -> dict:
        return {
            "id": o.idsgo,
            "idsgo": o.idsgo,
            "kind": o.kind,
            "title": o.title,
            "reference": o.reference,
            "date_begin": o.date_begin or None,
            "date_end": o.date_end or None,
            "proposal": o.proposal or None,
            "retention": o.retention or None,
            "retention_end": o.retention_end or None,
            "decision": o.decision or None,
            "decision_basis": o.decision_basis or None,
            "decided_by": o.decided_by or None,
            "decided_at": iso(o.decided_at),
            "delivered": o.delivered or None,
            "aid": aids.get(o.idsgo),
            "error": o.error or None,
            "children": [one(c) for c in kids.get(o.pk, [])],
        }

    return [one(o) for o in kids.get(None, [])]


def add_objects(
    process: Process, roots: list[Sgo], decision: str = "", user: str = "", inherit: bool = False
) -> None:
    """Store an object tree (from a 0501, or a two-step 0503) as the process's list; objects
    it has already are kept as they are. With `inherit`, a new object takes its parent's
    decision (objects a delivery holds that the offer did not list). Inserted level by level,
    in bulk (an offer may list tens of thousands of objects)."""
    known = {i: (pk, d) for i, pk, d in process.items.values_list("idsgo", "pk", "decision")}
    position = len(known)
    when = timezone.now() if decision else None
    level: list[tuple[Sgo, int | None, str]] = [(r, None, "") for r in roots]
    while level:
        rows, kept = [], []
        for s, parent_pk, parent_decision in level:
            if s.id in known:
                kept.append((s, *known[s.id]))
                continue
            position += 1
            value, basis, by, at = decision, "two-step" if decision else "", user, when
            if inherit and parent_decision:
                value, basis, by, at = parent_decision, "inherited", "", None
            rows.append(
                (
                    s,
                    ProcessObject(
                        process=process,
                        parent_id=parent_pk,
                        position=position,
                        idsgo=s.id,
                        kind=s.kind,
                        title=s.display_title(),
                        reference=s.reference,
                        date_begin=s.begin,
                        date_end=s.end,
                        proposal=s.disposal or s.proposal,
                        retention=s.retention,
                        retention_end=s.retention_end,
                        decision=value,
                        decision_basis=basis,
                        decided_by=by if value else "",
                        decided_at=at if value else None,
                    ),
                )
            )
        ProcessObject.insert(process, [o for _s, o in rows])
        for s, o in rows:
            known[s.id] = (o.pk, o.decision)
        done = kept + [(s, o.pk, o.decision) for s, o in rows]
        level = [(c, pk, d) for s, pk, d in done for c in s.children]


# -- appraisal ------------------------------------------------------------------------------


def _tree(process: Process) -> tuple[dict[str, ProcessObject], dict[int, list[ProcessObject]]]:
    objs = list(process.items.all())
    kids: dict[int, list[ProcessObject]] = {}
    for o in objs:
        if o.parent_id is not None:
            kids.setdefault(o.parent_id, []).append(o)
    return {o.idsgo: o for o in objs}, kids


def _descendants(o: ProcessObject, kids: dict[int, list[ProcessObject]]):
    for c in kids.get(o.pk, []):
        yield c
        yield from _descendants(c, kids)


def read_csv_decisions(path: Path) -> list[tuple[str, str]]:
    """(ID, A|V) rows from a CSV with a header naming the ID column (IDSGO, ID) and the
    decision column (Entscheidung, Bewertung, Aussonderungsart, decision)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise XdomeaError(
            N_("{path}: cannot read as UTF-8 text ({e})").format(path=path, e=e)
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise XdomeaError(N_("{path}: empty").format(path=path))
    header = [h.strip().casefold() for h in rows[0]]
    id_col = next((header.index(h) for h in ("idsgo", "id") if h in header), None)
    dec_col = next(
        (
            header.index(h)
            for h in ("entscheidung", "bewertung", "aussonderungsart", "decision")
            if h in header
        ),
        None,
    )
    if id_col is None or dec_col is None:
        raise XdomeaError(
            f"{path}: the header needs an ID column (IDSGO or ID) and a decision column "
            "(Entscheidung, Bewertung, Aussonderungsart or decision)"
        )
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) <= max(id_col, dec_col):
            raise XdomeaError(N_("{path}: line {n}: too few columns").format(path=path, n=n))
        out.append((row[id_col].strip(), row[dec_col].strip().upper()))
    return out


def appraise(
    home: Home,
    process: Process,
    user: str,
    *,
    decisions: list[tuple[str, str]] = (),
    all_: str | None = None,
    confirm_rest_v: bool = False,
) -> dict:
    """Apply decisions (in order), then optionally make every undecided object V; the
    process's object in storage gets them as a new version."""
    with keeping(home, process.agency, user) as touched:
        result = _appraise(process, user, decisions, all_, confirm_rest_v)
        touched.add(process.pk)
    return result


@transaction.atomic
def _appraise(
    process: Process,
    user: str,
    decisions: list[tuple[str, str]],
    all_: str | None,
    confirm_rest_v: bool,
) -> dict:
    if process.state != Process.OFFERED:
        raise XdomeaError(
            N_(
                "process {process} is {state}: appraisal is possible only between the offer "
                "(0501) and sending the appraisal list (0502)"
            ).format(process=process.process_id, state=process.state)
        )
    by_id, kids = _tree(process)
    parent_of = {o.pk: o.parent_id for o in by_id.values()}
    by_pk = {o.pk: o for o in by_id.values()}
    when = timezone.now()
    changed: set[int] = set()

    def decide(o: ProcessObject, value: str, basis: str) -> None:
        if o.decision != value or o.decision_basis != basis:
            o.decision, o.decision_basis, o.decided_by, o.decided_at = value, basis, user, when
            changed.add(o.pk)

    problems = []
    for oid, value in decisions:
        if value not in ("A", "V"):
            problems.append(f"{oid}: decision {value!r} is not A or V")
        if oid.lower() not in by_id:
            problems.append(f"{oid}: no such object in process {process.process_id}")
    if all_ is not None and all_ not in ("A", "V"):
        problems.append(f"--all {all_!r}: use A or V")
    if problems:
        raise XdomeaError("; ".join(problems))
    if all_ is not None:
        for o in by_id.values():
            decide(o, all_, "all")
    for oid, value in decisions:
        o = by_id[oid.lower()]
        below = list(_descendants(o, kids))
        if value == "V":
            kept = [d for d in below if d.decision == "A" and d.decision_basis == "set"]
            if kept:
                raise XdomeaError(
                    f"{oid}: cannot appraise V, it holds objects appraised A: "
                    + ", ".join(d.idsgo for d in kept[:5])
                )
        decide(o, value, "set")
        for d in below:  # the decision passes down to what has none of its own
            if d.decision == "" or d.decision_basis in ("inherited", "parent of A", "all"):
                decide(d, value, "inherited")
        if value == "A":  # A on a child makes its parents A
            p = parent_of[o.pk]
            while p is not None:
                if by_pk[p].decision != "A":
                    decide(by_pk[p], "A", "parent of A")
                p = parent_of[p]
    if confirm_rest_v:
        for o in by_id.values():
            if o.decision == "":
                decide(o, "V", "rest confirmed V")
    groups: dict[tuple[str, str], list[int]] = {}
    for pk in changed:  # one UPDATE per kind of decision (all share who and when)
        groups.setdefault((by_pk[pk].decision, by_pk[pk].decision_basis), []).append(pk)
    for (value, basis), pks in groups.items():
        for i in range(0, len(pks), 500):
            ProcessObject.objects.filter(pk__in=pks[i : i + 500]).update(
                decision=value, decision_basis=basis, decided_by=user, decided_at=when
            )
    process.updated = when
    process.save(update_fields=["updated"])
    values = [o.decision for o in by_id.values()]
    return {
        "process_id": process.process_id,
        "changed": len(changed),
        "decisions": {
            "A": values.count("A"),
            "V": values.count("V"),
            "undecided": values.count(""),
        },
    }


def send_appraisal(home: Home, process: Process, user: str) -> dict:
    """Write the 0502 into the agency's outbox (every object with its decision)."""
    with keeping(home, process.agency, user) as touched:
        touched.add(process.pk)
        return _send_appraisal(home, process, user)


def _send_appraisal(home: Home, process: Process, user: str) -> dict:
    if process.state != Process.OFFERED:
        raise XdomeaError(
            f"process {process.process_id} is {process.state}: the appraisal list can be sent "
            "once, after the offer"
        )
    objs = list(process.items.all())
    undecided = [o.idsgo for o in objs if not o.decision]
    if undecided:
        raise XdomeaError(
            f"{len(undecided)} object(s) of process {process.process_id} are undecided "
            f"({', '.join(undecided[:5])}{', …' if len(undecided) > 5 else ''}): decide them, "
            "or confirm that the rest is V with `magazin xdomea appraise PROCESS_ID "
            "--confirm-rest-v`"
        )
    offer = process.messages.filter(code="0501", direction="in", status="accepted").last()
    if offer is None or not Path(offer.path).is_file():
        raise XdomeaError(
            N_("process {process_id}: the kept copy of its 0501 is missing").format(
                process_id=process.process_id
            )
        )
    offer_root = parse_xml(Path(offer.path).read_bytes(), offer.name)
    root = write.appraisal_list(offer_root, process.version, [(o.idsgo, o.decision) for o in objs])
    try:
        xml = write.serialise(root, home.path, process.version)
    except (SchemaError, write.WriteError) as e:
        raise XdomeaError(str(e)) from None
    agency = process.agency
    sent = record_sent(home, process, "0502", xml)
    process.state = Process.APPRAISED
    process.updated = timezone.now()
    process.save(update_fields=["state", "updated"])
    return {
        "process_id": process.process_id,
        "message": sent.name,
        "outbox": agency.outbox,
        "objects": len(objs),
        "A": sum(1 for o in objs if o.decision == "A"),
        "V": sum(1 for o in objs if o.decision == "V"),
        "state": process.state,
        "user": user,
    }


def record_sent(home: Home, process: Process, code: str, xml: bytes) -> ProcessMessage:
    """Write a message into the outbox, keep a copy, and note it on the process."""
    agency = process.agency
    out = write.write_container(Path(agency.outbox), process.process_id, code, xml)
    keep = messages_dir(home, agency, process.process_id)
    keep.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    copy = keep / f"out-{stamp}-{out.name[:-4]}.xml"
    copy.write_bytes(xml)
    return ProcessMessage.objects.create(
        process=process,
        code=code,
        name=out.name,
        direction="out",
        status="sent",
        time=timezone.now(),
        sha256=hashlib.sha256(xml).hexdigest(),
        path=str(copy),
    )
