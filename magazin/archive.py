"""Opening the archive: the data folder (MAGAZIN_HOME) and the catalog's schema.

Only `magazin init` creates an archive; every other command and the web application open an
existing one and refuse a folder without it (core.config.NoArchive), so that a command run
from the wrong place never starts a second, empty archive. Opening also brings the catalog's
schema up to date — once, under a lock, however many processes start at the same moment.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

from magazin.core.config import Home, init_home, load_home

# the key of the PostgreSQL advisory lock that serialises schema migrations ("MAGAZIN1")
_MIGRATION_LOCK = 0x4D4147415A494E31


def init_archive(path: Path | None = None) -> Home:
    """Create the archive where there is none (magazin.toml, secret key, folders, schema);
    an existing one is checked and left as it is."""
    home = init_home(path)
    key = home.path / "secret_key"
    if not key.exists():
        tmp = home.path / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, key)  # never replaces a key another `init` wrote meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return open_archive(home.path)


def open_archive(path: Path | None = None) -> Home:
    """The existing archive, its working folders present and its catalog schema current."""
    home = load_home(path)
    old = home.path / "journal"  # the recovery folder's name before the journal came
    if old.is_dir() and not home.recovery.exists():
        os.replace(old, home.recovery)
    for d in (home.quarantine, home.recovery, home.tmp):
        d.mkdir(parents=True, exist_ok=True)
    migrate(home)
    return home


def migrate(home: Home) -> None:
    """Apply the catalog's outstanding migrations, one process at a time."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def pending() -> bool:
        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))

    if not pending():
        return
    with _exclusive(home):
        if pending():  # another process may have done it while this one waited
            call_command("migrate", verbosity=0, interactive=False)


@contextmanager
def _exclusive(home: Home):
    """A lock over processes on this machine (a file in the data folder) and, on
    PostgreSQL, over machines (an advisory lock)."""
    from django.db import connection

    with open(home.path / ".migrate.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as c:
                    c.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK])
                try:
                    yield
                finally:
                    with connection.cursor() as c:
                        c.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATION_LOCK])
            else:
                yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
