"""Catalog operations shared by CLI, web and API: tenants, fonds, AIP records and listings."""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from magazin.core.aip.model import AipDescription, AipEvent, representation_order
from magazin.core.ingest import AccessionInfo, Known

from .models import (
    Accession,
    AccessionSequence,
    Copy,
    Event,
    File,
    Fonds,
    Representation,
    Tenant,
    Unit,
)
from .signals import described, describing, detail


class CatalogError(Exception):
    """A request the catalog cannot satisfy (unknown tenant, duplicate code, …)."""


def parse_time(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


class DjangoCatalog:
    """The ingest pipeline's CatalogPort, on the Django ORM."""

    def next_accession_number(self, tenant: str) -> str:
        """The next number of the year (2026-0001, …), given out once even when several
        ingests ask at the same moment."""
        year = dt.date.today().year
        t = Tenant.objects.get(slug=tenant)
        with transaction.atomic():
            seq, created = AccessionSequence.objects.select_for_update().get_or_create(
                tenant=t, year=year
            )
            if created:  # a new year, or the first number after a rebuild: the catalog's
                numbers = Accession.objects.filter(tenant=t, number__startswith=f"{year}-")
                seq.last = max(
                    (int(n.split("-")[1]) for n in numbers.values_list("number", flat=True)),
                    default=0,
                )
            seq.last += 1
            seq.save(update_fields=["last"])
        return f"{year}-{seq.last:04d}"

    def record_accession(self, acc: AccessionInfo) -> Accession:
        tenant = Tenant.objects.get(slug=acc.tenant)
        fonds = Fonds.objects.get(tenant=tenant, code=acc.fonds)
        obj, _ = Accession.objects.update_or_create(
            ulid=acc.ulid,
            defaults=dict(
                tenant=tenant,
                fonds=fonds,
                number=acc.number,
                created=parse_time(acc.created),
                source=acc.source,
                sip_name=acc.sip_name,
                files=acc.files,
                bytes=acc.bytes,
            ),
        )
        return obj

    def lookup_many(self, tenant: str, fonds: str, keys: list[str]) -> dict[str, Known]:
        out: dict[str, Known] = {}
        for i in range(0, len(keys), 500):
            qs = Unit.objects.filter(
                tenant__slug=tenant,
                fonds__code=fonds,
                source_key__in=keys[i : i + 500],
                parent=None,
            ).select_related("accession")
            for u in qs:
                out[u.source_key] = Known(
                    u.aid, u.fingerprint, u.accession.number if u.accession else None
                )
        return out

    @transaction.atomic
    def record_aips(
        self,
        aips: list[tuple[AipDescription, str]],
        locs: list[str],
        accession: AccessionInfo | None,
    ) -> list[Unit]:
        """Catalogue a batch of stored AIPs in one transaction."""
        acc = self.record_accession(accession) if accession else None
        return record_units([(a, locs, fp) for a, fp in aips], acc)


def apply_closure(units: list[Unit]) -> None:
    """Compute what follows from each unit's metadata: the keys its lists sort by here, and
    through the seam (signals.describing) its closure period with its tenant's profile and
    the years of its date range."""
    for u in units:
        u.signature = ((u.dc or {}).get("identifier") or [""])[0][:300]
        u.signature_key = natural_key(u.signature)
    describing.send(None, units=units)


# fields apply_closure() sets (saved after an edit or a change of profile)
DERIVED = ["open_from", "closure_reason", "year_from", "year_to", "signature", "signature_key",
           "date_key"]  # fmt: skip


def natural_key(text: str) -> str:
    """A sort key in which numbers compare as numbers: OB-R-2 before OB-R-10."""
    return re.sub(r"\d+", lambda m: m.group(0).lstrip("0").rjust(12, "0"), text.casefold())[:600]


def _insert_units(units: list[Unit]) -> None:
    """Bulk-insert units with their closure periods; keys filled in where the backend does
    not return them."""
    apply_closure(units)
    Unit.objects.bulk_create(units)
    if any(u.pk is None for u in units):
        by_aid = dict(Unit.objects.filter(aid__in=[u.aid for u in units]).values_list("aid", "pk"))
        for u in units:
            u.pk = by_aid[u.aid]


def record_units(
    items: list[tuple[AipDescription, list[str], str]], acc: Accession | None
) -> list[Unit]:
    """Insert units with their representations, files, events and copies in bulk."""
    tenants: dict[str, Tenant] = {}
    fonds: dict[tuple[str, str], Fonds] = {}
    units = []
    for aip, _locs, fp in items:
        if aip.tenant not in tenants:
            tenants[aip.tenant] = Tenant.objects.get(slug=aip.tenant)
        if (aip.tenant, aip.fonds) not in fonds:
            fonds[(aip.tenant, aip.fonds)] = Fonds.objects.get(
                tenant=tenants[aip.tenant], code=aip.fonds
            )
        units.append(
            Unit(
                tenant=tenants[aip.tenant],
                fonds=fonds[(aip.tenant, aip.fonds)],
                accession=acc,
                aid=aip.aid,
                ocfl_id=aip.ocfl_id,
                title=aip.title,
                dc=aip.dc,
                extra=aip.extra,
                source_key=aip.source_key or "",
                fingerprint=fp,
                created=parse_time(aip.created),
                files_count=len(aip.files),
                bytes=sum(f.size for f in aip.files),
                formats=formats_of(aip.files),
            )
        )
    _insert_units(units)
    reps = []
    for unit, (aip, _locs, _fp) in zip(units, items, strict=True):
        for name in dict.fromkeys(f.representation for f in aip.files):
            reps.append(Representation(unit=unit, name=name,
                                       label=aip.representation_labels.get(name, "")))  # fmt: skip
    Representation.objects.bulk_create(reps)
    rep_of = {(r.unit.aid, r.name): r for r in reps}
    files, events, copies = [], [], []
    for unit, (aip, locs, _fp) in zip(units, items, strict=True):
        for f in aip.files:
            files.append(file_row(rep_of[(unit.aid, f.representation)], f))
        events += event_rows(unit, aip.events)
        copies += [Copy(unit=unit, location=loc, status="ok") for loc in locs]
    File.objects.bulk_create(files, batch_size=1000)
    Event.objects.bulk_create(events, batch_size=1000)
    Copy.objects.bulk_create(copies, batch_size=1000)
    children = record_children(units, [aip for aip, _l, _f in items])
    described.send(None, units=units + children, new=True)
    return units


def formats_of(files) -> str:
    """Unit.formats: the distinct PRONOM ids of these files."""
    return " ".join(sorted({f.puid or "unknown" for f in files}))


def file_row(rep: Representation, f) -> File:
    return File(
        representation=rep, path=f.path, size=f.size, sha512=f.sha512, puid=f.puid,
        format_name=f.format_name, format_version=f.format_version, mime=f.mime, basis=f.basis,
        validation=f.validation, validation_note=f.validation_note,
    )  # fmt: skip


def replace_files(root: Unit, aip: AipDescription) -> None:
    """The catalog's representations and files of an AIP, and its counts, as its
    description now holds them (after a migration added a representation)."""
    Representation.objects.filter(unit=root).delete()
    reps = {name: Representation.objects.create(unit=root, name=name,
                                                label=aip.representation_labels.get(name, ""))
            for name in dict.fromkeys(f.representation for f in aip.files)}  # fmt: skip
    File.objects.bulk_create([file_row(reps[f.representation], f) for f in aip.files],
                             batch_size=1000)  # fmt: skip
    root.files_count, root.bytes = len(aip.files), sum(f.size for f in aip.files)
    root.formats = formats_of(aip.files)
    Unit.objects.filter(pk=root.pk).update(files_count=root.files_count, bytes=root.bytes,
                                           formats=root.formats)  # fmt: skip


def record_new_events(root: Unit, events: list[AipEvent]) -> None:
    """The events of an AIP's description the catalog does not have yet."""
    known = set(Event.objects.filter(unit=root).values_list("ulid", flat=True))
    Event.objects.bulk_create(event_rows(root, [e for e in events if e.id not in known]))


def record_children(roots: list[Unit], aips: list[AipDescription]) -> list[Unit]:
    """The child units inside each AIP (xdomea Teilakte, Vorgang, Dokument), level by level."""
    created: list[Unit] = []
    level = [
        (root, node, aip) for root, aip in zip(roots, aips, strict=True) for node in aip.children
    ]
    while level:
        rows = []
        for parent, node, aip in level:
            sizes = {f.path: f.size for f in aip.files}
            paths = [p for n in node.walk() for p in n.files]
            rows.append(
                Unit(
                    tenant=parent.tenant,
                    fonds=parent.fonds,
                    accession=parent.accession,
                    parent=parent,
                    aid=f"{aip.tenant}-{node.ulid}",
                    ocfl_id=None,
                    title=node.title,
                    dc=node.dc,
                    extra={"kind": node.kind, **node.extra},
                    source_key=node.key,
                    created=parent.created,
                    files_count=len(paths),
                    bytes=sum(sizes.get(p, 0) for p in paths),
                )
            )
        _insert_units(rows)
        created += rows
        level = [
            (unit, child, aip)
            for unit, (_p, node, aip) in zip(rows, level, strict=True)
            for child in node.children
        ]
    return created


def event_rows(unit: Unit, events: list[AipEvent]) -> list[Event]:
    """Catalog rows for PREMIS events (to be bulk-created)."""
    return [
        Event(
            unit=unit,
            ulid=e.id,
            type=e.type,
            datetime=parse_time(e.datetime),
            outcome=e.outcome,
            detail=e.detail,
            outcome_detail=e.outcome_detail,
            agents=[list(a) for a in e.agents],
        )
        for e in events
    ]


def iso(t: dt.datetime | None) -> str | None:
    return t.astimezone(dt.UTC).isoformat() if t else None


def aip_summary(u: Unit) -> dict:
    return {
        "aid": u.aid,
        "title": u.title,
        "tenant": u.tenant.slug,
        "fonds": u.fonds.code,
        "files": u.files_count,
        "bytes": u.bytes,
    }


def unit_root(u: Unit) -> Unit:
    """The root unit (the AIP) a unit lives in."""
    root = u
    while root.parent_id is not None:
        root = root.parent
    return root


def with_descendants(units: list[Unit]) -> list[Unit]:
    """The units and every unit below them (an Akte with its Vorgänge and Dokumente), each
    once, level by level."""
    out, seen, level = [], set(), list(units)
    while level:
        level = [u for u in level if u.pk not in seen]
        out += level
        seen.update(u.pk for u in level)
        level = list(Unit.objects.filter(parent__in=level).select_related("tenant", "fonds"))
    return out


def unit_files(u: Unit):
    """The files of a unit: all of its AIP's for a root unit, those under its folder for a
    child unit (an xdomea Vorgang or Dokument)."""
    root = unit_root(u)
    files = File.objects.filter(representation__unit=root).select_related("representation")
    if root.pk != u.pk:
        prefix = u.extra.get("path", "")
        files = files.filter(path__startswith=f"{prefix}/") if prefix else files.none()
    return files


def is_open(u: Unit, day: dt.date | None = None, released: bool | None = None) -> bool:
    """Open to every reader: its closure period is over, or the archive released it (as the
    caller knows, as a list annotated it, else asked)."""
    day = day or dt.date.today()
    if u.open_from is not None and u.open_from <= day:
        return True
    if released is None:
        released = getattr(u, "released", None)
    if released is None:
        released = u.releases.filter(withdrawn__isnull=True).exists()
    return bool(released)


def unit_summary(u: Unit) -> dict:
    """A unit in lists: as in `aip list`, plus its signature, date range and access status,
    and where it sits in its tree."""
    return {
        **aip_summary(u),
        "signature": u.signature or None,
        "date": (u.dc or {}).get("date", []),
        "year_from": u.year_from,
        "year_to": u.year_to,
        "access": "open" if is_open(u) else "closed",
        "kind": u.extra.get("kind") or u.extra.get("xdomea_kind"),
        "parent": u.parent.aid if u.parent_id else None,
        "children": u.children.count(),
    }


def representations(root: Unit) -> list[str]:
    """An AIP's representations: the original first, then preservation-1, -2, …"""
    names = Representation.objects.filter(unit=root).values_list("name", flat=True)
    return sorted(names, key=representation_order)


def access_representation(root: Unit) -> str:
    """What readers get: the newest preservation representation (a DOCX reads as PDF/A),
    else the original."""
    names = representations(root)
    return names[-1] if names else "original"


def aip_detail(u: Unit, representation: str | None = None) -> dict:
    """A unit with files, events and copies; a child unit shows the files under its folder
    and the events and copies of the AIP it lives in. With `representation`, only the files
    of that representation."""
    root = unit_root(u)
    files = unit_files(u)
    if representation is not None:
        files = files.filter(representation__name=representation)
    return {
        "representations": representations(root),
        "representation_labels": dict(
            Representation.objects.filter(unit=root).exclude(label="").values_list("name", "label")
        ),  # fmt: skip
        "representation": representation,
        **aip_summary(u),
        "ocfl_id": u.ocfl_id,
        "accession": u.accession.number if u.accession else None,
        "created": iso(u.created),
        "dc": u.dc,
        "extra": u.extra,
        "files": [
            {
                "path": f.path,
                "representation": f.representation.name,
                "size": f.size,
                "sha512": f.sha512,
                "puid": f.puid,
                "mime": f.mime,
                "format": f.format_name,
                "format_version": f.format_version,
                "basis": f.basis,
                "validation": f.validation,
                "validation_note": f.validation_note,
            }
            for f in files.order_by("representation__name", "path")
        ],
        "events": [
            {
                "type": e.type,
                "outcome": e.outcome,
                "datetime": iso(e.datetime),
                "detail": e.detail,
                "outcome_detail": e.outcome_detail,
            }
            for e in root.events.all()
        ],
        "copies": [
            {"location": c.location, "status": c.status, "checked": iso(c.checked)}
            for c in root.copies.all()
        ],
        **{k: v for _r, extra in detail.send(None, unit=u) for k, v in (extra or {}).items()},
        "parent": u.parent.aid if u.parent_id else None,
        "root": root.aid,
        "children": [
            {"aid": c.aid, "title": c.title, "kind": c.extra.get("kind", "")}
            for c in u.children.order_by("id")
        ],
    }
