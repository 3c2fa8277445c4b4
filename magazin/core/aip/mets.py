"""METS.xml of an AIP: where the descriptive and preservation metadata are, every file with
its digest and MIME type, and the structural map (unit -> representations -> files)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from lxml import etree

from .model import AipDescription
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
                fe = _m(grp, "file", **attrs)
                _m(
                    fe,
                    "FLocat",
                    LOCTYPE="URL",
                    **{
                        q("xlink", "href"): _href(f.logical_path),
                        q("xlink", "type"): "simple",
                        q("xlink", "title"): f.path,
                    },
                )
    smap = _m(root, "structMap", TYPE="PHYSICAL", LABEL="Magazin")
    dmdids = " ".join(
        ["dmd-dc"] + [f"dmd-source-{i}" for i in range(1, len(aip.source_metadata) + 1)]
    )
    top = _m(smap, "div", TYPE=aip.kind, LABEL=aip.title, DMDID=dmdids, ADMID="digiprov-premis")
    for rep in reps:
        rd = _m(top, "div", TYPE="representation", LABEL=f"representations/{rep}")
        for fid in fids[rep]:
            _m(rd, "fptr", FILEID=fid)
    return to_bytes(root)


def read_mets(data: bytes) -> dict:
    """What a rebuild needs from METS: ids, title, kind, tenant, fonds, accession, MIME types."""
    root = parse_xml(data, "METS.xml")
    if root.tag != q("mets", "mets"):
        raise ValueError("METS.xml: root element is not mets:mets")
    alt = {a.get("TYPE"): a.text for a in root.findall("mets:metsHdr/mets:altRecordID", NS)}
    mimes = {}
    for f in root.iterfind(".//mets:fileSec//mets:file", NS):
        loc = f.find("mets:FLocat", NS)
        if loc is not None:
            mimes[unquote(loc.get(q("xlink", "href"), ""))] = f.get("MIMETYPE")
    sources = []
    for sec in root.findall("mets:dmdSec", NS):
        ref = sec.find("mets:mdRef", NS)
        if ref is not None and ref.get("MDTYPE") == "OTHER":
            sources.append((unquote(ref.get(q("xlink", "href"), "")), ref.get("OTHERMDTYPE")))
    hdr = root.find("mets:metsHdr", NS)
    return {
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
    }
