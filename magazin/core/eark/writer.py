"""Writing an AIP out as an E-ARK information package (CSIP 2.2.0; the SIP, AIP or DIP profile):
a ZIP with one root folder named by the package id, the representations with a METS each,
the metadata, the schemas where installed, and a package METS naming every file with its
size, SHA-256 and creation time. The AIP's own METS travels along as other metadata.

The bytes are read once, from a copy whose digests match its inventory, while they are
written; the ZIP is written under a temporary name and renamed when complete."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..storage.ocfl import OcflObject
from .checks import CSIP_NS, METS, SIP_NS, XLINK

PROFILES = {
    "SIP": "https://earksip.dilcis.eu/profile/E-ARK-SIP-v2-2-0.xml",
    "AIP": "https://earkaip.dilcis.eu/profile/E-ARK-AIP-v2-2-0.xml",
    "DIP": "https://earkdip.dilcis.eu/profile/E-ARK-DIP-v2-2-0.xml",
}
CHUNK = 1 << 20
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NSMAP = {None: METS, "xlink": XLINK, "csip": CSIP_NS, "sip": SIP_NS, "xsi": _XSI}
_MDTYPES = {"dc.xml": ("DC", None), "premis.xml": ("PREMIS", None), "ead.xml": ("EAD", "2002")}


class WriteError(Exception):
    """The stored bytes do not match their inventory (another copy may)."""


@dataclass
class Entry:
    path: str  # below the package root
    size: int
    sha256: str
    created: str
    mime: str


def _mime(path: str, mimes: dict[str, str]) -> str:
    return mimes.get(path) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def write_package(
    obj: OcflObject,
    out: Path,
    kind: str,
    *,
    package_id: str,
    label: str,
    organisation: tuple[str, str],
    software_version: str,
    representations: list[str] | None = None,
    mimes: dict[str, str] | None = None,
    schemas: Path | None = None,
) -> int:
    """Write the package; `organisation` is (name, identification code) of the archive,
    `representations` those to carry (None: all). Returns the number of files."""
    mimes = mimes or {}
    state = obj.state()
    reps = sorted({p.split("/")[1] for p in state if p.startswith("representations/")
                   and p.count("/") >= 3})  # fmt: skip
    if representations is not None:
        reps = [r for r in reps if r in representations]
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    entries: dict[str, Entry] = {}
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:

            def put(path: str, data: bytes) -> None:
                zf.writestr(f"{package_id}/{path}", data)
                entries[path] = Entry(path, len(data), hashlib.sha256(data).hexdigest(), now,
                                      _mime(path, mimes))  # fmt: skip

            for logical in sorted(state):
                keep = logical.startswith("metadata/") or any(
                    logical.startswith(f"representations/{r}/data/") for r in reps)  # fmt: skip
                if keep:
                    entries[logical] = _copy(obj, logical, state[logical], zf,
                                             f"{package_id}/{logical}", mimes)  # fmt: skip
            put("metadata/other/magazin-aip-METS.xml", obj.read("METS.xml"))
            if schemas is not None:
                for xsd in sorted(schemas.glob("*.xsd")):
                    put(f"schemas/{xsd.name}", xsd.read_bytes())
            for rep in reps:
                put(f"representations/{rep}/METS.xml",
                    _representation_mets(rep, kind, entries, now))  # fmt: skip
            put("METS.xml", _package_mets(package_id, label, kind, organisation,
                                          software_version, reps, entries, now))  # fmt: skip
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(entries)


def copy_verified(obj: OcflObject, logical: str, digest: str, zf: zipfile.ZipFile,
                  arcname: str, *also) -> tuple[int, str]:  # fmt: skip
    """Copy one stored file into the ZIP, checked against its inventory `digest` while it is
    read (and fed to the further hashes `also`); returns (size, the creation time of the
    version holding its bytes). WriteError where the bytes do not match."""
    rel = obj.content_of(logical)
    created = obj.inventory["versions"][rel.split("/", 1)[0]]["created"]
    check, size = hashlib.new(obj.digest_algorithm), 0
    info = zipfile.ZipInfo(arcname, zip_time(created))
    info.compress_type = zipfile.ZIP_DEFLATED
    with obj.open_content(rel) as f, zf.open(info, "w", force_zip64=True) as dst:
        while chunk := f.read(CHUNK):
            check.update(chunk)
            for h in also:
                h.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    if check.hexdigest() != digest.lower():
        raise WriteError(f"{logical}: stored bytes do not match the inventory")
    return size, created


def _copy(obj: OcflObject, logical: str, digest: str, zf, arcname: str, mimes) -> Entry:
    sha256 = hashlib.sha256()
    size, created = copy_verified(obj, logical, digest, zf, arcname, sha256)
    stamp = dt.datetime.fromisoformat(created).astimezone(dt.UTC)
    return Entry(logical, size, sha256.hexdigest(), stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 _mime(logical, mimes))  # fmt: skip


def zip_time(iso: str) -> tuple:
    """A ZIP entry's time: when the version holding the bytes was made (local time)."""
    t = dt.datetime.fromisoformat(iso).astimezone()
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"ID-{prefix}-{self.n}"  # the AIP profile asks file IDs to start with "ID"


