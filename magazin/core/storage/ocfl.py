"""OCFL 1.1 objects and storage roots: build, read and validate.

Objects are built complete in a staging folder and only then renamed into the storage root,
so no reader ever sees a half-written object. The inventory and its sidecar are written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import layout

SPEC = "1.1"
INVENTORY_TYPE = "https://ocfl.io/1.1/spec/#inventory"
OBJECT_DECL = "0=ocfl_object_1.1"
ROOT_DECL = "0=ocfl_1.1"
_VERSION_RE = re.compile(r"^v[1-9][0-9]*$")


class OcflError(Exception):
    """An object or storage root that is not valid OCFL (or not what we expect)."""


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        if f.write(data) != len(data):
            raise OSError(f"{path}: short write")


def init_storage_root(root: Path) -> None:
    """Create an OCFL 1.1 storage root using layout 0003 (idempotent)."""
    if (root / ROOT_DECL).exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise OcflError(f"{root}: not empty and not an OCFL storage root")
    ext = root / "extensions" / layout.EXTENSION
    ext.mkdir(parents=True)
    _write(ext / "config.json", json.dumps(layout.CONFIG, indent=2).encode())
    _write(
        root / "ocfl_layout.json",
        json.dumps(
            {
                "extension": layout.EXTENSION,
                "description": "Hashed n-tuple directory layout with the object id at the end",
            },
            indent=2,
        ).encode(),
    )
    _write(root / ROOT_DECL, b"ocfl_1.1\n")


@dataclass
class VersionInfo:
    created: str  # ISO 8601 with offset
    message: str
    user_name: str
    user_address: str


@dataclass
class NewFile:
    """A file for a new version: its logical path, where its bytes are now, its sha512."""

    logical_path: str
    source: Path | None
    sha512: str
    move: bool = True  # rename the source into place (staging) rather than copy
    data: bytes | None = None  # small files (metadata) are written from memory


def _dump_inventory(inv: dict) -> bytes:
    return json.dumps(inv, indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8")


def _link_inventory(version_dir: Path, obj_dir: Path, atomic: bool) -> None:
    """The root inventory is byte for byte the head version's: a hard link costs no new inode
    (creating files is the dominant cost of ingest). Replacing goes through a temporary name,
    so older versions' inventories are never touched."""
    for name in ("inventory.json", "inventory.json.sha512"):
        target = obj_dir / name
        tmp = target.with_name(name + ".tmp") if atomic else target
        try:
            os.link(version_dir / name, tmp)
        except OSError:  # a file system without hard links
            _write(tmp, (version_dir / name).read_bytes())
        if atomic:
            os.replace(tmp, target)


class Dirs:
    """Creates each folder once, parents first: one mkdir per new folder, no retries."""

    def __init__(self, *existing: Path) -> None:
        self.made: set[Path] = set(existing)

    def ensure(self, d: Path) -> None:
        if d in self.made:
            return
        if d.parent not in self.made and d.parent != d:
            self.ensure(d.parent)
        try:
            os.mkdir(d)
        except FileExistsError:
            pass
        self.made.add(d)


def _place(nf: NewFile, target: Path, dirs: Dirs) -> None:
    if nf.data is not None:
        dirs.ensure(target.parent)
        _write(target, nf.data)
    elif nf.source == target:
        return  # staged in place already
    elif nf.move:
        dirs.ensure(target.parent)
        os.rename(nf.source, target)
    else:
        import shutil

        dirs.ensure(target.parent)
        shutil.copyfile(nf.source, target)


def _drop_duplicate(source: Path, stop: Path) -> None:
    """Remove a staged file whose bytes the object holds already, and folders it empties."""
    os.unlink(source)
    d = source.parent
    while d != stop and stop in d.parents:
        try:
            d.rmdir()
        except OSError:
            break
        d = d.parent


def build_object(
    obj_dir: Path, object_id: str, files: Iterable[NewFile], version: VersionInfo
) -> dict:
    """Write a new object with one version (v1) into `obj_dir` (new, or holding only content
    staged in place under v1/content)."""
    obj_dir.mkdir(parents=True, exist_ok=True)
    (obj_dir / OBJECT_DECL).write_bytes(b"ocfl_object_1.1\n")
    inv = {
        "id": object_id,
        "type": INVENTORY_TYPE,
        "digestAlgorithm": "sha512",
        "head": "v1",
        "manifest": {},
        "versions": {},
    }
    return add_version(obj_dir, inv, files, version, carry_state=False)


