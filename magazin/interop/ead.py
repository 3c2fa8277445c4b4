"""EAD(DDB) 1.2 finding aids - the format in which the Archivportal-D and the Deutsche
Digitale Bibliothek take an archive's descriptions: a fonds as a Findbuch (its units as a
tree with signatures, titles, date ranges and extents) and the tenant's classification as a
Tektonik (its groups with the fonds in them). Only what may be published appears
(`publication`); links point to the tenant's public address.

The structure follows the DDB's examples (github.com/Deutsche-Digitale-Bibliothek/
ddb-metadata-ead, 1.2): the Findbuch's identifier is the `id` of the fonds' `c` in the
Tektonik, so that the portal joins the two."""

from __future__ import annotations

import datetime as dt
import re

from django.template.defaultfilters import filesizeformat
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

from magazin.access.closure import date_range
from magazin.catalog.models import ClassificationGroup, Fonds, Tenant
from magazin.core.i18n import N_

from .publication import FULL, Published, count, published_tree
from .vocabulary import ARCHIVE_TYPES, portal_missing

EAD = "urn:isbn:1-931666-22-9"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = (f"{EAD} http://www.loc.gov/ead/ead.xsd "
                   f"{XLINK} http://www.loc.gov/standards/xlink/xlink.xsd")  # fmt: skip
_NOT_ID = re.compile(r"[^\w.\-]", re.ASCII)


class EadError(ValueError):
    """The tenant lacks what the portal needs to name it (its message says what)."""


def xml_id(*parts: str) -> str:
    """A stable xs:ID (an XML name without ':') made of these parts."""
    text = _NOT_ID.sub("_", "-".join(parts))
    return text if re.match(r"[A-Za-z_]", text) else f"m-{text}"


def findbuch_id(fonds: Fonds) -> str:
    return xml_id(fonds.tenant.slug, "fonds", fonds.code)


def _check(tenant: Tenant, tektonik: bool = False) -> None:
    missing = portal_missing(tenant, tektonik)
    if missing:
        raise EadError(N_("tenant {slug}: the Archivportal-D needs its {what} (magazin tenant "
                          "set {slug} {what} …)").format(slug=tenant.slug,
                                                         what=" and ".join(missing)))  # fmt: skip


def _el(parent, tag: str, text: str | None = None, **attrs: str):
    e = etree.SubElement(parent, f"{{{EAD}}}{tag}")
    for k, v in attrs.items():
        e.set(f"{{{XLINK}}}{k[6:]}" if k.startswith("xlink_") else k, v)
    if text is not None:
        e.text = text
    return e


