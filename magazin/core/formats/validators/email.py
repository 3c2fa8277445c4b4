"""E-mail (EML, RFC 5322 / MIME): parsed strictly - every defect Python's parser finds is
reported (its lenient default alone never fails) - plus what RFC 5322 requires of every
message: a From and a Date header, lines of at most 998 characters, headers in ASCII."""

from __future__ import annotations

import email
import email.policy
import sys

from ...i18n import N_
from . import Validation, ValidatorPolicy, invalid, valid

MAX_LINE = 998


def tool() -> str:
    v = sys.version_info
    return f"Python email {v.major}.{v.minor}.{v.micro} (strict RFC 5322)"


def validate(path: str, policy: ValidatorPolicy, **_) -> Validation:
    name = tool()
    problems: list[str] = []
    in_header = True
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if len(line.rstrip(b"\r\n")) > MAX_LINE:
                problems.append(N_("line {n} is longer than 998 characters").format(n=number))
            if in_header:
                if line in (b"\r\n", b"\n"):
                    in_header = False
                elif any(b > 127 for b in line):
                    problems.append(N_("header line {n} is not ASCII").format(n=number))
        f.seek(0)
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    parts = 0
    for part in msg.walk():
        parts += 1
        for d in part.defects:
            problems.append(f"{type(d).__name__}: {d}".rstrip(": "))
        for key, value in part.items():
            for d in getattr(value, "defects", ()):
                problems.append(f"{key}: {type(d).__name__}: {d}".rstrip(": "))
    for header in ("From", "Date"):
        if msg[header] is None:
            problems.append(N_("no {header} header (RFC 5322 requires it)").format(header=header))
    if problems:
        return invalid(name, problems)
    return valid(name, N_("RFC 5322 message, {n} MIME part(s), no defects").format(n=parts))
