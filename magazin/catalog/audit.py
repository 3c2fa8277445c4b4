"""Audit: re-hash every copy of every AIP, record the result, repair from a good copy.

A repair replaces the bad copy by a verified copy of a good one, then adds a new OCFL version
to every copy whose PREMIS records the failed fixity check and the repair."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import time

from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from magazin.core.aip.builder import read_aip
from magazin.core.aip.mets import PREMIS_PATH
from magazin.core.aip.model import AipEvent
from magazin.core.aip.premis import premis_xml
from magazin.core.atomic import write_atomically
from magazin.core.config import Home
from magazin.core.i18n import N_
from magazin.core.ids import auditlog_id, evidence_id, journal_id, new_ulid, now, user_id
from magazin.core.records import name_agents, software_agent, user_agent
from magazin.core.storage.auditlog import AuditLog
from magazin.core.storage.checks import Checker, check_copy
from magazin.core.storage.fixity import CopyProblem
from magazin.core.storage.location import Location, LocationUnavailable, ObjectMissing
from magazin.core.storage.ocfl import NewFile, OcflError, VersionInfo
from magazin.core.storage.store import Change, Storage
from magazin.errors import Failure

from .models import Copy, Event, Unit
from .refresh import recover
from .services import event_rows
from .storage import archive_storage

log = logging.getLogger("magazin.audit")
PROCESSES = 2  # checking workers (see core/storage/checks.py)


def _locations(storage: Storage, only: str | None) -> list[Location]:
    if only:
        return [storage.location(only)]
    return storage.locations


class Auditor:
    """Checks copies, records each check in the catalog and in the tenant's audit log, and
    repairs bad copies through the engine; the CLI and the worker's schedule share it."""

    BATCH = 500  # checks recorded together: one write to the log, one to the catalog

    def __init__(self, home: Home, user: str, repair: bool, mb_per_s: float | None = None):
        self.home = home
        self.user = user
        self.repair = repair
        self.storage = archive_storage(home)
        self.log = AuditLog(self.storage)
        self.report = {"checked": 0, "ok": 0, "failed": [], "repaired": []}
        self.agent = software_agent().id_value
        self._entries: dict[str, list[dict]] = {}
        self._copies: list[Copy] = []
        self.checker = Checker(self.storage, PROCESSES, mb_per_s)
        recover(home, self.storage)  # changes killed runs left: completed before judged

    def items(self, unit: Unit, locs: list[Location]) -> tuple:
        """What to check of a unit: the copies in `locs` that the catalog lists or
        replication wants."""
        names = {c.location for c in unit.copies.all()} | set(self.home.replication)
        return (unit.tenant.slug, unit.ocfl_id, [loc.name for loc in locs if loc.name in names])

    def audit_unit(self, unit: Unit, locs: list[Location], results=None) -> None:
        """Check (unless the `results` of the Checker are given), record, repair."""
        tenant = unit.tenant.slug
        copies = {c.location: c for c in unit.copies.all()}
        bad: dict[str, list] = {}
        if results is None:
            results = self.checker.check([self.items(unit, locs)])[0]
        for name, problems in results:
            loc = self.storage.location(name)
            self.report["checked"] += 1
            checked = timezone.now()
            status = "ok"
            if problems:
                status = (
                    "missing"
                    if problems[0].problem == "missing" and problems[0].path == "."
                    else "damaged"
                )
                bad[loc.name] = problems
                for p in problems:
                    self.report["failed"].append(
                        {"aid": unit.aid, "location": loc.name, "path": p.path,
                         "problem": p.problem}
                    )  # fmt: skip
            else:
                self.report["ok"] += 1
            self._entries.setdefault(tenant, []).append({
                "time": checked.isoformat(), "event": "fixity check",
                "object": unit.ocfl_id, "aid": unit.aid,
                "location": loc.name, "outcome": "success" if not problems else "failure",
                "detail": "; ".join(f"{p.path}: {p.problem}" for p in problems),
                "agent": self.agent,
            })  # fmt: skip
            copy = copies.get(loc.name) or Copy(unit=unit, location=loc.name)
            copy.status, copy.checked = status, checked
            if problems:
                copy.failed = checked
            self._copies.append(copy)
        if self.repair and bad:
            self.record()  # the checks before the repair that follows them
            repaired = _repair(self.storage, unit, bad, self.user)
            for r in repaired:
                self._entries.setdefault(tenant, []).append({
                    "time": r["time"], "event": "repair", "object": unit.ocfl_id,
                    "aid": unit.aid,
                    "location": r["location"], "outcome": "success", "source": r["source"],
                    "detail": "; ".join(r["problems"]), "agent": user_id(self.user),
                })  # fmt: skip
            self.report["repaired"] += repaired
        if len(self._copies) >= self.BATCH:
            self.record()

    def record(self) -> None:
        """The checks so far into the audit log (durably) and the catalog."""
        for tenant, entries in self._entries.items():
            self.log.append_many(tenant, entries)
        self._entries = {}
        new = [c for c in self._copies if c.pk is None]
        old = [c for c in self._copies if c.pk is not None]
        table = connection.ops.quote_name(Copy._meta.db_table)
        dt_value = connection.ops.adapt_datetimefield_value
        with transaction.atomic():
            if old:  # one statement, many rows (bulk_update's CASE per row costs more here)
                with connection.cursor() as cur:
                    cur.executemany(
                        f"UPDATE {table} SET status = %s, checked = %s, failed = %s WHERE id = %s",
                        [(c.status, dt_value(c.checked), dt_value(c.failed), c.pk) for c in old],
                    )
            for c in new:
                Copy.objects.update_or_create(
                    unit=c.unit, location=c.location,
                    defaults={"status": c.status, "checked": c.checked, "failed": c.failed},
                )  # fmt: skip
        self._copies = []


