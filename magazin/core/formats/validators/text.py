"""Plain text: readable as text - UTF-8, or 8-bit text without control characters (its
encoding is then not known for sure) - and no NUL bytes."""

from __future__ import annotations

import codecs

from ...i18n import N_
from . import Validation, ValidatorPolicy, invalid, valid

CHUNK = 1 << 20
_CONTROL = bytes(sorted(set(range(0, 32)) - {9, 10, 12, 13, 26}))


def validate(path: str, policy: ValidatorPolicy, **_) -> Validation:
    name = "Magazin text check"
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    control = 0
    offset = 0
    with open(path, "rb") as f:
        if f.read(3) != codecs.BOM_UTF8:
            f.seek(0)
        while chunk := f.read(CHUNK):
            if b"\0" in chunk:
                return invalid(name, [N_("NUL byte at offset {offset}: not text").format(
                    offset=offset + chunk.index(b"\0"))])  # fmt: skip
            control += len(chunk) - len(chunk.translate(None, _CONTROL))  # one pass
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            offset += len(chunk)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if control:
        return invalid(name, [N_("{n} control character(s): not plain text").format(n=control)])
    return valid(name, N_("UTF-8 text") if utf8 else N_("8-bit text, not UTF-8 (encoding "
                                                         "not declared)"))  # fmt: skip
