"""DROID's identification method, compiled for speed.

Per file: read the head and the tail window the signatures need; collect candidate signatures
by a few dictionary look-ups (literal bytes at fixed offsets) and one Aho-Corasick scan (for
signatures whose position varies); check only the candidates completely, subsequence by
subsequence, each with a bounded regular expression; drop formats another match has priority
over; look into ZIP/OLE2 containers when a trigger format remains; fall back to the extension
only when no signature matched. No per-file cache, no format-specific shortcut.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ahocorasick_rs import BytesAhoCorasick, Implementation

from . import pattern as P
from .container import open_container
from .signatures import InternalSignature, SignatureSet

KEY = 8  # bytes of a fixed literal used as dictionary key
UNBOUNDED_SCAN = 65536  # bytes searched for a sequence without maximum offset (DROID's default)
MIN_SEARCH_LITERAL = 2
TIERS = (1024, 8192, UNBOUNDED_SCAN)  # window ends of the Aho-Corasick scans


@dataclass
class Match:
    """Formats found for one file and how."""

    formats: list  # FileFormat objects, after priorities
    basis: str  # signature | container | extension | none
    candidates: list  # all formats considered for the warning


class _Sub:
    __slots__ = ("rx", "min", "max", "span")

    def __init__(self, els: tuple, mn: int, mx: int | None):
        self.rx = re.compile(P.regex(els), re.S)
        self.min = mn
        self.max = mx
        _lo, hi = P.length(els)
        self.span = None if mx is None or hi is None else mx + hi


class _Sig:
    """A compiled internal signature: all byte sequences must match."""

    __slots__ = ("id", "seqs", "formats")

    def __init__(self, sig: InternalSignature):
        self.id = sig.id
        self.seqs = [
            (
                s.reference == "eof",
                [_Sub(x.elements, x.min_offset, x.max_offset) for x in s.subsequences],
                _seq_reach(s),
            )
            for s in sig.sequences
        ]
        self.formats: list = []

    def matches(self, head: bytes, rtail: RTail) -> bool:
        for eof, subs, reach in self.seqs:
            if not _match_seq(subs, rtail.get(reach) if eof else head):
                return False
        return True


class RTail:
    """The file's tail window, reversed on demand only as far as the signatures ask."""

    __slots__ = ("tail", "done")

    def __init__(self, tail: bytes):
        self.tail = tail
        self.done = b""

    def get(self, n: int) -> bytes:
        if len(self.done) < n and len(self.done) < len(self.tail):
            self.done = self.tail[-(max(n, 4096)) :][::-1]
        return self.done


def _match_seq(subs: list[_Sub], buf: bytes) -> bool:
    """Subsequences in order, each at its earliest position within its offset range; one
    without maximum offset is searched up to UNBOUNDED_SCAN bytes from the start (or end)."""
    pos = 0
    n = len(buf)
    for s in subs:
        lo = pos + s.min
        if lo > n:
            return False
        if s.max is None or s.span is None:
            end = min(n, max(lo, UNBOUNDED_SCAN))  # like DROID's "maximum bytes to scan"
        else:
            end = min(n, pos + s.span)
        m = s.rx.search(buf, lo, end)
        if m is None or (s.max is not None and m.start() > pos + s.max):
            return False
        pos = m.end()
    return True


def _seq_reach(s) -> int:
    """Bytes from the start (or end) a byte sequence may need."""
    total = 0
    for x in s.subsequences:
        hi = P.length(x.elements)[1]
        if x.max_offset is None or hi is None:
            total = max(total + x.min_offset, UNBOUNDED_SCAN)  # see _match_seq
        else:
            total += x.max_offset + hi
    return total


def _reach(sig: InternalSignature, eof: bool) -> int:
    """Bytes from the start (or end) a signature's sequences may need."""
    return max([_seq_reach(s) for s in sig.sequences if (s.reference == "eof") == eof] + [0])