def run_audit(
    home: Home, aids: list[str], location: str | None, repair: bool, user: str, progress
) -> dict:
    """`magazin audit`: the named AIPs (all where none) in one location or all."""
    units = Unit.objects.filter(parent=None).select_related("tenant").order_by("aid")
    if aids:
        units = units.filter(aid__in=aids)
        missing = set(aids) - set(units.values_list("aid", flat=True))
        if missing:
            raise Failure("no AIP " + ", ".join(sorted(missing)))
    auditor = Auditor(home, user, repair)
    try:
        locs = _locations(auditor.storage, location)
    except LocationUnavailable as e:
        raise Failure(str(e)) from e
    pks = list(units.values_list("pk", flat=True))
    progress.start(len(pks) * len(locs), "audit")
    # in chunks read whole: no read left open while the checks are recorded (on SQLite a
    # write after another process's commit would then fail at once)
    # copies are read and hashed by worker processes; results are recorded in this one
    try:
        for i in range(0, len(pks), Auditor.BATCH):
            chunk = Unit.objects.filter(pk__in=pks[i : i + Auditor.BATCH])
            units_ = list(chunk.select_related("tenant").prefetch_related("copies").order_by("aid"))
            checked = auditor.checker.check([auditor.items(u, locs) for u in units_])
            for unit, results in zip(units_, checked, strict=True):
                auditor.audit_unit(unit, locs, results)
                progress.advance(len(locs))
    finally:
        auditor.checker.close()
    auditor.record()
    if not aids:
        audit_evidence_objects(auditor, locs)
    progress.done()
    auditor.log.flush(today=True, user=user)  # an operator's audit: evidence in storage now
    return auditor.report


def audit_evidence_objects(auditor: Auditor, locs: list[Location], due=None,
                           done=None) -> None:  # fmt: skip
    """Each tenant's journal, evidence and audit log, checked in every location like an AIP;
    a damaged or missing copy is replaced by an intact one (with --repair). They record the
    others' versions, so the repair goes into the audit log and the journal, not into a new
    version of themselves."""
    from magazin.catalog.models import Tenant

    storage = auditor.storage
    for tenant in Tenant.objects.values_list("slug", flat=True):
        for oid in (journal_id(tenant), evidence_id(tenant), auditlog_id(tenant)):
            if due is not None and not due(oid):
                continue  # checked within the cycle
            holders = [loc for loc in storage.read_order() if loc.has_object(tenant, oid)]
            if not holders:
                continue  # not begun yet
            with storage.locks.exclusive(oid):
                bad = {}
                for loc in locs:
                    problems = (check_copy(storage, tenant, oid, loc.name, lock=False)
                                if loc.has_object(tenant, oid)
                                else [CopyProblem(".", "missing")])  # fmt: skip
                    auditor._entries.setdefault(tenant, []).append({
                        "time": now(), "event": "fixity check", "object": oid,
                        "location": loc.name, "outcome": "failure" if problems else "success",
                        "detail": "; ".join(f"{p.path}: {p.problem}" for p in problems),
                        "agent": auditor.agent})  # fmt: skip
                    auditor.report["checked"] += 1
                    if problems:
                        bad[loc.name] = problems
                        auditor.report["failed"] += [  # named by its object id
                            {"aid": oid, "location": loc.name, "path": p.path,
                             "problem": p.problem} for p in problems]  # fmt: skip
                    else:
                        auditor.report["ok"] += 1
                if bad and auditor.repair:
                    _repair_evidence_object(auditor, tenant, oid, bad)
            if done is not None:
                done(oid)


