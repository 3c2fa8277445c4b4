"""Taking over a 0503 Aussonderung: check it against the appraisal, then map each root
Schriftgutobjekt (Akte, free Vorgang, free Dokument) to one record for the ingest.

Checks, per root: appraised A (four-step), no object inside it appraised V, every referenced
Primaerdokument present in the ZIP and referenced once. Files in the ZIP that no object
references are a fault of the whole message. Each fault names the object and has a code.

Mapping: Teilakten, Vorgänge and Dokumente become child units; every Format of every Version
of a Dokument is kept under `<one segment per object from the root down>/v<Nummer>/<name>`,
`<name>` being DateinameOriginal (3.x) or Dateiname; both names go into METS and PREMIS. The
root's Schriftgutobjekt element is stored as received (`metadata/descriptive/xdomea.xml`);
its Historienprotokoll becomes PREMIS events with their own dates and agents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from lxml import etree

from ..aip.model import Agent, AipEvent, UnitNode
from ..i18n import N_
from ..ids import new_ulid
from ..problems import Problem
from ..sip.model import PayloadFile, Record, Transfer
from .dateiformat import contradiction
from .messages import Message
from .objects import Sgo, safe_segment, segments

_CREATION = re.compile(r"erstell|angelegt|anlegen|create", re.I)
CONFIDENTIAL_NAMES = {
    "001": "Geheim",
    "002": "NfD",
    "003": "Offen",
    "004": "Streng geheim",
    "005": "Vertraulich",
}
MEDIUM_NAMES = {"001": "Elektronisch", "002": "Hybrid", "003": "Papier"}

# a version of an object in the message: the place named in problems
VERSION = N_("{object}, Version {version}")


@dataclass
class Delivery:
    """A checked 0503: the records to store, and the faults of the roots left out."""

    message: Message
    roots: list[Sgo]
    records: list[Record] = field(default_factory=list)
    files: list[PayloadFile] = field(default_factory=list)
    faults: dict[str, list[Problem]] = field(default_factory=dict)  # by root ID
    message_faults: list[Problem] = field(default_factory=list)
    aid_paths: dict[str, str] = field(default_factory=dict)  # object ID -> folder under data/

    @property
    def ok(self) -> bool:
        return not self.faults and not self.message_faults

    def transfer(self, source: str) -> Transfer:
        """The records of the accepted roots as a Transfer for the ingest pipeline."""
        return Transfer(
            kind="xdomea",
            name=self.message.path.name,
            source=source,
            files=self.files,
            records=self.records,
            one_aip=False,
            info={"Source-Organization": source},
            _closers=[self.message.close],
        )


def unit_metadata(s: Sgo, agency: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Dublin Core and the catalog's fields of one Schriftgutobjekt."""
    dc: dict[str, list[str]] = {"title": [s.display_title()], "type": [s.kind]}
    dc["identifier"] = [x for x in (s.reference, f"xdomea:{s.id}") if x]
    if s.begin or s.end:
        dc["date"] = [f"{s.begin}/{s.end}" if s.begin != s.end else s.begin]
    if agency:
        dc["creator"] = [agency]
    if s.remark:
        dc["description"] = [s.remark]
    extra = {
        "xdomea_kind": s.kind,
        "xdomea_id": s.id,
        "reference_code": s.reference,
        "date_begin": s.begin,
        "date_end": s.end,
        "file_plan": s.file_plan,
        "type": s.type,
        "confidentiality": s.confidentiality,
        "confidentiality_name": CONFIDENTIAL_NAMES.get(s.confidentiality, ""),
        "medium": s.medium,
        "medium_name": MEDIUM_NAMES.get(s.medium, ""),
        "retention": s.retention,
        "retention_end": s.retention_end,
        "disposal": s.disposal,
        "appraisal_proposal": s.proposal,
        **{f"date_{k}": v for k, v in s.dates.items()},
    }
    return dc, {k: v for k, v in extra.items() if v}


def history_events(s: Sgo) -> tuple[list[AipEvent], list[Agent]]:
    """The Historienprotokoll of an object and its descendants as PREMIS events."""
    events, agents = [], {}
    for obj in s.walk():
        for h in obj.history:
            agent = Agent("xdomea Akteur", f"xdomea-akteur:{h.actor}", h.actor, "person")
            agents[agent.id_value] = agent
            change = f" {h.field}: {h.old!r} → {h.new!r}" if (h.field or h.old or h.new) else ""
            events.append(
                AipEvent(
                    new_ulid(),
                    "creation" if _CREATION.search(h.action) else "metadata modification",
                    h.datetime,
                    "success",
                    N_("xdomea Historienprotokoll of {object}: {action}").format(
                        object=obj.label,
                        action=h.action + change + (f" ({h.note})" if h.note else ""),
                    ),
                    agents=[(agent.id_value, "implementer")],
                )
            )
    return events, list(agents.values())


