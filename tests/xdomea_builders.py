"""Test builders for complete xdomea 0501 (offer) and 0503 (delivery) messages, versions 2.3.0,
2.4.0, 3.0.0 and 3.1.0, each validated against the official XSD before a test uses it.

`standard_tree()` is the delivery the issue names: two Akten (one with a Teilakte), nested
Vorgänge (a Teilvorgang), a Dokument with two Versionen of which one has two Formate (PDF and
DOCX), a free Vorgang and a free Dokument, umlauts and ß in Betreff and file names.
"""

from __future__ import annotations

import random
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from bench.corpus import _docx, _pdf
from magazin.core.xdomea.write import _Builder

PDF, DOCX = "018", "035"


@dataclass
class Fmt:
    code: str
    name: str  # DateinameOriginal (3.x) / the readable part of Dateiname
    content: bytes
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))

    def filename(self, version: str) -> str:
        """Dateiname as the XSD wants it: `UUID_name.ext` (3.x: DateinameOriginal beside it)."""
        return f"{self.uid}_{self.name}"


@dataclass
class Node:
    kind: str  # Akte | Teilakte | Vorgang | Teilvorgang | Dokument
    title: str
    ref: str = ""
    children: list[Node] = field(default_factory=list)
    versions: list[tuple[str, list[Fmt]]] = field(default_factory=list)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    disposal: str = "B"
    begin: str = "2019-03-01"
    end: str = "2021-11-30"
    confidentiality: str = ""
    history: bool = False

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, title: str) -> Node:
        return next(n for n in self.walk() if n.title == title)


def _pdf_bytes(text: str, seed: int) -> bytes:
    return _pdf(text, random.Random(seed))


def _docx_bytes(text: str, seed: int) -> bytes:
    return _docx(text, random.Random(seed))


def standard_tree() -> list[Node]:
    d1 = Node(
        "Dokument",
        "Bescheid über die Größe",
        "63.10-01/2019-1-1",
        versions=[
            ("1", [Fmt(PDF, "Bescheid Größe.pdf", _pdf_bytes("Entwurf", 1))]),
            (
                "2",
                [
                    Fmt(PDF, "Bescheid Größe endgültig.pdf", _pdf_bytes("Bescheid", 2)),
                    Fmt(DOCX, "Bescheid Größe endgültig.docx", _docx_bytes("Bescheid", 3)),
                ],
            ),
        ],
        history=True,
    )
    d2 = Node(
        "Dokument",
        "Nachtrag Weiß",
        "63.10-01/2019-1.1-1",
        versions=[("1", [Fmt(PDF, "Nachtrag Weiß.pdf", _pdf_bytes("Nachtrag", 4))])],
    )
    tv = Node("Teilvorgang", "Nachträge zur Maßnahme", "63.10-01/2019-1.1", children=[d2])
    v1 = Node("Vorgang", "Prüfung der Maßnahme", "63.10-01/2019-1", children=[d1, tv])
    d3 = Node(
        "Dokument",
        "Gutachten Straßenbau",
        "63.10-01/2019-T1-1",
        versions=[("1", [Fmt(PDF, "Gutachten.pdf", _pdf_bytes("Gutachten", 5))])],
    )
    ta = Node("Teilakte", "Teilakte Gutachten", "63.10-01/2019-T1", children=[d3])
    a1 = Node(
        "Akte",
        "Bauantrag Müller, Große Straße 5",
        "63.10-01/2019",
        children=[v1, ta],
        confidentiality="002",
        history=True,
    )
    d4 = Node(
        "Dokument",
        "Übersicht Straßenreinigung",
        "66.20-7-1-1",
        versions=[("1", [Fmt(DOCX, "Übersicht.docx", _docx_bytes("Übersicht", 6))])],
    )
    a2 = Node(
        "Akte",
        "Straßenreinigung Altstadt",
        "66.20-7",
        children=[Node("Vorgang", "Reinigungspläne", "66.20-7-1", children=[d4])],
    )
    d6 = Node(
        "Dokument",
        "Protokoll Ortstermin",
        "10.1-3-1",
        versions=[("1", [Fmt(PDF, "Protokoll.pdf", _pdf_bytes("Protokoll", 7))])],
    )
    fv = Node("Vorgang", "Ortstermin Bürgerhaus", "10.1-3", children=[d6])
    d5 = Node(
        "Dokument",
        "Schreiben an Frau Groß",
        "10.1-9",
        versions=[("1", [Fmt(PDF, "Schreiben Groß.pdf", _pdf_bytes("Schreiben", 8))])],
    )
    return [a1, a2, fv, d5]


