"""Digest of a file, read in chunks so that memory stays flat whatever the file size."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

CHUNK = 1 << 20


def file_digest(
    path: str | os.PathLike[str], alg: str = "sha512", advance: Callable[[int], None] | None = None
) -> str:
    """Hex digest of the file with a hashlib algorithm; `advance` is told of every chunk read."""
    if advance is None:
        with open(path, "rb", buffering=0) as f:
            return hashlib.file_digest(f, alg).hexdigest()  # one reused buffer, no copies
    h = hashlib.new(alg)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if advance is not None:
                advance(len(chunk))
    return h.hexdigest()
