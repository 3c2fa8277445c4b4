"""Storage locations: places that hold one OCFL 1.1 storage root per tenant (layout 0003).

`Location` is the one interface the rest of Magazin stores and reads through; `filesystem`
(a folder) and `s3` (a bucket of any S3-compatible store, `s3.S3Location`) are its kinds.
What every kind guarantees: an object or a new version of one becomes visible in one step,
complete, or not at all; what a killed writer left is invisible and found by the next one.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..config import LocationConfig
from ..hashing import CHUNK, file_digest
from . import layout
from .fixity import CopyProblem, check_object
from .ocfl import (
    OBJECT_DECL,
    FolderObject,
    OcflError,
    OcflObject,
    build_object,
    init_storage_root,
    iter_object_roots,
)
from .validate import validate_object

_libc = None


class ObjectMissing(OcflError):
    """The location holds no (visible) object with this id."""


class LocationUnavailable(OcflError):
    """The location cannot be reached or refuses to work (a clear message names it)."""


def _syncfs(path: Path) -> None:
    """Flush one file system (one call per batch instead of one fsync per file)."""
    global _libc
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(_libc, "syncfs") or _libc.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def object_files(obj: OcflObject) -> list[str]:
    """Every file of an object, relative to its root, in the order a copy writes them: content
    first, then each version's inventory, the declaration and the root inventory last."""
    files = sorted(obj.content_files())
    for v in sorted(obj.inventory["versions"], key=lambda v: int(v[1:])):
        files += [f"{v}/inventory.json.sha512", f"{v}/inventory.json"]
    return [*files, OBJECT_DECL, "inventory.json.sha512", "inventory.json"]


