"""The single streaming pass: each payload byte is read once, hashed, and written to the
staging folder of every storage location at the same time."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .formats.identify import Identification
from .formats.validators import Validation
from .formats.worker import IdentifyProcess
from .hashing import CHUNK, file_digest
from .i18n import N_
from .problems import ProblemList
from .sip.model import PayloadFile, Transfer
from .storage.ocfl import Dirs


@dataclass
class StagedFile:
    path: str
    size: int
    sha512: str
    declared: dict[str, str]
    copies: list[Path]  # one per location, same order as the locations
    ident: Identification | None = None
    validation: Validation | None = None


class WindowIdentifier(Protocol):
    """Identification from the head and tail bytes seen while copying (see formats)."""

    head_size: int
    tail_size: int

    def identify_windows(
        self, head: bytes, tail: bytes, name: str, path=None
    ) -> Identification: ...


class Progress:
    """Receives progress; the CLI plugs a terminal bar in, everything else ignores it."""

    def start(self, total: int, what: str) -> None: ...

    def advance(self, n: int) -> None: ...

    def done(self) -> None: ...


def _stage_one(
    pf: PayloadFile,
    targets: list[Path],
    problems: ProblemList,
    progress: Progress,
    made: Dirs,
    identifier: IdentifyBeside | None = None,
) -> StagedFile | None:
    hashers = {"sha512": hashlib.sha512()}
    head_n = identifier.head_size if identifier else 0
    tail_n = identifier.tail_size if identifier else 0
    head = bytearray()
    tail: list[bytes] = []  # the last chunks, at least tail_n bytes
    in_tail = 0
    for alg in pf.declared:
        if alg not in hashers:
            hashers[alg] = hashlib.new(alg)
    outs = []
    n = 0
    try:
        for t in targets:
            made.ensure(t.parent)
            outs.append(open(t, "wb"))  # noqa: SIM115
        with pf.opener() as src:
            while chunk := src.read(CHUNK):
                n += len(chunk)
                for h in hashers.values():
                    h.update(chunk)
                for o in outs:
                    o.write(chunk)
                if len(head) < head_n:
                    head += chunk[: head_n - len(head)]
                if tail_n:
                    tail.append(chunk)
                    in_tail += len(chunk)
                    while in_tail - len(tail[0]) >= tail_n:
                        in_tail -= len(tail.pop(0))
                progress.advance(len(chunk))
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        problems.add(pf.path, N_("cannot unpack from the ZIP: {error}").format(error=e), "bad-zip")
        return None
    except OSError as e:
        problems.add(
            pf.path, N_("cannot read or copy: {error}").format(error=e.strerror or e), "unreadable"
        )
        return None
    finally:
        for o in outs:
            o.close()
    if n != pf.size:
        problems.add(
            pf.path,
            N_("size changed while reading: expected {expected} bytes, read {read}").format(
                expected=pf.size, read=n
            ),
            "size-mismatch",
        )
        return None
    digests = {alg: h.hexdigest() for alg, h in hashers.items()}
    ok = True
    for alg, expected in pf.declared.items():
        if digests[alg] != expected.lower():
            problems.add(
                pf.path,
                N_("{algorithm} declared in the SIP is {declared}, the file's is {actual}").format(
                    algorithm=alg, declared=expected, actual=digests[alg]
                ),
                "checksum-mismatch",
            )
            ok = False
    if not ok:
        return None
    sf = StagedFile(pf.path, n, digests["sha512"], dict(pf.declared), list(targets))
    if identifier is not None:
        # identified from the bytes of this one pass; containers open the staged copy
        if n <= head_n:
            identifier.submit(sf, bytes(head), None)
        else:
            identifier.submit(sf, bytes(head), b"".join(tail)[-tail_n:] if tail_n else b"")
    return sf


class IdentifyBeside:
    """Identification beside the copying, which goes on waiting for the disk meanwhile.

    Small transfers: the copying threads hand over the head and tail windows they read, and
    a thread identifies them (at most IDENT_BACKLOG bytes of windows wait: memory stays
    flat). Large transfers: a worker process (identifying holds the GIL, which would slow
    the copying threads), at low priority, reads each file's windows from its staged copy -
    from the page cache, not the disk - once the copies are verified (`release`), while the
    AIPs are stored and the ingest mostly waits for the disk. `wait_for` waits for the
    files one batch of AIPs describes."""

    def __init__(self, identifier: WindowIdentifier, files: int = 0):
        self.identifier = identifier
        self.room = threading.Condition()
        self.waiting = 0  # bytes of windows not yet identified
        self.failure: str | None = None
        self.process = None
        if files >= PROCESS_MIN_FILES and hasattr(identifier, "files"):
            self.process = IdentifyProcess(identifier, on_end=self._ended)
        # windows to keep while copying: none when the worker reads them from the copy
        self.head_size = 0 if self.process else identifier.head_size
        self.tail_size = 0 if self.process else identifier.tail_size
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="identify")
        self.held: list[StagedFile] = []
        self.then: Callable[[StagedFile], None] | None = None  # each file once identified

    def _ended(self, error: str | None) -> None:
        with self.room:
            if error and not self.failure:
                self.failure = error
            self.room.notify_all()

    def _set(self, sf: StagedFile, ident: Identification, size: int = 0) -> None:
        with self.room:
            sf.ident = ident
            self.waiting -= size
            self.room.notify_all()
        if self.then is not None:
            self.then(sf)

    def submit(self, sf: StagedFile, head: bytes, tail: bytes | None) -> None:
        """`tail` None: the file is no longer than the head window, which holds it all."""
        if self.process is not None:
            with self.room:
                self.held.append(sf)  # sent when the copies are verified (see release)
            return
        size = len(head) + (len(tail) if tail is not None else 0)
        with self.room:
            self.room.wait_for(lambda: self.waiting == 0 or self.waiting + size <= IDENT_BACKLOG)
            self.waiting += size

        def run() -> None:
            try:
                t = tail
                if t is None:
                    t = head[-self.tail_size :] if self.tail_size else b""
                self._set(
                    sf, self.identifier.identify_windows(head, t, sf.path, sf.copies[0]), size
                )
            except BaseException as e:
                self._ended(f"{sf.path}: {e!r}")
                raise

        self.pool.submit(run)

    def release(self, order: list[StagedFile] | None = None) -> None:
        """Let the worker process start on the files copied so far (in `order`, if given):
        while files are copied and verified, the CPU has work enough; while AIPs are stored,
        it mostly waits for the disk."""
        if self.process is None:
            return
        with self.room:
            held, self.held = self.held, []
        if order is not None:
            rank = {id(sf): i for i, sf in enumerate(order)}
            held.sort(key=lambda sf: rank.get(id(sf), len(rank)))

        def send() -> None:
            for sf in held:
                self.process.submit(
                    id(sf), sf.path, sf.copies[0], lambda i, sf=sf: self._set(sf, i)
                )

        self.pool.submit(send)

    def wait_for(self, files: list[StagedFile]) -> None:
        """Wait until these files are identified; a failed engine fails the ingest."""
        with self.room:
            self.room.wait_for(
                lambda: self.failure is not None or all(f.ident is not None for f in files)
            )
            if self.failure is not None:
                raise RuntimeError(f"format identification failed: {self.failure}")

    def finish(self) -> None:
        self.release()
        self.pool.shutdown(wait=True)
        if self.process is not None:
            self.process.finish()
        if self.failure is not None:
            raise RuntimeError(f"format identification failed: {self.failure}")

    def abort(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.process is not None:
            self.process.abort()


IDENT_BACKLOG = 64 << 20
PROCESS_MIN_FILES = 200  # below, starting a worker process costs more than it saves


def stage_transfer(
    transfer: Transfer,
    staging_dirs: list[Path],
    problems: ProblemList,
    progress: Progress,
    target: Callable[[str], str] = lambda p: f"payload/{p}",
    extra_folders: list[str] = (),
    identifier: IdentifyBeside | None = None,
) -> dict[str, StagedFile]:
    """Copy every payload file into each staging dir; problems collect every failure.

    The folders are made first, one thread per staging dir: making folders waits on the
    disk, and the two copies usually live on different disks."""
    staged: dict[str, StagedFile] = {}
    folders = sorted(
        {str(Path(target(pf.path)).parent) for pf in transfer.files} | set(extra_folders), key=len
    )

    def make_folders(root: Path) -> Dirs:
        made = Dirs(root)
        for f in folders:
            made.ensure(root / f)
        return made

    with ThreadPoolExecutor(len(staging_dirs)) as pool:
        per_dir = list(pool.map(make_folders, staging_dirs))
    made = Dirs(*staging_dirs)
    for d in per_dir:
        made.made |= d.made
    progress.start(transfer.total_bytes, "copy")

    def stage(pf: PayloadFile) -> None:
        sf = _stage_one(
            pf, [d / target(pf.path) for d in staging_dirs], problems, progress, made, identifier
        )
        if sf is not None:
            staged[pf.path] = sf

    in_threads(stage, transfer.files)
    progress.done()
    problems.items.sort(key=lambda p: p.path)
    return {pf.path: staged[pf.path] for pf in transfer.files if pf.path in staged}


THREADS = 2


def in_threads(fn: Callable, items: list, threads: int = THREADS) -> None:
    """Run `fn` over `items` in a few threads. Creating files waits on the disk and hashing
    releases the GIL, so two threads keep both cores and the disk busy."""
    if threads <= 1 or len(items) < 2:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(lambda k: [fn(x) for x in items[k::threads]], range(threads)):
            pass


def verify_copies(staged: dict[str, StagedFile], problems: ProblemList, progress: Progress) -> None:
    """Re-read every staged copy and compare with the digest computed on the way in."""
    progress.start(sum(s.size * len(s.copies) for s in staged.values()), "verify")

    def verify(sf: StagedFile) -> None:
        for copy in sf.copies:
            if file_digest(copy, "sha512", progress.advance) != sf.sha512:
                problems.add(
                    sf.path,
                    N_("staged copy {copy} differs from the bytes read").format(copy=copy),
                    "copy-mismatch",
                )

    in_threads(verify, list(staged.values()))
    progress.done()
    problems.items.sort(key=lambda p: p.path)


def discard(dirs: list[Path]) -> None:
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
        d.with_name(d.name + ".lock").unlink(missing_ok=True)


def claim(work_dir: Path):
    """Create a work folder and hold an exclusive lock on it while this process lives. The
    lock comes first: a run killed in between leaves a lock file without a folder or a folder
    with a lock nobody holds, both cleaned at once by the next run (a folder without a lock
    file would be kept for hours, as someone else's temporary folder)."""
    work_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(work_dir.with_name(work_dir.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    work_dir.mkdir()
    return fd


STALE_UNLOCKED_SECONDS = 6 * 3600


def clean_stale(staging: Path) -> list[str]:
    """Remove what killed runs left in a staging folder: locked work folders whose lock no
    process holds any more, and unlocked temporary folders older than a few hours."""
    removed = []
    if not staging.is_dir():
        return removed
    now = time.time()
    for entry in sorted(staging.iterdir()):
        if entry.name.endswith(".lock"):
            continue
        lock = entry.with_name(entry.name + ".lock")
        if lock.exists():
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a running ingest owns it
            finally:
                os.close(fd)
        elif now - entry.stat().st_mtime < STALE_UNLOCKED_SECONDS:
            continue
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
        lock.unlink(missing_ok=True)
        removed.append(entry.name)
    for lock in staging.glob("*.lock"):
        if not (staging / lock.name[: -len(".lock")]).exists():
            lock.unlink(missing_ok=True)
    return removed
