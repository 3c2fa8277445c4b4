"""PREMIS 3 for an AIP: the intellectual entity, its files, events and agents."""

from __future__ import annotations

from lxml import etree

from .model import Agent, AipDescription, AipEvent, AipFile, RightsStatement
from .xml import NS, parse_xml, q, to_bytes

_EVENT_TYPE_URI = "http://id.loc.gov/vocabulary/preservation/eventType"


def _sub(parent, local: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, q("premis", local), **attrs)
    if text is not None:
        el.text = text
    return el


def _ident(parent, kind: str, id_type: str, value: str) -> None:
    el = _sub(parent, f"{kind}Identifier")
    _sub(el, f"{kind}IdentifierType", id_type)
    _sub(el, f"{kind}IdentifierValue", value)


def premis_xml(aip: AipDescription) -> bytes:
    root = etree.Element(
        q("premis", "premis"), nsmap={"premis": NS["premis"], "xsi": NS["xsi"]}, version="3.0"
    )
    xsi_type = q("xsi", "type")
    ie = _sub(root, "object", **{xsi_type: "premis:intellectualEntity"})
    _ident(ie, "object", "OCFL object id", aip.ocfl_id)
    if aip.kind == "unit":
        _ident(ie, "object", "magazin AID", aip.aid)
    if aip.source_key:
        _ident(ie, "object", "magazin source key", aip.source_key)
    if aip.unit_type:
        _ident(ie, "object", "source unit type", aip.unit_type)

    def child_entities(parent_id: str, parent_type: str, nodes) -> None:
        for node in nodes:
            ce = _sub(root, "object", **{xsi_type: "premis:intellectualEntity"})
            aid = f"{aip.tenant}-{node.ulid}"
            _ident(ce, "object", "magazin AID", aid)
            if node.key:
                _ident(ce, "object", "xdomea ID", node.key)
            _ident(ce, "object", "source unit type", node.kind)
            rel = _sub(ce, "relationship")
            _sub(rel, "relationshipType", "structural")
            _sub(rel, "relationshipSubType", "is part of")
            _ident_rel(rel, parent_id, parent_type)
            child_entities(aid, "magazin AID", node.children)

    child_entities(aip.ocfl_id, "OCFL object id", aip.children)
    reps = sorted({f.representation for f in aip.files})
    for rep in reps:
        ro = _sub(root, "object", **{xsi_type: "premis:representation"})
        _ident(ro, "object", "local", f"representations/{rep}")
        rel = _sub(ro, "relationship")
        _sub(rel, "relationshipType", "structural")
        _sub(rel, "relationshipSubType", "is part of")
        _ident_rel(rel, aip.ocfl_id)
    for f in aip.files:
        fo = _sub(root, "object", **{xsi_type: "premis:file"})
        _ident(fo, "object", "local", f.logical_path)
        names = aip.file_names.get(f.path, {})
        if names.get("DateinameOriginal"):
            sp = _sub(fo, "significantProperties")
            _sub(sp, "significantPropertiesType", "xdomea DateinameOriginal")
            _sub(sp, "significantPropertiesValue", names["DateinameOriginal"])
        oc = _sub(fo, "objectCharacteristics")
        _sub(oc, "compositionLevel", "0")
        fx = _sub(oc, "fixity")
        _sub(fx, "messageDigestAlgorithm", "SHA-512")
        _sub(fx, "messageDigest", f.sha512)
        _sub(fx, "messageDigestOriginator", "Magazin")
        _sub(oc, "size", str(f.size))
        fmt = _sub(oc, "format")
        fd = _sub(fmt, "formatDesignation")
        _sub(fd, "formatName", f.format_name or "Unknown")
        if f.format_version:
            _sub(fd, "formatVersion", f.format_version)
        if f.puid:
            reg = _sub(fmt, "formatRegistry")
            _sub(reg, "formatRegistryName", "PRONOM")
            _sub(reg, "formatRegistryKey", f.puid)
            _sub(reg, "formatRegistryRole", "specification")
        _sub(fmt, "formatNote", f"basis: {f.basis}")
        _sub(fo, "originalName", names.get("Dateiname") or f.path)
        rel = _sub(fo, "relationship")
        _sub(rel, "relationshipType", "structural")
        _sub(rel, "relationshipSubType", "is included in")
        _ident_rel(rel, f"representations/{f.representation}", "local")
        if f.derived_from:  # made from another file by a migration
            rel = _sub(fo, "relationship")
            _sub(rel, "relationshipType", "derivation")
            _sub(rel, "relationshipSubType", "has source")
            _ident_rel(rel, f.derived_from, "local")
    for ev in aip.events:
        e = _sub(root, "event")
        _ident(e, "event", ev.id_type, ev.id)
        _sub(e, "eventType", ev.type, authority="eventType", authorityURI=_EVENT_TYPE_URI)
        _sub(e, "eventDateTime", ev.datetime)
        if ev.detail:
            edi = _sub(e, "eventDetailInformation")
            _sub(edi, "eventDetail", ev.detail)
        eo = _sub(e, "eventOutcomeInformation")
        _sub(eo, "eventOutcome", ev.outcome)
        if ev.outcome_detail:
            eod = _sub(eo, "eventOutcomeDetail")
            _sub(eod, "eventOutcomeDetailNote", ev.outcome_detail)
        agent_types = {a.id_value: a.id_type for a in aip.agents}
        for agent_id, role in ev.agents:
            la = _sub(e, "linkingAgentIdentifier")
            _sub(la, "linkingAgentIdentifierType", agent_types.get(agent_id, "local"))
            _sub(la, "linkingAgentIdentifierValue", agent_id)
            _sub(la, "linkingAgentRole", role)
        lo = _sub(e, "linkingObjectIdentifier")
        _sub(lo, "linkingObjectIdentifierType", "OCFL object id")
        _sub(lo, "linkingObjectIdentifierValue", aip.ocfl_id)
        for path in ev.objects:  # the files it concerns (a validation, a migration's source)
            lo = _sub(e, "linkingObjectIdentifier")
            _sub(lo, "linkingObjectIdentifierType", "local")
            _sub(lo, "linkingObjectIdentifierValue", path)
    for a in aip.agents:
        ag = _sub(root, "agent")
        _ident(ag, "agent", a.id_type, a.id_value)
        _sub(ag, "agentName", a.name)
        _sub(ag, "agentType", a.type)
        if a.version:
            _sub(ag, "agentVersion", a.version)
    for r in aip.rights:
        _rights_statement(_sub(root, "rights"), r)
    return to_bytes(root)


