"""The e-records desk kept in storage, so that `magazin catalog rebuild` restores it: each
agency is a small record object (`urn:magazin:<tenant>:agency:<code>`), each Aussonderung
process one OCFL object (`urn:magazin:<tenant>:xdomea-process:<agency>:<ProzessID>`) holding
the XML of every message received and sent (0501–0507; the primary documents of a delivery
are in its AIPs), the offered objects with the archive's appraisal decisions, and the
process's state — a new version whenever any of it changes.

The database is written first (the desk's steps are transactions there); before a step an
intent marker names the agency, and it is removed only when storage has caught up, so that
a run killed in between is completed by the next poll (`keep_unkept`)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction

from magazin.catalog.models import Fonds, Tenant
from magazin.catalog.services import iso, parse_time
from magazin.catalog.storage import archive_storage
from magazin.core.aip.builder import (
    metadata_files,
    metadata_newfiles,
    read_aip,
    read_record_xml,
    record_xml,
)
from magazin.core.aip.model import AipDescription, AipEvent
from magazin.core.config import Home
from magazin.core.ids import new_ulid, now, record_object_id, user_id
from magazin.core.records import name_agents, software_agent, store_record, user_agent
from magazin.core.storage.ocfl import VersionInfo
from magazin.core.storage.store import Storage

from .models import Agency, Process, ProcessMessage, ProcessObject


class KeepError(Exception):
    """The desk's state cannot be written to storage as it is."""


KIND = "xdomea-process"
RECORD = f"metadata/descriptive/{KIND}.xml"
STATE = "metadata/other/xdomea-process.json"  # messages and objects with their decisions
MESSAGES = "metadata/other/messages/"  # the XML of each message, as received or sent
AGENCY_FIELDS = ("code", "name", "fonds", "inbox", "outbox", "authority_id")
AGENCY_FLAGS = ("two_step", "partial_takeover")


def messages_dir(home: Home, agency: Agency, process_id: str) -> Path:
    """Where the archive keeps its working copy of every message of a process (storage holds
    the same in the process's object)."""
    return home.path / "xdomea" / "messages" / agency.tenant.slug / agency.code / process_id


def process_object_id(tenant: str, agency: str, process_id: str) -> str:
    return record_object_id(tenant, KIND, f"{agency}:{process_id}")


# -- agencies --------------------------------------------------------------------------------


def store_agency(home: Home, agency: Agency, user: str) -> None:
    """An agency's settings as a record object in every replica (written once: agencies are
    not edited)."""
    fields: dict[str, str | int | None] = {k: getattr(agency, k) for k in AGENCY_FIELDS}
    fields["fonds"] = agency.fonds.code
    fields.update({k: "1" if getattr(agency, k) else "0" for k in AGENCY_FLAGS})
    fields.update(tenant=agency.tenant.slug, created=iso(agency.created))
    store_record(
        archive_storage(home),
        kind="agency",
        tenant=agency.tenant.slug,
        key=agency.code,
        title=agency.name,
        dc={"title": [agency.name], "identifier": [agency.code]},
        fields=fields,
        user=user,
        event=("creation", f"xdomea agency {agency.code} ({agency.name}) set up"),
        created=iso(agency.created),
    )


def agency_from_record(r: dict) -> Agency:
    tenant = Tenant.objects.get(slug=r["tenant"])
    values = {k: r.get(k, "") for k in AGENCY_FIELDS if k not in ("code", "fonds")}
    values.update({k: r.get(k) == "1" for k in AGENCY_FLAGS})
    values.update(fonds=Fonds.objects.get(tenant=tenant, code=r["fonds"]),
                  created=parse_time(r["created"]))  # fmt: skip
    agency, _ = Agency.objects.update_or_create(tenant=tenant, code=r["code"], defaults=values)
    return agency


# -- processes -------------------------------------------------------------------------------


