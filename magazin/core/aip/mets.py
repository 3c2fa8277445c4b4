"""METS.xml of an AIP: where the descriptive and preservation metadata are, every file with
its digest and MIME type, and the structural map (unit -> representations -> files)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from lxml import etree

from ..ids import ocfl_id_for
from .dc import ELEMENTS
from .model import AipDescription, UnitNode
from .xml import NS, parse_xml, q, to_bytes

DC_PATH = "metadata/descriptive/dc.xml"
PREMIS_PATH = "metadata/preservation/premis.xml"


def _m(parent, local: str, **attrs):
    return etree.SubElement(parent, q("mets", local), **attrs)


def _href(path: str) -> str:
    return quote(path, safe="/")


def _mdref(parent, href: str, mdtype: str, other: str | None = None):
    attrs = {
        "LOCTYPE": "URL",
        q("xlink", "href"): _href(href),
        q("xlink", "type"): "simple",
        "MDTYPE": mdtype,
    }
    if other:
        attrs["OTHERMDTYPE"] = other
    return _m(parent, "mdRef", **attrs)


def mets_xml(aip: AipDescription, software: str) -> bytes:
    root = etree.Element(
        q("mets", "mets"),
        nsmap={"mets": NS["mets"], "xlink": NS["xlink"], "xsi": NS["xsi"]},
        OBJID=aip.ocfl_id,
        LABEL=aip.title,
        TYPE=f"magazin:{aip.kind}",
        PROFILE="urn:magazin:mets-profile:aip:1",
    )
    root.set(
        q("xsi", "schemaLocation"),
        "http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/mets.xsd",
    )
    hdr = _m(root, "metsHdr", CREATEDATE=aip.created, RECORDSTATUS="NEW")
    agent = _m(hdr, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    _m(agent, "name").text = software
    for kind, value in (
        ("magazin:kind", aip.kind),
        ("magazin:tenant", aip.tenant),
        ("magazin:fonds", aip.fonds),
        ("magazin:accession", aip.accession),
        ("magazin:source-key", aip.source_key),
    ):
        if value:
            alt = _m(hdr, "altRecordID", TYPE=kind)
            alt.text = value
    dmd = _m(root, "dmdSec", ID="dmd-dc")
    _mdref(dmd, DC_PATH, "DC")
    for i, (path, mdtype) in enumerate(aip.source_metadata, start=1):
        sec = _m(root, "dmdSec", ID=f"dmd-source-{i}")
        _mdref(sec, path, "OTHER", mdtype)
    if aip.extra:  # as described now (a table row as received is kept beside it)
        _fields_sec(root, "dmd-fields", aip.extra)
    for node in (n for c in aip.children for n in c.walk()):
        _unit_sec(root, node)
    amd = _m(root, "amdSec", ID="amd")
    dp = _m(amd, "digiprovMD", ID="digiprov-premis")
    _mdref(dp, PREMIS_PATH, "PREMIS")
    reps = sorted({f.representation for f in aip.files})
    fids: dict[str, list[str]] = {r: [] for r in reps}
    if aip.files:
        fsec = _m(root, "fileSec")
        for rep in reps:
            grp = _m(fsec, "fileGrp", USE=f"representations/{rep}")
            for n, f in enumerate((f for f in aip.files if f.representation == rep), start=1):
                fid = f"file-{rep}-{n}"
                fids[rep].append(fid)
                attrs = {
                    "ID": fid,
                    "SIZE": str(f.size),
                    "CHECKSUM": f.sha512,
                    "CHECKSUMTYPE": "SHA-512",
                    "ADMID": "digiprov-premis",
                }
                if f.mime:
                    attrs["MIMETYPE"] = f.mime
                names = aip.file_names.get(f.path, {})
                if names.get("Dateiname"):
                    attrs["OWNERID"] = names["Dateiname"]
                fe = _m(grp, "file", **attrs)
                _m(
                    fe,
                    "FLocat",
                    LOCTYPE="URL",
                    **{
                        q("xlink", "href"): _href(f.logical_path),
                        q("xlink", "type"): "simple",
                        q("xlink", "title"): names.get("DateinameOriginal") or f.path,
                    },
                )
    smap = _m(root, "structMap", TYPE="PHYSICAL", LABEL="Magazin")
    dmdids = " ".join(
        ["dmd-dc"]
        + [f"dmd-source-{i}" for i in range(1, len(aip.source_metadata) + 1)]
        + (["dmd-fields"] if aip.extra else [])
    )
    top = _m(smap, "div", TYPE=aip.kind, LABEL=aip.title, DMDID=dmdids, ADMID="digiprov-premis")
    for rep in reps:
        label = aip.representation_labels.get(rep) or f"representations/{rep}"
        rd = _m(top, "div", TYPE="representation", LABEL=label)
        for fid in fids[rep]:
            _m(rd, "fptr", FILEID=fid)
    if aip.children:
        _logical_map(root, aip, fids, dmdids)
    return to_bytes(root)


def _fields_sec(root, sec_id: str, fields: dict[str, str]) -> None:
    sec = _m(root, "dmdSec", ID=sec_id)
    wrap = _m(sec, "mdWrap", MDTYPE="OTHER", OTHERMDTYPE="magazin-fields")
    data = _m(wrap, "xmlData")
    fe = etree.SubElement(data, q("mz", "fields"), nsmap={"mz": NS["mz"]})
    for k, v in fields.items():
        etree.SubElement(fe, q("mz", "field"), name=k).text = v


def _unit_sec(root, node: UnitNode) -> None:
    """A child unit's Dublin Core and fields, inline: it has no files of its own for them."""
    sec = _m(root, "dmdSec", ID=f"dmd-{node.ulid}")
    wrap = _m(sec, "mdWrap", MDTYPE="DC", LABEL=node.title)
    data = _m(wrap, "xmlData")
    dc = etree.SubElement(data, q("oai_dc", "dc"), nsmap={"oai_dc": NS["oai_dc"], "dc": NS["dc"]})
    for el in ELEMENTS:
        for v in node.dc.get(el, []):
            etree.SubElement(dc, q("dc", el)).text = v
    fields = {"ulid": node.ulid, "kind": node.kind, "key": node.key, **node.extra}
    _fields_sec(root, f"dmd-{node.ulid}-fields", fields)


