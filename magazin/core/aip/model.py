"""The description of an AIP that METS and PREMIS carry, and that a rebuild reads back."""

from __future__ import annotations

from dataclasses import dataclass, field


def representation_order(name: str) -> tuple:
    """How representations follow each other: the original first, then preservation-1, -2,
    … by their number (not as text: preservation-10 after -9)."""
    number = name.rsplit("-", 1)[-1]
    return (name != "original", int(number) if number.isdigit() else 0, name)


@dataclass
class AipFile:
    path: str  # relative to the representation's data/ folder, exactly as received
    representation: str
    size: int
    sha512: str
    puid: str | None = None
    format_name: str | None = None
    format_version: str | None = None
    mime: str | None = None
    basis: str = "none"
    # the last validation of the file: success | failure | warning ("" not validated yet),
    # with its note and messages (from the PREMIS validation event linked to the file)
    validation: str = ""
    validation_note: str = ""
    derived_from: str = ""  # a migration's result: the logical path of its source file

    @property
    def logical_path(self) -> str:
        return f"representations/{self.representation}/data/{self.path}"


@dataclass
class Agent:
    id_type: str
    id_value: str
    name: str
    type: str  # software | person | organization
    version: str | None = None


@dataclass
class AipEvent:
    id: str
    type: str  # PREMIS event type (LoC vocabulary)
    datetime: str
    outcome: str  # success | failure | warning
    detail: str = ""
    outcome_detail: str = ""
    agents: list[tuple[str, str]] = field(default_factory=list)  # (agent id value, role)
    objects: list[str] = field(default_factory=list)  # logical paths of the files it concerns
    id_type: str = "ULID"  # Magazin's own; an event taken over from a package keeps its own


@dataclass
class RightsStatement:
    """An archivist's decision on access, kept with the records (PREMIS rights statement):
    a release opens a unit for everyone, a grant shortens its closure period for one reader
    (named by a pseudonymous id only: readers' names never go into AIPs) for a purpose until
    a day. A decision that was ended early keeps when, by whom and why."""

    id: str  # ULID
    kind: str  # release | grant
    unit: str  # the AID of the unit it concerns (the AIP's root or a unit inside it)
    granted_by: str  # agent id of the archivist
    start: str  # ISO 8601 time of the decision
    reason: str
    end: str | None = None  # a grant's last day (ISO date)
    reader: str | None = None  # a grant's reader (pseudonymous id)
    purpose: str = ""
    ended: str | None = None  # time it was revoked or withdrawn
    ended_by: str = ""
    end_reason: str = ""


@dataclass
class UnitNode:
    """A child unit inside an AIP (an xdomea Teilakte, Vorgang or Dokument): its own AID,
    description and the files that belong to it directly."""

    ulid: str
    kind: str
    title: str
    key: str = ""  # identity in the source (xdomea IDSGO)
    dc: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # paths as in AipFile.path
    children: list[UnitNode] = field(default_factory=list)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class AipDescription:
    ocfl_id: str
    tenant: str
    ulid: str
    fonds: str | None
    title: str
    dc: dict[str, list[str]]
    created: str
    files: list[AipFile] = field(default_factory=list)
    events: list[AipEvent] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    source_key: str | None = None
    accession: str | None = None
    kind: str = "unit"  # unit | tenant | fonds | accession
    source_metadata: list[tuple[str, str]] = field(default_factory=list)  # (logical path, type)
    extra: dict[str, str] = field(default_factory=dict)
    unit_type: str = ""  # what the root unit is in its source, e.g. "xdomea:Akte"
    root_files: list[str] | None = None  # files of the root unit itself where it has children
    children: list[UnitNode] = field(default_factory=list)
    # names a file had in its source, by path: {"Dateiname": …, "DateinameOriginal": …}
    file_names: dict[str, dict[str, str]] = field(default_factory=dict)
    rights: list[RightsStatement] = field(default_factory=list)  # decisions on access
    # a representation's name in the package it came from (E-ARK: "rep1"), kept as its label
    representation_labels: dict[str, str] = field(default_factory=dict)

    @property
    def aid(self) -> str:
        return f"{self.tenant}-{self.ulid}"