def _record_fields(p: Process) -> dict[str, str | int | None]:
    return {
        "tenant": p.agency.tenant.slug,
        "agency": p.agency.code,
        "process_id": p.process_id,
        "version": p.version,
        "state": p.state,
        "two_step": "1" if p.two_step else "0",
        "created": iso(p.created),
        "updated": iso(p.updated),
        "error": p.error or None,
    }


def _state(p: Process) -> dict:
    messages = [
        {
            "code": m.code,
            "name": m.name,
            "direction": m.direction,
            "status": m.status,
            "time": iso(m.time),
            "sha256": m.sha256,
            "file": Path(m.path).name if m.path else None,
            "error": m.error,
            "quarantine": m.quarantine,
        }
        for m in p.messages.order_by("time", "id")
    ]
    objs = list(p.items.order_by("position", "id"))
    idsgo = {o.pk: o.idsgo for o in objs}
    objects = [
        {
            "idsgo": o.idsgo,
            "parent": idsgo.get(o.parent_id),
            "position": o.position,
            **{f: getattr(o, f) for f in _OBJECT_TEXT},
            "decided_at": iso(o.decided_at),
        }
        for o in objs
    ]
    return {"messages": messages, "objects": objects}


_OBJECT_TEXT = (
    "kind", "title", "reference", "date_begin", "date_end", "proposal", "retention",
    "retention_end", "decision", "decision_basis", "decided_by", "delivered", "error",
)  # fmt: skip


def _json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode()


def _description(p: Process, events: list[AipEvent]) -> AipDescription:
    title = f"xdomea-Aussonderung {p.process_id} ({p.agency.name})"
    return AipDescription(
        ocfl_id=process_object_id(p.agency.tenant.slug, p.agency.code, p.process_id),
        tenant=p.agency.tenant.slug,
        ulid=p.process_id,
        fonds=p.agency.fonds.code,
        title=title,
        dc={"title": [title], "identifier": [p.process_id]},
        created=iso(p.created),
        kind=KIND,
        events=events,
        agents=[software_agent()],
        source_metadata=[(RECORD, f"magazin-{KIND}")],
    )


def _what_changed(old: dict | None, new: dict, old_fields: dict, fields: dict) -> tuple[str, str]:
    """The PREMIS event of a new version: appraisal when decisions changed."""
    if old is None:
        return "creation", f"xdomea process {fields['process_id']} opened ({fields['state']})"
    parts = []
    seen = {(m["name"], m["direction"], m["time"]) for m in old["messages"]}
    for m in new["messages"]:
        if (m["name"], m["direction"], m["time"]) not in seen:
            verb = "sent" if m["direction"] == "out" else f"received ({m['status']})"
            parts.append(f"message {m['code']} {verb}: {m['name']}")
    before = {o["idsgo"]: o for o in old["objects"]}
    decided = [o for o in new["objects"]
               if (before.get(o["idsgo"], {}).get("decision"),
                   before.get(o["idsgo"], {}).get("decision_basis"))
               != (o["decision"], o["decision_basis"])]  # fmt: skip
    if decided:
        counts = {v: sum(1 for o in decided if o["decision"] == v) for v in ("A", "V")}
        parts.append(f"appraisal of {len(decided)} object(s): A {counts['A']}, V {counts['V']}")
    delivered = [o for o in new["objects"]
                 if before.get(o["idsgo"], {}).get("delivered") != o["delivered"]]  # fmt: skip
    if delivered:
        parts.append(f"delivery noted for {len(delivered)} object(s)")
    if old_fields.get("state") != fields["state"]:
        parts.append(f"state {old_fields.get('state')} → {fields['state']}")
    event = "appraisal" if decided else "metadata modification"
    return event, "; ".join(parts) or "process record brought up to date"


