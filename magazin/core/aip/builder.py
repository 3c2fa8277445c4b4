"""Turn an AipDescription plus staged content into an OCFL object folder, and read it back."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lxml import etree

from ... import __version__
from ..storage.ocfl import NewFile, OcflObject, VersionInfo, build_object
from .dc import dc_xml, read_dc
from .mets import DC_PATH, PREMIS_PATH, mets_xml, read_mets
from .model import AipDescription, AipEvent, AipFile
from .premis import file_from_premis, premis_xml, read_premis
from .xml import NS, parse_xml, to_bytes

SOFTWARE = f"Magazin {__version__}"


def record_xml(kind: str, fields: dict[str, str | int | None]) -> bytes:
    """A small self-describing XML for tenant, fonds and accession objects."""
    root = etree.Element(f"{{{NS['mz']}}}{kind}", nsmap={"mz": NS["mz"]})
    for k, v in fields.items():
        if v is not None:
            etree.SubElement(root, f"{{{NS['mz']}}}field", name=k).text = str(v)
    return to_bytes(root)


def read_record_xml(data: bytes) -> dict[str, str]:
    root = parse_xml(data, "record")
    return {f.get("name"): f.text or "" for f in root.findall("mz:field", NS)}


def metadata_files(aip: AipDescription, extra: dict[str, bytes]) -> dict[str, bytes]:
    """The metadata files of the object (logical path -> bytes); METS last, it lists them."""
    files = dict(extra)
    files[DC_PATH] = dc_xml(aip.dc)
    files[PREMIS_PATH] = premis_xml(aip)
    files["METS.xml"] = mets_xml(aip, SOFTWARE)
    return files


def write_object(
    obj_dir: Path,
    aip: AipDescription,
    content: list[NewFile],
    metadata: dict[str, bytes] | list[NewFile],
    version: VersionInfo,
) -> dict:
    """Build the OCFL object: content moved in, metadata written from memory, inventory last."""
    if isinstance(metadata, dict):
        metadata = metadata_newfiles(metadata)
    return build_object(obj_dir, aip.ocfl_id, list(content) + metadata, version)


def metadata_newfiles(metadata: dict[str, bytes]) -> list[NewFile]:
    """Metadata files as OCFL content, digests computed once for every copy."""
    return [
        NewFile(lp, None, hashlib.sha512(data).hexdigest(), data=data)
        for lp, data in metadata.items()
    ]


def set_validations(files: list[AipFile], events: list[AipEvent]) -> None:
    """Each file's last validation, from the validation events linked to it; a file carried
    over into a new representation (the same bytes) has the validation of those bytes."""
    last: dict[str, AipEvent] = {}
    for ev in events:
        if ev.type == "validation":
            for lp in ev.objects:
                if lp not in last or last[lp].datetime <= ev.datetime:
                    last[lp] = ev
    by_digest: dict[str, AipEvent] = {}
    for f in files:
        ev = last.get(f.logical_path)
        if ev is not None and (f.sha512 not in by_digest
                               or by_digest[f.sha512].datetime <= ev.datetime):  # fmt: skip
            by_digest[f.sha512] = ev
    for f in files:
        ev = last.get(f.logical_path) or by_digest.get(f.sha512)
        if ev is not None:
            f.validation, f.validation_note = ev.outcome, ev.outcome_detail


def read_aip(obj: OcflObject, version: str | None = None) -> AipDescription:
    """Read what Magazin wrote (METS, PREMIS, DC) back into an AipDescription (as of the head
    version, or of `version`)."""
    state = obj.state(version)
    mets = read_mets(obj.read("METS.xml", version))
    premis = (
        read_premis(obj.read(PREMIS_PATH, version))
        if PREMIS_PATH in state
        else {"files": {}, "events": [], "agents": [], "identifiers": {}, "rights": []}
    )
    dc = read_dc(obj.read(DC_PATH, version)) if DC_PATH in state else {}
    objid = mets["objid"] or obj.id
    tenant = mets["tenant"] or objid.split(":")[2]
    ulid = objid.rsplit(":", 1)[-1]
    files = [
        file_from_premis(lp, info, mets["mimes"].get(lp)) for lp, info in premis["files"].items()
    ]
    set_validations(files, premis["events"])
    extra: dict[str, str] = {}
    for path, mdtype in mets["sources"]:
        if mdtype == "table-row" and path in state:
            row = parse_xml(obj.read(path, version), path)
            for cell in row.findall("mz:cell", NS):
                if cell.get("field") == "extra" and cell.text:
                    extra[cell.get("column")] = cell.text
    if mets["fields"]:  # the fields as last described win over the row as received
        extra = dict(mets["fields"])
    return AipDescription(
        ocfl_id=objid,
        tenant=tenant,
        ulid=ulid,
        fonds=mets["fonds"],
        title=mets["label"] or (dc.get("title") or [""])[0],
        dc=dc,
        created=mets["created"] or "",
        files=files,
        events=premis["events"],
        agents=premis["agents"],
        source_key=mets["source_key"],
        accession=mets["accession"],
        kind=mets["kind"],
        source_metadata=mets["sources"],
        extra=extra,
        unit_type=mets["unit_type"] or "",
        root_files=mets["root_files"],
        children=mets["children"],
        file_names=mets["file_names"],
        rights=premis["rights"],
        representation_labels=mets["representation_labels"],
    )