def _logical_map(root, aip: AipDescription, fids: dict[str, list[str]], dmdids: str) -> None:
    """The unit tree (xdomea Akte → Vorgang → Dokument) with each unit's own files."""
    fid_of = {}
    for rep, ids in fids.items():
        for f, fid in zip((f for f in aip.files if f.representation == rep), ids, strict=True):
            fid_of[f.path] = fid
    smap = _m(root, "structMap", TYPE="LOGICAL", LABEL="units")
    top = _m(
        smap,
        "div",
        TYPE=aip.unit_type or aip.kind,
        LABEL=aip.title,
        DMDID=dmdids,
        CONTENTIDS=aip.ocfl_id,
    )
    for path in aip.root_files or []:
        _m(top, "fptr", FILEID=fid_of[path])

    def add(parent, node: UnitNode) -> None:
        div = _m(
            parent,
            "div",
            ID=f"unit-{node.ulid}",
            TYPE=node.kind,
            LABEL=node.title,
            DMDID=f"dmd-{node.ulid} dmd-{node.ulid}-fields",
            CONTENTIDS=ocfl_id_for(aip.tenant, node.ulid),
        )
        for path in node.files:
            _m(div, "fptr", FILEID=fid_of[path])
        for c in node.children:
            add(div, c)

    for c in aip.children:
        add(top, c)


def _read_fields(sec) -> dict[str, str]:
    return {
        f.get("name"): f.text or ""
        for f in sec.iterfind("mets:mdWrap/mets:xmlData/mz:fields/mz:field", NS)
    }


