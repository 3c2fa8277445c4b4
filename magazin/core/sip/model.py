"""What a SIP reader hands to the ingest: a Transfer of payload files and a tree of records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from ..aip.model import Agent, AipEvent, UnitNode
from ..problems import Problem


@dataclass
class PayloadFile:
    """One file of the SIP, as received; `path` is its name relative to the payload root."""

    path: str
    size: int
    opener: Callable[[], BinaryIO]
    declared: dict[str, str] = field(default_factory=dict)  # algorithm -> lowercase hex digest


@dataclass
class Record:
    """An intellectual entity to be stored as one AIP (a table row, or the whole SIP)."""

    files: list[str]
    dc: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    # The metadata as received (e.g. the table row as CSV text, bag-info.txt), stored verbatim.
    source_metadata: tuple[str, bytes] | None = None
    # Identity of a table row: its file path (combined with the file's sha512 later).
    row_path: str | None = None
    label: str = ""
    # Set by readers whose records carry their own identity and structure (xdomea):
    key: str | None = None  # source key (e.g. "xdomea:<IDSGO>") instead of a derived one
    unit_type: str = ""
    root_files: list[str] | None = None  # files of the root unit itself, where it has children
    children: list[UnitNode] = field(default_factory=list)  # ulids are assigned on storing
    events: list[AipEvent] = field(default_factory=list)  # events from the source, kept
    agents: list[Agent] = field(default_factory=list)  # the agents those events name
    file_names: dict[str, dict[str, str]] = field(default_factory=dict)
    # A check of each file's identified format against what the source declared: returns a
    # warning (stored as a validation event) or None.
    check_format: Callable[[str, object], str | None] | None = None
    # Readers of packages with several representations (E-ARK): a payload path's
    # representation and its path in that representation's data/ (default: original, as is)
    representation_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    representation_labels: dict[str, str] = field(default_factory=dict)  # their own names
    # further metadata files kept verbatim, by their path in the AIP (metadata/…)
    more_metadata: dict[str, bytes] = field(default_factory=dict)

    def place(self, path: str) -> tuple[str, str]:
        """(representation, path in its data/) of a payload file."""
        return self.representation_of.get(path, ("original", path))


@dataclass
class Transfer:
    """A checked SIP: its payload files, the records to store, warnings and provenance info."""

    kind: str  # folder | zip | bagit | table
    name: str
    source: str
    files: list[PayloadFile]
    records: list[Record]
    warnings: list[Problem] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    table: str | None = None  # name of the metadata table, if any
    one_aip: bool = True  # True where the whole SIP is one record (identity = manifest digest)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def close(self) -> None:
        for c in reversed(self._closers):
            c()
        self._closers.clear()

    def __enter__(self) -> Transfer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