class SignatureMatcher:
    """Byte signatures of a signature set, indexed for fast candidate selection."""

    def __init__(self, sigs: list[InternalSignature]):
        self.sigs = [_Sig(s) for s in sigs]
        self.head_size = max([_reach(s, False) for s in sigs] + [0])
        self.tail_size = max([_reach(s, True) for s in sigs] + [0])
        fixed: dict[tuple[bool, int, int], dict[bytes, list[_Sig]]] = {}
        search: dict[tuple[bool, bytes], list] = {}
        self.always: list[_Sig] = []
        for raw, sig in zip(sigs, self.sigs, strict=True):
            best = _fixed_key(raw)
            if best is not None:
                eof, off, lit = best
                k = min(KEY, len(lit))
                fixed.setdefault((eof, off, k), {}).setdefault(lit[:k], []).append(sig)
                continue
            lit2 = _search_literal(raw)
            if lit2 is not None:
                search.setdefault(lit2, []).append((sig, raw))
            else:
                self.always.append(sig)
        self.fixed = sorted(
            ((eof, off, k, table) for (eof, off, k), table in fixed.items()),
            key=lambda t: (t[0], t[1]),
        )
        # Aho-Corasick automata in tiers by how far into the file their signatures reach, so
        # that the many short-reach signatures do not make every file scan its whole window
        tiers: dict[tuple[bool, int], dict[bytes, list[_Sig]]] = {}
        for (eof, lit), found in search.items():
            for sig, raw in found:
                reach = _reach(raw, eof)
                end = next((t for t in TIERS if reach <= t), reach)
                # end-of-file literals are searched unreversed in the plain tail
                tiers.setdefault((eof, end), {}).setdefault(lit[::-1] if eof else lit, []).append(
                    sig
                )
        self.tail_keys = max([off + k for eof, off, k, _ in self.fixed if eof] + [0])
        self.tiers = [
            (
                eof,
                end,
                BytesAhoCorasick(list(lits), implementation=Implementation.DFA),
                list(lits.values()),
            )
            for (eof, end), lits in sorted(tiers.items())
        ]

    def candidates(self, head: bytes, rtail: RTail) -> set:
        found: set = set(self.always)
        rt = rtail.get(self.tail_keys)
        for eof, off, k, table in self.fixed:
            buf = rt if eof else head
            hit = table.get(buf[off : off + k])
            if hit:
                found.update(hit)
        for eof, end, ac, sigs in self.tiers:
            if eof:
                buf = rtail.tail[-end:]
            else:
                buf = head[:end] if len(head) > end else head
            for i in {m[0] for m in ac.find_matches_as_indexes(buf, overlapping=True)}:
                found.update(sigs[i])
        return found

    def match(self, head: bytes, rtail: RTail) -> list[_Sig]:
        return [s for s in self.candidates(head, rtail) if s.matches(head, rtail)]


def _fixed_key(sig: InternalSignature) -> tuple[bool, int, bytes] | None:
    """The longest literal at a fixed offset from BOF or EOF, if the signature has one."""
    best = None
    for s in sig.sequences:
        if s.reference == "var" or not s.subsequences:
            continue
        first = s.subsequences[0]
        if first.max_offset != first.min_offset:
            continue
        for off, lit in P.fixed_literals(first.elements):
            if best is None or len(lit[:KEY]) > len(best[2][:KEY]):
                best = (s.reference == "eof", first.min_offset + off, lit)
    return best


def _search_literal(sig: InternalSignature) -> tuple[bool, bytes] | None:
    """The longest literal any match of the signature must contain, with its window."""
    best = None
    for s in sig.sequences:
        for x in s.subsequences:
            for lit in P.literals(x.elements):
                if len(lit) >= MIN_SEARCH_LITERAL and (best is None or len(lit) > len(best[1])):
                    best = (s.reference == "eof", lit)
    return best


class Engine:
    """A compiled signature set: byte signatures, containers, priorities, extensions."""

    def __init__(self, sigset: SignatureSet):
        self.sigset = sigset
        self.formats = sigset.formats
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
        self.containers: dict[str, list] = {}
        for cs in sigset.containers:
            files = [(cf.path, [_Sig(s) for s in cf.signatures]) for cf in cs.files]
            self.containers.setdefault(cs.container, []).append((cs, files))
        # how much of each member any signature needs, from its start and from its end
        self.member_reach: dict[tuple[str, str], tuple[int, int]] = {}
        for cs in sigset.containers:
            for cf in cs.files:
                h, t = self.member_reach.get((cs.container, cf.path), (0, 0))
                for s in cf.signatures:
                    h, t = max(h, _reach(s, False)), max(t, _reach(s, True))
                self.member_reach[(cs.container, cf.path)] = (h, t)
        self.member_head = max([h for h, _ in self.member_reach.values()] + [0])
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
            puids = []
            for cs, files in sigs:
                if all(
                    _file_matches(c, p, compiled, self.member_reach[(ctype, p)])
                    for p, compiled in files
                ):
                    puids.extend(cs.puids)
        found = [self.by_puid[p] for p in dict.fromkeys(puids) if p in self.by_puid]
        return self.prioritise(found)


def _file_matches(c, path: str, compiled: list[_Sig], reach: tuple[int, int]) -> bool:
    if not c.exists(path):
        return False
    if not compiled:
        return True
    try:
        head, tail = c.read(path, *reach)
    except Exception:  # noqa: BLE001 - a damaged member matches nothing
        return False
    rtail = RTail(tail)
    return any(s.matches(head, rtail) for s in compiled)
