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
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


def root_files() -> list[tuple[str, bytes]]:
    """The files of an empty OCFL 1.1 storage root using layout 0003, declaration last."""
    layout_json = {
        "extension": layout.EXTENSION,
        "description": "Hashed n-tuple directory layout with the object id at the end",
    }
    config = f"extensions/{layout.EXTENSION}/config.json"
    return [
        (config, json.dumps(layout.CONFIG, indent=2).encode()),
        ("ocfl_layout.json", json.dumps(layout_json, indent=2).encode()),
        (ROOT_DECL, b"ocfl_1.1\n"),
    ]


def init_storage_root(root: Path) -> None:
    """Create an OCFL 1.1 storage root using layout 0003 (idempotent)."""
    if (root / ROOT_DECL).exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise OcflError(f"{root}: not empty and not an OCFL storage root")
    for rel, data in root_files():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        _write(root / rel, data)


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


def next_version(
    inv: dict,
    files: Iterable[NewFile],
    version: VersionInfo,
    carry_state: bool = True,
    remove: Iterable[str] = (),
) -> tuple[dict, list[tuple[str, NewFile]], list[NewFile]]:
    """The inventory with the next version added (`inv` is changed in place and returned),
    the new content (content path, file) the version brings, and the files whose bytes the
    object holds already (OCFL keeps them once).

    With `carry_state`, the previous state is kept and `files` replace or add logical paths;
    paths in `remove` are dropped from the new state."""
    files = list(files)
    versions = inv["versions"]
    vname = f"v{len(versions) + 1}"
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
    new: list[tuple[str, NewFile]] = []
    held: list[NewFile] = []
    for nf in files:
        if nf.sha512 not in manifest:
            content_path = f"{vname}/content/{nf.logical_path}"
            manifest[nf.sha512] = [content_path]
            new.append((content_path, nf))
        else:
            held.append(nf)
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
    return inv, new, held


def inventory_bytes(inv: dict) -> tuple[bytes, bytes]:
    """An inventory as stored, and its sidecar."""
    data = _dump_inventory(inv)
    return data, f"{hashlib.sha512(data).hexdigest()} inventory.json\n".encode()


def add_version(
    obj_dir: Path,
    inv: dict,
    files: Iterable[NewFile],
    version: VersionInfo,
    carry_state: bool = True,
    remove: Iterable[str] = (),
) -> dict:
    """Add the next version to an object folder in place: new content, then inventories last.
    Used to build objects in staging; stored objects change through `Storage.change`."""
    updating = bool(inv["versions"])
    inv, new, held = next_version(inv, files, version, carry_state, remove)
    vname = inv["head"]
    dirs = Dirs(obj_dir)
    for content_path, nf in new:
        _place(nf, obj_dir / content_path, dirs)
    for nf in held:
        if nf.move and nf.data is None and nf.source is not None:
            _drop_duplicate(nf.source, obj_dir / vname / "content")
    dirs.ensure(obj_dir / vname)
    data, sidecar = inventory_bytes(inv)
    _write(obj_dir / vname / "inventory.json", data)
    _write(obj_dir / vname / "inventory.json.sha512", sidecar)
    _link_inventory(obj_dir / vname, obj_dir, atomic=updating)
    return inv


def stage_version(vdir: Path, inv: dict, new: list[tuple[str, NewFile]]) -> None:
    """Write a version's new content and its inventory into a staging folder `vdir` (which
    becomes `<object>/vN`): what a location then commits in one step."""
    vdir.parent.mkdir(parents=True, exist_ok=True)
    dirs = Dirs(vdir.parent)
    vname = inv["head"]
    for content_path, nf in new:
        rel = content_path.removeprefix(vname + "/")
        _place(NewFile(nf.logical_path, nf.source, nf.sha512, False, nf.data), vdir / rel, dirs)
    dirs.ensure(vdir)
    data, sidecar = inventory_bytes(inv)
    _write(vdir / "inventory.json", data)
    _write(vdir / "inventory.json.sha512", sidecar)


def parse_inventory(data: bytes, sidecar: bytes, where: str) -> dict:
    """An inventory checked against its sidecar (OcflError naming `where` if it is not)."""
    parts = sidecar.decode("utf-8", "replace").split()
    if len(parts) != 2 or parts[1] != "inventory.json":
        raise OcflError(f"{where}: malformed inventory sidecar")
    if hashlib.sha512(data).hexdigest() != parts[0].lower():
        raise OcflError(f"{where}: inventory.json does not match its sidecar")
    try:
        inv = json.loads(data)
    except ValueError as e:
        raise OcflError(f"{where}: inventory.json is not JSON: {e}") from e
    if not isinstance(inv, dict) or "id" not in inv or "versions" not in inv:
        raise OcflError(f"{where}: inventory.json lacks id or versions")
    return inv


class OcflObject:
    """A stored OCFL object, read through its root inventory; where its bytes lie (a folder,
    an S3 prefix) is the business of the subclass."""

    inventory: dict
    where: str  # for messages: the folder or the S3 URL of the object

    @classmethod
    def open(cls, path: Path) -> FolderObject:
        """The object in a folder on a file system."""
        return FolderObject.open(path)

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

    def content_files(self) -> dict[str, str]:
        """Content path -> digest for every file the manifest lists."""
        return {p: d for d, paths in self.inventory["manifest"].items() for p in paths}

    def content_of(self, logical_path: str, version: str | None = None) -> str:
        """The content path holding a logical file's bytes."""
        return self.inventory["manifest"][self.state(version)[logical_path]][0]

    def open_content(self, content_path: str) -> BinaryIO:
        """A stream of one content file's bytes."""
        raise NotImplementedError

    def local_file(self, content_path: str) -> Path | None:
        """The file on a local file system holding these bytes, where there is one."""
        return None

    def open_file(self, logical_path: str, version: str | None = None) -> BinaryIO:
        return self.open_content(self.content_of(logical_path, version))

    def read(self, logical_path: str, version: str | None = None) -> bytes:
        with self.open_file(logical_path, version) as f:
            return f.read()


class FolderObject(OcflObject):
    """An object in a folder on a file system."""

    def __init__(self, path: Path, inventory: dict):
        self.path = path
        self.where = str(path)
        self.inventory = inventory

    @classmethod
    def open(cls, path: Path) -> FolderObject:
        try:
            data = (path / "inventory.json").read_bytes()
        except OSError as e:
            raise OcflError(f"{path}: no readable inventory.json ({e.strerror})") from e
        alg, _digest = _read_sidecar(path)
        sidecar = (path / f"inventory.json.{alg}").read_bytes()
        if alg != "sha512":  # objects written by others may use sha256 sidecars
            digest = sidecar.decode().split()[0]
            if hashlib.new(alg, data).hexdigest() != digest.lower():
                raise OcflError(f"{path}: inventory.json does not match its sidecar")
            sidecar = f"{hashlib.sha512(data).hexdigest()} inventory.json".encode()
        return cls(path, parse_inventory(data, sidecar, str(path)))

    def open_content(self, content_path: str) -> BinaryIO:
        return open(self.path / content_path, "rb")  # noqa: SIM115 - the caller closes it

    def local_file(self, content_path: str) -> Path | None:
        return self.path / content_path


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
