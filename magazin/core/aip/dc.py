"""Dublin Core (oai_dc) of a unit: `{element: [values]}` in, XML out, and back."""

from __future__ import annotations

from lxml import etree

from .xml import NS, parse_xml, q, to_bytes

ELEMENTS = (
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
)


def dc_xml(dc: dict[str, list[str]]) -> bytes:
    root = etree.Element(q("oai_dc", "dc"), nsmap={"oai_dc": NS["oai_dc"], "dc": NS["dc"]})
    for el in ELEMENTS:
        for v in dc.get(el, []):
            etree.SubElement(root, q("dc", el)).text = v
    return to_bytes(root)


def read_dc(data: bytes) -> dict[str, list[str]]:
    root = parse_xml(data, "dc.xml")
    out: dict[str, list[str]] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag.startswith(f"{{{NS['dc']}}}"):
            out.setdefault(etree.QName(child).localname, []).append(child.text or "")
    return out
