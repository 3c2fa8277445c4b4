"""Namespaces and a safe XML parser (no DTDs, no entities, no network) for everything we read."""

from __future__ import annotations

from lxml import etree

NS = {
    "mets": "http://www.loc.gov/METS/",
    "xlink": "http://www.w3.org/1999/xlink",
    "premis": "http://www.loc.gov/premis/v3",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "mz": "urn:magazin:ns:1",
}


class UnsafeXML(ValueError):
    """XML that declares a DTD or entities, or that is not well-formed."""


_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


def parse_xml(data: bytes, name: str = "XML") -> etree._Element:
    """Parse `data`; refuse any DOCTYPE (the door to XXE and entity bombs)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise UnsafeXML(f"{name}: not well-formed XML: {e}") from e
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXML(f"{name}: a DOCTYPE declaration is not accepted (external entities)")
    return root


def q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
