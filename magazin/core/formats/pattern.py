"""PRONOM byte patterns: parsed once into elements, turned into bounded regular expressions.

Both spellings occur: the compiled DROID signature file (`4D5A`, `[30:37]`, `[!00]`) and the
container signature file (`10 00 'Word.Document.' ['6'-'7'] (0A|0D)`). Every element has a
bounded length except an explicit `*`, so the expressions built here never nest unbounded
repetitions (no catastrophic backtracking). Patterns for end-of-file sequences are reversed and
matched against the reversed tail of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY = 256  # marker for "any byte" in classes


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class Lit:
    data: bytes


@dataclass(frozen=True)
class Cls:
    """One byte from a set (frozenset of ints)."""

    values: frozenset


@dataclass(frozen=True)
class Gap:
    min: int
    max: int | None  # None: unbounded


@dataclass(frozen=True)
class Alt:
    branches: tuple  # tuple of tuples of elements


@dataclass(frozen=True)
class Not:
    """`n` bytes that do not match `branch` (DROID's `[!XXXX]`)."""

    branch: tuple
    n: int


Element = Lit | Cls | Gap | Alt | Not


# -- parsing ------------------------------------------------------------------------------

_HEX = re.compile(r"[0-9A-Fa-f]{2}")


def parse(text: str) -> tuple:
    """Parse a PRONOM byte pattern into a tuple of elements."""
    p = _Parser(text)
    els = p.sequence(top=True)
    if p.i != len(p.s):
        raise PatternError(f"unexpected {p.s[p.i :]!r} in pattern {text!r}")
    return _merge(els)


class _Parser:
    def __init__(self, text: str):
        self.s = _strip_space(text.replace("&amp;", "&"))
        self.raw = text
        self.i = 0

    def err(self, what: str) -> PatternError:
        return PatternError(f"{what} at {self.i} in pattern {self.raw!r}")

    def sequence(self, top: bool = False) -> list:
        out: list = []
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in "|)":
                if top:
                    raise self.err(f"unexpected {c!r}")
                break
            if c == "(":
                self.i += 1
                branches = [tuple(_merge(self.sequence()))]
                while self.i < len(s) and s[self.i] == "|":
                    self.i += 1
                    branches.append(tuple(_merge(self.sequence())))
                if self.i >= len(s) or s[self.i] != ")":
                    raise self.err("unclosed '('")
                self.i += 1
                out.append(Alt(tuple(branches)))
            elif c == "[":
                end = s.find("]", self.i)
                if end < 0:
                    raise self.err("unclosed '['")
                out.append(self.bracket(s[self.i + 1 : end]))
                self.i = end + 1
            elif c == "{":
                end = s.find("}", self.i)
                if end < 0:
                    raise self.err("unclosed '{'")
                body = s[self.i + 1 : end]
                lo, _, hi = body.partition("-")
                try:
                    gmin = int(lo)
                    gmax = gmin if not _ else (None if hi == "*" else int(hi))
                except ValueError:
                    raise self.err(f"bad gap {{{body}}}") from None
                out.append(Gap(gmin, gmax))
                self.i = end + 1
            elif c == "*":
                out.append(Gap(0, None))
                self.i += 1
            elif c == "?" and s.startswith("??", self.i):
                out.append(Gap(1, 1))
                self.i += 2
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise self.err("unclosed string")
                out.append(Lit(_text_bytes(self.raw, s[self.i + 1 : end])))
                self.i = end + 1
            elif _HEX.match(s, self.i):
                out.append(Lit(bytes.fromhex(s[self.i : self.i + 2])))
                self.i += 2
            else:
                raise self.err(f"unexpected {c!r}")
        return out

    def bracket(self, body: str) -> Element:
        neg = body.startswith("!")
        if neg:
            body = body[1:]
        if body[:1] in ("&", "~"):
            mask = _hexbyte(body[1:], self)
            if body[0] == "&":
                vals = {b for b in range(256) if b & mask == mask}
            else:
                vals = {b for b in range(256) if b & mask}
            return _class(vals, neg)
        rng = _split_range(body)
        if rng:
            lo_s, hi_s = rng
            lo, hi = _value(lo_s, self), _value(hi_s, self)
            if len(lo) != len(hi):
                raise self.err(f"range ends of different length [{body}]")
            if lo > hi:
                lo, hi = hi, lo
            if len(lo) == 1:
                return _class(set(range(lo[0], hi[0] + 1)), neg)
            alt = Alt(tuple(tuple(b) for b in _range_branches(lo, hi)))
            return Not((alt,), len(lo)) if neg else alt
        val = _value(body, self)
        if len(val) == 1:
            return _class({val[0]}, neg)
        if neg:
            return Not((Lit(val),), len(val))
        return Lit(val)


def _text_bytes(raw: str, text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _strip_space(text: str) -> str:
    """Drop white space outside quoted strings."""
    parts = text.split("'")
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\s+", "", parts[i])
    return "'".join(parts)


def _split_range(body: str) -> tuple[str, str] | None:
    """`lo:hi`, `lo-hi` or `'a'-'b'` into its ends; None if the bracket is no range."""
    if body.startswith("'"):
        end = body.find("'", 1)
        rest = body[end + 1 :]
        return (body[: end + 1], rest[1:]) if rest[:1] in (":", "-") else None
    for sep in (":", "-"):
        if sep in body:
            lo, _, hi = body.partition(sep)
            return lo, hi
    return None


def _value(s: str, p: _Parser) -> bytes:
    if s.startswith("'") and s.endswith("'") and len(s) >= 2:
        return _text_bytes(p.raw, s[1:-1])
    if not s or len(s) % 2 or not all(_HEX.fullmatch(s[i : i + 2]) for i in range(0, len(s), 2)):
        raise p.err(f"bad value {s!r}")
    return bytes.fromhex(s)


def _hexbyte(s: str, p: _Parser) -> int:
    v = _value(s, p)
    if len(v) != 1:
        raise p.err(f"bad mask {s!r}")
    return v[0]


def _class(vals: set, neg: bool) -> Cls:
    if neg:
        vals = set(range(256)) - vals
    if not vals:
        raise PatternError("empty byte class")
    return Cls(frozenset(vals))


def _range_branches(lo: bytes, hi: bytes) -> list[list]:
    """Branches (lists of elements) matching every byte string s with lo <= s <= hi."""
    if len(lo) == 1:
        return [[Cls(frozenset(range(lo[0], hi[0] + 1)))]]
    if lo[0] == hi[0]:
        return [[Lit(lo[:1]), *b] for b in _range_branches(lo[1:], hi[1:])]
    n = len(lo) - 1
    out = [[Lit(lo[:1]), *b] for b in _range_branches(lo[1:], b"\xff" * n)]
    if hi[0] - lo[0] > 1:
        out.append([Cls(frozenset(range(lo[0] + 1, hi[0]))), Gap(n, n)])
    out += [[Lit(hi[:1]), *b] for b in _range_branches(b"\x00" * n, hi[1:])]
    return out


def _merge(els: list) -> tuple:
    """Join adjacent literals and adjacent gaps."""
    out: list = []
    for e in els:
        if out and isinstance(e, Lit) and isinstance(out[-1], Lit):
            out[-1] = Lit(out[-1].data + e.data)
        elif out and isinstance(e, Gap) and isinstance(out[-1], Gap):
            a = out[-1]
            out[-1] = Gap(a.min + e.min, None if a.max is None or e.max is None else a.max + e.max)
        else:
            out.append(e)
    return tuple(out)


# -- properties ---------------------------------------------------------------------------


def length(els: tuple) -> tuple[int, int | None]:
    """Minimum and maximum number of bytes the elements match (max None: unbounded)."""
    lo, hi = 0, 0
    for e in els:
        a, b = _elen(e)
        lo += a
        hi = None if hi is None or b is None else hi + b
    return lo, hi


def _elen(e: Element) -> tuple[int, int | None]:
    if isinstance(e, Lit):
        return len(e.data), len(e.data)
    if isinstance(e, Cls):
        return 1, 1
    if isinstance(e, Gap):
        return e.min, e.max
    if isinstance(e, Not):
        return e.n, e.n
    lens = [length(b) for b in e.branches]
    mx = [h for _, h in lens]
    return min(lo for lo, _ in lens), None if None in mx else max(mx)


def reverse(els: tuple) -> tuple:
    """The elements that match the reversed byte strings."""
    out = []
    for e in reversed(els):
        if isinstance(e, Lit):
            out.append(Lit(e.data[::-1]))
        elif isinstance(e, Alt):
            out.append(Alt(tuple(reverse(b) for b in e.branches)))
        elif isinstance(e, Not):
            out.append(Not(reverse(e.branch), e.n))
        else:
            out.append(e)
    return tuple(out)


def fixed_literals(els: tuple) -> list[tuple[int, bytes]]:
    """Literals at a fixed distance from the start: [(offset, bytes)], until the first variable
    length element."""
    out, off = [], 0
    for e in els:
        a, b = _elen(e)
        if isinstance(e, Lit):
            out.append((off, e.data))
        if a != b:
            break
        off += a
    return out


def literals(els: tuple) -> list[bytes]:
    """Literals every match must contain (outside alternatives)."""
    return [e.data for e in els if isinstance(e, Lit)]


# -- regular expressions ------------------------------------------------------------------


def regex(els: tuple) -> bytes:
    """Source of a bytes regular expression (to compile with re.DOTALL)."""
    return b"".join(_erx(e) for e in els)


def _erx(e: Element) -> bytes:
    if isinstance(e, Lit):
        return re.escape(e.data)
    if isinstance(e, Cls):
        return _class_rx(e.values)
    if isinstance(e, Gap):  # lazy: a match ends as early as it can, leaving room after it
        if e.max is None:
            return b".*?" if e.min == 0 else b".{%d,}?" % e.min
        if e.min == e.max:
            return b"." if e.min == 1 else b".{%d}" % e.min
        return b".{%d,%d}?" % (e.min, e.max)
    if isinstance(e, Not):
        return b"(?!" + regex(e.branch) + b")" + (b".{%d}" % e.n)
    return b"(?:" + b"|".join(regex(b) for b in e.branches) + b")"


def _class_rx(values: frozenset) -> bytes:
    if len(values) == 256:
        return b"."
    if len(values) == 1:
        return re.escape(bytes([next(iter(values))]))
    vs = sorted(values)
    parts, start, prev = [], vs[0], vs[0]
    for v in vs[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(b"\\x%02x" % start if start == prev else b"\\x%02x-\\x%02x" % (start, prev))
        if v is not None:
            start = prev = v
    return b"[" + b"".join(parts) + b"]"


# -- examples (for skeleton files) --------------------------------------------------------


def example(els: tuple) -> bytes:
    """The shortest, lowest byte string the elements match (gaps filled with 0x00)."""
    out = bytearray()
    for e in els:
        if isinstance(e, Lit):
            out += e.data
        elif isinstance(e, Cls):
            out.append(min(e.values))
        elif isinstance(e, Gap):
            out += b"\x00" * e.min
        elif isinstance(e, Alt):
            out += example(e.branches[0])
        else:
            rx = re.compile(regex(e.branch), re.S)
            for b in range(256):
                cand = bytes([b]) * e.n
                if not rx.match(cand):
                    out += cand
                    break
    return bytes(out)
