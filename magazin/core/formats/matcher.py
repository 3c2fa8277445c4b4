"""Byte signatures compiled for matching many at once against a file's head and tail.

Candidates first, cheaply: a dictionary look-up of the bytes at each fixed offset some
signature starts with, and one literal scan per window size (see literals.py) that tells for
every signature's required literals whether they occur where the signature could put them.
Only candidates are then checked completely, sequence by sequence (shortest reach first),
subsequence by subsequence, each with a bounded regular expression.
"""

from __future__ import annotations

import re

from . import pattern as P
from .literals import LiteralScan
from .signatures import ByteSequence, InternalSignature

KEY = 8  # bytes of a fixed literal used as dictionary key
UNBOUNDED_SCAN = 65536  # bytes searched for a sequence without maximum offset (DROID's default)
MIN_LITERAL = 3  # shorter literals (and runs of one byte) occur everywhere: no use as filter
TIERS = (1024, 8192, UNBOUNDED_SCAN + 1024)  # window sizes of the literal scans
INF = 1 << 62


class _Sub:
    __slots__ = ("src", "_rx", "min", "max", "span", "prefix")

    def __init__(self, els: tuple, mn: int, mx: int | None):
        self.src = P.regex(els)
        self._rx = None  # compiled on first use: most signatures are never candidates
        self.min = mn
        self.max = mx
        _lo, hi = P.length(els)
        self.span = None if mx is None or hi is None else mx + hi
        # a leading literal lets bytes.find (much faster than the regex engine's own scan)
        # propose the positions where the expression is tried
        self.prefix = els[0].data if els and isinstance(els[0], P.Lit) else b""

    @property
    def rx(self) -> re.Pattern:
        if self._rx is None:
            self._rx = re.compile(self.src, re.S)
        return self._rx

    def search(self, buf: bytes, lo: int, end: int, last: int | None):
        """The earliest match starting in lo..last (None: anywhere) and ending by `end`."""
        if last is not None and last - lo < 4 or not self.prefix:
            m = self.rx.search(buf, lo, end)
            return m if m is not None and (last is None or m.start() <= last) else None
        find, rx, prefix = buf.find, self.rx.match, self.prefix
        stop = end if last is None else min(end, last + len(prefix))
        i = find(prefix, lo, stop)
        while i >= 0:
            m = rx(buf, i, end)
            if m is not None:
                return m
            i = find(prefix, i + 1, stop)
        return None


class Sig:
    """A compiled internal signature: all byte sequences must match."""

    __slots__ = ("id", "seqs", "formats", "needs")

    def __init__(self, sig: InternalSignature):
        self.id = sig.id
        self.seqs = [
            [
                s.reference == "eof",
                [_Sub(x.elements, x.min_offset, x.max_offset) for x in s.subsequences],
                seq_reach(s),
                None,  # (literal index, its length + how far before it a match can start)
            ]
            for s in sig.sequences
        ]
        self.formats: list = []
        self.needs: tuple = ()  # (eof, literal index, limit) that must all hold

    def order(self) -> None:
        self.seqs.sort(key=lambda s: s[2])  # cheap, near ones first

    def matches(
        self, head: bytes, rtail: RTail, at_head: dict | None = None, from_end: dict | None = None
    ) -> bool:
        for eof, subs, reach, hint in self.seqs:
            start = 0
            if hint is not None and at_head:  # no match starts before the literal's first
                if hint[0] in at_head:
                    start = max(0, at_head[hint[0]] - hint[1])
            if not _match_seq(subs, rtail.get(reach) if eof else head, start):
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


def _match_seq(subs: list[_Sub], buf: bytes, start: int = 0) -> bool:
    """Subsequences in order, each at its earliest position within its offset range; one
    without maximum offset is searched up to UNBOUNDED_SCAN bytes from the start (or end).
    `start`: no match of the first subsequence begins before it."""
    pos = 0
    n = len(buf)
    for s in subs:
        lo = max(pos + s.min, start)
        start = 0
        if lo > n:
            return False
        if s.max is None or s.span is None:
            end = min(n, max(lo, UNBOUNDED_SCAN))  # like DROID's "maximum bytes to scan"
        else:
            end = min(n, pos + s.span)
        m = s.search(buf, lo, end, None if s.max is None else pos + s.max)
        if m is None:
            return False
        pos = m.end()
    return True


def seq_reach(s: ByteSequence) -> int:
    """Bytes from the start (or end) a byte sequence may need."""
    total = 0
    for x in s.subsequences:
        hi = P.length(x.elements)[1]
        if x.max_offset is None or hi is None:
            total = max(total + x.min_offset, UNBOUNDED_SCAN)  # see _match_seq
        else:
            total += x.max_offset + hi
    return total


def reach(sig: InternalSignature, eof: bool) -> int:
    """Bytes from the start (or end) a signature's sequences may need."""
    return max([seq_reach(s) for s in sig.sequences if (s.reference == "eof") == eof] + [0])


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


