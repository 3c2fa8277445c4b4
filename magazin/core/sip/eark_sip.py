"""E-ARK SIPs in: a package (folder, ZIP or TAR) whose root METS.xml carries an E-ARK profile
is validated against the profile of the version it declares before anything is copied -
every failed MUST a problem whose code is the requirement's id (CSIP9, CSIPSTR4, SIP2 …), so
the package goes to quarantine saying which - and a valid one becomes one record: its first
representation the original, further ones preservation-1, -2 … (their names kept as labels),
the package's PREMIS events the first of the AIP's history,
its descriptive metadata (Dublin Core, EAD) the description, and the package's METS and
metadata files kept as they came."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from lxml import etree

from ..aip.model import Agent, AipEvent
from ..problems import ProblemList
from .limits import Limits
from .model import PayloadFile, Record, Transfer

_METS_NS = b"http://www.loc.gov/METS/"
_PROFILE = re.compile(rb"eark(c?sip|aip|dip)\.dilcis\.eu/profile", re.IGNORECASE)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
DC = "http://purl.org/dc/elements/1.1/"
EAD = "urn:isbn:1-931666-22-9"


def _looks_eark(head: bytes) -> bool:
    return _METS_NS in head and (_PROFILE.search(head) is not None or b"OAISPACKAGETYPE" in head)


def is_eark(path: Path) -> bool:
    """The root METS.xml of the folder or archive (or of its single root folder) names an
    E-ARK profile or package type."""
    try:
        if path.is_dir():
            inner = [p for p in path.iterdir() if not p.name.startswith(".")]
            mets = path / "METS.xml"
            if not mets.is_file() and len(inner) == 1 and inner[0].is_dir():
                mets = inner[0] / "METS.xml"
            return mets.is_file() and _looks_eark(mets.open("rb").read(8192))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith("METS.xml") and n.count("/") <= 1]
                return any(_looks_eark(zf.open(n).read(8192)) for n in names[:2])
        import tarfile

        if tarfile.is_tarfile(path):
            with tarfile.open(path) as tf:
                for m in tf.getmembers()[:50]:
                    name = m.name.removeprefix("./")
                    if m.isfile() and name.endswith("METS.xml") and name.count("/") <= 1:
                        f = tf.extractfile(m)
                        return f is not None and _looks_eark(f.read(8192))
    except (OSError, zipfile.BadZipFile, EOFError):
        return False
    return False


def read_eark(path: Path, problems: ProblemList, limits: Limits,
              schemas: Path | None) -> Transfer | None:  # fmt: skip
    from ..eark.checks import validate
    from ..eark.package import PackageError, open_package

    try:
        pkg = open_package(path, limits)
    except PackageError as e:
        problems.items.extend(e.problems.items)
        return None
    report = validate(pkg, schemas)
    for r in report.results:
        if r.level == "MUST" and not r.passed:
            problems.add(path.name, f"{r.id}: {r.message}", r.id)
    if problems:
        pkg.close()
        return None
    reps = sorted({f.split("/")[1] for f in pkg.files if f.startswith("representations/")
                   and f.count("/") >= 3 and f.split("/")[2] == "data"})  # fmt: skip
    names = {rep: ("original" if i == 0 else f"preservation-{i}") for i, rep in enumerate(reps)}
    files: list[PayloadFile] = []
    placed: dict[str, tuple[str, str]] = {}
    more: dict[str, bytes] = {}
    for rel, size in sorted(pkg.files.items()):
        parts = rel.split("/")
        if len(parts) >= 4 and parts[0] == "representations" and parts[2] == "data":
            files.append(PayloadFile(rel, size, pkg.openers[rel]))
            placed[rel] = (names[parts[1]], "/".join(parts[3:]))
        elif rel == "METS.xml" or parts[0] in ("metadata", "representations"):
            more[f"metadata/other/eark/{rel}"] = pkg.read(rel)  # as the package had it
    t = Transfer("eark", pkg.name, str(path), files, [])
    t._closers.append(pkg.close)
    t.info["E-ARK profile"] = f"{report.profile} {report.version}"
    dc = _description(pkg, report)
    rec = Record([f.path for f in files], dc, label=pkg.name, representation_of=placed,
                 more_metadata=more,
                 representation_labels={names[r]: r for r in reps})  # fmt: skip
    rec.events, rec.agents = package_premis(pkg)
    t.records = [rec]
    t.one_aip = True
    return t


def _description(pkg, report) -> dict[str, list[str]]:
    """Dublin Core from the package's descriptive metadata (DC, else EAD's archdesc), else its
    METS label; the package id as identifier."""
    root = etree.fromstring(pkg.read("METS.xml"), _PARSER)
    dc: dict[str, list[str]] = {}
    for rel in sorted(f for f in pkg.files if f.startswith("metadata/descriptive/")
                      and f.lower().endswith(".xml")):  # fmt: skip
        try:
            doc = etree.fromstring(pkg.read(rel), _PARSER)
        except (etree.XMLSyntaxError, ValueError):
            continue
        for el in doc.iter(f"{{{DC}}}*"):
            name = etree.QName(el).localname
            if el.text and el.text.strip():
                dc.setdefault(name, []).append(" ".join(el.text.split()))
        did = doc.find(f"{{{EAD}}}archdesc/{{{EAD}}}did")
        if did is not None:
            for tag, element in (("unittitle", "title"), ("unitdate", "date"),
                                 ("unitid", "identifier")):  # fmt: skip
                for el in did.iter(f"{{{EAD}}}{tag}"):
                    text = " ".join("".join(el.itertext()).split())
                    if text:
                        dc.setdefault(element, []).append(text)
    if not dc.get("title"):
        dc["title"] = [root.get("LABEL") or pkg.name]
    ids = dc.setdefault("identifier", [])
    if root.get("OBJID") and root.get("OBJID") not in ids:
        ids.append(root.get("OBJID"))
    return {k: list(dict.fromkeys(v)) for k, v in dc.items()}


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text(el, name: str) -> str:
    """The first descendant `name` (any namespace: packages in the wild get PREMIS's wrong)."""
    for d in el.iter():
        if _local(d) == name and d.text and d.text.strip():
            return " ".join(d.text.split())
    return ""


def _when(text: str) -> str | None:
    """An event time as ISO 8601 with zone (a bare date is its midnight UTC); None where the
    package's value is no date."""
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).isoformat()