# the rightsGrantedNote lines a statement's details are kept in, and read back from
_NOTES = (("purpose", "purpose"), ("reason", "reason"), ("end", "expires"), ("ended", "ended"),
          ("ended_by", "ended by"), ("end_reason", "end reason"))  # fmt: skip
STATUTE = "Archivgesetz: Schutzfristen und ihre Verkürzung; Freigabe zur Nutzung"


def _rights_statement(parent, r: RightsStatement) -> None:
    """A decision on access as PREMIS 3 wants it: statute basis, the act granted with its
    term, the unit it concerns, the archivist who granted it and the reader it is for."""
    rs = _sub(parent, "rightsStatement")
    ri = _sub(rs, "rightsStatementIdentifier")
    _sub(ri, "rightsStatementIdentifierType", "ULID")
    _sub(ri, "rightsStatementIdentifierValue", r.id)
    _sub(rs, "rightsBasis", "Statute")
    st = _sub(rs, "statuteInformation")
    _sub(st, "statuteJurisdiction", "DE")
    _sub(st, "statuteCitation", STATUTE)
    _sub(st, "statuteNote", "release" if r.kind == "release" else "grant")
    rg = _sub(rs, "rightsGranted")
    _sub(rg, "act", "disseminate")
    _sub(rg, "restriction", "Allow")
    term = _sub(rg, "termOfGrant")
    _sub(term, "startDate", r.start)
    end = r.ended[:10] if r.ended else r.end
    if end:
        _sub(term, "endDate", end)
    for attr, label in _NOTES:
        value = getattr(r, attr)
        if value:
            _sub(rg, "rightsGrantedNote", f"{label}: {value}")
    lo = _sub(rs, "linkingObjectIdentifier")
    _sub(lo, "linkingObjectIdentifierType", "magazin AID")
    _sub(lo, "linkingObjectIdentifierValue", r.unit)
    for agent, role in ((r.granted_by, "grantor"), (r.reader, "grantee")):
        if agent:
            la = _sub(rs, "linkingAgentIdentifier")
            _sub(la, "linkingAgentIdentifierType", "magazin user" if role == "grantor"
                 else "magazin reader pseudonym")  # fmt: skip
            _sub(la, "linkingAgentIdentifierValue", agent)
            _sub(la, "linkingAgentRole", role)


def _read_rights(root) -> list[RightsStatement]:
    out = []
    for rs in root.findall("premis:rights/premis:rightsStatement", NS):
        notes = {}
        for n in rs.findall("premis:rightsGranted/premis:rightsGrantedNote", NS):
            label, _, value = (n.text or "").partition(": ")
            notes[label] = value
        agents = {
            _t(la, "premis:linkingAgentRole"): _t(la, "premis:linkingAgentIdentifierValue")
            for la in rs.findall("premis:linkingAgentIdentifier", NS)
        }
        term = "premis:rightsGranted/premis:termOfGrant/"
        kind = _t(rs, "premis:statuteInformation/premis:statuteNote") or "release"
        ended = notes.get("ended") or None
        out.append(
            RightsStatement(
                id=_t(rs, "premis:rightsStatementIdentifier/premis:rightsStatementIdentifierValue")
                or "",
                kind=kind,
                unit=_t(rs, "premis:linkingObjectIdentifier/premis:linkingObjectIdentifierValue")
                or "",
                granted_by=agents.get("grantor") or "",
                start=_t(rs, term + "premis:startDate") or "",
                reason=notes.get("reason", ""),
                end=notes.get("expires") or None,
                reader=agents.get("grantee"),
                purpose=notes.get("purpose", ""),
                ended=ended,
                ended_by=notes.get("ended by", ""),
                end_reason=notes.get("end reason", ""),
            )
        )
    return out