def _repair_evidence_object(auditor: Auditor, tenant: str, oid: str, bad: dict) -> None:
    storage = auditor.storage
    good = next(((loc, obj) for loc, obj in storage.copies(tenant, oid, avoid=bad)
                 if not check_copy(storage, tenant, oid, loc.name, lock=False)), None)  # fmt: skip
    if good is None:
        return
    for name, problems in bad.items():
        try:
            storage.location(name).store_object(tenant, good[1])
        except (OcflError, OSError) as e:
            log.warning("repair of %s in %s failed: %s", oid, name, e)
            continue
        detail = "; ".join(f"{p.path}: {p.problem}" for p in problems)
        auditor._entries.setdefault(tenant, []).append({
            "time": now(), "event": "repair", "object": oid, "location": name,
            "outcome": "success", "source": good[0].name, "detail": detail,
            "agent": user_id(auditor.user)})  # fmt: skip
        storage.journal(tenant).append("repair", auditor.user, [], {
            "object": oid, "location": name, "source": good[0].name})  # fmt: skip
        auditor.report["repaired"].append(
            {"aid": oid, "location": name, "source": good[0].name, "problems": [detail]}
        )


def scheduled_audit(home: Home, user: str, interval: float, budget_seconds: float) -> dict:
    """One round of the worker's fixity schedule: every copy at least once per
    `[audit] cycle_days`, spread evenly — this round checks its share of all copies (and
    every overdue one), oldest check first, at most `max_mb_per_s` and for at most
    `budget_seconds`; a later round (or a restarted worker) goes on from there. Bad copies
    are repaired. Complete days of the audit log go into storage."""
    policy = home.audit
    now_ = timezone.now()
    cycle = dt.timedelta(days=policy.cycle_days)
    copies = Copy.objects.filter(unit__parent=None, location__in=home.replication)
    total = copies.count()
    share = math.ceil(total * interval / cycle.total_seconds()) if total else 0
    last_check = Coalesce("checked", "unit__created")
    overdue = copies.annotate(last=last_check).filter(last__lt=now_ - cycle).count()
    due = (
        copies.annotate(last=last_check)
        .order_by("last", "pk")
        .values_list("unit_id", "location")[: max(share, overdue)]
    )
    auditor = Auditor(home, user, repair=True, mb_per_s=policy.max_mb_per_s)
    started = time.monotonic()
    by_unit: dict[int, list[str]] = {}
    for unit_id, loc in due:
        by_unit.setdefault(unit_id, []).append(loc)
    units = Unit.objects.filter(pk__in=by_unit).select_related("tenant").in_bulk()
    for unit_id, names in by_unit.items():
        if time.monotonic() - started > budget_seconds:
            break
        locs = [auditor.storage.location(n) for n in names]
        auditor.audit_unit(units[unit_id], locs)
    auditor.record()
    # the tenants' journal, evidence and audit log: each once per cycle too
    checked = _evidence_checks(home)
    due_before = (now_ - cycle).isoformat()
    audit_evidence_objects(auditor, auditor.storage.replicas,
                           due=lambda key: checked.get(key, "") < due_before,
                           done=lambda key: checked.__setitem__(key, now_.isoformat()))  # fmt: skip
    _keep_evidence_checks(home, checked)
    auditor.record()
    auditor.log.flush(today=False, user=user)
    return auditor.report


