"""Rebuild the catalog from storage alone: every storage root of every location is read;
tenants, fonds, accessions and units come from their OCFL objects' METS, PREMIS and DC."""

from __future__ import annotations

from django.db import transaction

from magazin.core.aip.builder import read_aip, read_record_xml
from magazin.core.config import Home
from magazin.core.ingest import fingerprint
from magazin.core.storage.location import FilesystemLocation
from magazin.core.storage.ocfl import OcflError, OcflObject, iter_object_roots

from .models import Accession, Copy, Event, File, Fonds, Representation, Tenant, Unit
from .services import parse_time, record_unit


class RebuildError(Exception):
    pass


def _scan(home: Home, progress):
    found: dict[str, dict] = {}
    errors = []
    for c in home.locations:
        loc = FilesystemLocation(c)
        for tenant in loc.tenants():
            for obj_dir in iter_object_roots(loc.root(tenant)):
                progress.advance(1)
                try:
                    obj = OcflObject.open(obj_dir)
                    if obj.id in found:
                        found[obj.id]["locations"].append(loc.name)
                        continue
                    desc = read_aip(obj)
                    records = {}
                    for path, mdtype in desc.source_metadata:
                        if mdtype and mdtype.startswith("magazin-"):
                            records = read_record_xml(obj.read(path))
                    found[obj.id] = {"desc": desc, "record": records, "locations": [loc.name]}
                except (OcflError, ValueError, KeyError) as e:
                    errors.append(f"{obj_dir}: {e}")
    return found, errors


@transaction.atomic
def rebuild(home: Home, progress) -> dict:
    progress.start(None, "rebuild")
    found, errors = _scan(home, progress)
    progress.done()
    if errors:
        raise RebuildError("unreadable objects: " + "; ".join(errors[:20]))
    for model in (Copy, Event, File, Representation, Unit, Accession, Fonds, Tenant):
        model.objects.all().delete()
    by_kind: dict[str, list] = {"tenant": [], "fonds": [], "accession": [], "unit": []}
    for item in found.values():
        by_kind.setdefault(item["desc"].kind, []).append(item)
    tenants = {}
    for item in by_kind["tenant"]:
        r = item["record"]
        tenants[r["slug"]] = Tenant.objects.create(
            slug=r["slug"], name=r["name"], created=parse_time(r["created"])
        )
    fonds = {}
    for item in by_kind["fonds"]:
        r = item["record"]
        fonds[(r["tenant"], r["code"])] = Fonds.objects.create(
            tenant=tenants[r["tenant"]],
            code=r["code"],
            title=r["title"],
            created=parse_time(r["created"]),
        )
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
    for item in by_kind["unit"]:
        d = item["desc"]
        acc = accessions.get((d.tenant, d.accession))
        record_unit(d, sorted(item["locations"]), fingerprint(d.dc, d.extra), acc)
    return {
        "tenants": len(tenants),
        "fonds": len(fonds),
        "accessions": len(accessions),
        "aips": len(by_kind["unit"]),
    }
