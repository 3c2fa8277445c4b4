"""A preservation plan run over a set of AIPs (`magazin preserve run`, the web's background
job): each AIP one change through the engine's single change path - a new version in every
location, then the catalog - or, where a conversion or check failed, left as it was and
reported. A run killed half-way is resumed by running it again: an AIP whose newest
representation holds nothing the plan takes (it was migrated already) is skipped."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.db import connections, transaction

from magazin.catalog.models import Unit
from magazin.catalog.services import record_new_events, replace_files
from magazin.catalog.storage import archive_storage
from magazin.core.aip.builder import metadata_files, metadata_newfiles, read_aip
from magazin.core.config import Home
from magazin.core.formats.identify import default_identifier
from magazin.core.formats.validators.pool import ValidatorPool
from magazin.core.i18n import N_
from magazin.core.ids import now, user_id
from magazin.core.preservation.convert import stop_offices
from magazin.core.preservation.migrate import candidates, migrate
from magazin.core.preservation.plans import PLANS, Plan, available
from magazin.core.storage.ocfl import VersionInfo
from magazin.errors import Failure

# the catalog's rows of a migrated AIP are written by one thread at a time: conversions run
# in parallel (--jobs), their few writes wait for each other instead of for SQLite's lock
CATALOG = threading.Lock()


def plan_named(name: str) -> Plan:
    if name not in PLANS:
        raise Failure(N_("no preservation plan {name!r} (plans: {plans})").format(
            name=name, plans=", ".join(PLANS)))  # fmt: skip
    plan = PLANS[name]
    if not available(plan):
        raise Failure(N_("plan {name}: its tool ({tool}) is not available").format(
            name=name, tool=plan.tool))  # fmt: skip
    return plan


def run_plan(home: Home, plan: Plan, roots: list[Unit], user: str, *, dry_run: bool = False,
             jobs: int = 1, progress=None) -> dict:  # fmt: skip
    """`{"plan", "units", "migrated", "skipped", "failed": [{"aid", "path", "reason"}]}`;
    with `dry_run`, "migrated" counts the units that would be migrated."""
    out = {"plan": plan.name, "units": len(roots), "migrated": 0, "skipped": 0, "failed": []}
    lock = threading.Lock()
    if progress is not None:
        progress.start(len(roots), "migrate")
    home.tmp.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="preserve-", dir=home.tmp))
    storage = archive_storage(home)
    identifier = default_identifier(home.path)
    profiles = [work / f"profile-{i}" for i in range(max(1, jobs))]  # one LibreOffice each
    free = list(profiles)

    def one(root: Unit) -> None:
        with lock:
            profile = free.pop()
        try:
            status, failed = _one(home, storage, plan, root, user, dry_run, work, profile, pool,
                                  identifier)  # fmt: skip
        finally:
            with lock:
                free.append(profile)
        with lock:
            out[status] += 1
            out["failed"] += [{"aid": root.aid, "path": p, "reason": r} for p, r in failed]
            if progress is not None:
                progress.advance(1)

    try:
        with ValidatorPool(home.validators, workers=max(1, jobs)) as pool:
            if jobs <= 1:
                for root in roots:
                    one(root)
            else:

                def in_thread(root: Unit) -> None:
                    try:
                        one(root)
                    finally:
                        connections.close_all()  # this thread's own, not the caller's

                with ThreadPoolExecutor(jobs) as ex:
                    list(ex.map(in_thread, roots))
    finally:
        stop_offices(profiles)
        shutil.rmtree(work, ignore_errors=True)
        if progress is not None:
            progress.done()
    return out


def _one(home, storage, plan, root, user, dry_run, work, profile, pool, identifier):
    """("migrated" | "skipped", failures) for one AIP."""
    tenant = root.tenant.slug
    if dry_run:
        desc = read_aip(storage.open(tenant, root.ocfl_id))
        return ("migrated" if candidates(desc, plan) else "skipped"), []
    with storage.change(tenant, root.ocfl_id) as change:
        desc = read_aip(change.head)
        if not candidates(desc, plan):
            return "skipped", []

        @contextlib.contextmanager
        def read(f):
            with storage.verified_file(tenant, root.ocfl_id, f.logical_path, home.tmp) as fh:
                yield Path(fh.name)

        scratch = Path(tempfile.mkdtemp(prefix="aip-", dir=work))
        try:
            m = migrate(desc, plan, read, scratch, profile, pool, identifier, user)
            if m.failed:
                return "skipped", m.failed
            files = m.files + metadata_newfiles(metadata_files(desc, {}))
            message = N_("plan {plan}: {n} file(s) migrated to {target} as {rep}").format(
                plan=plan.name, n=len(m.migrated), target=plan.target, rep=m.representation
            )
            change.commit(files, VersionInfo(now(), message, user, user_id(user)),
                          action="migration", details={"unit": root.aid, "plan": plan.name,
                                                       "representation": m.representation,
                                                       "files": len(m.migrated)})  # fmt: skip
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        with CATALOG, transaction.atomic():
            replace_files(root, desc)
            record_new_events(root, desc.events)
    return "migrated", []