def keep_process(home: Home, process: Process, user: str = "magazin", storage=None) -> str | None:
    """Bring the process's OCFL object in line with the database; returns the new version's
    name, or None when storage holds this state already."""
    storage: Storage = storage or archive_storage(home)
    rows = Process.objects.select_related("agency", "agency__tenant", "agency__fonds")
    p = rows.get(pk=process.pk)
    tenant = p.agency.tenant.slug
    oid = process_object_id(tenant, p.agency.code, p.process_id)
    if not storage.holders(tenant, oid):
        event = _event("creation", f"xdomea process {p.process_id} opened ({p.state})", user)
        desc = _description(p, [event])
        name_agents(desc, user_agent(user))
        files = _files(p, desc, _record_fields(p), _state(p), held=set())
        version = VersionInfo(now(), f"xdomea process {p.process_id}", user, user_id(user))
        storage.create(
            tenant,
            oid,
            files,
            version,
            "appraisal",
            {"process": p.process_id, "agency": p.agency.code},
        )
        # a writer that raced us may have created it first: the change below catches up
    with storage.change(tenant, oid) as change:
        p = rows.get(pk=process.pk)  # as it is now that no other writer can change storage
        obj, fields, state = change.head, _record_fields(p), _state(p)
        held = obj.state()
        if (hashlib.sha512(_record_bytes(fields)).hexdigest() == held.get(RECORD)
                and hashlib.sha512(_json(state)).hexdigest() == held.get(STATE)):  # fmt: skip
            return None
        old_fields = read_record_xml(obj.read(RECORD))
        old_state = json.loads(obj.read(STATE))
        desc = read_aip(obj)
        event_type, detail = _what_changed(old_state, state, old_fields, fields)
        desc.events.append(_event(event_type, detail, user))
        desc.title = _description(p, []).title
        name_agents(desc, software_agent(), user_agent(user))
        files = _files(p, desc, fields, state, set(held))
        return change.commit(files, VersionInfo(now(), detail, user, user_id(user)),
                             action="appraisal",
                             details={"process": p.process_id, "agency": p.agency.code,
                                      "change": detail})  # fmt: skip


def _event(event_type: str, detail: str, user: str) -> AipEvent:
    return AipEvent(new_ulid(), event_type, now(), "success", detail,
                    agents=[(user_agent(user).id_value, "implementer")])  # fmt: skip


def _record_bytes(fields: dict) -> bytes:
    return record_xml(KIND, fields)


def _files(p: Process, desc: AipDescription, fields, state, held: set[str]) -> list:
    """The version's new files: record, state, the messages storage does not have yet, and
    METS/PREMIS/DC."""
    extra = {RECORD: _record_bytes(fields), STATE: _json(state)}
    for m in p.messages.exclude(path=""):
        logical = MESSAGES + Path(m.path).name
        if logical not in held:
            data = Path(m.path).read_bytes()
            if m.sha256 and hashlib.sha256(data).hexdigest() != m.sha256:
                raise KeepError(f"{m.path}: the kept copy of message {m.name} has changed")
            extra[logical] = data
    return metadata_newfiles(metadata_files(desc, extra))


# -- catching up after a kill ----------------------------------------------------------------


def _markers(home: Home) -> Path:
    return home.path / "xdomea" / "unkept"


