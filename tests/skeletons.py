"""Skeleton files made from signatures, as DROID's and siegfried's skeleton suites are: the
bytes each byte sequence asks for at its smallest offset, gaps filled with 0x00, the first
alternative and the lowest byte of every range. Container skeletons are ZIPs (or OLE2 files,
see cfb.py) holding the named files with their own skeleton content."""

from __future__ import annotations

import io
import zipfile

from magazin.core.formats import pattern as P
from magazin.core.formats.signatures import ContainerSignature, InternalSignature


def _example(els: tuple) -> tuple[bytes, list[bool]]:
    """Bytes for the elements and which of them the pattern fixes (gaps are free)."""
    out, mask = bytearray(), []
    for e in els:
        if isinstance(e, P.Gap):
            out += b"\x00" * e.min
            mask += [False] * e.min
        elif isinstance(e, P.Alt):
            b, m = _example(e.branches[0])
            out += b
            mask += m
        else:
            b = P.example((e,))
            out += b
            mask += [True] * len(b)
    return bytes(out), mask


def _canvas(seqs) -> tuple[bytearray, list[bool]]:
    canvas, fixed = bytearray(), []
    for seq in seqs:
        pos = 0
        for i, sub in enumerate(seq.subsequences):
            if i == 0 and (sub.max_offset is None or len(canvas) <= sub.max_offset):
                pos = max(sub.min_offset, len(canvas))  # after what is there, as upstream
            else:
                pos += sub.min_offset
            b, m = _example(sub.elements)
            end = pos + len(b)
            if len(canvas) < end:
                fixed += [False] * (end - len(canvas))
                canvas += b"\x00" * (end - len(canvas))
            for i, (byte, f) in enumerate(zip(b, m, strict=True)):
                if f and not fixed[pos + i]:
                    canvas[pos + i] = byte
                    fixed[pos + i] = True
            pos = end
    return canvas, fixed


def skeleton(sig: InternalSignature) -> bytes:
    head, _ = _canvas([s for s in sig.sequences if s.reference == "bof"])
    var = b"".join(bytes(_canvas([s])[0]) for s in sig.sequences if s.reference == "var")
    rtail, _ = _canvas([s for s in sig.sequences if s.reference == "eof"])
    return bytes(head) + var + bytes(rtail[::-1])


def container_skeleton(cs: ContainerSignature) -> bytes:
    files = {cf.path: (skeleton(cf.signatures[0]) if cf.signatures else b"") for cf in cs.files}
    if cs.container == "ZIP":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path, data in files.items():
                if path.endswith("/"):
                    z.writestr(zipfile.ZipInfo(path), b"")
                else:
                    z.writestr(path, data)
        return buf.getvalue()
    from .cfb import write_cfb

    return write_cfb(files)
