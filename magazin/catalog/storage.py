"""The archive's storage as the catalog uses it: writers of one object serialised by a lock
in the database as well (machines that share the catalog and an S3 store see it, as
ocfl-java does with PostgreSQL), and copies that fail a read marked in the catalog, so that
the next reader starts with an intact copy."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from magazin.core.config import Home
from magazin.core.storage.locks import ObjectLocks
from magazin.core.storage.store import Storage

from .models import Copy

log = logging.getLogger("magazin.storage")


class DatabaseLocks:
    """The machine's object locks (flock), and on PostgreSQL an advisory lock per object
    besides, held by this process's database session while the object changes."""

    def __init__(self, local: ObjectLocks):
        self.local = local

    def shared(self, object_id: str):
        return self.local.shared(object_id)

    @contextmanager
    def exclusive(self, object_id: str) -> Iterator[None]:
        with self.local.exclusive(object_id):
            if connection.vendor != "postgresql":  # SQLite: one machine, the flock suffices
                yield
                return
            key = int.from_bytes(hashlib.sha256(object_id.encode()).digest()[:8], "big",
                                 signed=True)  # fmt: skip
            with connection.cursor() as c:
                c.execute("SELECT pg_advisory_lock(%s)", [key])
            try:
                yield
            finally:
                with connection.cursor() as c:
                    c.execute("SELECT pg_advisory_unlock(%s)", [key])


def archive_storage(home: Home) -> Storage:
    """The one way Django code reaches stored objects."""
    storage = Storage(home, on_read_failure=_read_failed)
    storage.locks = DatabaseLocks(home.locks)
    return storage


def _read_failed(location: str, tenant: str, object_id: str, error: str) -> None:
    log.warning("copy of %s in %s could not be read: %s", object_id, location, error)
    Copy.objects.filter(unit__ocfl_id=object_id, unit__parent=None, location=location).exclude(
        status="missing"
    ).update(status="damaged")