class Location:
    """A place holding one OCFL storage root per tenant (see the module docstring)."""

    name: str
    kind: str
    # builds its objects in a staging folder of its own and renames them into place (a file
    # system); otherwise it takes them from any local build (S3 uploads)
    stores_by_rename = False

    def describe(self) -> str:
        """Where the location is, for operators (never credentials)."""
        raise NotImplementedError

    # -- reading --------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        raise NotImplementedError

    def object_paths(self, tenant: str) -> Iterator[str]:
        """The path of every object below the tenant's storage root."""
        raise NotImplementedError

    def open_path(self, tenant: str, rel: str) -> OcflObject:
        """The object at this path below the tenant's storage root (ObjectMissing if none)."""
        raise NotImplementedError

    def open(self, tenant: str, object_id: str) -> OcflObject:
        return self.open_path(tenant, layout.object_path(object_id))

    def has_object(self, tenant: str, object_id: str) -> bool:
        raise NotImplementedError

    def validate(self, tenant: str, rel: str) -> list[str]:
        """What is structurally wrong with the object at `rel` (without reading content)."""
        raise NotImplementedError

    def check(self, tenant: str, object_id: str, progress=None) -> list[CopyProblem]:
        """Everything wrong with this location's copy (empty: intact)."""
        raise NotImplementedError

    def pending_version(self, tenant: str, object_id: str) -> dict | None:
        """The inventory of a version written completely (its inventory is there) whose
        root inventory was not replaced yet: a writer was killed in between."""
        raise NotImplementedError

    def usage(self) -> dict:
        """{"objects", "bytes", "free"} (free None where the store does not say): counted
        in storage, so as long as the location is large."""
        raise NotImplementedError

    def free(self) -> int | None:
        """Bytes free, where the store says (cheap)."""
        return None

    def reachable(self) -> bool:
        """Does the location answer (cheap, writes nothing)?"""
        raise NotImplementedError

    def probe(self) -> dict:
        """{"reachable", "writable", "conditional_writes", "object_lock"}."""
        raise NotImplementedError

    # -- writing --------------------------------------------------------------------------

    def staging_area(self) -> Path:
        """A local folder where new objects and versions are built for this location."""
        raise NotImplementedError

    def ensure_root(self, tenant: str) -> None:
        raise NotImplementedError

    def store_object(
        self, tenant: str, src: OcflObject, move: bool = False, sync: bool = True
    ) -> None:
        """Store a complete object (built in staging, or another location's intact copy);
        it becomes visible in one step, complete. An existing copy is replaced (a repair).
        With `move`, a built folder may be moved instead of copied; without `sync`, the
        caller flushes (`sync_all`, once for a batch)."""
        raise NotImplementedError

    def commit_version(self, tenant: str, object_id: str, vdir: Path, inv: dict) -> None:
        """Add the version staged in `vdir` (content and inventory) to the stored object: it
        becomes visible with its inventory; the root inventory is replaced after it."""
        raise NotImplementedError

    def finish_version(self, tenant: str, object_id: str) -> bool:
        """Complete a version a killed writer left without its root inventory; True if it
        did. Leftovers of a version without its inventory are removed."""
        raise NotImplementedError

    def sync(self) -> None:
        """Make what was written durable (where the kind needs a step for it)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.describe()!r})"


class FilesystemLocation(Location):
    """Storage roots at `<path>/roots/<tenant>`; staging at `<path>/staging` (same file system,
    so that an object or a version enters its storage root by one rename)."""

    kind = "filesystem"
    stores_by_rename = True

    def __init__(self, config: LocationConfig):
        self.name = config.name
        self.path = config.path

    def describe(self) -> str:
        return str(self.path)

    def root(self, tenant: str) -> Path:
        return self.path / "roots" / tenant

    def ensure_root(self, tenant: str) -> None:
        init_storage_root(self.root(tenant))

    def tenants(self) -> list[str]:
        d = self.path / "roots"
        return sorted(p.name for p in d.iterdir() if p.is_dir()) if d.exists() else []

    def staging_area(self) -> Path:
        p = self.path / "staging"
        p.mkdir(parents=True, exist_ok=True)
        return p

    @property
    def staging(self) -> Path:
        return self.staging_area()

    def object_dir(self, tenant: str, object_id: str) -> Path:
        return self.root(tenant) / layout.object_path(object_id)

    def object_paths(self, tenant: str) -> Iterator[str]:
        root = self.root(tenant)
        for d in iter_object_roots(root):
            yield d.relative_to(root).as_posix()

    def open_path(self, tenant: str, rel: str) -> FolderObject:
        d = self.root(tenant) / rel
        if not (d / "inventory.json").exists() and not d.is_dir():
            raise ObjectMissing(f"{d}: no object")
        return FolderObject.open(d)

    def has_object(self, tenant: str, object_id: str) -> bool:
        return (self.object_dir(tenant, object_id) / "inventory.json").exists()

    def validate(self, tenant: str, rel: str) -> list[str]:
        _valid, errors, _warnings = validate_object(self.root(tenant) / rel, check_digests=False)
        return errors

    def check(self, tenant: str, object_id: str, progress=None) -> list[CopyProblem]:
        return check_object(self.object_dir(tenant, object_id), progress)

    def pending_version(self, tenant: str, object_id: str) -> dict | None:
        d = self.object_dir(tenant, object_id)
        try:
            obj = FolderObject.open(d)
        except OcflError:
            return None
        n = int(obj.head[1:]) + 1
        vdir = d / f"v{n}"
        if not (vdir / "inventory.json").exists():
            return None
        try:
            nxt = FolderObject.open(vdir)
        except OcflError:
            return None
        return nxt.inventory if nxt.head == f"v{n}" else None

    def usage(self) -> dict:
        objects = nbytes = 0
        for tenant in self.tenants():
            root = self.root(tenant)
            for d in iter_object_roots(root):
                objects += 1
                for dirpath, _dirs, files in os.walk(d):
                    nbytes += sum(os.stat(os.path.join(dirpath, f)).st_size for f in files)
        free = shutil.disk_usage(self.path).free if self.path.exists() else None
        return {"objects": objects, "bytes": nbytes, "free": free}

    def free(self) -> int | None:
        try:
            return shutil.disk_usage(self.path).free
        except OSError:
            return None

    def reachable(self) -> bool:
        return self.path.is_dir()

    def probe(self) -> dict:
        reachable = self.path.is_dir()
        writable = False
        if reachable:
            try:
                p = self.staging_area() / f".probe-{os.getpid()}"
                p.write_bytes(b"probe")
                p.unlink()
                writable = True
            except OSError:
                pass
        # a rename onto an existing version folder fails: versions cannot be made twice
        return {"reachable": reachable, "writable": writable, "conditional_writes": True,
                "object_lock": False}  # fmt: skip

    def store_object(
        self, tenant: str, src: OcflObject, move: bool = False, sync: bool = True
    ) -> None:
        target = self.object_dir(tenant, src.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = self.staging_area()
        if move and isinstance(src, FolderObject) and _same_fs(src.path, staging):
            tmp = src.path
        else:
            tmp = Path(_mkdtemp(staging, "copy-")) / "obj"
            _copy_into(src, tmp)
            problems = check_object(tmp)
            if problems:
                shutil.rmtree(tmp.parent, ignore_errors=True)
                raise OcflError(
                    f"{self.name}: copy of {src.where} failed verification: "
                    f"{problems[0].path}: {problems[0].problem}"
                )
        if sync:
            self.sync()
        trash = None
        if target.exists():
            trash = Path(_mkdtemp(staging, "replaced-"))
            os.rename(target, trash / "obj")
        os.rename(tmp, target)
        if sync:
            self.sync()
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
        if tmp.parent != staging and tmp.parent.name.startswith("copy-"):
            shutil.rmtree(tmp.parent, ignore_errors=True)

    def commit_version(self, tenant: str, object_id: str, vdir: Path, inv: dict) -> None:
        d = self.object_dir(tenant, object_id)
        target = d / inv["head"]
        if not _same_fs(vdir, d):
            tmp = Path(_mkdtemp(self.staging_area(), "version-")) / inv["head"]
            shutil.copytree(vdir, tmp)
            vdir = tmp
        self.sync()
        try:
            os.rename(vdir, target)  # fails if the version exists: it is never made twice
        except OSError as e:
            raise OcflError(f"{d}: cannot add {inv['head']}: {e.strerror}") from e
        self._link_root(d, inv["head"])

    def finish_version(self, tenant: str, object_id: str) -> bool:
        inv = self.pending_version(tenant, object_id)
        if inv is None:
            return False
        self._link_root(self.object_dir(tenant, object_id), inv["head"])
        return True

    def _link_root(self, d: Path, vname: str) -> None:
        """The root inventory becomes the new version's, each file replaced in one step."""
        self.sync()
        for name in ("inventory.json.sha512", "inventory.json"):
            tmp = d / f"{name}.tmp"
            tmp.unlink(missing_ok=True)
            try:
                os.link(d / vname / name, tmp)
            except OSError:  # a file system without hard links
                shutil.copyfile(d / vname / name, tmp)
            os.replace(tmp, d / name)
        self.sync()

    def sync(self) -> None:
        _syncfs(self.path)