def _evidence_checks(home: Home) -> dict[str, str]:
    """When each tenant's journal, evidence and audit log was last checked by the schedule
    (operational state in the data folder: a lost file means one early check)."""
    try:
        return json.loads((home.path / "evidence" / "audited.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _keep_evidence_checks(home: Home, checked: dict[str, str]) -> None:
    path = home.path / "evidence" / "audited.json"
    write_atomically(path, json.dumps(checked, sort_keys=True).encode())


def audit_report(home: Home) -> dict:
    """How far the fixity cycle is: `magazin audit --report`."""
    since = timezone.now() - dt.timedelta(days=home.audit.cycle_days)
    copies = Copy.objects.filter(unit__parent=None)
    agg = copies.aggregate(
        n_copies=Count("pk"),
        n_checked=Count("pk", filter=Q(checked__gte=since)),
        n_failures=Count("pk", filter=Q(failed__gte=since)),
        n_repairs=Count("pk", filter=Q(repaired__gte=since)),
        oldest=Min(Coalesce("checked", "unit__created")),
        n_bytes=Sum("unit__bytes", filter=Q(checked__gte=since)),
    )
    return {
        "cycle_days": home.audit.cycle_days,
        "copies": agg["n_copies"],
        "checked_in_cycle": agg["n_checked"],
        "bytes": agg["n_bytes"] or 0,
        "failures": agg["n_failures"],
        "repairs": agg["n_repairs"],
        "oldest_check": agg["oldest"].isoformat() if agg["oldest"] else None,
    }


def _repair(storage: Storage, unit: Unit, bad: dict[str, list], user: str) -> list[dict]:
    """Replace the bad copies by a verified copy of an intact one, then record the failed
    checks and the repairs in a new version of the AIP (through the engine)."""
    tenant, oid = unit.tenant.slug, unit.ocfl_id
    try:
        with storage.change(tenant, oid) as change:
            return _replace_bad(storage, change, unit, bad, user)
    except ObjectMissing:  # no copy left to read: nothing to repair from
        return []


def _replace_bad(storage: Storage, change: Change, unit: Unit, bad: dict, user: str) -> list:
    tenant, oid = unit.tenant.slug, unit.ocfl_id
    # another audit may have repaired a copy since it was checked
    bad = {n: p for n, p in bad.items() if check_copy(storage, tenant, oid, n, lock=False)}
    good = None
    for loc, obj in storage.copies(tenant, oid, avoid=bad):
        if not check_copy(storage, tenant, oid, loc.name, lock=False):
            good = (loc, obj)
            break
    if good is None or not bad:
        return []
    repaired = []
    for name in bad:
        try:
            storage.location(name).store_object(tenant, good[1])
        except (OcflError, OSError) as e:
            log.warning("repair of %s in %s failed: %s", oid, name, e)
            continue
        problems = [p.path + ": " + p.problem for p in bad[name]]
        repaired.append({"aid": unit.aid, "location": name, "source": good[0].name,
                         "problems": problems, "time": timezone.now().isoformat()})  # fmt: skip
    if repaired:
        _record_repair(change, unit, repaired, user)
    return repaired


def _record_repair(change: Change, unit: Unit, repaired: list[dict], user: str) -> None:
    """A new version in every copy: PREMIS with the failed check and the repair."""
    desc = read_aip(change.head)
    sw, usr = software_agent(), user_agent(user)
    t = now()
    new_events = []
    for r in repaired:
        new_events.append(
            AipEvent(
                new_ulid(),
                "fixity check",
                t,
                "failure",
                N_("audit of the copy in {location}").format(location=r["location"]),
                "; ".join(r["problems"]),
                agents=[(sw.id_value, "executing program")],
            )
        )
        new_events.append(
            AipEvent(
                new_ulid(),
                "replication",
                now(),
                "success",
                N_("repair: copy in {location} restored from the verified copy in {source}").format(
                    location=r["location"], source=r["source"]
                ),
                agents=[(sw.id_value, "executing program"), (usr.id_value, "implementer")],
            )
        )
    desc.events += new_events
    name_agents(desc, sw, usr)
    data = premis_xml(desc)
    digest = hashlib.sha512(data).hexdigest()
    version = VersionInfo(now(), "Repair after failed fixity check", user, user_id(user))
    change.commit(
        [NewFile(PREMIS_PATH, None, digest, data=data)],
        version,
        action="repair",
        details={"unit": unit.aid, "copies": sorted({r["location"] for r in repaired})},
    )
    with transaction.atomic():
        Event.objects.bulk_create(event_rows(unit, new_events))
        for r in repaired:
            t = dt.datetime.fromisoformat(r["time"])
            Copy.objects.update_or_create(
                unit=unit,
                location=r["location"],
                defaults={"status": "ok", "checked": t, "repaired": t},
            )
