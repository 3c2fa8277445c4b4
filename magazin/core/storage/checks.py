"""Fixity checks of many copies in worker processes: checking a copy is mostly Python work
per file (open the inventory, list the folder, hash each file), so one process cannot keep
up with `sha512sum`; two processes on two cores can. The workers know no database: they get
(tenant, object id, location names) and return the problems found."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from ..config import load_home
from .fixity import CopyProblem
from .location import LocationUnavailable
from .replicate import Throttle
from .store import Storage

Item = tuple[str, str, list[str]]  # tenant, object id, location names
Result = list[tuple[str, list[CopyProblem]]]  # per location name: its problems

_storage: Storage | None = None
_throttle: Throttle | None = None


def _start(home: str, mb_per_s: float | None) -> None:
    global _storage, _throttle
    _storage = Storage(load_home(Path(home)))
    _throttle = Throttle(mb_per_s)


def check_copy(
    storage: Storage, tenant: str, oid: str, name: str, throttle=None, lock: bool = True
) -> list:
    """One copy's problems (a location that cannot be reached is reported as such). Under
    the object's shared lock, unless the caller holds it already (`lock=False`)."""
    if throttle is not None and not throttle.rate:
        throttle = None  # no limit: nothing to tell of every chunk read
    with storage.locks.shared(oid) if lock else nullcontext():  # not while a version is written
        try:
            return storage.location(name).check(tenant, oid, throttle)
        except LocationUnavailable as e:
            return [CopyProblem(".", f"unreachable: {e}")]


def _check_many(items: list[Item]) -> list[Result]:
    return [[(n, check_copy(_storage, t, oid, n, _throttle)) for n in names]
            for t, oid, names in items]  # fmt: skip


class Checker:
    """Checks copies in `processes` worker processes (in this one for small numbers)."""

    def __init__(self, storage: Storage, processes: int = 2, mb_per_s: float | None = None):
        self.storage = storage
        self.processes = processes
        self.mb_per_s = mb_per_s
        self.pool: ProcessPoolExecutor | None = None
        self.throttle = Throttle(mb_per_s)

    def check(self, items: list[Item]) -> list[Result]:
        if self.processes < 2 or len(items) < 50:
            return [[(n, check_copy(self.storage, t, oid, n, self.throttle)) for n in names]
                    for t, oid, names in items]  # fmt: skip
        if self.pool is None:
            rate = self.mb_per_s / self.processes if self.mb_per_s else None
            self.pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),  # no database handles
                initializer=_start,
                initargs=(str(self.storage.home.path), rate),
            )
        size = max(1, len(items) // (self.processes * 4))
        parts = [items[i : i + size] for i in range(0, len(items), size)]
        return [r for part in self.pool.map(_check_many, parts) for r in part]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
