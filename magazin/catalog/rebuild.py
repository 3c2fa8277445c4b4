"""Rebuild the catalog from storage alone: every storage root of every location is read;
tenants, fonds, accessions and units come from their OCFL objects' METS, PREMIS and DC."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

from django.db import transaction
from django.db.models import ProtectedError

from magazin.core.aip.builder import read_aip, read_record_xml
from magazin.core.config import Home
from magazin.core.ids import is_log_id
from magazin.core.ingest import fingerprint
from magazin.core.storage.auditlog import AuditLog
from magazin.core.storage.ocfl import OcflError
from magazin.preservation.register import restore as restore_register

from .journal import index_journal
from .models import (
    Accession,
    ClassificationGroup,
    Copy,
    Event,
    File,
    Fonds,
    JournalEntry,
    JournalMention,
    Representation,
    Tenant,
    Unit,
)
from .organisation import group_sort_key, groups_from_record
from .services import parse_time, record_units
from .signals import aip_read, records_read
from .storage import archive_storage

CATALOG_KINDS = ("tenant", "fonds", "accession", "unit")
# Objects read at once: an archive larger than the page cache is read from disk, where one
# small file after another waits for each read in turn (measured at 100,000 AIPs: 12 MB/s
# with the CPU half idle); several at once keep the disk's queue full.
READERS = 8


class RebuildError(Exception):
    pass


def _ordered(fn: Callable, items: Iterable, pool: ThreadPoolExecutor) -> Iterator:
    """fn(item) for each item, in the items' order, READERS × 4 of them under way at once
    (not all: a storage root holds millions of objects)."""
    ahead: deque = deque()
    for item in items:
        ahead.append(pool.submit(fn, item))
        if len(ahead) >= READERS * 4:
            yield ahead.popleft().result()
    while ahead:
        yield ahead.popleft().result()


def _scan(home: Home, progress):
    """Every object in every location: per OCFL id, the first valid copy is read; copies
    that fail OCFL validation are recorded as damaged."""
    copies: dict[str, list[tuple[str, object, bool]]] = {}
    unreadable = []

    def check(loc, tenant: str, rel: str):
        errors = loc.validate(tenant, rel)
        try:
            obj = loc.open_path(tenant, rel)
            oid = obj.id
        except OcflError as e:
            obj, oid = None, _id_from_path(rel)
            errors = errors or [str(e)]
        return rel, obj, oid, errors

    with ThreadPoolExecutor(READERS, thread_name_prefix="rebuild") as pool:
        for loc in archive_storage(home).locations:
            for tenant in loc.tenants():
                paths = loc.object_paths(tenant)
                for rel, obj, oid, errors in _ordered(
                    lambda rel, loc=loc, tenant=tenant: check(loc, tenant, rel), paths, pool
                ):
                    progress.advance(1)
                    if errors:
                        unreadable.append(f"{loc.name}: {tenant}/{rel}: {errors[0]}")
                    if oid:
                        copies.setdefault(oid, []).append((loc.name, obj, not errors))
        found, errors = _describe_all(copies, pool)
    return found, errors, unreadable


def _describe_all(copies: dict, pool: ThreadPoolExecutor) -> tuple[dict, list]:
    """What each object describes, read from its first valid copy (several at once)."""
    found: dict[str, dict] = {}
    errors = []

    def describe(item):
        oid, items = item
        good = [obj for _, obj, ok in items if ok]
        if not good:
            return oid, None, f"{oid}: no valid copy in any location"
        try:
            desc = read_aip(good[0])
            records = {}
            for path, mdtype in desc.source_metadata:
                if mdtype and mdtype.startswith("magazin-"):
                    records = read_record_xml(good[0].read(path))
            # a record's identity for duplicates is its metadata as delivered (version 1)
            first = (desc if good[0].head == "v1" or desc.kind != "unit"
                     else read_aip(good[0], "v1"))  # fmt: skip
        except (ValueError, KeyError) as e:
            return oid, None, f"{good[0].where}: {e}"
        return (
            oid,
            {
                "desc": desc,
                "fingerprint": fingerprint(first.dc, first.extra),
                "record": records,
                "copies": {loc: ("ok" if ok else "damaged") for loc, _, ok in items},
                # another app's object (xdomea processes …) is read further by that app
                "object": good[0] if desc.kind not in CATALOG_KINDS else None,
            },
            None,
        )

    todo = ((oid, items) for oid, items in copies.items() if not is_log_id(oid))
    for oid, item, error in _ordered(describe, todo, pool):
        if error:
            errors.append(error)
        else:
            found[oid] = item
    return found, errors


def _id_from_path(rel: str) -> str | None:
    """Layout 0003 keeps the percent-encoded id as the folder name (unless truncated)."""
    name = rel.rsplit("/", 1)[-1]
    if len(name) > 100:
        return None
    return unquote(name)


@transaction.atomic
def _drop_missing(qs) -> None:
    """Rows storage does not know; kept where database-only settings still refer to them."""
    for row in qs:
        try:
            row.delete()
        except ProtectedError:
            pass


def tenant_from_record(r: dict) -> Tenant:
    """A tenant's row and classification as its OCFL object's record holds them."""
    t, _ = Tenant.objects.update_or_create(
        slug=r["slug"],
        defaults={
            "name": r["name"],
            "created": parse_time(r["created"]),
            "time_zone": r.get("time_zone") or "Europe/Berlin",
            "language": r.get("language") or "de",
            "closure_profile": r.get("closure_profile") or "federal",
            "invalid_files": r.get("invalid_files") or "warn",
            "isil": r.get("isil") or "",
            "archive_type": r.get("archive_type") or "",
            "state": r.get("state") or "",
            "public_url": r.get("public_url") or "",
            "closed_descriptions": r.get("closed_descriptions") or "omit",
            "oai_enabled": r.get("oai_enabled") == "on",
            "changed": parse_time(r["changed"]) if r.get("changed") else None,
            "publication_changed": (
                parse_time(r["publication_changed"]) if r.get("publication_changed") else None
            ),
        },
    )
    restore_register(t, r)
    ClassificationGroup.objects.filter(tenant=t).delete()
    ClassificationGroup.objects.bulk_create(
        ClassificationGroup(tenant=t, path=path, title=title, sort_key=group_sort_key(path))
        for path, title in groups_from_record(r).items()
    )
    return t


def fonds_from_record(r: dict) -> Fonds:
    f, _ = Fonds.objects.update_or_create(
        tenant=Tenant.objects.get(slug=r["tenant"]),
        code=r["code"],
        defaults={
            "title": r["title"],
            "created": parse_time(r["created"]),
            "group": r.get("group", ""),
            "changed": parse_time(r["changed"]) if r.get("changed") else None,
        },
    )
    return f


def _restore_checks(home: Home, tenants: list[str]) -> None:
    """The times of each copy's last check, failure and repair, from the audit logs."""
    log = AuditLog(archive_storage(home))
    for tenant in tenants:
        last: dict[tuple[str, str], dict[str, str]] = {}
        for e in log.entries(tenant):
            key = (e.get("object"), e.get("location"))
            if e.get("event") == "fixity check":
                last.setdefault(key, {})["checked"] = e["time"]
                if e.get("outcome") == "failure":
                    last[key]["failed"] = e["time"]
            elif e.get("event") == "repair":
                last.setdefault(key, {}).update(checked=e["time"], repaired=e["time"])
        units = dict(
            Unit.objects.filter(tenant__slug=tenant, parent=None).values_list("ocfl_id", "pk")
        )
        with transaction.atomic():  # one commit, not one per copy
            for (oid, location), times in last.items():
                if oid in units:
                    Copy.objects.filter(unit_id=units[oid], location=location).update(
                        **{k: parse_time(v) for k, v in times.items()}
                    )