def _required_literals(sig: InternalSignature) -> list[tuple[int, bool, bytes, int, int | None]]:
    """Per byte sequence its longest literal, in file order, with how far from the start (end
    of the literal) or the end (start of the literal) it can lie, and - if it is in the first
    subsequence - how far before the literal's end a match of that subsequence can start."""
    out = []
    for n, s in enumerate(sig.sequences):
        best, before = b"", None
        for k, x in enumerate(s.subsequences):
            pre: int | None = 0
            for e in x.elements:
                if isinstance(e, P.Lit) and len(e.data) > len(best) and len(set(e.data)) > 1:
                    best = e.data
                    before = pre + len(e.data) if (k == 0 and pre is not None) else None
                hi = P.length((e,))[1]
                pre = None if pre is None or hi is None else pre + hi
        if len(best) >= MIN_LITERAL:
            eof = s.reference == "eof"
            out.append((n, eof, best[::-1] if eof else best, seq_reach(s), before))
    return out


class SignatureMatcher:
    """A set of byte signatures, indexed for fast candidate selection."""

    def __init__(self, sigs: list[InternalSignature]):
        self.sigs = [Sig(s) for s in sigs]
        self.head_size = max([reach(s, False) for s in sigs] + [0])
        self.tail_size = max([reach(s, True) for s in sigs] + [0])
        fixed: dict[tuple[bool, int, int], dict[bytes, list[Sig]]] = {}
        self.triggered: dict[tuple[bool, int], list[Sig]] = {}
        self.always: list[Sig] = []
        lit_index: dict[tuple[bool, bytes], int] = {}
        lit_limit: dict[int, int] = {}
        for raw, sig in zip(sigs, self.sigs, strict=True):
            needs = []
            for n, eof, lit, limit, before in _required_literals(raw):
                i = lit_index.setdefault((eof, lit), len(lit_index))
                lit_limit[i] = max(lit_limit.get(i, 0), limit)
                needs.append((eof, i, limit))
                if before is not None and not eof:
                    sig.seqs[n][3] = (i, before)
            sig.needs = tuple(needs)
            sig.order()
            key = _fixed_key(raw)
            if key is not None:
                eof, off, lit = key
                k = min(KEY, len(lit))
                fixed.setdefault((eof, off, k), {}).setdefault(lit[:k], []).append(sig)
            elif needs:
                self.triggered.setdefault(needs[0][:2], []).append(sig)
            else:
                self.always.append(sig)
        self.fixed = sorted(
            ((eof, off, k, table) for (eof, off, k), table in fixed.items()),
            key=lambda t: (t[0], t[1]),
        )
        self.tail_keys = max([off + k for eof, off, k, _ in self.fixed if eof] + [0])
        # one literal scan per window size, so that the many literals needed near the start
        # (or end) do not make every file scan its largest window
        tiers: dict[tuple[bool, int], list[int]] = {}
        far = {
            eof: max([lit_limit[i] for (e, _), i in lit_index.items() if e == eof] + [0])
            for eof in (False, True)
        }
        for (eof, _lit), i in lit_index.items():
            limit = lit_limit[i]
            size = next((t for t in TIERS if limit <= t), far[eof])
            tiers.setdefault((eof, size), []).append(i)
        literal = {i: lit for (_eof, lit), i in lit_index.items()}
        self.scans = []
        for (eof, size), ids in sorted(tiers.items()):
            self.scans.append((eof, size, LiteralScan([literal[i] for i in ids]), ids))

    def _literals(self, head: bytes, tail: bytes) -> tuple[dict[int, int], dict[int, int]]:
        """Per literal: end of its first occurrence in the head window; for the tail window
        only whether it occurs (reported as 0). Nearest-to-the-end positions would take a
        report per occurrence: thousands in a file of zeros. The window of a literal's scan
        is as large as its limit, so presence is a sound filter; the regex does the rest."""
        at_head: dict[int, int] = {}
        from_end: dict[int, int] = {}
        for eof, size, scan, ids in self.scans:
            if eof:
                win = memoryview(tail)[-size:] if len(tail) > size else tail
                for j in scan.scan(win):
                    from_end[ids[j]] = 0
            else:
                win = memoryview(head)[:size] if len(head) > size else head
                for j, end in scan.scan(win).items():
                    at_head[ids[j]] = end
        return at_head, from_end

    def candidates(self, head: bytes, rtail: RTail) -> tuple[list[Sig], dict, dict]:
        at_head, from_end = self._literals(head, rtail.tail)
        found: list[Sig] = list(self.always)
        rt = rtail.get(self.tail_keys)
        for eof, off, k, table in self.fixed:
            hit = table.get((rt if eof else head)[off : off + k])
            if hit:
                found.extend(hit)
        for i in at_head:
            found.extend(self.triggered.get((False, i), ()))
        for i in from_end:
            found.extend(self.triggered.get((True, i), ()))
        out = []
        for s in dict.fromkeys(found):
            for eof, i, limit in s.needs:
                if (from_end if eof else at_head).get(i, INF) > limit:
                    break
            else:
                out.append(s)
        return out, at_head, from_end

    def match(self, head: bytes, rtail: RTail) -> list[Sig]:
        cands, at_head, from_end = self.candidates(head, rtail)
        return [s for s in cands if s.matches(head, rtail, at_head, from_end)]