class _B(_Builder):
    """The element helpers of Magazin's own message writer, plus what an agency writes."""

    def __init__(self, version: str):
        super().__init__(version)
        self.v3 = version.startswith("3")

    def contact(self, parent, local, name, authority):
        c = self.sub(parent, local)
        bk = self.sub(c, "Behoerdenkennung")
        self.code(
            bk,
            "Behoerdenschluessel" if self.v3 else "Kennung",
            authority,
            listURI="",
            listVersionID="",
        )
        inst = self.sub(c, "Institution")
        self.sub(inst, "Name", name)
        return c

    def sender_kopf(self, root, pid, code, flags):
        k = self.sub(root, "Kopf")
        self.sub(k, "ProzessID", pid)
        self.code(k, "Nachrichtentyp", code)
        self.sub(k, "Erstellungszeitpunkt", "2025-01-15T10:30:00")
        self.contact(k, "Absender", "Stadt Magdeburg, Rechtsamt", "MD-30")
        self.contact(k, "Empfaenger", "Stadtarchiv Magdeburg", "MD-41")
        s = self.sub(k, "SendendesSystem")
        self.sub(s, "Produktname", "Testakte DMS")
        self.sub(s, "Version", "1.0")
        for name in flags:
            if name == "Empfangsbestaetigung" and code == "0503" and not self.v3:
                continue
            self.sub(k, name, "1")
        return k

    def disposal(self, parent, value):
        art = self.sub(parent, "Aussonderungsart")
        if self.v3:
            self.code(art, "Aussonderungsart", value)
        else:
            etree.SubElement(art, "code").text = value

    def sgo(self, parent, local, n: Node, with_files: bool):
        el = self.sub(parent, local)
        ident = self.sub(el, "Identifikation")
        self.sub(ident, "ID", n.id)
        md = self.sub(el, "AllgemeineMetadaten")
        self.sub(md, "Betreff", n.title)
        if n.ref:
            self.sub(md, "Kennzeichen", n.ref)
        if n.confidentiality:
            self.code(md, "Vertraulichkeitsstufe", n.confidentiality)
        if n.kind != "Dokument":
            am = self.sub(el, "ArchivspezifischeMetadaten")
            if self.v3:
                ad = self.sub(am, "Aufbewahrungsdauer")
                self.sub(ad, "AnzahlJahre", "10")
            else:
                self.sub(am, "Aufbewahrungsdauer", "10")
            self.disposal(am, n.disposal)
            self.sub(am, "Aufbewahrungsende", "2031-12-31" if self.v3 else "2031")
            self.sub(el, "Typ", "Sachakte" if n.kind in ("Akte", "Teilakte") else "Vorgang")
            lz = self.sub(el, "Laufzeit")
            self.sub(lz, "Beginn", n.begin)
            self.sub(lz, "Ende", n.end)
        else:
            self.sub(el, "DatumDesSchreibens", n.begin)
        if n.history:
            h = self.sub(el, "HistorienProtokollInformation")
            self.sub(h, "MetadatumName" if self.v3 else "Metadatum", "Betreff")
            self.sub(h, "MetadatumAlterWert" if self.v3 else "AlterWert", "Entwurf")
            self.sub(h, "MetadatumNeuerWert" if self.v3 else "NeuerWert", n.title)
            self.sub(h, "Akteur", "Sachbearbeiterin Jäger")
            self.sub(h, "DatumUhrzeit", "2020-05-04T09:15:00")
            self.sub(h, "Aktion", "Metadaten geändert")
        kids = {k: [c for c in n.children if c.kind == k] for k in ("Dokument", "Vorgang")}
        subs = [c for c in n.children if c.kind in ("Teilakte", "Teilvorgang")]
        if n.kind in ("Akte", "Teilakte"):
            if kids["Dokument"] or kids["Vorgang"] or (subs and self.v3):
                if not self.v3 and kids["Dokument"] and kids["Vorgang"]:
                    raise ValueError("xdomea 2.x: an Akte holds Dokumente or Vorgänge, not both")
                inhalt = self.sub(el, "Akteninhalt")
                for c in kids["Dokument"]:
                    self.sgo(inhalt, "Dokument", c, with_files)
                for c in kids["Vorgang"]:
                    self.sgo(inhalt, "Vorgang", c, with_files)
                if self.v3:
                    for c in subs:
                        self.sgo(inhalt, "Teilakte", c, with_files)
            if not self.v3:
                for c in subs:
                    self.sgo(el, "Teilakte", c, with_files)
        elif n.kind in ("Vorgang", "Teilvorgang"):
            for c in kids["Dokument"]:
                self.sgo(el, "Dokument", c, with_files)
            for c in subs:
                self.sgo(el, "Teilvorgang", c, with_files)
        elif with_files:
            for number, fmts in n.versions:
                v = self.sub(el, "Version")
                self.sub(v, "Nummer", number)
                for f in fmts:
                    fe = self.sub(v, "Format")
                    self.code(fe, "Name", f.code, listVersionID="1.0")
                    self.sub(fe, "Version", "1.7" if f.code == PDF else "")
                    p = self.sub(fe, "Primaerdokument")
                    self.sub(p, "Dateiname", f.filename(self.version))
                    if self.v3:
                        self.sub(p, "DateinameOriginal", f.name)
        return el


