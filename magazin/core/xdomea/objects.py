"""The Schriftgutobjekte of an xdomea message (Akte, Teilakte, Vorgang, Teilvorgang, Dokument,
Anlage) as one version-independent tree: what appraisal lists and the takeover maps to units.

Elements are read by local name within the message's namespace, so 2.3.0 to 3.1.0 read alike;
where the versions differ (Aussonderungsart wrapped in 3.x, Aufbewahrungsdauer as a choice,
Historienprotokoll field names, DateinameOriginal only in 3.x) both forms are understood.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from lxml import etree

from ..i18n import N_

# kinds whose children are Schriftgutobjekte, and the element names of those children
_CHILDREN = {
    "Akte": ("Akteninhalt/Dokument", "Akteninhalt/Vorgang", "Akteninhalt/Teilakte", "Teilakte"),
    "Teilakte": ("Akteninhalt/Dokument", "Akteninhalt/Vorgang", "Akteninhalt/Teilakte", "Teilakte"),
    "Vorgang": ("Dokument", "Teilvorgang"),
    "Teilvorgang": ("Dokument", "Teilvorgang"),
    "Dokument": ("Anlage",),
    "Anlage": ("Anlage",),
}
ROOT_KINDS = ("Akte", "Vorgang", "Dokument")
BERLIN = ZoneInfo("Europe/Berlin")


class ObjectError(ValueError):
    """A structural fault the schema does not catch (duplicate IDs)."""

    def __init__(self, reason: str, code: str, ids: list[str] | None = None):
        super().__init__(reason)
        self.reason, self.code, self.ids = reason, code, ids or []


@dataclass
class FileFormat:
    """One Format of a Version: the declared format code and the primary document."""

    code: str
    code_name: str
    other_name: str
    version: str
    filename: str  # Dateiname: the entry in the message ZIP
    original_name: str | None  # DateinameOriginal (3.x)
    creator: str | None = None
    created: str | None = None


@dataclass
class DocVersion:
    number: str
    formats: list[FileFormat]


@dataclass
class HistoryEntry:
    action: str
    actor: str
    datetime: str  # ISO 8601 with offset (Europe/Berlin assumed where the message has none)
    field: str = ""
    old: str = ""
    new: str = ""
    note: str = ""


@dataclass
class Sgo:
    """One Schriftgutobjekt with the metadata an archivist appraises and describes."""

    kind: str
    id: str
    element: etree._Element = field(repr=False)
    title: str = ""
    reference: str = ""  # Kennzeichen
    begin: str = ""
    end: str = ""
    type: str = ""
    remark: str = ""
    confidentiality: str = ""  # Vertraulichkeitsstufe code
    medium: str = ""
    retention: str = ""  # Aufbewahrungsdauer: years, or "unbefristet"
    retention_end: str = ""
    disposal: str = ""  # Aussonderungsart (A, B, V) as the agency sends it
    proposal: str = ""  # Bewertungsvorschlag
    file_plan: str = ""  # Aktenplaneinheit/Kennzeichen
    dates: dict[str, str] = field(default_factory=dict)  # Dokument: Posteingangsdatum, …
    history: list[HistoryEntry] = field(default_factory=list)
    versions: list[DocVersion] = field(default_factory=list)
    children: list[Sgo] = field(default_factory=list)
    parent: Sgo | None = field(default=None, repr=False)

    def walk(self) -> Iterator[Sgo]:
        yield self
        for c in self.children:
            yield from c.walk()

    @property
    def root(self) -> Sgo:
        s = self
        while s.parent is not None:
            s = s.parent
        return s

    @property
    def label(self) -> str:
        ref = f" {self.reference}" if self.reference else ""
        return f"{self.kind}{ref} ({self.id})"

    def display_title(self) -> str:
        return self.title or self.reference or f"{self.kind} {self.id}"


class _Reader:
    def __init__(self, ns: str):
        self.ns = ns
        self._paths: dict[str, str] = {}

    def path(self, p: str) -> str:
        q = self._paths.get(p)
        if q is None:
            q = self._paths[p] = "/".join(f"{{{self.ns}}}{s}" for s in p.split("/"))
        return q

    def text(self, el, p: str) -> str:
        found = el.find(self.path(p))
        return (found.text or "").strip() if found is not None else ""

    def code(self, el, p: str) -> tuple[str, str]:
        found = el.find(self.path(p))
        if found is None:
            return "", ""
        return (found.findtext("code") or "").strip(), (found.findtext("name") or "").strip()

    def all(self, el, p: str) -> list:
        return el.findall(self.path(p))


def local_time(value: str) -> str:
    """An xs:dateTime as ISO 8601 with an offset; records systems in Germany often leave the
    offset out, and such times are read as Europe/Berlin."""
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError:
        return value
    if t.tzinfo is None:
        t = t.replace(tzinfo=BERLIN)
    return t.isoformat()


def _disposal(r: _Reader, md) -> str:
    """Aussonderungsart: a code element in 2.x, wrapped once more in 3.x (or configurable)."""
    el = md.find(r.path("Aussonderungsart"))
    if el is None:
        return ""
    inner = el.find(r.path("Aussonderungsart"))
    if inner is not None:
        return (inner.findtext("code") or "").strip()
    konf = el.find(r.path("AussonderungsartKonfigurierbar"))
    if konf is not None:
        return (konf.text or "").strip()
    return (el.findtext("code") or "").strip()


def _retention(r: _Reader, md) -> str:
    el = md.find(r.path("Aufbewahrungsdauer"))
    if el is None:
        return ""
    if len(el):
        years = r.text(el, "AnzahlJahre")
        if years:
            return years
        return "unbefristet" if r.text(el, "Unbefristet") in ("1", "true") else ""
    return (el.text or "").strip()


def _history(r: _Reader, el) -> list[HistoryEntry]:
    out = []
    for h in r.all(el, "HistorienProtokollInformation"):
        out.append(
            HistoryEntry(
                action=r.text(h, "Aktion"),
                actor=r.text(h, "Akteur"),
                datetime=local_time(r.text(h, "DatumUhrzeit")),
                field=r.text(h, "MetadatumName") or r.text(h, "Metadatum"),
                old=r.text(h, "MetadatumAlterWert") or r.text(h, "AlterWert"),
                new=r.text(h, "MetadatumNeuerWert") or r.text(h, "NeuerWert"),
                note=r.text(h, "Bemerkung"),
            )
        )
    return out


def _versions(r: _Reader, el) -> list[DocVersion]:
    out = []
    for v in r.all(el, "Version"):
        formats = []
        for f in r.all(v, "Format"):
            code, code_name = r.code(f, "Name")
            prim = f.find(r.path("Primaerdokument"))
            formats.append(
                FileFormat(
                    code=code,
                    code_name=code_name,
                    other_name=r.text(f, "SonstigerName"),
                    version=r.text(f, "Version"),
                    filename=r.text(prim, "Dateiname") if prim is not None else "",
                    original_name=(r.text(prim, "DateinameOriginal") or None)
                    if prim is not None
                    else None,
                    creator=(r.text(prim, "Ersteller") or None) if prim is not None else None,
                    created=(local_time(r.text(prim, "DatumUhrzeit")) or None)
                    if prim is not None and r.text(prim, "DatumUhrzeit")
                    else None,
                )
            )
        out.append(DocVersion(r.text(v, "Nummer"), formats))
    return out


def _sgo(r: _Reader, el, kind: str, parent: Sgo | None) -> Sgo:
    md = el.find(r.path("ArchivspezifischeMetadaten"))
    s = Sgo(
        kind=kind,
        id=r.text(el, "Identifikation/ID").lower(),
        element=el,
        title=r.text(el, "AllgemeineMetadaten/Betreff"),
        reference=r.text(el, "AllgemeineMetadaten/Kennzeichen"),
        begin=r.text(el, "Laufzeit/Beginn"),
        end=r.text(el, "Laufzeit/Ende"),
        type=r.text(el, "Typ"),
        remark=r.text(el, "AllgemeineMetadaten/Bemerkung"),
        confidentiality=r.code(el, "AllgemeineMetadaten/Vertraulichkeitsstufe")[0],
        medium=r.code(el, "AllgemeineMetadaten/Medium")[0],
        file_plan=r.text(el, "AllgemeineMetadaten/Aktenplaneinheit/Kennzeichen"),
        history=_history(r, el),
        parent=parent,
    )
    if md is not None:
        s.retention = _retention(r, md)
        s.retention_end = r.text(md, "Aufbewahrungsende")
        s.disposal = _disposal(r, md)
        s.proposal = r.code(md, "Bewertungsvorschlag")[0]
    if kind in ("Dokument", "Anlage"):
        for name in ("DatumDesSchreibens", "Posteingangsdatum", "Postausgangsdatum"):
            if value := r.text(el, name):
                s.dates[name] = value
        s.versions = _versions(r, el)
        if not s.begin and s.dates:
            first = s.dates.get("DatumDesSchreibens") or min(s.dates.values())
            s.begin = s.end = first
    for path in _CHILDREN[kind]:
        child_kind = path.rsplit("/", 1)[-1]
        for c in r.all(el, path):
            s.children.append(_sgo(r, c, child_kind, s))
    return s


def read_objects(root: etree._Element) -> list[Sgo]:
    """The root Schriftgutobjekte of a 0501 or 0503 message, each with its subtree."""
    ns = etree.QName(root).namespace or ""
    r = _Reader(ns)
    out = []
    for wrapper in r.all(root, "Schriftgutobjekt"):
        for kind in ROOT_KINDS:
            el = wrapper.find(r.path(kind))
            if el is not None:
                out.append(_sgo(r, el, kind, None))
    seen: dict[str, Sgo] = {}
    dupes = []
    for top in out:
        for s in top.walk():
            if s.id in seen:
                dupes.append(s.id)
            seen[s.id] = s
    if dupes:
        raise ObjectError(
            N_("the same Schriftgutobjekt ID is used more than once: {ids}").format(
                ids=", ".join(sorted(set(dupes)))
            ),
            "duplicate-id",
            sorted(set(dupes)),
        )
    return out


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_VERSION = re.compile(r"^v\d[\d.]*$")  # reserved for the version folders of a Dokument


def safe_segment(value: str, limit: int = 120) -> str:
    """A path segment from a Kennzeichen or file name: NFC, no separators or control
    characters, never '.' or '..', at most `limit` bytes in UTF-8."""
    s = _UNSAFE.sub("_", unicodedata.normalize("NFC", value)).strip().strip(".")
    while len(s.encode("utf-8")) > limit:
        s = s[:-1]
    return s or "_"


def segments(top: Sgo) -> dict[str, str]:
    """The path segment of every object of a root's tree (by ID): its Kennzeichen made
    path-safe, or its ID where it has none or a sibling has the same one."""
    out: dict[str, str] = {top.id: safe_segment(top.reference or top.id)}
    for s in top.walk():
        names = [safe_segment(c.reference) if c.reference else c.id for c in s.children]
        folded = [n.casefold() for n in names]
        for c, name in zip(s.children, names, strict=True):
            clash = folded.count(name.casefold()) > 1 or name == "_" or _VERSION.match(name)
            out[c.id] = c.id if clash else name
    return out
