"""The archive's storage as one thing: its locations, the rule for which copy is read, and the
one way a stored object changes.

Reading: replica locations in the configured order, then the others; a copy known to be
bad is skipped, a copy that fails to open is recorded (`on_read_failure`) and the next one
used.

Changing (`Storage.change`): under the object's exclusive lock, the head is read, the new
version staged and verified, a journal entry written, and the version committed in every
location that holds the object, each with its own guarantee of all-or-nothing (see
location.py). A run killed half-way leaves the journal entry; the next change of the object,
an audit or the worker (`recover`) completes it: the version is brought to every copy that
lacks it, and the catalog is told to re-read the object. Nothing else writes OCFL.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..config import Home, LocationConfig
from ..hashing import CHUNK, file_digest
from .location import FilesystemLocation, Location, LocationUnavailable, ObjectMissing
from .ocfl import NewFile, OcflError, OcflObject, VersionInfo, next_version, stage_version
from .s3 import S3Location

ReadFailure = Callable[[str, str, str, str], None]  # location, tenant, object id, error


def open_location(config: LocationConfig, home_path: Path) -> Location:
    """The location a [[locations]] entry of magazin.toml describes."""
    if config.type == "s3":
        return S3Location(config, home_path / "staging" / config.name)
    return FilesystemLocation(config)


class Storage:
    """Every location of one archive (see the module docstring)."""

    def __init__(self, home: Home, on_read_failure: ReadFailure | None = None):
        self.home = home
        self.locations: list[Location] = [open_location(c, home.path) for c in home.locations]
        self._by_name = {loc.name: loc for loc in self.locations}
        self.replicas: list[Location] = [self._by_name[n] for n in home.replication]
        self.locks = home.locks
        self.on_read_failure = on_read_failure

    def location(self, name: str) -> Location:
        try:
            return self._by_name[name]
        except KeyError:
            raise LocationUnavailable(f"no storage location named {name!r}") from None

    def read_order(self) -> list[Location]:
        """Replica locations in the configured order, then the others."""
        return self.replicas + [loc for loc in self.locations if loc not in self.replicas]

    # -- reading --------------------------------------------------------------------------

    def _failed(self, loc: Location, tenant: str, object_id: str, error: Exception) -> None:
        if self.on_read_failure is not None:
            self.on_read_failure(loc.name, tenant, object_id, str(error))

    def copies(
        self, tenant: str, object_id: str, avoid: Iterable[str] = ()
    ) -> Iterator[tuple[Location, OcflObject]]:
        """The readable copies of an object with their locations, in read order; copies
        that fail to open are recorded."""
        avoid = set(avoid)
        for loc in self.read_order():
            if loc.name in avoid:
                continue
            try:
                obj = loc.open(tenant, object_id)
            except ObjectMissing:
                continue
            except (OcflError, OSError) as e:
                self._failed(loc, tenant, object_id, e)
                continue
            yield loc, obj

    def open(self, tenant: str, object_id: str, avoid: Iterable[str] = ()) -> OcflObject:
        """The copy to read from (ObjectMissing if no location holds a readable one)."""
        for _loc, obj in self.copies(tenant, object_id, avoid):
            return obj
        raise ObjectMissing(f"{object_id}: no readable copy in any storage location")

    def verified_file(self, tenant: str, object_id: str, logical_path: str, tmp: Path) -> BinaryIO:
        """An open file holding the logical file's bytes, read from the first copy whose
        bytes match the inventory's digest (a file on disk, or a temporary copy in `tmp` of
        bytes from S3, removed when closed)."""
        last: Exception | str = "no copy"
        for loc, obj in self.copies(tenant, object_id):
            digest = obj.state()[logical_path]  # KeyError: no such file in the object
            rel = obj.inventory["manifest"][digest][0]
            local = obj.local_file(rel)
            try:
                if local is not None:
                    if file_digest(local, obj.digest_algorithm) == digest:
                        return open(local, "rb")  # noqa: SIM115 - the caller closes it
                    last = f"{loc.name}: {rel} does not match its digest"
                    self._failed(loc, tenant, object_id, Exception(last))
                    continue
                f = tempfile.NamedTemporaryFile(dir=tmp)  # noqa: SIM115 - the caller closes it
                h = hashlib.new(obj.digest_algorithm)
                with obj.open_content(rel) as src:
                    while chunk := src.read(CHUNK):
                        h.update(chunk)
                        f.write(chunk)
                if h.hexdigest() == digest:
                    f.seek(0)
                    return f
                f.close()
                last = f"{loc.name}: {rel} does not match its digest"
                self._failed(loc, tenant, object_id, Exception(last))
            except (OcflError, OSError) as e:
                self._failed(loc, tenant, object_id, e)
                last = e
        raise ObjectMissing(f"{object_id}: {logical_path}: no intact copy ({last})")

    def holders(self, tenant: str, object_id: str) -> list[Location]:
        """Replica locations holding a copy (an object absent from one is an audit matter)."""
        return [loc for loc in self.replicas if loc.has_object(tenant, object_id)]

    # -- changing -------------------------------------------------------------------------

    def _journal(self, object_id: str) -> Path:
        h = hashlib.sha256(object_id.encode()).hexdigest()[:40]
        return self.home.journal / "changes" / f"{h}.json"

    @contextmanager
    def change(self, tenant: str, object_id: str) -> Iterator[Change]:
        """Change one stored object: `with storage.change(t, oid) as ch: ch.head …
        ch.commit(files, version)`, then the catalog; the journal entry goes when the block
        ends without error (a killed run leaves it for `recover`)."""
        with self.locks.exclusive(object_id):
            self._complete(tenant, object_id)
            ch = Change(self, tenant, object_id)
            yield ch
            if ch.journal is not None:
                ch.journal.unlink(missing_ok=True)

    def pending(self) -> list[dict]:
        """Changes a killed run left (journal entries)."""
        d = self.home.journal / "changes"
        out = []
        for p in sorted(d.glob("*.json")) if d.is_dir() else []:
            try:
                out.append({**json.loads(p.read_text("utf-8")), "_path": str(p)})
            except (OSError, ValueError):
                p.unlink(missing_ok=True)
        return out

    def recover(self, refresh: Callable[[str, str], None]) -> list[str]:
        """Complete what killed changes left: each object's version brought to every copy,
        then `refresh(tenant, object_id)` re-reads it into the catalog. Returns the ids."""
        done = []
        for entry in self.pending():
            tenant, oid = entry["tenant"], entry["object_id"]
            with self.locks.exclusive(oid):
                path = Path(entry["_path"])
                if not path.exists():
                    continue  # completed by another process meanwhile
                self._complete(tenant, oid)
                refresh(tenant, oid)
                path.unlink(missing_ok=True)
            done.append(oid)
        return done

    def _complete(self, tenant: str, object_id: str) -> None:
        """Bring every copy of the object to the newest version any copy holds (the caller
        holds the object's lock)."""
        holders = self.holders(tenant, object_id)
        for loc in holders:
            loc.finish_version(tenant, object_id)
        if len(holders) < 2:
            return
        heads = {}
        for loc in holders:
            try:
                heads[loc.name] = loc.open(tenant, object_id)
            except OcflError:
                continue  # a damaged copy: the audit repairs it
        if not heads:
            return
        newest = max(heads.values(), key=lambda o: int(o.head[1:]))
        for loc in holders:
            obj = heads.get(loc.name)
            if obj is None or obj.head == newest.head:
                continue
            if obj.inventory["versions"] != {
                v: newest.inventory["versions"][v] for v in obj.inventory["versions"]
            }:
                continue  # not an older state of the same history: for the audit
            for n in range(int(obj.head[1:]) + 1, int(newest.head[1:]) + 1):
                self.bring_version(newest, loc, tenant, f"v{n}")

    def bring_version(self, src: OcflObject, loc: Location, tenant: str, vname: str) -> None:
        """Copy one version of an object from another copy to `loc`."""
        inv = _inventory_at(src.inventory, vname)
        vdir_parent = Path(tempfile.mkdtemp(prefix="bring-", dir=loc.staging_area()))
        try:
            vdir = vdir_parent / vname
            for rel in [p for p in src.content_files() if p.startswith(vname + "/")]:
                target = vdir_parent / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with src.open_content(rel) as f, open(target, "wb") as out:
                    while chunk := f.read(CHUNK):
                        out.write(chunk)
            stage_version(vdir, inv, [])
            loc.commit_version(tenant, src.id, vdir, inv)
        finally:
            shutil.rmtree(vdir_parent, ignore_errors=True)


def _inventory_at(inv: dict, vname: str) -> dict:
    """The inventory as it was when `vname` was the head version."""
    n = int(vname[1:])
    versions = {v: d for v, d in inv["versions"].items() if int(v[1:]) <= n}
    manifest = {}
    for digest, paths in inv["manifest"].items():
        kept = [p for p in paths if int(p.split("/", 1)[0][1:]) <= n]
        if kept:
            manifest[digest] = kept
    return {**inv, "head": vname, "manifest": manifest, "versions": versions}


class Change:
    """One change of a stored object, inside `Storage.change`."""

    def __init__(self, storage: Storage, tenant: str, object_id: str):
        self.storage = storage
        self.tenant = tenant
        self.object_id = object_id
        self.head: OcflObject = storage.open(tenant, object_id)
        self.journal: Path | None = None

    def commit(
        self,
        files: list[NewFile],
        version: VersionInfo,
        remove: Iterable[str] = (),
        carry_state: bool = True,
    ) -> str:
        """The new version, staged and verified, then committed in every location holding
        the object; returns its name (v2, …). Without `carry_state`, the version's state is
        `files` alone."""
        inv, new, _held = next_version(
            copy.deepcopy(self.head.inventory), files, version, carry_state, remove
        )
        vname = inv["head"]
        targets = self.storage.holders(self.tenant, self.object_id)
        staged: list[tuple[Location, Path]] = []
        try:
            for loc in targets:
                parent = Path(tempfile.mkdtemp(prefix="version-", dir=loc.staging_area()))
                staged.append((loc, parent))
                stage_version(parent / vname, inv, new)
                for content_path, nf in new:  # what goes into storage is what was meant
                    if file_digest(parent / content_path, "sha512") != nf.sha512:
                        raise OcflError(
                            f"{loc.name}: staged {content_path} differs from its digest"
                        )
            self.journal = self.storage._journal(self.object_id)
            _write_json(self.journal, {"tenant": self.tenant, "object_id": self.object_id,
                                       "version": vname})  # fmt: skip
            for loc, parent in staged:
                loc.commit_version(self.tenant, self.object_id, parent / vname, inv)
        finally:
            for _loc, parent in staged:
                shutil.rmtree(parent, ignore_errors=True)
        self.head = self.storage.open(self.tenant, self.object_id)
        return vname


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), "utf-8")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