def _root(objid: str, kind: str, now: str, label: str = ""):
    root = etree.Element(f"{{{METS}}}mets", nsmap=_NSMAP)
    root.set("OBJID", objid)
    if label:
        root.set("LABEL", label)
    root.set("TYPE", "Mixed")
    root.set(f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE", "MIXED")
    root.set("PROFILE", PROFILES[kind])
    hdr = etree.SubElement(root, f"{{{METS}}}metsHdr", CREATEDATE=now, LASTMODDATE=now)
    hdr.set("RECORDSTATUS", "NEW")
    hdr.set(f"{{{CSIP_NS}}}OAISPACKAGETYPE", kind)
    return root, hdr


def _agent(hdr, role: str, type_: str, name: str, note: str, notetype: str, other=None):
    a = etree.SubElement(hdr, f"{{{METS}}}agent", ROLE=role, TYPE=type_)
    if other:
        a.set("OTHERTYPE", other)
    etree.SubElement(a, f"{{{METS}}}name").text = name
    n = etree.SubElement(a, f"{{{METS}}}note")
    n.set(f"{{{CSIP_NS}}}NOTETYPE", notetype)
    n.text = note


def _file(grp, ids: _Ids, e: Entry, href: str) -> None:
    f = etree.SubElement(grp, f"{{{METS}}}file", ID=ids("file"), MIMETYPE=e.mime,
                         SIZE=str(e.size), CREATED=e.created, CHECKSUM=e.sha256.upper(),
                         CHECKSUMTYPE="SHA-256")  # fmt: skip
    loc = etree.SubElement(f, f"{{{METS}}}FLocat", LOCTYPE="URL")
    loc.set(f"{{{XLINK}}}type", "simple")
    loc.set(f"{{{XLINK}}}href", href)


def _md_ref(parent, ids: _Ids, e: Entry, href: str) -> None:
    mdtype, version = _MDTYPES.get(e.path.rsplit("/", 1)[-1], ("OTHER", None))
    ref = etree.SubElement(parent, f"{{{METS}}}mdRef", ID=ids("ref"), LOCTYPE="URL",
                           MIMETYPE=e.mime, SIZE=str(e.size), CREATED=e.created,
                           CHECKSUM=e.sha256.upper(), CHECKSUMTYPE="SHA-256",
                           MDTYPE=mdtype)  # fmt: skip
    if mdtype == "OTHER":
        ref.set("OTHERMDTYPE", "Magazin")
    if version:
        ref.set("MDTYPEVERSION", version)
    ref.set(f"{{{XLINK}}}type", "simple")
    ref.set(f"{{{XLINK}}}href", href)


def _representation_mets(rep: str, kind: str, entries: dict[str, Entry], now: str) -> bytes:
    ids = _Ids()
    root, _hdr = _root(rep, kind, now)
    files = [e for p, e in sorted(entries.items()) if p.startswith(f"representations/{rep}/data/")]
    sec = etree.SubElement(root, f"{{{METS}}}fileSec", ID=ids("filesec"))
    grp = etree.SubElement(sec, f"{{{METS}}}fileGrp", ID=ids("grp"), USE="Data")
    for e in files:
        _file(grp, ids, e, e.path[len(f"representations/{rep}/") :])
    smap = etree.SubElement(root, f"{{{METS}}}structMap", ID=ids("map"), TYPE="PHYSICAL",
                            LABEL="CSIP")  # fmt: skip
    top = etree.SubElement(smap, f"{{{METS}}}div", ID=ids("div"), LABEL=rep)
    data = etree.SubElement(top, f"{{{METS}}}div", ID=ids("div"), LABEL="Data")
    etree.SubElement(data, f"{{{METS}}}fptr", FILEID=grp.get("ID"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _package_mets(pid: str, label: str, kind: str, organisation: tuple[str, str],
                  software_version: str, reps: list[str], entries: dict[str, Entry],
                  now: str) -> bytes:  # fmt: skip
    ids = _Ids()
    root, hdr = _root(pid, kind, now, label)
    name, code = organisation
    _agent(hdr, "CREATOR", "ORGANIZATION", name, code, "IDENTIFICATIONCODE")
    _agent(hdr, "CREATOR", "OTHER", "Magazin", software_version, "SOFTWARE VERSION", "SOFTWARE")
    desc = [e for p, e in sorted(entries.items()) if p.startswith("metadata/descriptive/")]
    other = [e for p, e in sorted(entries.items()) if p.startswith("metadata/")
             and not p.startswith(("metadata/descriptive/", "metadata/preservation/"))]  # fmt: skip
    prov = [e for p, e in sorted(entries.items()) if p.startswith("metadata/preservation/")]
    dmd_ids = []
    for e in desc + other:
        dmd = etree.SubElement(root, f"{{{METS}}}dmdSec", ID=ids("dmd"), CREATED=e.created,
                               STATUS="CURRENT")  # fmt: skip
        _md_ref(dmd, ids, e, e.path)
        dmd_ids.append(dmd.get("ID"))
    adm_ids = []
    if prov:
        amd = etree.SubElement(root, f"{{{METS}}}amdSec", ID=ids("amd"))
        for e in prov:
            md = etree.SubElement(amd, f"{{{METS}}}digiprovMD", ID=ids("prov"), STATUS="CURRENT")
            _md_ref(md, ids, e, e.path)
            adm_ids.append(md.get("ID"))
    sec = etree.SubElement(root, f"{{{METS}}}fileSec", ID=ids("filesec"))
    schemas = [e for p, e in sorted(entries.items()) if p.startswith("schemas/")]
    schema_grp = None
    if schemas:
        schema_grp = etree.SubElement(sec, f"{{{METS}}}fileGrp", ID=ids("grp"), USE="Schemas")
        for e in schemas:
            _file(schema_grp, ids, e, e.path)
    rep_grps = {}
    for rep in reps:
        grp = etree.SubElement(sec, f"{{{METS}}}fileGrp", ID=ids("grp"),
                               USE=f"Representations/{rep}")  # fmt: skip
        e = entries[f"representations/{rep}/METS.xml"]
        _file(grp, ids, e, e.path)
        rep_grps[rep] = grp.get("ID")
    smap = etree.SubElement(root, f"{{{METS}}}structMap", ID=ids("map"), TYPE="PHYSICAL",
                            LABEL="CSIP")  # fmt: skip
    top = etree.SubElement(smap, f"{{{METS}}}div", ID=ids("div"), LABEL=pid)
    meta = etree.SubElement(top, f"{{{METS}}}div", ID=ids("div"), LABEL="Metadata")
    if dmd_ids:
        meta.set("DMDID", " ".join(dmd_ids))
    if adm_ids:
        meta.set("ADMID", " ".join(adm_ids))
    if schema_grp is not None:
        div = etree.SubElement(top, f"{{{METS}}}div", ID=ids("div"), LABEL="Schemas")
        etree.SubElement(div, f"{{{METS}}}fptr", FILEID=schema_grp.get("ID"))
    for rep in reps:
        div = etree.SubElement(top, f"{{{METS}}}div", ID=ids("div"),
                               LABEL=f"Representations/{rep}")  # fmt: skip
        mptr = etree.SubElement(div, f"{{{METS}}}mptr", LOCTYPE="URL")
        mptr.set(f"{{{XLINK}}}type", "simple")
        mptr.set(f"{{{XLINK}}}href", f"representations/{rep}/METS.xml")
        mptr.set(f"{{{XLINK}}}title", rep_grps[rep])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