def add_version(
    obj_dir: Path,
    inv: dict,
    files: Iterable[NewFile],
    version: VersionInfo,
    carry_state: bool = True,
    remove: Iterable[str] = (),
) -> dict:
    """Add the next version to an object folder: new content, then inventories last.

    With `carry_state`, the previous state is kept and `files` replace or add logical paths;
    paths in `remove` are dropped from the new state.
    """
    versions = inv["versions"]
    updating = bool(versions)
    n = len(versions) + 1
    vname = f"v{n}"
    state: dict[str, list[str]] = {}
    if carry_state and versions:
        prev = versions[inv["head"]]["state"]
        state = {d: list(ps) for d, ps in prev.items()}
    replaced = {nf.logical_path for nf in files} | set(remove)
    if replaced:
        for d in list(state):
            state[d] = [p for p in state[d] if p not in replaced]
            if not state[d]:
                del state[d]
    manifest = inv["manifest"]
    dirs = Dirs(obj_dir)
    for nf in files:
        if nf.sha512 not in manifest:
            content_path = f"{vname}/content/{nf.logical_path}"
            _place(nf, obj_dir / content_path, dirs)
            manifest[nf.sha512] = [content_path]
        elif nf.move and nf.data is None:
            # same bytes already stored: OCFL keeps them once
            _drop_duplicate(nf.source, obj_dir / vname / "content")
        state.setdefault(nf.sha512, []).append(nf.logical_path)
    for d in state:
        state[d].sort()
    versions[vname] = {
        "created": version.created,
        "message": version.message,
        "state": state,
        "user": {"name": version.user_name, "address": version.user_address},
    }
    inv["head"] = vname
    dirs.ensure(obj_dir / vname)
    data = _dump_inventory(inv)
    sidecar = f"{hashlib.sha512(data).hexdigest()} inventory.json\n".encode()
    _write(obj_dir / vname / "inventory.json", data)
    _write(obj_dir / vname / "inventory.json.sha512", sidecar)
    _link_inventory(obj_dir / vname, obj_dir, atomic=updating)
    return inv


@dataclass
class OcflObject:
    """A stored OCFL object, read through its root inventory."""

    path: Path
    inventory: dict = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> OcflObject:
        inv_path = path / "inventory.json"
        try:
            data = inv_path.read_bytes()
        except OSError as e:
            raise OcflError(f"{path}: no readable inventory.json ({e.strerror})") from e
        alg, digest = _read_sidecar(path)
        if hashlib.new(alg, data).hexdigest() != digest.lower():
            raise OcflError(f"{path}: inventory.json does not match its sidecar")
        try:
            inv = json.loads(data)
        except ValueError as e:
            raise OcflError(f"{path}: inventory.json is not JSON: {e}") from e
        if not isinstance(inv, dict) or "id" not in inv or "versions" not in inv:
            raise OcflError(f"{path}: inventory.json lacks id or versions")
        return cls(path, inv)

    @property
    def id(self) -> str:
        return self.inventory["id"]

    @property
    def head(self) -> str:
        return self.inventory["head"]

    @property
    def digest_algorithm(self) -> str:
        return self.inventory["digestAlgorithm"]

    def state(self, version: str | None = None) -> dict[str, str]:
        """Logical path -> digest in a version (the head by default)."""
        v = self.inventory["versions"][version or self.head]
        return {p: d for d, paths in v["state"].items() for p in paths}

    def content_path(self, digest: str) -> Path:
        return self.path / self.inventory["manifest"][digest][0]

    def logical_file(self, logical_path: str, version: str | None = None) -> Path:
        return self.content_path(self.state(version)[logical_path])

    def read(self, logical_path: str, version: str | None = None) -> bytes:
        return self.logical_file(logical_path, version).read_bytes()

    def content_files(self) -> dict[str, str]:
        """Content path -> digest for every file the manifest lists."""
        return {p: d for d, paths in self.inventory["manifest"].items() for p in paths}


def _read_sidecar(path: Path) -> tuple[str, str]:
    for alg in ("sha512", "sha256"):
        side = path / f"inventory.json.{alg}"
        if side.exists():
            parts = side.read_text("utf-8").split()
            if len(parts) != 2 or parts[1] != "inventory.json":
                raise OcflError(f"{side}: malformed sidecar")
            return alg, parts[0]
    raise OcflError(f"{path}: no inventory sidecar")


def iter_object_roots(storage_root: Path) -> Iterable[Path]:
    """Every object root below a storage root (folders holding an object declaration)."""
    for dirpath, dirnames, filenames in os.walk(storage_root):
        if any(f.startswith("0=ocfl_object_") for f in filenames):
            dirnames[:] = []
            yield Path(dirpath)
        elif Path(dirpath) == storage_root:
            dirnames[:] = [d for d in dirnames if d != "extensions"]


def validate_object(path: Path) -> tuple[bool, list[str], list[str]]:
    """Validate an object against the OCFL spec: (valid, errors, warnings)."""
    from .validate import validate_object as _v

    return _v(path)
