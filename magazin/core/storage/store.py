"""The archive's storage as one thing: its locations, the rule for which copy is read, and the
one way a stored object changes.

Reading: replica locations in the configured order, then the others; a copy known to be
bad is skipped, a copy that fails to open is recorded (`on_read_failure`) and the next one
used.

Changing (`Storage.change`): under the object's exclusive lock, the head is read, the new
version staged and verified, a recovery record written, the version committed in every
location that holds the object, each with its own guarantee of all-or-nothing (see
location.py), and the action entered in the tenant's journal. A run killed half-way leaves
the recovery record; the next change of the object, an audit or the worker (`recover`)
completes it: the version is brought to every copy that lacks it, journaled if it was not,
and the catalog is told to re-read the object. New small objects (`Storage.create`) go the
same way. Nothing else writes OCFL.
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
from ..evidence.journal import Journal, Planned, Touched, inventory_digest
from ..hashing import CHUNK, file_digest
from .location import (
    FilesystemLocation,
    Location,
    LocationUnavailable,
    ObjectMissing,
    create_object,
)
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
        self._journals: dict[str, Journal] = {}

    def journal(self, tenant: str) -> Journal:
        """The tenant's archive journal."""
        if tenant not in self._journals:
            self._journals[tenant] = Journal(self, tenant)
        return self._journals[tenant]

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

    def _recovery(self, object_id: str) -> Path:
        h = hashlib.sha256(object_id.encode()).hexdigest()[:40]
        return self.home.recovery / "changes" / f"{h}.json"

    def _resume(self, tenant: str, object_id: str) -> None:
        """Complete what a killed change of the object left: every copy brought to the
        newest version, and that version journaled if it was not (the caller holds the
        object's lock)."""
        self._complete(tenant, object_id)
        try:
            entry = json.loads(self._recovery(object_id).read_text("utf-8"))
        except (OSError, ValueError):
            return
        self._journal_left(entry)

    def _journal_left(self, entry: dict) -> None:
        planned = Planned.from_dict(entry.get("journal"))
        if planned is None:
            return
        tenant, oid, vname = entry["tenant"], entry["object_id"], entry["version"]
        try:
            obj = self.open(tenant, oid)
        except ObjectMissing:
            return  # the object never got stored: nothing happened
        if vname not in obj.inventory["versions"]:
            return  # the version never got stored
        journal = self.journal(tenant)
        if not journal.has(oid, vname, int(entry.get("since", 0))):
            journal.append(planned.action, planned.user,
                           [Touched(oid, vname, inventory_digest(obj, vname))],
                           planned.details)  # fmt: skip

    def _record(self, tenant: str, object_id: str, version: str,
                planned: Planned | None) -> Path:  # fmt: skip
        path = self._recovery(object_id)
        since = self.journal(tenant).head_seq() if planned else 0
        _write_json(path, {"tenant": tenant, "object_id": object_id, "version": version,
                           "journal": planned.as_dict() if planned else None,
                           "since": since})  # fmt: skip
        return path

    @contextmanager
    def change(self, tenant: str, object_id: str) -> Iterator[Change]:
        """Change one stored object: `with storage.change(t, oid) as ch: ch.head …
        ch.commit(files, version, action=…)`, then the catalog; the recovery record goes when
        the block ends without error (a killed run leaves it for `recover`)."""
        with self.locks.exclusive(object_id):
            self._resume(tenant, object_id)
            ch = Change(self, tenant, object_id)
            yield ch
            if ch.journal is not None:
                ch.journal.unlink(missing_ok=True)

    def create(self, tenant: str, object_id: str, files: list[NewFile], version: VersionInfo,
               action: str | None, details: dict | None = None) -> bool:  # fmt: skip
        """A new object of small files in every replica location where it is absent; a new
        object is entered in the journal as `action` (None: not journaled - the journal's
        own objects). Returns whether it was new."""
        with self.locks.exclusive(object_id):
            self._resume(tenant, object_id)
            new = not self.holders(tenant, object_id)
            planned = Planned(action, version.user_name, details or {}) if action and new else None
            record = self._record(tenant, object_id, "v1", planned)
            digest = create_object(self.replicas, tenant, object_id, files, version)
            if planned is not None and digest is not None:
                self.journal(tenant).append(planned.action, planned.user,
                                            [Touched(object_id, "v1", digest)],
                                            planned.details)  # fmt: skip
            record.unlink(missing_ok=True)
        return new

    def pending(self) -> list[dict]:
        """Changes a killed run left (recovery records)."""
        d = self.home.recovery / "changes"
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
                self._journal_left(entry)
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
        *,
        action: str | None,
        details: dict | None = None,
    ) -> str:
        """The new version, staged and verified, then committed in every location holding
        the object, and entered in the tenant's journal as `action` (None: the journal's own
        objects only); returns its name (v2, …). Without `carry_state`, the version's state
        is `files` alone."""
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
            planned = Planned(action, version.user_name, details or {}) if action else None
            self.journal = self.storage._record(self.tenant, self.object_id, vname, planned)
            for loc, parent in staged:
                loc.commit_version(self.tenant, self.object_id, parent / vname, inv)
        finally:
            for _loc, parent in staged:
                shutil.rmtree(parent, ignore_errors=True)
        self.head = self.storage.open(self.tenant, self.object_id)
        if planned is not None:
            self.storage.journal(self.tenant).append(
                planned.action, planned.user,
                [Touched(self.object_id, vname, inventory_digest(self.head, vname))],
                planned.details)  # fmt: skip
        return vname


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), "utf-8")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
