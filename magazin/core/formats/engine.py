"""DROID's identification method, compiled for speed.

Per file: match the byte signatures against the head and tail windows (matcher.py); drop
formats another match has priority over; look into ZIP/OLE2 containers when a byte signature
hit is a container trigger; fall back to the extension only when no signature matched. No
per-file cache, no format-specific shortcut.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath

from .container import open_container
from .matcher import RTail, SignatureMatcher
from .signatures import SignatureSet


@dataclass
class Match:
    """Formats found for one file and how."""

    formats: list  # FileFormat objects, after priorities
    basis: str  # signature | container | extension | none
    candidates: list  # all formats considered for the warning


class Engine:
    """A compiled signature set: byte signatures, containers, priorities, extensions."""

    def __init__(self, sigset: SignatureSet):
        self.sigset = sigset
        by_sig: dict[str, list] = {}
        for f in sigset.formats.values():
            for sid in f.signature_ids:
                by_sig.setdefault(sid, []).append(f)
        self.binary = SignatureMatcher(sigset.signatures)
        for s in self.binary.sigs:
            s.formats = by_sig.get(s.id, [])
        self.by_puid = {f.puid: f for f in sigset.formats.values() if f.puid}
        self.loser: dict[str, set] = {}  # format id -> ids it has priority over
        for f in sigset.formats.values():
            self.loser[f.id] = set(f.priority_over)
        self.by_ext: dict[str, list] = {}
        for f in sigset.formats.values():
            if f.signature_ids:
                continue  # DROID: the extension speaks only for formats without a signature
            for e in f.extensions:
                self.by_ext.setdefault(e, []).append(f)
        self.triggers = sigset.triggers
        # per container type and member path: the signatures of every container signature
        # naming that path, matched together (one scan per member)
        self.containers: dict[str, list] = {}
        members: dict[tuple[str, str], list] = {}
        # container signatures repeat the same internal signature: one key (and one
        # compiled copy) for each content
        self._member_key: dict[int, tuple[str, str]] = {}
        for cs in sigset.containers:
            paths = frozenset(cf.path for cf in cs.files)
            self.containers.setdefault(cs.container, []).append((cs, paths))
            for cf in cs.files:
                members.setdefault((cs.container, cf.path), []).extend(cf.signatures)
                for s in cf.signatures:
                    self._member_key[id(s)] = (s.id, repr(s.sequences))
        self.members: dict[tuple[str, str], SignatureMatcher] = {}
        for key, sigs in members.items():
            uniq = list({self._member_key[id(s)]: s for s in sigs}.values())
            self.members[key] = SignatureMatcher(uniq)
            for raw, compiled in zip(uniq, self.members[key].sigs, strict=True):
                compiled.formats = [self._member_key[id(raw)]]  # what it stands for
        self.head_size = max(self.binary.head_size, 8)
        self.tail_size = self.binary.tail_size

    # -- priorities -----------------------------------------------------------------------

    def prioritise(self, formats: list) -> list:
        ids = {f.id for f in formats}
        beaten = set()
        for f in formats:
            beaten |= self.loser.get(f.id, set()) & ids
        out = [f for f in formats if f.id not in beaten]
        return list({f.id: f for f in out}.values())

    # -- one file -------------------------------------------------------------------------

    def identify_windows(
        self, head: bytes, tail: bytes, name: str, path: str | os.PathLike | None
    ) -> Match:
        """Identify from the file's head and tail windows; `path` opens containers."""
        sigs = self.binary.match(head, RTail(tail))
        hits = [f for s in sigs for f in s.formats]
        formats = self.prioritise(hits)
        if formats:
            # as DROID: the container check is triggered by any byte signature hit, before
            # priorities (an ODF 1.3 file's ODF 1.2 signature beats ZIP, yet it is a container)
            ctype = next((self.triggers[f.puid] for f in hits if f.puid in self.triggers), None)
            if ctype and path is not None:
                found = self._container(ctype, path)
                if found:
                    return Match(found, "container", found)
            return Match(formats, "signature", formats)
        ext = PurePosixPath(name).suffix.lower().lstrip(".")
        cands = self.by_ext.get(ext, []) if ext else []
        if cands:
            return Match(cands if len(cands) == 1 else [], "extension", cands)
        return Match([], "none", [])

    def _container(self, ctype: str, path) -> list:
        sigs = self.containers.get(ctype)
        if not sigs:
            return []
        with open_container(ctype, path) as c:
            if c is None:
                return []
            matched: dict[str, set] = {}  # member path -> ids of its signatures that match

            def hits(member: str) -> set:
                if member not in matched:
                    m = self.members[(ctype, member)]
                    try:
                        head, tail = c.read(member, m.head_size, m.tail_size)
                    except Exception:  # noqa: BLE001 - a damaged member matches nothing
                        head = tail = b""
                    matched[member] = {s.formats[0] for s in m.match(head, RTail(tail))}
                return matched[member]

            puids = []
            names = c.names
            for cs, paths in sigs:
                if paths <= names and all(
                    not cf.signatures
                    or any(self._member_key[id(s)] in hits(cf.path) for s in cf.signatures)
                    for cf in cs.files
                ):
                    puids.extend(cs.puids)
        found = [self.by_puid[p] for p in dict.fromkeys(puids) if p in self.by_puid]
        return self.prioritise(found)
