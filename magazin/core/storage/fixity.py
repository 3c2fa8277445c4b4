"""Fixity of stored copies: re-hash every file an object's inventory lists, find missing,
changed and extra files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..hashing import file_digest
from .ocfl import OcflError, OcflObject

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
    problem: str  # missing | changed | extra | inventory


def check_object(obj_dir: Path, progress=None) -> list[CopyProblem]:
    """Everything wrong with one stored object copy (empty list: the copy is intact)."""
    if not obj_dir.is_dir():
        return [CopyProblem(".", "missing")]
    try:
        obj = OcflObject.open(obj_dir)
    except OcflError as e:
        return [CopyProblem("inventory.json", f"inventory: {e}")]
    problems: list[CopyProblem] = []
    listed = obj.content_files()
    alg = obj.digest_algorithm
    for rel, digest in sorted(listed.items()):
        p = obj_dir / rel
        if not p.is_file():
            problems.append(CopyProblem(rel, "missing"))
            continue
        advance = progress.advance if progress is not None else None
        if file_digest(p, alg, advance) != digest.lower():
            problems.append(CopyProblem(rel, "changed"))
    versions = set(obj.inventory.get("versions", {}))
    for dirpath, _dirs, files in os.walk(obj_dir):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), obj_dir).replace(os.sep, "/")
            if rel in listed or rel in _OWN:
                continue
            top, _, rest = rel.partition("/")
            if top in versions and rest in _OWN:
                continue
            problems.append(CopyProblem(rel, "extra"))
    return problems
