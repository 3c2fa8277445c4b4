"""Locks on stored objects, so that many processes can work on one archive at once.

A new version is written into an object's folder in steps (content, the version's inventory,
then the root inventory and its sidecar, each replaced on its own). A reader that looked in
between would see files the inventory does not list yet, or an inventory that does not match
its sidecar, and a fixity audit would call an intact copy damaged — and with `--repair`
overwrite a correction being written. So whoever changes an object holds its lock
exclusively, from reading the head version to the last write (two corrections at once then
follow one another instead of both building on the same head), and whoever checks or reads
an object as a whole holds it shared.

The locks are `flock(2)` locks on files in the data folder, which every process on the
machine sees. Objects share a fixed number of lock files (stripes, by a hash of the object
id): the folder does not grow with the archive; two objects on one stripe only wait for each
other.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STRIPES = 4096


class ObjectLocks:
    """The lock files of one data folder (MAGAZIN_HOME/locks)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _file(self, object_id: str) -> Path:
        n = int.from_bytes(hashlib.sha256(object_id.encode()).digest()[:4], "big") % STRIPES
        return self.folder / f"{n:04d}.lock"

    @contextmanager
    def _held(self, object_id: str, mode: int) -> Iterator[None]:
        path = self._file(object_id)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def exclusive(self, object_id: str):
        """Held while an object is changed (a new version, a repair)."""
        return self._held(object_id, fcntl.LOCK_EX)

    def shared(self, object_id: str):
        """Held while an object is checked or read as a whole."""
        return self._held(object_id, fcntl.LOCK_SH)
