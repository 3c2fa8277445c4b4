"""DIP export: the files under their original names, with METS, PREMIS and DC, as one ZIP.

The files are read from the first copy whose bytes match the inventory digests; the ZIP is
written under a temporary name and renamed when complete."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from lxml import etree

from magazin.catalog.storage import archive_storage
from magazin.core.config import Home
from magazin.core.eark.writer import WriteError, copy_verified, zip_time
from magazin.core.storage.ocfl import OcflError, OcflObject
from magazin.errors import Failure

_METS = "http://www.loc.gov/METS/"
_XLINK = "http://www.w3.org/1999/xlink"


def dip_mets(data: bytes, representation: str) -> bytes:
    """The AIP's METS for a DIP of one representation: the other representations' file
    groups and structural divisions left out, and the representation it carries named
    (metsHdr/altRecordID TYPE="DIP representation")."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    use = f"representations/{representation}"
    gone: set[str] = set()
    for grp in root.iter(f"{{{_METS}}}fileGrp"):
        if (grp.get("USE") or "").startswith("representations/") and grp.get("USE") != use:
            gone |= {f.get("ID") for f in grp.iter(f"{{{_METS}}}file")}
            grp.getparent().remove(grp)
    for div in list(root.iter(f"{{{_METS}}}div")):
        ptrs = {p.get("FILEID") for p in div.iterfind(f"{{{_METS}}}fptr")}
        if div.get("TYPE") == "representation" and ptrs and ptrs <= gone:
            div.getparent().remove(div)
    for fptr in list(root.iter(f"{{{_METS}}}fptr")):
        if fptr.get("FILEID") in gone:
            fptr.getparent().remove(fptr)
    hdr = root.find(f"{{{_METS}}}metsHdr")
    if hdr is None:
        hdr = etree.Element(f"{{{_METS}}}metsHdr")
        root.insert(0, hdr)
    alt = etree.Element(f"{{{_METS}}}altRecordID", TYPE="DIP representation")
    alt.text = representation
    agents = hdr.findall(f"{{{_METS}}}agent")
    (agents[-1].addnext(alt) if agents else hdr.insert(0, alt))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def export_dip(home: Home, unit, out: Path, representation: str | None = None) -> dict:
    """The DIP: every file of the AIP, or with `representation` the files of that one only,
    with a METS that lists just those and names the representation it carries."""
    with home.locks.shared(unit.ocfl_id):  # the head version, not one being written
        return _export(home, unit, out, representation)


def _export(home: Home, unit, out: Path, representation: str | None) -> dict:
    last_error = "no copy found"
    for loc, obj in archive_storage(home).copies(unit.tenant.slug, unit.ocfl_id):
        try:
            n = _write_zip(obj, out, representation, _evidence(home, unit, obj))
            return {"aid": unit.aid, "out": str(out), "files": n, "location": loc.name,
                    "representation": representation}  # fmt: skip
        except (OcflError, WriteError, OSError) as e:
            last_error = f"{loc.name}: {e}"
    raise Failure(f"cannot export {unit.aid}: {last_error}")


def _evidence(home: Home, unit, obj: OcflObject) -> dict[str, bytes]:
    """The head version's evidence record with the inventory it covers, where the version
    is time-stamped already (`evidence/vN.ers`, `evidence/vN/inventory.json`)."""
    from magazin.catalog.evidence import tenant_evidence
    from magazin.core.evidence.records import EvidenceError

    head = obj.head
    try:
        record = tenant_evidence(home, unit.tenant.slug).record(obj.id, head)
    except EvidenceError:
        return {}
    with obj.open_content(f"{head}/inventory.json") as f:
        inventory = f.read()
    return {f"evidence/{head}.ers": record, f"evidence/{head}/inventory.json": inventory}


def _write_zip(obj: OcflObject, out: Path, representation: str | None = None,
               extra: dict[str, bytes] | None = None) -> int:  # fmt: skip
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    state = obj.state()
    if representation is not None:
        prefix = f"representations/{representation}/"
        if not any(p.startswith(prefix) for p in state):
            raise Failure(f"{obj.id}: no representation {representation!r}")
        state = {p: d for p, d in state.items()
                 if not p.startswith("representations/") or p.startswith(prefix)}  # fmt: skip
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for logical in sorted(state):
                if logical == "METS.xml" and representation is not None:
                    data = dip_mets(obj.read("METS.xml"), representation)
                    created = obj.inventory["versions"][obj.inventory["head"]]["created"]
                    zf.writestr(zipfile.ZipInfo(logical, zip_time(created)), data,
                                zipfile.ZIP_DEFLATED)  # fmt: skip
                    continue
                copy_verified(obj, logical, state[logical], zf, logical)
            created = obj.inventory["versions"][obj.inventory["head"]]["created"]
            for name, data in (extra or {}).items():
                zf.writestr(zipfile.ZipInfo(name, zip_time(created)), data, zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(state) + len(extra or {})


EARK_KINDS = {"eark-sip": "SIP", "eark-aip": "AIP", "eark-dip": "DIP"}


def export_eark(home: Home, unit, out: Path, fmt: str, representation: str | None = None) -> dict:
    """The unit's AIP as an E-ARK package (CSIP 2.2.0 with the SIP, AIP or DIP profile): a
    SIP to hand the records to another archive or system, an AIP, or a DIP for users (the
    representation a reader gets by default, or the one named)."""
    import magazin
    from magazin.catalog.models import File
    from magazin.catalog.services import representations, unit_root
    from magazin.core.eark.schemas import installed
    from magazin.core.eark.writer import write_package

    from .files import representation_for

    root = unit_root(unit)
    kind = EARK_KINDS[fmt]
    reps = None
    if representation is not None:
        if representation not in representations(root):
            raise Failure(f"{root.aid}: no representation {representation!r}")
        reps = [representation]
    elif kind == "DIP":
        reps = [representation_for(root, None, staff=False)]
    mimes = {f"representations/{f.representation.name}/data/{f.path}": f.mime
             for f in File.objects.filter(representation__unit=root).select_related(
                 "representation") if f.mime}  # fmt: skip
    tenant = root.tenant
    last_error = "no copy found"
    with home.locks.shared(root.ocfl_id):
        for loc, obj in archive_storage(home).copies(tenant.slug, root.ocfl_id):
            try:
                n = write_package(obj, out, kind, package_id=root.aid, label=root.title,
                                  organisation=(tenant.name, tenant.isil or tenant.slug),
                                  software_version=magazin.__version__, representations=reps,
                                  mimes=mimes, schemas=installed(home.path))  # fmt: skip
                return {"aid": root.aid, "out": str(out), "files": n, "location": loc.name,
                        "format": fmt, "representation": reps[0] if reps else None}  # fmt: skip
            except (OcflError, WriteError, OSError) as e:
                last_error = f"{loc.name}: {e}"
    raise Failure(f"cannot export {root.aid}: {last_error}")
