"""The link to the archive information system (AFIS: scopeArchiv, Arcinsys, AUGIAS, ACTApro,
FAUST …): what it imports to link its descriptions to the digital records, and its
descriptions coming back.

Export: one row per unit (CSV, the header below) or EAD 2002 with the AID as a `unitid` of
type `aid` and a `dao` link to the unit's page. Import (CSV with the same header, EAD 2002 or
EAD(DDB)): every entry is checked first - nothing is applied when the file is malformed or an
entry matches two units - then each unit it changes gets a new version through the engine
with a `metadata modification` event. The AFIS owns title, date range, description and
signature once it sent them; what Magazin derived itself (files, formats, fixity) stays.
Applying it again changes nothing (idempotent), so a run cut off is finished by running it
again. The AFIS's own id is kept as an alternate identifier `afis:<id>`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree as SafeET
from django.db.models import Exists, OuterRef
from lxml import etree

from magazin.access.models import Release
from magazin.catalog.models import Fonds, Tenant, Unit
from magazin.catalog.services import is_open
from magazin.core.config import Home
from magazin.core.i18n import N_

# the CSV's columns, in this order (UTF-8, ';' as in the tables Magazin takes over)
COLUMNS = ("aid", "alternate_ids", "signature", "title", "date", "description", "files",
           "access", "url", "afis_id")  # fmt: skip
MATCH = ("signature", "aid", "alternate-id")
EAD = "urn:isbn:1-931666-22-9"
XLINK = "http://www.w3.org/1999/xlink"
AFIS_PREFIX = "afis:"


class AfisError(ValueError):
    """The file cannot be imported (its message names the file, the place and the problem);
    nothing was changed."""


def _alternates(u: Unit) -> list[str]:
    ids = u.dc.get("identifier", [])
    return [i for i in ids if i and i != u.signature]


def units_of(tenant: Tenant, fonds: Fonds | None = None):
    released = Exists(Release.objects.filter(unit=OuterRef("pk"), withdrawn__isnull=True))
    units = Unit.objects.filter(tenant=tenant).select_related("fonds").annotate(released=released)
    if fonds is not None:
        units = units.filter(fonds=fonds)
    return units.order_by("fonds__code", "signature_key", "aid")


def _row(u: Unit, tenant: Tenant) -> dict[str, str]:
    afis = next((i[len(AFIS_PREFIX) :] for i in _alternates(u) if i.startswith(AFIS_PREFIX)), "")
    return {
        "aid": u.aid,
        "alternate_ids": " | ".join(_alternates(u)),
        "signature": u.signature,
        "title": u.title,
        "date": " | ".join(u.dc.get("date", [])),
        "description": " | ".join(u.dc.get("description", [])),
        "files": str(u.files_count),
        "access": "open" if is_open(u, released=u.released) else "closed",
        "url": f"{tenant.public_url}/aip/{u.aid}/" if tenant.public_url else f"/aip/{u.aid}/",
        "afis_id": afis,
    }


def export_csv(tenant: Tenant, fonds: Fonds | None = None) -> tuple[bytes, int]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    n = 0
    for u in units_of(tenant, fonds).iterator(chunk_size=2000):
        writer.writerow(_row(u, tenant))
        n += 1
    return out.getvalue().encode("utf-8"), n


def export_ead(tenant: Tenant, fonds: Fonds | None = None) -> tuple[bytes, int]:
    """EAD 2002: one `c` per unit, nested as the units are, in one `archdesc` per fonds
    (several fonds: an `archdesc` of the tenant holding them)."""
    root = etree.Element(f"{{{EAD}}}ead", nsmap={None: EAD, "xlink": XLINK})
    header = etree.SubElement(root, f"{{{EAD}}}eadheader")
    etree.SubElement(header, f"{{{EAD}}}eadid").text = f"{tenant.slug}-afis"
    title = etree.SubElement(etree.SubElement(header, f"{{{EAD}}}filedesc"), f"{{{EAD}}}titlestmt")
    etree.SubElement(title, f"{{{EAD}}}titleproper").text = (
        f"{tenant.name}: {fonds.code}" if fonds else tenant.name)  # fmt: skip
    arch = etree.SubElement(root, f"{{{EAD}}}archdesc", level="fonds" if fonds else "collection")
    did = etree.SubElement(arch, f"{{{EAD}}}did")
    etree.SubElement(did, f"{{{EAD}}}unittitle").text = fonds.title if fonds else tenant.name
    if fonds:
        etree.SubElement(did, f"{{{EAD}}}unitid").text = fonds.code
    dsc = etree.SubElement(arch, f"{{{EAD}}}dsc")
    units = list(units_of(tenant, fonds))
    children: dict[int | None, list[Unit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    groups: dict[str, etree._Element] = {}

    def add(parent, u: Unit) -> None:
        row = _row(u, tenant)
        c = etree.SubElement(parent, f"{{{EAD}}}c", level="file" if u.parent_id is None
                             else "item")  # fmt: skip
        cdid = etree.SubElement(c, f"{{{EAD}}}did")
        etree.SubElement(cdid, f"{{{EAD}}}unitid", type="aid").text = u.aid
        if u.signature:
            etree.SubElement(cdid, f"{{{EAD}}}unitid").text = u.signature
        for alt in _alternates(u):
            etree.SubElement(cdid, f"{{{EAD}}}unitid", type="alternate").text = alt
        etree.SubElement(cdid, f"{{{EAD}}}unittitle").text = u.title
        for d in u.dc.get("date", []):
            etree.SubElement(cdid, f"{{{EAD}}}unitdate").text = d
        phys = etree.SubElement(cdid, f"{{{EAD}}}physdesc")
        etree.SubElement(phys, f"{{{EAD}}}extent", unit="files").text = row["files"]
        etree.SubElement(cdid, f"{{{EAD}}}dao", {f"{{{XLINK}}}href": row["url"],
                                               f"{{{XLINK}}}type": "simple"})  # fmt: skip
        if u.dc.get("description"):
            sc = etree.SubElement(c, f"{{{EAD}}}scopecontent")
            for text in u.dc["description"]:
                etree.SubElement(sc, f"{{{EAD}}}p").text = text
        acc = etree.SubElement(c, f"{{{EAD}}}accessrestrict", type=row["access"])
        etree.SubElement(acc, f"{{{EAD}}}p").text = row["access"]
        for child in children.get(u.pk, []):
            add(c, child)

    for u in children.get(None, []):
        parent = dsc
        if fonds is None:  # several fonds: one series per fonds
            if u.fonds.code not in groups:
                g = etree.SubElement(dsc, f"{{{EAD}}}c", level="fonds")
                gdid = etree.SubElement(g, f"{{{EAD}}}did")
                etree.SubElement(gdid, f"{{{EAD}}}unitid").text = u.fonds.code
                etree.SubElement(gdid, f"{{{EAD}}}unittitle").text = u.fonds.title
                groups[u.fonds.code] = g
            parent = groups[u.fonds.code]
        add(parent, u)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml, len(units)


# -- import ------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One description the AFIS sent, and where in its file."""

    where: str  # "line 4" | "c 17"
    key: str  # the value matched (signature, AID or alternate id)
    afis_id: str = ""
    title: str | None = None
    dates: list[str] | None = None
    descriptions: list[str] | None = None
    signature: str | None = None


