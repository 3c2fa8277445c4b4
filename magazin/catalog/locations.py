"""Storage locations as operators manage them: their state, a check of what the store can
do, filling a new location with every object (replicate) and taking an old one out of
replication (retire). Moving an archive to new storage is replicate, then retire."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from magazin.core.config import Home, set_replication
from magazin.core.ids import user_id
from magazin.core.records import software_agent
from magazin.core.storage.auditlog import AuditLog
from magazin.core.storage.location import Location, LocationUnavailable
from magazin.core.storage.ocfl import OcflError
from magazin.core.storage.replicate import replicate
from magazin.errors import Failure

from .models import Copy, Tenant, Unit
from .storage import archive_storage


def location_state(home: Home, loc: Location, reachable: bool) -> str:
    """active (in replication, holding a copy of every AIP), filling (in replication, not
    yet holding every AIP: `location replicate`), retired (not in replication; read only
    where it still holds copies), unreachable."""
    if not reachable:
        return "unreachable"
    if loc.name not in home.replication:
        return "retired"
    aips = Unit.objects.filter(parent=None).count()
    held = Copy.objects.filter(unit__parent=None, location=loc.name, status="ok").count()
    return "active" if held >= aips else "filling"


def _entry(home: Home, loc: Location) -> dict:
    try:
        usage = loc.usage()
        reachable = True
    except (LocationUnavailable, OSError):
        usage, reachable = {"objects": None, "bytes": None, "free": None}, False
    return {
        "name": loc.name,
        "type": loc.kind,
        "state": location_state(home, loc, reachable),
        **usage,
    }


def location_list(home: Home) -> list[dict]:
    return [_entry(home, loc) for loc in archive_storage(home).locations]


def location_show(home: Home, name: str) -> dict:
    loc = _location(home, name)
    copies = Copy.objects.filter(unit__parent=None, location=loc.name)
    return {
        **_entry(home, loc),
        "where": loc.describe(),
        "replication": loc.name in home.replication,
        "tenants": loc.tenants() if _reachable(loc) else [],
        "copies": {s: copies.filter(status=s).count() for s in ("ok", "damaged", "missing")},
    }


def location_check(home: Home, name: str) -> dict:
    loc = _location(home, name)
    return {"name": loc.name, **loc.probe()}


def _reachable(loc: Location) -> bool:
    try:
        return bool(loc.probe()["reachable"])
    except (LocationUnavailable, OSError):
        return False


def _location(home: Home, name: str) -> Location:
    try:
        return archive_storage(home).location(name)
    except LocationUnavailable as e:
        raise Failure(str(e)) from None


def location_replicate(home: Home, name: str, user: str, progress, mb_per_s=None) -> dict:
    """Fill the location with every object of every tenant, verified; resumable."""
    storage = archive_storage(home)
    try:
        target = storage.location(name)
    except LocationUnavailable as e:
        raise Failure(str(e)) from None

    def stored(tenant: str, object_id: str) -> None:
        unit = Unit.objects.filter(ocfl_id=object_id).first()
        if unit is not None:
            now = dt.datetime.now(dt.UTC)
            Copy.objects.update_or_create(
                unit=unit, location=name, defaults={"status": "ok", "checked": now}
            )

    try:
        report = replicate(storage, target, progress, mb_per_s, stored).as_dict()
    except LocationUnavailable as e:
        raise Failure(str(e)) from None
    log = AuditLog(storage)
    for tenant in Tenant.objects.values_list("slug", flat=True):
        log.append(tenant, {"event": "replication", "location": name, "outcome":
                            "success" if not report["failed"] else "failure",
                            "detail": f"{report['copied']} objects copied, {report['completed']} "
                            f"completed, {report['skipped']} held already",
                            "agent": user_id(user)})  # fmt: skip
        storage.journal(tenant).append("location", user, [], {
            "change": "replicated", "location": name, "copied": report["copied"],
            "completed": report["completed"], "failed": len(report["failed"])})  # fmt: skip
    log.flush(today=True, user=user)
    return report


def location_retire(home: Home, name: str, user: str) -> dict:
    """Take the location out of replication, unless it holds the only intact copy of
    anything (every object it holds must be intact in another replica location)."""
    storage = archive_storage(home)
    try:
        loc = storage.location(name)
    except LocationUnavailable as e:
        raise Failure(str(e)) from None
    if name not in home.replication:
        raise Failure(f"location {name!r} is not in [replication] (retired already?)")
    others = [o for o in storage.replicas if o.name != name]
    if not others:
        raise Failure(f"location {name!r} is the only location in [replication]")
    only_here = []
    # per the catalog: AIPs without an intact copy elsewhere
    lacking = (
        Unit.objects.filter(parent=None)
        .exclude(copies__in=Copy.objects.filter(~Q(location=name), status="ok",
                                                location__in=[o.name for o in others]))
        .values_list("aid", flat=True)
    )  # fmt: skip
    only_here += list(lacking[:20])
    # per storage: every object it holds (tenants, fonds, accessions, logs too) elsewhere
    try:
        for tenant in loc.tenants():
            for rel in loc.object_paths(tenant):
                try:
                    oid = loc.open_path(tenant, rel).id
                except OcflError:
                    continue  # unreadable here: not an intact copy anyone depends on
                if not any(o.has_object(tenant, oid) for o in others):
                    only_here.append(oid)
                if len(only_here) >= 20:
                    break
    except LocationUnavailable as e:
        raise Failure(f"cannot list what {name!r} holds: {e}") from None
    if only_here:
        raise Failure(
            f"location {name!r} holds the only intact copy of {len(only_here)}"
            f"{'+' if len(only_here) >= 20 else ''} object(s), e.g. {', '.join(only_here[:5])}; "
            f"run `magazin location replicate` for another location first"
        )
    rest = [n for n in home.replication if n != name]
    backup = set_replication(home, rest)
    log = AuditLog(archive_storage(home))  # the log goes to the remaining locations
    for tenant in Tenant.objects.values_list("slug", flat=True):
        entry = {"event": "location retired", "location": name, "outcome": "success",
                 "detail": f"replication now {rest}", "agent": user_id(user),
                 "software": software_agent().id_value}  # fmt: skip
        log.append(tenant, entry)
        log.storage.journal(tenant).append("location", user, [], {
            "change": "retired", "location": name, "replication": rest})  # fmt: skip
    log.flush(today=True, user=user)
    return {"name": name, "replication": rest, "previous_config": str(backup)}