def _read_units(root) -> tuple[list[UnitNode], dict[str, str], str | None, list[str] | None]:
    """Child units, root fields, root unit type and root files from a METS document."""
    secs = {s.get("ID"): s for s in root.findall("mets:dmdSec", NS)}
    root_fields = _read_fields(secs["dmd-fields"]) if "dmd-fields" in secs else {}
    smap = root.find("mets:structMap[@TYPE='LOGICAL']", NS)
    if smap is None:
        return [], root_fields, None, None
    files = {}
    for f in root.iterfind(".//mets:fileSec//mets:file", NS):
        loc = f.find("mets:FLocat", NS)
        href = unquote(loc.get(q("xlink", "href"), "")) if loc is not None else ""
        files[f.get("ID")] = href.partition("/data/")[2]

    def read(div) -> UnitNode:
        ulid = div.get("ID", "").removeprefix("unit-")
        fields = _read_fields(secs[f"dmd-{ulid}-fields"]) if f"dmd-{ulid}-fields" in secs else {}
        key = fields.pop("key", "")
        dc: dict[str, list[str]] = {}
        if f"dmd-{ulid}" in secs:
            for el in secs[f"dmd-{ulid}"].iterfind("mets:mdWrap/mets:xmlData/oai_dc:dc/*", NS):
                dc.setdefault(etree.QName(el).localname, []).append(el.text or "")
        for k in ("ulid", "kind"):
            fields.pop(k, None)
        return UnitNode(
            ulid=ulid,
            kind=div.get("TYPE", ""),
            title=div.get("LABEL", ""),
            key=key,
            dc=dc,
            extra=fields,
            files=[files[p.get("FILEID")] for p in div.findall("mets:fptr", NS)],
            children=[read(c) for c in div.findall("mets:div", NS)],
        )

    top = smap.find("mets:div", NS)
    children = [read(c) for c in top.findall("mets:div", NS)]
    root_files = [files[p.get("FILEID")] for p in top.findall("mets:fptr", NS)]
    return children, root_fields, top.get("TYPE"), root_files


def read_mets(data: bytes) -> dict:
    """What a rebuild needs from METS: ids, title, kind, tenant, fonds, accession, MIME types."""
    root = parse_xml(data, "METS.xml")
    if root.tag != q("mets", "mets"):
        raise ValueError("METS.xml: root element is not mets:mets")
    alt = {a.get("TYPE"): a.text for a in root.findall("mets:metsHdr/mets:altRecordID", NS)}
    mimes = {}
    names: dict[str, dict[str, str]] = {}
    for f in root.iterfind(".//mets:fileSec//mets:file", NS):
        loc = f.find("mets:FLocat", NS)
        if loc is not None:
            lp = unquote(loc.get(q("xlink", "href"), ""))
            mimes[lp] = f.get("MIMETYPE")
            if f.get("OWNERID"):
                path = lp.partition("/data/")[2]
                names[path] = {"Dateiname": f.get("OWNERID")}
                title = loc.get(q("xlink", "title"), "")
                if title and title != path:
                    names[path]["DateinameOriginal"] = title
    sources = []
    for sec in root.findall("mets:dmdSec", NS):
        ref = sec.find("mets:mdRef", NS)
        if ref is not None and ref.get("MDTYPE") == "OTHER":
            sources.append((unquote(ref.get(q("xlink", "href"), "")), ref.get("OTHERMDTYPE")))
    hdr = root.find("mets:metsHdr", NS)
    children, fields, unit_type, root_files = _read_units(root)
    return {
        "children": children,
        "fields": fields,
        "unit_type": unit_type,
        "root_files": root_files,
        "file_names": names,
        "objid": root.get("OBJID"),
        "label": root.get("LABEL"),
        "kind": alt.get("magazin:kind", "unit"),
        "tenant": alt.get("magazin:tenant"),
        "fonds": alt.get("magazin:fonds"),
        "accession": alt.get("magazin:accession"),
        "source_key": alt.get("magazin:source-key"),
        "created": hdr.get("CREATEDATE") if hdr is not None else None,
        "mimes": mimes,
        "sources": sources,
        "representation_labels": _representation_labels(root),
    }


def _representation_labels(root) -> dict[str, str]:
    """The names representations had in the package they came from: the LABEL of their
    division in the physical map where it is not the default representations/<name>."""
    hrefs = {}
    for f in root.iterfind(".//mets:fileSec//mets:file", NS):
        loc = f.find("mets:FLocat", NS)
        if loc is not None:
            hrefs[f.get("ID")] = unquote(loc.get(q("xlink", "href"), ""))
    labels = {}
    for div in root.iterfind("mets:structMap[@TYPE='PHYSICAL']/mets:div/mets:div", NS):
        ptr = div.find("mets:fptr", NS)
        if div.get("TYPE") != "representation" or ptr is None:
            continue
        rep = hrefs.get(ptr.get("FILEID"), "").split("/")[1:2]
        if rep and div.get("LABEL") and div.get("LABEL") != f"representations/{rep[0]}":
            labels[rep[0]] = div.get("LABEL")
    return labels
