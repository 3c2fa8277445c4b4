"""The messages the archive sends: 0502 Bewertungsverzeichnis, 0504 AnbietungEmpfangBestaetigen,
0506 AussonderungImportBestaetigen and 0507 AussonderungEmpfangBestaetigen, each in the version
the agency used, validated against that version's XSD before it leaves, and written into the
agency's outbox as `<ProzessID>_<Nachrichtenname>.zip` (atomically: a reader never sees half).

The Kopf answers the message it replies to: its Empfaenger (the archive as the agency named
it) becomes our Absender and its Absender our Empfaenger.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .schemas import schema_for

NAMES = {
    "0502": "Aussonderung.Bewertungsverzeichnis.0502",
    "0504": "Aussonderung.AnbietungEmpfangBestaetigen.0504",
    "0506": "Aussonderung.AussonderungImportBestaetigen.0506",
    "0507": "Aussonderung.AussonderungEmpfangBestaetigen.0507",
}
ERROR_LIST = "urn:magazin:xdomea:fehlercode"
ERROR_LIST_VERSION = "1"


class WriteError(ValueError):
    """A message Magazin built that its XSD refuses (a bug, never sent)."""


@dataclass
class ObjectResult:
    """One delivered Schriftgutobjekt in a 0506."""

    id: str
    ok: bool
    aid: str | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, text)


def is_3x(version: str) -> bool:
    return int(version.split(".")[0]) >= 3


class _Builder:
    def __init__(self, version: str):
        self.version = version
        self.ns = f"urn:xoev-de:xdomea:schema:{version}"

    def q(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def sub(self, parent, local: str, text: str | None = None):
        el = etree.SubElement(parent, self.q(local))
        if text is not None:
            el.text = text
        return el

    def code(self, parent, local: str, value: str, **attrs):
        el = etree.SubElement(parent, self.q(local), **attrs)
        etree.SubElement(el, "code").text = value
        return el

    def root(self, name: str):
        return etree.Element(
            self.q(name),
            nsmap={"xdomea": self.ns, "xsi": "http://www.w3.org/2001/XMLSchema-instance"},
        )

    def kopf(self, root, reply_to: etree._Element, code: str, tag: str = "Kopf"):
        """Kopf of a reply: ProzessID of the process, sender and receiver swapped."""
        k = self.sub(root, tag)
        self.sub(k, "ProzessID", reply_to.findtext(self.q("ProzessID")))
        self.code(k, "Nachrichtentyp", code)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.sub(k, "Erstellungszeitpunkt", now.isoformat())
        for ours, theirs in (("Absender", "Empfaenger"), ("Empfaenger", "Absender")):
            src = reply_to.find(self.q(theirs))
            el = copy.deepcopy(src) if src is not None else etree.Element(self.q(ours))
            el.tag = self.q(ours)
            k.append(el)
        from ... import __version__

        system = self.sub(k, "SendendesSystem")
        self.sub(system, "Produktname", "Magazin")
        self.sub(system, "Version", __version__)
        return k


def _kopf_of(message_root: etree._Element) -> etree._Element:
    ns = etree.QName(message_root).namespace
    k = message_root.find(f"{{{ns}}}Kopf")
    if k is None:
        raise WriteError("the message replied to has no Kopf")
    return k


def receipt(message_root: etree._Element, version: str, code: str) -> etree._Element:
    """0504 (for a 0501) or 0507 (for a 0503, 3.x only): the Kopf alone."""
    b = _Builder(version)
    root = b.root(NAMES[code])
    b.kopf(root, _kopf_of(message_root), code)
    return root


def appraisal_list(
    offer_root: etree._Element, version: str, decisions: list[tuple[str, str]]
) -> etree._Element:
    """0502: every appraised object (ID, A or V), asking for a 0505 in return."""
    b = _Builder(version)
    root = b.root(NAMES["0502"])
    k = b.kopf(root, _kopf_of(offer_root), "0502")
    b.sub(k, "Empfangsbestaetigung", "1")
    for oid, decision in decisions:
        obj = b.sub(root, "BewertetesObjekt")
        b.sub(obj, "ID", oid)
        art = b.sub(obj, "Aussonderungsart")
        if is_3x(version):
            b.code(art, "Aussonderungsart", decision)
        else:
            etree.SubElement(art, "code").text = decision
    return root


def import_report(
    delivery_root: etree._Element,
    version: str,
    results: list[ObjectResult],
    with_aids: bool = True,
) -> etree._Element:
    """0506: per delivered object success or failure with reasons, and our AID (2.x has one
    ErfolgOderMisserfolg for the whole delivery, with an ID and AID per stored object)."""
    b = _Builder(version)
    root = b.root(NAMES["0506"])
    b.kopf(root, _kopf_of(delivery_root), "0506")
    if not is_3x(version):
        # 2.x: one verdict for the delivery, the failures as text, an ID and AID per success
        sgo = b.sub(root, "ErfolgOderMisserfolg")
        b.sub(sgo, "Erfolgreich", "1" if all(r.ok for r in results) else "0")
        failures = [
            f"{r.id}: " + "; ".join(f"{text} [{code}]" for code, text in r.errors)
            for r in results
            if r.errors
        ]
        if failures:
            b.sub(sgo, "Fehlermeldung", " | ".join(failures))
        for r in results:
            if r.ok and r.aid and with_aids:
                rp = b.sub(sgo, "Rueckgabeparameter")
                b.sub(rp, "ID", r.id)
                b.sub(rp, "Archivkennung", r.aid)
        return root
    for r in results:
        sgo = b.sub(root, "AusgesondertesSGO")
        b.sub(sgo, "IDSGO", r.id)
        b.sub(sgo, "Erfolgreich", "1" if r.ok else "0")
        for _code, text in r.errors:
            b.sub(sgo, "Fehlermeldung", text)
        for code, _text in r.errors:
            b.code(
                sgo, "FehlermeldungCode", code, listURI=ERROR_LIST, listVersionID=ERROR_LIST_VERSION
            )
        if r.ok and r.aid and with_aids:
            b.sub(sgo, "Archivkennung", r.aid)
    return root


def serialise(root: etree._Element, home: Path, version: str) -> bytes:
    """The message as bytes, after validating it against the installed XSD of its version."""
    schema = schema_for(home, version)
    if not schema.validate(root):
        err = schema.error_log.last_error
        raise WriteError(
            f"{etree.QName(root).localname}: not valid against xdomea {version}: "
            f"line {err.line}: {err.message}"
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def container_name(process_id: str, code: str) -> str:
    return f"{process_id}_{NAMES[code]}.zip"


def write_container(folder: Path, process_id: str, code: str, xml: bytes) -> Path:
    """`<ProzessID>_<Name>.zip` holding `<ProzessID>_<Name>.xml`, renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    name = container_name(process_id, code)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{process_id}_{NAMES[code]}.xml", xml)
    target = folder / name
    tmp = folder / f".{name}.part"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target