@dataclass
class ImportResult:
    matched: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"matched": self.matched, "updated": self.updated, "unchanged": self.unchanged,
                "unmatched": self.unmatched, "conflicts": self.conflicts}  # fmt: skip


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split("|") if v.strip()]


def read_entries(path: Path, match: str) -> list[Entry]:
    """The file's entries (CSV or XML by content), or AfisError naming what is wrong."""
    data = path.read_bytes()
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return list(_ead_entries(path, data, match))
    return list(_csv_entries(path, data, match))


def _csv_entries(path: Path, data: bytes, match: str) -> Iterator[Entry]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        why = N_("{file}: not UTF-8 (byte {pos})").format(file=path.name, pos=e.start)
        raise AfisError(why) from None
    rows = csv.DictReader(io.StringIO(text), delimiter=";")
    key_column = {"signature": "signature", "aid": "aid", "alternate-id": "afis_id"}[match]
    if rows.fieldnames is None or key_column not in rows.fieldnames:
        raise AfisError(N_("{file}: no column {column} (the header is: {header})").format(
            file=path.name, column=key_column,
            header=";".join(COLUMNS)))  # fmt: skip
    for n, row in enumerate(rows, start=2):
        if None in row:
            raise AfisError(N_("{file}, line {line}: more fields than the header has").format(
                file=path.name, line=n))  # fmt: skip
        key = (row.get(key_column) or "").strip()
        if not key:
            raise AfisError(N_("{file}, line {line}: no {column}").format(
                file=path.name, line=n, column=key_column))  # fmt: skip
        yield Entry(
            f"line {n}", key, (row.get("afis_id") or "").strip(),
            title=(row.get("title") or "").strip() or None,
            dates=_split(row["date"]) if row.get("date") else None,
            descriptions=_split(row["description"]) if row.get("description") else None,
            signature=(row.get("signature") or "").strip() or None,
        )  # fmt: skip