_OUTCOMES = {"success": "success", "pass": "success", "passed": "success", "failure": "failure",
             "fail": "failure", "failed": "failure", "warning": "warning"}  # fmt: skip


def package_premis(pkg) -> tuple[list[AipEvent], list[Agent]]:
    """The events and agents of the package's PREMIS files (root and representations), to
    begin the AIP's history: each keeps its own identifier, type, time and agents. Events
    without a readable time stay in the kept file only."""
    events: dict[tuple[str, str], AipEvent] = {}
    agents: dict[str, Agent] = {}
    for rel in sorted(pkg.files):
        parts = rel.split("/")
        if not rel.lower().endswith(".xml") or "preservation" not in parts[:-1]:
            continue
        if not (
            parts[0] == "metadata" or (parts[0] == "representations" and parts[2:3] == ["metadata"])
        ):
            continue
        try:
            doc = etree.fromstring(pkg.read(rel), _PARSER)
        except (etree.XMLSyntaxError, ValueError):
            continue
        for el in doc.iter():
            if _local(el) == "agent" and (value := _text(el, "agentIdentifierValue")):
                agents.setdefault(value, Agent(_text(el, "agentIdentifierType") or "local", value,
                                               _text(el, "agentName") or value,
                                               _text(el, "agentType") or "other"))  # fmt: skip
            if _local(el) != "event" or not (when := _when(_text(el, "eventDateTime"))):
                continue
            ident = (_text(el, "eventIdentifierType") or "local", _text(el, "eventIdentifierValue"))
            outcome = _text(el, "eventOutcome").lower()
            links = [(_text(la, "linkingAgentIdentifierValue"), _text(la, "linkingAgentRole"))
                     for la in el if _local(la) == "linkingAgentIdentifier"]  # fmt: skip
            events.setdefault(ident, AipEvent(
                id=ident[1] or f"{rel}#{len(events) + 1}", id_type=ident[0],
                type=(_text(el, "eventType") or "unknown")[:60], datetime=when,
                outcome=_OUTCOMES.get(outcome, outcome[:20]), detail=_text(el, "eventDetail"),
                outcome_detail=_text(el, "eventOutcomeDetailNote"),
                agents=[(v, r) for v, r in links if v]))  # fmt: skip
    return sorted(events.values(), key=lambda e: e.datetime), list(agents.values())