def rebuild(home: Home, progress) -> dict:
    progress.start(None, "rebuild")
    found, errors, damaged = _scan(home, progress)
    progress.done()
    if errors:
        raise RebuildError(
            "cannot rebuild, storage holds unreadable objects: " + "; ".join(errors[:20])
        )
    for model in (Copy, Event, File, Representation, Unit, Accession, JournalEntry, JournalMention):
        model.objects.all().delete()
    # tenants and fonds are updated in place: database-only settings (users) refer to them
    by_kind: dict[str, list] = {kind: [] for kind in CATALOG_KINDS}
    for item in found.values():
        by_kind.setdefault(item["desc"].kind, []).append(item)
    tenants = {}
    for item in by_kind["tenant"]:
        t = tenant_from_record(item["record"])
        tenants[t.slug] = t
    fonds = {}
    for item in by_kind["fonds"]:
        f = fonds_from_record(item["record"])
        fonds[(f.tenant.slug, f.code)] = f
    others = [i for kind, items in by_kind.items() if kind not in CATALOG_KINDS for i in items]
    records_read.send(None, home=home, items=others)
    _drop_missing(Fonds.objects.exclude(pk__in=[f.pk for f in fonds.values()]))
    _drop_missing(Tenant.objects.exclude(pk__in=[t.pk for t in tenants.values()]))
    accessions = {}
    for item in by_kind["accession"]:
        r = item["record"]
        accessions[(r["tenant"], r["number"])] = Accession.objects.create(
            tenant=tenants[r["tenant"]],
            fonds=fonds[(r["tenant"], r["fonds"])],
            ulid=r["ulid"],
            number=r["number"],
            created=parse_time(r["created"]),
            source=r.get("source", ""),
            sip_name=r["sip_name"],
            files=int(r["files"]),
            bytes=int(r["bytes"]),
        )
    by_accession: dict = {}
    for item in by_kind["unit"]:
        d = item["desc"]
        by_accession.setdefault(accessions.get((d.tenant, d.accession)), []).append(item)
    for acc, items in by_accession.items():
        units = record_units(
            [(i["desc"], sorted(i["copies"]), i["fingerprint"]) for i in items], acc
        )
        for unit, item in zip(units, items, strict=True):
            for loc, status in item["copies"].items():
                if status != "ok":
                    Copy.objects.filter(unit=unit, location=loc).update(status=status)
            if item["desc"].rights:
                aip_read.send(None, root=unit, desc=item["desc"])
    _restore_checks(home, list(tenants))
    for t in tenants.values():  # the journal's index, read back from its segments
        index_journal(home, t)
    return {
        "tenants": len(tenants),
        "fonds": len(fonds),
        "accessions": len(accessions),
        "aips": len(by_kind["unit"]),
        "damaged_copies": len(damaged),
    }