def _ident_rel(rel, value: str, id_type: str = "OCFL object id") -> None:
    ri = _sub(rel, "relatedObjectIdentifier")
    _sub(ri, "relatedObjectIdentifierType", id_type)
    _sub(ri, "relatedObjectIdentifierValue", value)


def _t(el, path: str) -> str | None:
    found = el.find(path, NS)
    return found.text if found is not None else None


def read_premis(data: bytes) -> dict:
    """Files (by logical path), events and agents as stored; for rebuild and display."""
    root = parse_xml(data, "premis.xml")
    files: dict[str, dict] = {}
    idents: dict[str, str] = {}
    for obj in root.findall("premis:object", NS):
        kind = obj.get(q("xsi", "type"), "")
        if kind.endswith("intellectualEntity"):
            if idents:  # the first entity is the AIP's root unit; child units follow it
                continue
            for oi in obj.findall("premis:objectIdentifier", NS):
                idents[_t(oi, "premis:objectIdentifierType") or ""] = (
                    _t(oi, "premis:objectIdentifierValue") or ""
                )
        elif kind.endswith("file"):
            lp = _t(obj, "premis:objectIdentifier/premis:objectIdentifierValue") or ""
            oc = "premis:objectCharacteristics/"
            files[lp] = {
                "sha512": _t(obj, oc + "premis:fixity/premis:messageDigest"),
                "size": int(_t(obj, oc + "premis:size") or 0),
                "format_name": _t(
                    obj, oc + "premis:format/premis:formatDesignation/premis:formatName"
                ),
                "format_version": _t(
                    obj, oc + "premis:format/premis:formatDesignation/premis:formatVersion"
                ),
                "puid": _t(
                    obj, oc + "premis:format/premis:formatRegistry/premis:formatRegistryKey"
                ),
                "basis": (
                    _t(obj, oc + "premis:format/premis:formatNote") or "basis: none"
                ).removeprefix("basis: "),
                "original_name": _t(obj, "premis:originalName"),
                "derived_from": next(
                    (
                        _t(r, "premis:relatedObjectIdentifier/premis:relatedObjectIdentifierValue")
                        or ""
                        for r in obj.findall("premis:relationship", NS)
                        if _t(r, "premis:relationshipType") == "derivation"
                    ),
                    "",
                ),
            }
            if files[lp]["format_name"] == "Unknown" and not files[lp]["puid"]:
                files[lp]["format_name"] = None
    events = []
    for e in root.findall("premis:event", NS):
        events.append(
            AipEvent(
                id=_t(e, "premis:eventIdentifier/premis:eventIdentifierValue") or "",
                id_type=_t(e, "premis:eventIdentifier/premis:eventIdentifierType") or "ULID",
                type=_t(e, "premis:eventType") or "",
                datetime=_t(e, "premis:eventDateTime") or "",
                outcome=_t(e, "premis:eventOutcomeInformation/premis:eventOutcome") or "",
                detail=_t(e, "premis:eventDetailInformation/premis:eventDetail") or "",
                outcome_detail=_t(
                    e,
                    "premis:eventOutcomeInformation/premis:eventOutcomeDetail/"
                    "premis:eventOutcomeDetailNote",
                )
                or "",
                agents=[
                    (
                        _t(la, "premis:linkingAgentIdentifierValue") or "",
                        _t(la, "premis:linkingAgentRole") or "",
                    )
                    for la in e.findall("premis:linkingAgentIdentifier", NS)
                ],
                objects=[
                    _t(lo, "premis:linkingObjectIdentifierValue") or ""
                    for lo in e.findall("premis:linkingObjectIdentifier", NS)
                    if _t(lo, "premis:linkingObjectIdentifierType") == "local"
                ],
            )
        )
    agents = [
        Agent(
            _t(a, "premis:agentIdentifier/premis:agentIdentifierType") or "",
            _t(a, "premis:agentIdentifier/premis:agentIdentifierValue") or "",
            _t(a, "premis:agentName") or "",
            _t(a, "premis:agentType") or "",
            _t(a, "premis:agentVersion"),
        )
        for a in root.findall("premis:agent", NS)
    ]
    return {"identifiers": idents, "files": files, "events": events, "agents": agents,
            "rights": _read_rights(root)}  # fmt: skip


def file_from_premis(logical_path: str, info: dict, mime: str | None) -> AipFile:
    rep, _, path = logical_path.removeprefix("representations/").partition("/data/")
    return AipFile(
        path=path,
        representation=rep,
        size=info["size"],
        sha512=info["sha512"],
        puid=info["puid"],
        format_name=info["format_name"],
        format_version=info["format_version"],
        mime=mime,
        basis=info["basis"],
        derived_from=info.get("derived_from", ""),
    )