def _ead_entries(path: Path, data: bytes, match: str) -> Iterator[Entry]:
    try:  # defusedxml: no entities, no external references (XXE, billion laughs)
        root = SafeET.fromstring(data)
    except SafeET.ParseError as e:
        raise AfisError(N_("{file}: not well-formed XML ({error})").format(
            file=path.name, error=e)) from None  # fmt: skip
    except Exception as e:  # defusedxml's refusals: entities, DTDs
        why = N_("{file}: refused ({error})").format(file=path.name, error=type(e).__name__)
        raise AfisError(why) from None
    ns = "{" + EAD + "}"
    if root.tag not in (f"{ns}ead", "ead"):
        raise AfisError(N_("{file}: not an EAD document (root {tag})").format(
            file=path.name, tag=root.tag))  # fmt: skip
    p = ns if root.tag.startswith("{") else ""
    for n, c in enumerate(root.iter(f"{p}c"), start=1):
        did = c.find(f"{p}did")
        if did is None:
            continue
        ids = did.findall(f"{p}unitid")
        by_type = {}
        for u in ids:
            by_type.setdefault(u.get("type") or "", []).append((u.text or "").strip())
        signature = next((v for v in by_type.get("", []) if v), None)
        aid = next((v for v in by_type.get("aid", []) if v), None)
        afis_id = (c.get("id") or "").strip()
        key = {"signature": signature, "aid": aid, "alternate-id": afis_id}[match]
        if not key:
            continue  # a level without the key (a class, a series): nothing to match
        title = did.findtext(f"{p}unittitle")
        # the date as the archivist wrote it (Magazin reads 1960, 12.03.1960, 1960-1965 …);
        # the normalised form where there is no text
        dates = [" ".join((d.text or "").split()) or (d.get("normal") or "").strip()
                 for d in did.findall(f"{p}unitdate")]  # fmt: skip
        texts = [" ".join("".join(e.itertext()).split()) for e in
                 [*did.findall(f"{p}abstract"), *c.findall(f"{p}scopecontent/{p}p")]]  # fmt: skip
        yield Entry(f"c {n}", key, afis_id,
                    title=" ".join(title.split()) if title and title.strip() else None,
                    dates=[d for d in dates if d] or None,
                    descriptions=[t for t in texts if t] or None,
                    signature=signature)  # fmt: skip


def _find(tenant: Tenant, entry: Entry, match: str) -> list[Unit]:
    units = Unit.objects.filter(tenant=tenant)
    if match == "aid":
        return list(units.filter(aid=entry.key))
    if match == "signature":
        return list(units.filter(signature=entry.key))
    wanted = f"{AFIS_PREFIX}{entry.key}"
    # alternate ids live in the Dublin Core identifiers: compared in Python, as JSON lookups
    # differ between the databases
    return [
        u
        for u in units.filter(dc__icontains=entry.key)
        if wanted in u.dc.get("identifier", []) or entry.key in _alternates(u)
    ]


def _changes(u: Unit, e: Entry) -> tuple[str | None, dict[str, list[str]]]:
    dc: dict[str, list[str]] = {}
    if e.dates is not None and u.dc.get("date", []) != e.dates:
        dc["date"] = e.dates
    if e.descriptions is not None and u.dc.get("description", []) != e.descriptions:
        dc["description"] = e.descriptions
    ids = list(u.dc.get("identifier", []))
    new_ids = list(ids)
    if e.signature is not None and (not new_ids or new_ids[0] != e.signature):
        new_ids = [e.signature, *[i for i in new_ids[1:] if i != e.signature]]
    if e.afis_id and f"{AFIS_PREFIX}{e.afis_id}" not in new_ids:
        new_ids.append(f"{AFIS_PREFIX}{e.afis_id}")
    if new_ids != ids:
        dc["identifier"] = new_ids
    title = e.title if e.title is not None and e.title != u.title else None
    return title, dc


def import_descriptions(
    home: Home, tenant: Tenant, path: Path, user: str, match: str = "signature",
    dry_run: bool = False,
) -> ImportResult:  # fmt: skip
    """Check every entry, then apply them (see the module's docstring)."""
    from magazin.catalog.edit import edit_unit

    if match not in MATCH:
        raise AfisError(N_("match: one of {choices}").format(choices=", ".join(MATCH)))
    entries = read_entries(path, match)
    result = ImportResult()
    plan: list[tuple[Unit, Entry]] = []
    seen: dict[int, str] = {}
    for e in entries:
        found = _find(tenant, e, match)
        if not found:
            result.unmatched.append({"where": e.where, "key": e.key})
        elif len(found) > 1:
            result.conflicts.append({"where": e.where, "key": e.key,
                                     "aids": sorted(u.aid for u in found)})  # fmt: skip
        elif found[0].pk in seen:
            result.conflicts.append({"where": e.where, "key": e.key, "aids": [found[0].aid],
                                     "also": seen[found[0].pk]})  # fmt: skip
        else:
            seen[found[0].pk] = e.where
            plan.append((found[0], e))
    result.matched = len(plan)
    if result.conflicts:
        return result  # nothing is applied while an entry is ambiguous
    for unit, e in plan:
        title, dc = _changes(unit, e)
        if not title and not dc:
            result.unchanged += 1
        elif dry_run:
            result.updated += 1
        else:
            done = edit_unit(home, unit, user, title=title, dc=dc or None, action="import",
                             reason=N_("description from the archive information system "
                                       "({where})").format(where=e.where))  # fmt: skip
            if done["changed"]:
                result.updated += 1
            else:
                result.unchanged += 1
    return result
