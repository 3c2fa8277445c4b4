"""Tenants, fonds and accessions kept as small self-describing OCFL objects (METS, PREMIS,
DC and a record XML with every field), so that `catalog rebuild` restores them from storage."""

from __future__ import annotations

from .. import __version__
from .aip.builder import (
    metadata_files,
    metadata_newfiles,
    read_aip,
    read_record_xml,
    record_xml,
)
from .aip.model import Agent, AipDescription, AipEvent
from .ids import new_ulid, now, record_object_id, user_id
from .storage.ocfl import VersionInfo
from .storage.store import Storage


def user_agent(user: str) -> Agent:
    return Agent("magazin user", user_id(user), user, "person")


def software_agent() -> Agent:
    return Agent("software", f"magazin/{__version__}", "Magazin", "software", __version__)


def name_agents(desc: AipDescription, *agents: Agent) -> None:
    """Add the agents of a new event to the object's agents, each once."""
    known = {a.id_value for a in desc.agents}
    desc.agents += [a for a in agents if a.id_value not in known]


def store_record(
    storage: Storage,
    *,
    kind: str,
    tenant: str,
    key: str,
    title: str,
    dc: dict[str, list[str]],
    fields: dict[str, str | int | None],
    user: str,
    event: tuple[str, str],
    created: str,
    fonds: str | None = None,
    accession: str | None = None,
) -> None:
    """Describe a tenant, fonds or accession and write it to every replica location (where
    absent); a new one is journaled."""
    event_type, detail = event
    desc = AipDescription(
        ocfl_id=record_object_id(tenant, kind, key),
        tenant=tenant,
        ulid=key,
        fonds=fonds,
        title=title,
        dc=dc,
        created=created,
        kind=kind,
        accession=accession,
        events=[
            AipEvent(
                new_ulid(),
                event_type,
                created,
                "success",
                detail,
                agents=[(user_agent(user).id_value, "implementer")],
            )
        ],
        agents=[software_agent(), user_agent(user)],
        source_metadata=[(f"metadata/descriptive/{kind}.xml", f"magazin-{kind}")],
    )
    extra = {f"metadata/descriptive/{kind}.xml": record_xml(kind, fields)}
    version = VersionInfo(now(), detail, user, user_id(user))
    files = metadata_newfiles(metadata_files(desc, extra))
    storage.create(
        desc.tenant,
        desc.ocfl_id,
        files,
        version,
        "record",
        {"kind": kind, "key": key, "change": detail},
    )


class RecordMissing(LookupError):
    """No location holds the record object to be changed."""


def update_record(
    storage: Storage,
    *,
    kind: str,
    tenant: str,
    key: str,
    fields: dict[str, str | int | None],
    user: str,
    event: tuple[str, str],
    title: str | None = None,
    dc: dict[str, list[str]] | None = None,
) -> dict[str, str]:
    """A new version of a tenant, fonds or accession object in every location: its fields
    changed (None removes one), its title and Dublin Core where given, and the event in its
    PREMIS. Returns the fields as they are now."""
    oid = record_object_id(tenant, kind, key)
    record = f"metadata/descriptive/{kind}.xml"
    if not storage.holders(tenant, oid):
        raise RecordMissing(f"{oid}: no copy in any location")
    with storage.change(tenant, oid) as change:  # from reading the head to the last copy
        obj = change.head
        desc = read_aip(obj)
        current = read_record_xml(obj.read(record))
        new = {k: v for k, v in {**current, **fields}.items() if v is not None}
        if title is not None:
            desc.title = title
        if dc is not None:
            desc.dc = dc
        event_type, detail = event
        usr, sw = user_agent(user), software_agent()
        desc.events.append(
            AipEvent(new_ulid(), event_type, now(), "success", detail,
                     agents=[(usr.id_value, "implementer")])
        )  # fmt: skip
        name_agents(desc, sw, usr)
        files = metadata_newfiles(metadata_files(desc, {record: record_xml(kind, new)}))
        change.commit(
            files,
            VersionInfo(now(), detail, user, user_id(user)),
            action="record",
            details={"kind": kind, "key": key, "change": detail},
        )
    return new