@contextmanager
def keeping(home: Home, agency: Agency, user: str) -> Iterator[set[int]]:
    """Around a step of the desk that changes the database: a marker naming the agency is
    written (and locked) first; the step adds the processes it touched to the set it is
    given, which are kept in storage afterwards, and only then the marker goes."""
    folder = _markers(home) / agency.tenant.slug / agency.code
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / new_ulid()
    fd = os.open(marker, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.fsync(fd)
        touched: set[int] = set()
        yield touched
        storage = archive_storage(home)
        for p in Process.objects.filter(pk__in=touched):
            keep_process(home, p, user, storage)
        marker.unlink()
    finally:
        os.close(fd)


def keep_unkept(home: Home, user: str = "magazin") -> list[str]:
    """Complete what killed runs left: for every marker no live step holds, every process of
    its agency is kept; on the first run after an upgrade, every agency and process. Returns
    the ProzessIDs that got a new version."""
    storage = archive_storage(home)
    done = home.path / "xdomea" / "kept-in-storage"
    agencies: set[int] = set()
    if not done.exists():
        agencies = set(Agency.objects.values_list("pk", flat=True))
    held: list[tuple[int, Path]] = []
    root = _markers(home)
    for marker in sorted(root.glob("*/*/*")) if root.is_dir() else []:
        fd = os.open(marker, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a step that is still running keeps its processes itself
        held.append((fd, marker))
        tenant, code = marker.parent.parent.name, marker.parent.name
        a = Agency.objects.filter(tenant__slug=tenant, code=code).first()
        if a is not None:
            agencies.add(a.pk)
    out = []
    try:
        for a in Agency.objects.filter(pk__in=agencies).select_related("tenant", "fonds"):
            record = record_object_id(a.tenant.slug, "agency", a.code)
            if not storage.holders(a.tenant.slug, record):
                store_agency(home, a, user)
            for p in a.processes.all():
                if keep_process(home, p, user, storage):
                    out.append(p.process_id)
        for _fd, marker in held:
            marker.unlink(missing_ok=True)
    finally:
        for fd, _marker in held:
            os.close(fd)
    if not done.exists():
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text("every agency and process of this installation is kept in storage\n")
    return out


# -- restoring (catalog rebuild) -------------------------------------------------------------


@transaction.atomic
def restore(home: Home, items: list[dict]) -> None:
    """The desk's rows as storage holds them: agencies from their records, each process
    with its messages (and their working copies) and objects from its object."""
    for item in items:
        if item["desc"].kind == "agency":
            agency_from_record(item["record"])
    for item in items:
        if item["desc"].kind == KIND:
            _restore_process(home, item["record"], item["object"])


def _restore_process(home: Home, r: dict, obj) -> None:
    agency = Agency.objects.select_related("tenant").get(tenant__slug=r["tenant"], code=r["agency"])
    Process.objects.filter(agency=agency, process_id=r["process_id"]).delete()
    p = Process.objects.create(
        agency=agency,
        process_id=r["process_id"],
        version=r.get("version", ""),
        state=r["state"],
        two_step=r.get("two_step") == "1",
        created=parse_time(r["created"]),
        updated=parse_time(r["updated"]),
        error=r.get("error", ""),
    )
    state = json.loads(obj.read(STATE))
    folder = messages_dir(home, agency, p.process_id)
    rows = []
    for m in state["messages"]:
        path = ""
        if m["file"]:
            data = obj.read(MESSAGES + m["file"])
            target = folder / m["file"]
            if not target.is_file() or target.read_bytes() != data:
                folder.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.part")
                tmp.write_bytes(data)
                os.replace(tmp, target)
            path = str(target)
        rows.append(ProcessMessage(
            process=p, code=m["code"], name=m["name"], direction=m["direction"],
            status=m["status"], time=parse_time(m["time"]), sha256=m["sha256"], path=path,
            error=m["error"], quarantine=m["quarantine"],
        ))  # fmt: skip
    ProcessMessage.objects.bulk_create(rows)
    by_idsgo: dict[str, ProcessObject] = {}
    level = [o for o in state["objects"] if o["parent"] is None]
    children: dict[str, list[dict]] = {}
    for o in state["objects"]:
        if o["parent"] is not None:
            children.setdefault(o["parent"], []).append(o)
    while level:  # parents before children, in bulk
        made = [ProcessObject(
            process=p,
            parent=by_idsgo[o["parent"]] if o["parent"] is not None else None,
            position=o["position"], idsgo=o["idsgo"],
            **{f: o[f] for f in _OBJECT_TEXT},
            decided_at=parse_time(o["decided_at"]) if o["decided_at"] else None,
        ) for o in level]  # fmt: skip
        ProcessObject.insert(p, made)
        by_idsgo.update({o.idsgo: o for o in made})
        level = [c for o in level for c in children.get(o["idsgo"], [])]