def _document(tenant: Tenant, ident: str, title: str, day: dt.date, url: str | None):
    root = etree.Element(f"{{{EAD}}}ead", nsmap={None: EAD, "xlink": XLINK, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    root.set("audience", "external")
    header = _el(root, "eadheader", countryencoding="iso3166-1", dateencoding="iso8601",
                 langencoding="iso639-2b", repositoryencoding="iso15511",
                 scriptencoding="iso15924")  # fmt: skip
    eadid = _el(header, "eadid", ident, mainagencycode=tenant.isil)
    if url:
        eadid.set("url", url)
    _el(_el(_el(header, "filedesc"), "titlestmt"), "titleproper", title)
    creation = _el(_el(header, "profiledesc"), "creation")
    _el(creation, "date", formats.date_format(day, "SHORT_DATE_FORMAT"), normal=day.isoformat())
    return root


def _repository(did, tenant: Tenant) -> None:
    repo = _el(did, "repository")
    _el(repo, "corpname", tenant.name, role=ARCHIVE_TYPES[tenant.archive_type][0],
        id=xml_id(tenant.isil))  # fmt: skip
    if tenant.public_url:
        _el(repo, "extref", tenant.name, xlink_role="url_archive", xlink_href=tenant.public_url)


def _dates(did, start: dt.date | None, end: dt.date | None, shown: str = "") -> None:
    if start is None and end is None:
        return
    start, end = start or end, end or start
    if not shown:
        shown = (formats.date_format(start, "SHORT_DATE_FORMAT") if start == end else
                 f"{start.year}–{end.year}" if (start.month, start.day, end.month, end.day)
                 == (1, 1, 12, 31) else f"{formats.date_format(start, 'SHORT_DATE_FORMAT')}–"
                 f"{formats.date_format(end, 'SHORT_DATE_FORMAT')}")  # fmt: skip
    _el(did, "unitdate", shown, normal=f"{start.isoformat()}/{end.isoformat()}")


def _extent(did, files: int, size: int) -> None:
    if not files:
        return
    text = ngettext("%(n)d file", "%(n)d files", files) % {"n": files}
    _el(_el(did, "physdesc"), "extent", f"{text}, {filesizeformat(size)}")


def _unit(parent, p: Published, tenant: Tenant, level: str, kind: str) -> None:
    """One unit and its parts; `kind`: the media type of its root unit's records."""
    u = p.unit
    c = _el(parent, "c", level=level, id=xml_id(u.aid))
    did = _el(c, "did")
    _el(did, "unitid", u.signature or u.aid)
    start, end = date_range(u.dc, u.extra)
    if p.mode == FULL:
        _el(did, "unittitle", u.title or u.aid)
        _dates(did, start, end, "; ".join(u.dc.get("date", [])))
        for text in u.dc.get("description", [])[:1]:
            _el(did, "abstract", text)
        _extent(did, u.files_count, u.bytes)
    else:
        _el(did, "unittitle", _("Title withheld (closure period)"))
        _dates(did, start, end)
    if p.mode == FULL and tenant.public_url:
        page = f"{tenant.public_url}/aip/{u.aid}/"
        other = _el(c, "otherfindaid")
        _el(other, "extref", _("Description in the archive"), xlink_role="url_archivalunit",
            xlink_href=page)  # fmt: skip
        if p.open:  # its records are open to everyone: the portal may link to them
            grp = _el(c, "daogrp")
            item = _el(_el(_el(grp, "daodesc"), "list"), "item")
            _el(item, "genreform", kind)
            _el(grp, "daoloc", xlink_role="externer_viewer", xlink_href=page)
    for child in p.children:
        _unit(c, child, tenant, "item", kind)


# the DDB's media types of a digital object (daodesc/list/item/genreform), by MIME type
_MEDIA = (("image/", "BILD"), ("audio/", "AUDIO"), ("video/", "VIDEO"), ("text/", "TEXT"),
          ("application/pdf", "TEXT"), ("application/msword", "TEXT"),
          ("application/vnd.openxmlformats-officedocument.wordprocessingml", "TEXT"),
          ("application/vnd.oasis.opendocument.text", "TEXT"), ("application/rtf", "TEXT"),
          ("message/", "TEXT"))  # fmt: skip


def media_kinds(fonds: Fonds) -> dict[int, str]:
    """Each root unit's media type for the portal: the kind most of its original files
    are (one query for the fonds)."""
    from django.db.models import Count

    from magazin.catalog.models import File

    tally: dict[int, dict[str, int]] = {}
    rows = (File.objects.filter(representation__unit__fonds=fonds,
                                representation__name="original")
            .values_list("representation__unit_id", "mime").annotate(n=Count("id")))  # fmt: skip
    for unit, mime, n in rows:
        kind = next((k for prefix, k in _MEDIA if (mime or "").startswith(prefix)), "SONSTIGES")
        tally.setdefault(unit, {}).setdefault(kind, 0)
        tally[unit][kind] += n
    return {unit: max(kinds, key=kinds.get) for unit, kinds in tally.items()}


def _fonds_range(tree: list[Published]) -> tuple[dt.date | None, dt.date | None]:
    starts, ends = [], []
    for p in tree:
        if p.mode == FULL:
            s, e = date_range(p.unit.dc, p.unit.extra)
            starts += [s] if s else []
            ends += [e] if e else []
    return (min(starts) if starts else None), (max(ends) if ends else None)


def findbuch(fonds: Fonds, day: dt.date | None = None) -> tuple[bytes, dict]:
    """The fonds as an EAD(DDB) 1.2 Findbuch, and what went into it
    (`{"units", "reduced", "left_out"}`)."""
    tenant = fonds.tenant
    _check(tenant)
    day = day or dt.date.today()
    tree, left_out = published_tree(fonds, day)
    with translation.override(tenant.language):
        ident = findbuch_id(fonds)
        url = f"{tenant.public_url}/fonds/{fonds.code}/" if tenant.public_url else None
        root = _document(tenant, ident, fonds.title, day, url)
        arch = _el(root, "archdesc", level="collection", type="Findbuch")
        did = _el(arch, "did")
        _el(did, "unitid", fonds.code)
        _repository(did, tenant)
        if url:
            _el(_el(arch, "otherfindaid"), "extref", _("Finding aid in the archive"),
                xlink_role="url_findbuch", xlink_href=url)  # fmt: skip
        top = _el(_el(arch, "dsc"), "c", level="collection", id=ident)
        did = _el(top, "did")
        _el(did, "unitid", fonds.code)
        _el(did, "unittitle", fonds.title)
        _dates(did, *_fonds_range(tree))
        n = count(tree)
        if n:
            text = ngettext("%(n)d unit", "%(n)d units", n) % {"n": n}
            _el(_el(did, "physdesc"), "extent", text)
        kinds = media_kinds(fonds)
        for p in tree:
            _unit(top, p, tenant, "file", kinds.get(p.unit.pk, "SONSTIGES"))
    stats = {"units": count(tree), "reduced": count(tree, "reduced"), "left_out": left_out}
    return _serialise(root), stats


def tektonik(tenant: Tenant, day: dt.date | None = None) -> tuple[bytes, dict]:
    """The tenant's classification with its fonds as an EAD(DDB) 1.2 Tektonik
    (`{"groups", "fonds"}`)."""
    _check(tenant, tektonik=True)
    day = day or dt.date.today()
    with translation.override(tenant.language):
        ident = xml_id(tenant.slug, "tektonik")
        title = _("%(name)s (classification)") % {"name": tenant.name}
        root = _document(tenant, ident, title, day, tenant.public_url or None)
        arch = _el(root, "archdesc", level="collection", type="Tektonik")
        _el(_el(arch, "did"), "repository", label=tenant.state)
        top = _el(_el(arch, "dsc"), "c", level="collection", id=ident)
        did = _el(top, "did")
        _repository(did, tenant)
        _el(did, "unittitle", title)
        groups = list(ClassificationGroup.objects.filter(tenant=tenant).order_by("sort_key"))
        fonds = list(Fonds.objects.filter(tenant=tenant).order_by("code"))
        nodes = {"": top}
        for g in groups:  # sorted from the top: a group's parent comes before it
            parent = nodes.get(g.path.rpartition("/")[0], top)
            c = _el(parent, "c", level="class", id=xml_id(tenant.slug, "group", g.path))
            gdid = _el(c, "did")
            _el(gdid, "unitid", g.signature)
            _el(gdid, "unittitle", g.title)
            nodes[g.path] = c
        for f in sorted(fonds, key=lambda f: (f.group, f.code)):
            c = _el(nodes.get(f.group, top), "c", level="file", id=findbuch_id(f))
            fdid = _el(c, "did")
            _el(fdid, "unitid", f.code)
            _el(fdid, "unittitle", f.title)
            if tenant.public_url:
                _el(_el(c, "otherfindaid"), "extref", _("Finding aid in the archive"),
                    xlink_role="url_findbuch",
                    xlink_href=f"{tenant.public_url}/fonds/{f.code}/")  # fmt: skip
    return _serialise(root), {"groups": len(groups), "fonds": len(fonds)}


def _serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
