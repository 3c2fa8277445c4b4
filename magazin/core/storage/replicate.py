"""Filling a location with every object of every tenant from the archive's other locations:
how an archive moves to new storage (replicate, then retire the old location).

Each object is copied from the first location in read order whose copy opens, under the
object's lock, and verified on the way (see Location.store_object); an object the target
holds at the same head already is skipped, so a run killed half-way resumes where it
stopped. A copy that is an older state of the object gets the versions it lacks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .location import Location
from .ocfl import OcflError, OcflObject
from .store import Storage

UPLOADS = 8  # objects copied at once to a location that uploads (S3)


@dataclass
class ReplicationReport:
    location: str
    objects: int = 0
    copied: int = 0
    completed: int = 0  # older copies brought to the head
    skipped: int = 0  # held at the same head already
    bytes: int = 0
    failed: list[dict] = field(default_factory=list)
    stored: list[tuple[str, str]] = field(default_factory=list)  # held now: (tenant, id)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "stored"}


class Throttle:
    """At most `mb_per_s` megabytes per second on average (None: no limit)."""

    def __init__(self, mb_per_s: float | None):
        self.rate = mb_per_s * 1_000_000 if mb_per_s else None
        self.start = time.monotonic()
        self.done = 0

    def account(self, nbytes: int) -> None:
        self.done += nbytes
        if self.rate:
            ahead = self.done / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)

    advance = account  # as a progress receiver: checks read through it


def object_bytes(obj: OcflObject) -> int:
    """The bytes of an object's content (from the inventory and the store's sizes where the
    inventory does not say: OCFL inventories carry no sizes)."""
    sizes = getattr(obj, "sizes", None)
    if sizes is not None:
        return sum(sizes.get(p, 0) for p in obj.content_files())
    local = [obj.local_file(p) for p in obj.content_files()]
    return sum(p.stat().st_size for p in local if p is not None and p.exists())


def replicate(
    storage: Storage,
    target: Location,
    progress=None,
    mb_per_s: float | None = None,
    on_stored: Callable[[str, str], None] | None = None,
) -> ReplicationReport:
    """Copy every object the other locations hold into `target` (see module docstring);
    `on_stored(tenant, object_id)` after each object is in place (the catalog's copies)."""
    report = ReplicationReport(target.name)
    sources = [loc for loc in storage.read_order() if loc is not target]
    throttle = Throttle(mb_per_s)
    tenants = sorted({t for src in sources for t in src.tenants()})
    work = []
    for tenant in tenants:
        seen: set[str] = set()
        for src in sources:
            for rel in src.object_paths(tenant):
                if rel not in seen:
                    seen.add(rel)
                    work.append((tenant, rel))
    if progress is not None:
        progress.start(len(work), "replicate")
    for tenant in tenants:
        target.ensure_root(tenant)
    mutex = threading.Lock()

    def one(item: tuple[str, str]) -> None:
        tenant, rel = item
        try:
            _replicate_one(storage, sources, target, tenant, rel, report, throttle, mutex)
        except OcflError as e:
            with mutex:
                report.failed.append({"tenant": tenant, "object": rel, "error": str(e)})
        if progress is not None:
            progress.advance(1)

    report.objects = len(work)
    if target.stores_by_rename:
        for item in work:
            one(item)
    else:  # uploads wait on the network: several objects at once
        with ThreadPoolExecutor(UPLOADS) as pool:
            list(pool.map(one, work))
    if on_stored is not None:
        for tenant, oid in report.stored:
            on_stored(tenant, oid)
    if progress is not None:
        progress.done()
    return report


def _replicate_one(storage, sources, target, tenant, rel, report, throttle, mutex) -> None:
    src = None
    for loc in sources:
        try:
            src = loc.open_path(tenant, rel)
            break
        except OcflError:
            continue
    if src is None:
        raise OcflError(f"{tenant}/{rel}: no readable copy in any other location")
    with storage.locks.exclusive(src.id):
        src = next(o for _l, o in storage.copies(tenant, src.id, avoid=[target.name]))
        try:
            have = target.open(tenant, src.id) if target.has_object(tenant, src.id) else None
        except OcflError:
            have = None  # a damaged copy: replaced whole
        if have is not None and have.head == src.head:
            with mutex:
                report.skipped += 1
                report.stored.append((tenant, src.id))
            return
        if have is not None and _older_state(have, src):
            for n in range(int(have.head[1:]) + 1, int(src.head[1:]) + 1):
                storage.bring_version(src, target, tenant, f"v{n}")
            with mutex:
                report.completed += 1
        else:
            nbytes = object_bytes(src)
            target.store_object(tenant, src)
            with mutex:
                report.copied += 1
                report.bytes += nbytes
                throttle.account(nbytes)
    with mutex:
        report.stored.append((tenant, src.id))


def _older_state(have: OcflObject, src: OcflObject) -> bool:
    """Is `have` the same object at an earlier version?"""
    versions = have.inventory["versions"]
    return int(have.head[1:]) < int(src.head[1:]) and all(
        src.inventory["versions"].get(v) == d for v, d in versions.items()
    )
