"""What a SIP reader hands to the ingest: a Transfer of payload files and a tree of records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

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
