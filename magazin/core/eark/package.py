"""An E-ARK information package as a read-only set of files: a folder, a ZIP or a TAR, each
entry checked as any container is (paths that stay inside, no links, no bombs) before a byte
of it is believed.

A package lives in one root folder (CSIPSTR1): `name` is that folder's name and `files` maps
each file's path below it to its size. Where an archive does not unpack to a single root
folder, `root_problem` says so and the files are taken from the archive's top."""

from __future__ import annotations

import os
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..i18n import N_
from ..problems import ProblemList
from ..sip.folder import scan_folder
from ..sip.limits import Limits
from ..sip.safety import check_relative_path
from ..sip.zipsip import open_zip, scan_zip


class PackageError(Exception):
    """The package cannot be read safely (its problems say where and why)."""

    def __init__(self, problems: ProblemList):
        super().__init__("; ".join(f"{p.path}: {p.reason}" for p in problems.items))
        self.problems = problems


@dataclass
class Package:
    source: Path
    name: str
    files: dict[str, int]  # path below the root folder -> size
    openers: dict[str, Callable[[], BinaryIO]] = field(default_factory=dict, repr=False)
    root_problem: str | None = None
    _close: Callable[[], None] | None = field(default=None, repr=False)

    def dirs(self) -> set[str]:
        out = set()
        for f in self.files:
            parts = f.split("/")[:-1]
            out.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return out

    def exists(self, rel: str) -> bool:
        return rel in self.files

    def open(self, rel: str) -> BinaryIO:
        return self.openers[rel]()

    def read(self, rel: str, limit: int = 256 << 20) -> bytes:
        with self.open(rel) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"{rel}: larger than {limit} bytes")
        return data

    def close(self) -> None:
        if self._close:
            self._close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_package(path: Path, limits: Limits | None = None) -> Package:
    """The package at `path` (folder, .zip, .tar/.tar.gz), or PackageError."""
    limits = limits or Limits()
    problems = ProblemList()
    if path.is_dir():
        inner = [p for p in path.iterdir() if not p.name.startswith(".")]
        if not (path / "METS.xml").exists() and len(inner) == 1 and inner[0].is_dir() and (
                inner[0] / "METS.xml").exists():  # fmt: skip
            path = inner[0]  # a folder holding the package's root folder
        return _folder(path, problems)
    if zipfile.is_zipfile(path):
        zf = open_zip(path, problems)
        if zf is None:
            raise PackageError(problems)
        entries = scan_zip(zf, path, problems, limits)
        if problems:
            zf.close()
            raise PackageError(problems)
        return _rooted(path, {e.path: (e.size, e.opener) for e in entries}, zf.close)
    if path.is_file() and _is_tar(path):
        return _tar(path, problems, limits)
    problems.add(path.name, N_("not a folder, ZIP or TAR file"), "not-a-package")
    raise PackageError(problems)


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _folder(root: Path, problems: ProblemList) -> Package:
    """A folder package: its files as any folder SIP's are read (no links, no special files)."""
    files = scan_folder(root, problems)
    if problems:
        raise PackageError(problems)
    return Package(root, root.name, {f.path: f.size for f in files},
                   {f.path: f.opener for f in files})  # fmt: skip


def _rooted(source: Path, entries: dict[str, tuple[int, Callable]], close) -> Package:
    """Files of an archive below its single root folder (CSIPSTR1)."""
    tops = {p.split("/", 1)[0] for p in entries}
    nested = all("/" in p for p in entries)
    if len(tops) == 1 and nested:
        top = next(iter(tops))
        files = {p[len(top) + 1 :]: v for p, v in entries.items()}
        return Package(source, top, {k: v[0] for k, v in files.items()},
                       {k: v[1] for k, v in files.items()}, None, close)  # fmt: skip
    why = N_("the archive does not unpack to a single root folder")
    name = source.name.split(".")[0]
    return Package(source, name, {k: v[0] for k, v in entries.items()},
                   {k: v[1] for k, v in entries.items()}, why, close)  # fmt: skip


def _tar(path: Path, problems: ProblemList, limits: Limits) -> Package:
    try:
        tf = tarfile.open(path)  # noqa: SIM115 - closed with the package
        members = tf.getmembers()
    except (tarfile.TarError, OSError, EOFError) as e:
        problems.add(path.name, N_("not a readable TAR file: {error}").format(error=e), "bad-tar")
        raise PackageError(problems) from None
    entries: dict[str, tuple[int, Callable]] = {}
    total = 0
    if len(members) > limits.max_entries:
        problems.add(path.name, N_("{n} entries exceed the limit of {limit}").format(
            n=len(members), limit=limits.max_entries), "zip-bomb")  # fmt: skip
    for m in members[: limits.max_entries]:
        name = m.name.removeprefix("./")
        shown = f"{path.name}:{m.name}"
        if m.isdir():
            check_relative_path(name.rstrip("/"), problems, shown)
            continue
        if m.issym() or m.islnk():
            problems.add(shown, N_("link entry: links are not taken into the archive"), "symlink")
            continue
        if not m.isfile():
            problems.add(shown, N_("special file (device, FIFO): not taken into the archive"),
                         "special-file")  # fmt: skip
            continue
        if not check_relative_path(name, problems, shown):
            continue
        if name in entries:
            problems.add(shown, N_("entry name occurs twice in the TAR"), "duplicate-entry")
            continue
        total += m.size
        entries[name] = (m.size, _tar_opener(tf, m))
    if total > limits.max_total_bytes:
        problems.add(path.name, N_("unpacks to {size} bytes, more than the limit of {limit}")
                     .format(size=total, limit=limits.max_total_bytes), "zip-bomb")  # fmt: skip
    on_disk = os.path.getsize(path)
    if total > 100 << 20 and total > limits.max_total_ratio * max(on_disk, 1):
        why = N_("unpacks to {size} bytes from {packed} (more than {limit}:1, zip bomb?)")
        problems.add(path.name, why.format(size=total, packed=on_disk,
                                           limit=limits.max_total_ratio), "zip-bomb")  # fmt: skip
    if problems:
        tf.close()
        raise PackageError(problems)
    return _rooted(path, entries, tf.close)


def _tar_opener(tf: tarfile.TarFile, m: tarfile.TarInfo) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        f = tf.extractfile(m)
        if f is None:
            raise OSError(f"{m.name}: not a file")
        return f

    return opener
