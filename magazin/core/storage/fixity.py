"""Fixity of stored copies: re-hash every file an object's inventory lists, find missing,
changed and extra files. The same rules for every kind of location: each kind lists what it
holds and opens a file; `check_files` does the rest."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..hashing import CHUNK, file_digest
from .ocfl import FolderObject, OcflError, OcflObject

_OWN = {
    "inventory.json",
    "inventory.json.sha512",
    "inventory.json.sha256",
    "0=ocfl_object_1.1",
    "0=ocfl_object_1.0",
}


@dataclass
class CopyProblem:
    path: str
    problem: str  # missing | changed | extra | inventory: …


def stream_digest(f: BinaryIO, algorithm: str, advance=None) -> str:
    h = hashlib.new(algorithm)
    while chunk := f.read(CHUNK):
        h.update(chunk)
        if advance is not None:
            advance(len(chunk))
    return h.hexdigest()


def check_files(
    obj: OcflObject,
    present: set[str],
    opener: Callable[[str], BinaryIO] | None = None,
    progress=None,
) -> list[CopyProblem]:
    """Compare a copy's files (`present`, relative to the object root) with its inventory:
    every listed file there and with its digest, nothing else there. Files are hashed from
    `opener` (default: the object's own) or, where the object has them on disk, read there."""
    problems: list[CopyProblem] = []
    listed = obj.content_files()
    alg = obj.digest_algorithm
    advance = progress.advance if progress is not None else None
    base = str(obj.path) + "/" if opener is None and isinstance(obj, FolderObject) else None
    for rel, digest in sorted(listed.items()):
        if rel not in present:
            problems.append(CopyProblem(rel, "missing"))
            continue
        if base is not None:
            local = base + rel
        else:
            local = obj.local_file(rel) if opener is None else None
        try:
            if local is not None:
                actual = file_digest(local, alg, advance)
            else:
                with (opener or obj.open_content)(rel) as f:
                    actual = stream_digest(f, alg, advance)
        except OSError:
            problems.append(CopyProblem(rel, "missing"))
            continue
        if actual != digest.lower():
            problems.append(CopyProblem(rel, "changed"))
    versions = set(obj.inventory.get("versions", {}))
    for rel in sorted(present):
        if rel in listed or rel in _OWN:
            continue
        top, _, rest = rel.partition("/")
        if top in versions and rest in _OWN:
            continue
        problems.append(CopyProblem(rel, "extra"))
    return problems


def _files_below(root: str, prefix: str = "") -> Iterator[str]:
    """Every file below a folder, as a path relative to it (one scandir per folder)."""
    with os.scandir(root) as it:
        for e in it:
            if e.is_dir(follow_symlinks=False):
                yield from _files_below(e.path, f"{prefix}{e.name}/")
            else:
                yield prefix + e.name


def check_object(obj_dir: Path, progress=None) -> list[CopyProblem]:
    """Everything wrong with one object copy in a folder (empty list: the copy is intact)."""
    if not obj_dir.is_dir():
        return [CopyProblem(".", "missing")]
    try:
        obj = FolderObject.open(obj_dir)
    except OcflError as e:
        return [CopyProblem("inventory.json", f"inventory: {e}")]
    return check_files(obj, set(_files_below(str(obj_dir))), progress=progress)