def check_delivery(
    msg: Message,
    roots: list[Sgo],
    decision_of: Callable[[Sgo], str | None] | None,
    extensions: Callable[[str], list[str]],
    agency: str,
    root_events: Callable[[Sgo], tuple[list[AipEvent], list[Agent]]] | None = None,
) -> Delivery:
    """Check a 0503 read with `keep_open` (its objects from `read_objects`) and map its
    acceptable roots to records. `decision_of` gives the archive's decision per object (None
    for two-step: all taken)."""
    d = Delivery(msg, roots)
    referenced: dict[str, str] = {}  # Dateiname -> root ID
    top_names = [r.reference and safe_segment(r.reference) or r.id for r in roots]
    folded = [n.casefold() for n in top_names]
    for root, top in zip(roots, top_names, strict=True):
        faults = d.faults.setdefault(root.id, [])
        if decision_of is not None:
            decision = decision_of(root)
            if decision != "A":
                why = (
                    N_("was not offered in this process; only objects appraised A are taken over")
                    if decision is None
                    else (
                        N_("was appraised {decision}; only objects appraised A are taken over")
                        if decision in ("V", "B")
                        else N_("is not appraised; only objects appraised A are taken over")
                    )
                )
                faults.append(Problem(root.label, why.format(decision=decision), "not-appraised-a"))
            for s in list(root.walk())[1:]:
                if decision_of(s) == "V":
                    faults.append(
                        Problem(
                            s.label,
                            N_("was appraised V (destroy) but is delivered"),
                            "not-appraised-a",
                        )
                    )
        segs = segments(root)
        if folded.count(top.casefold()) > 1:
            segs[root.id] = root.id
        record = _map_root(root, segs, msg, agency, referenced, faults, extensions)
        if faults:
            continue
        del d.faults[root.id]
        if root_events is not None:
            ev, ag = root_events(root)
            record.events = ev + record.events
            record.agents = ag + record.agents
        d.records.append(record)
        for p in record.files:  # each ZIP entry under the path it gets in the AIP
            d.files.append(replace(msg.entries[record.file_names[p]["Dateiname"]], path=p))
    for name in msg.documents:
        if name not in referenced:
            d.message_faults.append(
                Problem(
                    name,
                    N_("file in the message that no Schriftgutobjekt references"),
                    "unreferenced-file",
                )
            )
    return d


def _map_root(
    root: Sgo,
    segs: dict[str, str],
    msg: Message,
    agency: str,
    referenced: dict[str, str],
    faults: list[Problem],
    extensions: Callable[[str], list[str]],
) -> Record:
    folder: dict[str, str] = {}
    for s in root.walk():
        folder[s.id] = segs[s.id] if s.parent is None else f"{folder[s.parent.id]}/{segs[s.id]}"
    own_files: dict[str, list[str]] = {}
    names: dict[str, dict[str, str]] = {}
    declared: dict[str, str] = {}
    taken: set[str] = set()
    for s in root.walk():
        for v in s.versions:
            vdir = f"{folder[s.id]}/v{safe_segment(v.number or '1')}"
            for f in v.formats:
                where = VERSION.format(object=s.label, version=v.number)
                if not f.filename:
                    faults.append(
                        Problem(where, N_("Primaerdokument without Dateiname"), "missing-document")
                    )
                    continue
                if f.filename in referenced:
                    faults.append(
                        Problem(
                            f.filename,
                            N_("referenced more than once ({place})").format(place=where),
                            "duplicate-document",
                        )
                    )
                    continue
                referenced[f.filename] = root.id
                if f.filename not in msg.entries:
                    faults.append(
                        Problem(
                            f.filename,
                            N_("Primaerdokument of {place} is missing in the message").format(
                                place=where
                            ),
                            "missing-document",
                        )
                    )
                    continue
                path = f"{vdir}/{safe_segment(f.original_name or f.filename, 200)}"
                if path.casefold() in taken:
                    path = f"{vdir}/{safe_segment(f.filename, 200)}"
                taken.add(path.casefold())
                own_files.setdefault(s.id, []).append(path)
                names[path] = {"Dateiname": f.filename}
                if f.original_name:
                    names[path]["DateinameOriginal"] = f.original_name
                declared[path] = f.code

    def node(s: Sgo) -> UnitNode:
        dc, extra = unit_metadata(s, agency)
        extra["path"] = folder[s.id]
        return UnitNode(
            ulid="",
            kind=s.kind,
            title=s.display_title(),
            key=f"xdomea:{s.id}",
            dc=dc,
            extra=extra,
            files=own_files.get(s.id, []),
            children=[node(c) for c in s.children],
        )

    def check_format(path: str, ident) -> str | None:
        return contradiction(declared.get(path, ""), ident.puid, ident.format, extensions)

    dc, extra = unit_metadata(root, agency)
    extra["path"] = folder[root.id]
    events, agents = history_events(root)
    xml = etree.tostring(root.element, encoding="UTF-8", xml_declaration=True)
    return Record(
        files=[p for s in root.walk() for p in own_files.get(s.id, [])],
        dc=dc,
        extra=extra,
        source_metadata=("xdomea.xml", xml),
        label=root.label,
        key=f"xdomea:{root.id}",
        unit_type=f"xdomea:{root.kind}",
        root_files=own_files.get(root.id, []),
        children=[node(c) for c in root.children],
        events=events,
        agents=agents,
        file_names=names,
        check_format=check_format,
    )