ROOT_NAMES = {
    "0501": "Aussonderung.Anbieteverzeichnis.0501",
    "0503": "Aussonderung.Aussonderung.0503",
    "0505": "Aussonderung.BewertungEmpfangBestaetigen.0505",
}


def message_xml(version: str, code: str, pid: str, nodes: list[Node]) -> etree._Element:
    b = _B(version)
    root = etree.Element(b.q(ROOT_NAMES[code]), nsmap={"xdomea": b.ns})
    flags = {
        "0501": ["Empfangsbestaetigung"],
        "0503": ["Importbestaetigung", "RueckmeldungArchivkennung", "Empfangsbestaetigung"],
        "0505": [],
    }[code]
    b.sender_kopf(root, pid, code, flags)
    for n in nodes if code != "0505" else []:
        w = b.sub(root, "Schriftgutobjekt")
        b.sgo(w, n.kind, n, code == "0503")
    return root


def write_message(
    folder: Path,
    schema: etree.XMLSchema,
    version: str,
    code: str,
    pid: str,
    nodes: list[Node],
    *,
    skip_files: set[str] = frozenset(),
    extra_files: dict[str, bytes] | None = None,
    root: etree._Element | None = None,
) -> Path:
    """The message as the records system sends it, after checking it against the XSD."""
    if root is None:
        root = message_xml(version, code, pid, nodes)
    assert schema.validate(root), schema.error_log
    name = f"{pid}_{ROOT_NAMES[code]}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}.xml", etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        if code == "0503":
            for top in nodes:
                for n in top.walk():
                    for _number, fmts in n.versions:
                        for f in fmts:
                            if f.filename(version) not in skip_files:
                                zf.writestr(f.filename(version), f.content)
        for entry, data in (extra_files or {}).items():
            zf.writestr(entry, data)
    return path