def _same_fs(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def _mkdtemp(parent: Path, prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix, dir=parent)


def _copy_into(src: OcflObject, target: Path) -> None:
    """Copy every file of an object (from any kind of location) into a local folder."""
    for rel in object_files(src):
        p = target / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        local = src.local_file(rel)
        if local is not None:
            shutil.copyfile(local, p)
            continue
        with src.open_content(rel) as f, open(p, "wb") as out:
            while chunk := f.read(CHUNK):
                out.write(chunk)


def create_object(
    locations: list[Location], tenant: str, object_id: str, files: list, version
) -> str | None:
    """A new object of small files (NewFile with data), built in each location's staging and
    stored wherever it is absent. Returns the SHA-256 of the `v1/inventory.json` it stored
    (None where every location held the object already)."""
    stored = None
    for loc in locations:
        loc.ensure_root(tenant)
        if loc.has_object(tenant, object_id):
            continue
        tmp = Path(tempfile.mkdtemp(prefix="new-", dir=loc.staging_area()))
        try:
            build_object(tmp / "obj", object_id, files, version)
            stored = file_digest(tmp / "obj/v1/inventory.json", "sha256")
            loc.store_object(tenant, FolderObject.open(tmp / "obj"), move=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return stored


def sync_all(locations: list[Location]) -> None:
    """Flush the file systems of these locations, each file system once."""
    seen = set()
    for loc in locations:
        if not isinstance(loc, FilesystemLocation):
            continue
        dev = os.stat(loc.path).st_dev
        if dev not in seen:
            seen.add(dev)
            loc.sync()


__all__ = [
    "Location",
    "FilesystemLocation",
    "ObjectMissing",
    "LocationUnavailable",
    "object_files",
    "create_object",
    "sync_all",
]
