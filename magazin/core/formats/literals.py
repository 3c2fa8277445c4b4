"""Finding many literal byte strings in one pass over a window.

Hyperscan (SIMD multi-literal search, the python `hyperscan` package) where it is installed,
Aho-Corasick (`ahocorasick-rs`) everywhere else; both give the same answers (tests run both).
For each literal found the scan reports the end of its first occurrence, once: a window full
of one literal costs no more than one that holds it once.
"""

from __future__ import annotations

import os
import threading

try:  # pragma: no cover - depends on the platform's wheels
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None

BACKEND = (
    "hyperscan"
    if _hs is not None and not os.environ.get("MAGAZIN_NO_HYPERSCAN")
    else "aho-corasick"
)


class LiteralScan:
    """Literals compiled for scanning; `scan(buf)` -> {index: end offset}."""

    def __init__(self, literals: list[bytes], backend: str | None = None):
        self.literals = literals
        self.backend = backend or BACKEND
        if not literals:
            self._scan = lambda buf: {}
        elif self.backend == "hyperscan":
            self._scan = self._hyperscan(literals)
        else:
            self._scan = self._aho_corasick(literals)

    def scan(self, buf: bytes) -> dict[int, int]:
        return self._scan(buf) if buf else {}

    @staticmethod
    def _hyperscan(literals: list[bytes]):
        db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        exprs = ["".join(f"\\x{b:02x}" for b in lit).encode() for lit in literals]
        db.compile(
            expressions=exprs,
            ids=list(range(len(literals))),
            elements=len(literals),
            flags=[_hs.HS_FLAG_SINGLEMATCH] * len(literals),
        )

        local = threading.local()  # hyperscan's scratch space is per thread

        def scan(buf: bytes) -> dict[int, int]:
            scratch = getattr(local, "scratch", None)
            if scratch is None:
                scratch = local.scratch = _hs.Scratch(db)
            found: dict[int, int] = {}

            def on(i, _start, end, _flags, _ctx):
                found[i] = end  # SINGLEMATCH: once, the first

            db.scan(buf, match_event_handler=on, scratch=scratch)
            return found

        return scan

    @staticmethod
    def _aho_corasick(literals: list[bytes]):
        from ahocorasick_rs import BytesAhoCorasick, Implementation

        ac = BytesAhoCorasick(literals, implementation=Implementation.DFA)

        def scan(buf: bytes) -> dict[int, int]:
            found: dict[int, int] = {}
            for i, _start, end in ac.find_matches_as_indexes(buf, overlapping=True):
                if i not in found or end < found[i]:
                    found[i] = end
            return found

        return scan
