"""Audit: re-hash every copy of every AIP, record the result, repair from a good copy.

A repair replaces the bad copy by a verified copy of a good one, then adds a new OCFL version
to every copy whose PREMIS records the failed fixity check and the repair."""

from __future__ import annotations

import hashlib
import os
import shutil

from django.db import transaction
from django.utils import timezone

from magazin.core.aip.builder import read_aip
from magazin.core.aip.mets import PREMIS_PATH
from magazin.core.aip.model import AipEvent
from magazin.core.aip.premis import premis_xml
from magazin.core.config import Home
from magazin.core.i18n import N_
from magazin.core.ids import new_ulid, now
from magazin.core.records import software_agent, user_agent
from magazin.core.storage.fixity import check_object
from magazin.core.storage.location import FilesystemLocation
from magazin.core.storage.ocfl import NewFile, OcflObject, VersionInfo, add_version
from magazin.errors import Failure

from .models import Copy, Event, Unit
from .services import event_rows


def _locations(home: Home, only: str | None) -> list[FilesystemLocation]:
    locs = [FilesystemLocation(c) for c in home.locations]
    if only:
        locs = [loc for loc in locs if loc.name == only]
        if not locs:
            raise Failure(f"no storage location named {only!r}")
    return locs


def run_audit(
    home: Home, aids: list[str], location: str | None, repair: bool, user: str, progress
) -> dict:
    units = Unit.objects.filter(parent=None).select_related("tenant").order_by("aid")
    if aids:
        units = units.filter(aid__in=aids)
        missing = set(aids) - set(units.values_list("aid", flat=True))
        if missing:
            raise Failure("no AIP " + ", ".join(sorted(missing)))
    all_locs = [FilesystemLocation(c) for c in home.locations]
    replica_names = set(home.replication)
    locs = _locations(home, location)
    report = {"checked": 0, "ok": 0, "failed": [], "repaired": []}
    progress.start(units.count() * len(locs), "audit")
    for unit in units:
        copies = {c.location: c for c in unit.copies.all()}
        bad: dict[str, list] = {}
        for loc in locs:
            if loc.name not in copies and loc.name not in replica_names:
                continue
            obj_dir = loc.object_dir(unit.tenant.slug, unit.ocfl_id)
            with home.locks.shared(unit.ocfl_id):  # not while a new version is written
                problems = check_object(obj_dir)
            report["checked"] += 1
            status = "ok"
            if problems:
                status = (
                    "missing"
                    if problems[0].problem == "missing" and problems[0].path == "."
                    else "damaged"
                )
                bad[loc.name] = problems
                for p in problems:
                    report["failed"].append(
                        {
                            "aid": unit.aid,
                            "location": loc.name,
                            "path": p.path,
                            "problem": p.problem,
                        }
                    )
            else:
                report["ok"] += 1
            Copy.objects.update_or_create(
                unit=unit,
                location=loc.name,
                defaults={"status": status, "checked": timezone.now()},
            )
            progress.advance(1)
        if repair and bad:
            with home.locks.exclusive(unit.ocfl_id):
                report["repaired"] += _repair(unit, bad, all_locs, user)
    progress.done()
    return report


def _repair(
    unit: Unit, bad: dict[str, list], locs: list[FilesystemLocation], user: str
) -> list[dict]:
    """Replace the bad copies by a good one (the caller holds the object's lock)."""
    tenant = unit.tenant.slug
    # another audit may have repaired a copy since it was checked
    bad = {n: p for n, p in bad.items()
           if check_object(next(loc for loc in locs if loc.name == n)
                           .object_dir(tenant, unit.ocfl_id))}  # fmt: skip
    good = None
    for loc in locs:
        if loc.name in bad:
            continue
        d = loc.object_dir(tenant, unit.ocfl_id)
        if d.is_dir() and not check_object(d):
            good = loc
            break
    if good is None:
        return []
    src = good.object_dir(tenant, unit.ocfl_id)
    repaired = []
    for loc in locs:
        if loc.name not in bad:
            continue
        target = loc.object_dir(tenant, unit.ocfl_id)
        tmp = loc.staging / f"repair-{new_ulid()}"
        shutil.copytree(src, tmp)
        if check_object(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        loc.sync()
        trash = None
        if target.exists():
            trash = loc.staging / f"damaged-{new_ulid()}"
            os.rename(target, trash)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, target)
        loc.sync()
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
        repaired.append(
            {
                "aid": unit.aid,
                "location": loc.name,
                "source": good.name,
                "problems": [p.path + ": " + p.problem for p in bad[loc.name]],
            }
        )
    if repaired:
        _record_repair(unit, repaired, locs, user)
    return repaired


def _record_repair(
    unit: Unit, repaired: list[dict], locs: list[FilesystemLocation], user: str
) -> None:
    """A new version in every copy: PREMIS with the failed check and the repair."""
    tenant = unit.tenant.slug
    dirs = [(loc, loc.object_dir(tenant, unit.ocfl_id)) for loc in locs]
    dirs = [(loc, d) for loc, d in dirs if d.is_dir()]
    desc = read_aip(OcflObject.open(dirs[0][1]))
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
    known = {a.id_value for a in desc.agents}
    desc.agents += [a for a in (sw, usr) if a.id_value not in known]
    data = premis_xml(desc)
    digest = hashlib.sha512(data).hexdigest()
    version = VersionInfo(
        now(), "Repair after failed fixity check", user, f"urn:magazin:user:{user}"
    )
    for _loc, d in dirs:
        obj = OcflObject.open(d)
        add_version(d, obj.inventory, [NewFile(PREMIS_PATH, None, digest, data=data)], version)
    with transaction.atomic():
        Event.objects.bulk_create(event_rows(unit, new_events))
        for r in repaired:
            Copy.objects.update_or_create(
                unit=unit,
                location=r["location"],
                defaults={"status": "ok", "checked": timezone.now()},
            )
