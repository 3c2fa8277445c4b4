"""Bounded views into ZIP and OLE2 containers for container signatures.

ZIP members are found through the central directory and only the head (and, if a signature
needs it, the tail) of a member is decompressed. OLE2 streams are read through olefile; their
names lose the leading control character (`\\x01CompObj` is `CompObj` in PRONOM's paths).
A container that cannot be opened is no match, never an error: the file keeps its byte
signature result.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator

CHUNK = 1 << 16


class _Zip:
    def __init__(self, path, head: int, tail: int):
        self.z = zipfile.ZipFile(path)
        self.names = set()
        for info in self.z.infolist():
            name = info.filename
            self.names.add(name)
            parts = name.split("/")
            for i in range(1, len(parts)):
                self.names.add("/".join(parts[:i]) + "/")
        self.head, self.tail = head, tail
        self.cache: dict[str, tuple[bytes, bytes]] = {}

    def exists(self, path: str) -> bool:
        return path in self.names

    def read(self, path: str) -> tuple[bytes, bytes]:
        if path not in self.cache:
            self.cache[path] = self._read(path)
        return self.cache[path]

    def _read(self, path: str) -> tuple[bytes, bytes]:
        try:
            info = self.z.getinfo(path)
        except KeyError:
            return b"", b""
        if info.flag_bits & 0x1:  # encrypted
            return b"", b""
        with self.z.open(info) as f:
            head = f.read(self.head)
            if info.file_size <= len(head):
                return head, head
            if not self.tail:
                return head, b""
            last = head
            while chunk := f.read(CHUNK):
                last = (last + chunk)[-self.tail :]
            return head, last

    def close(self) -> None:
        self.z.close()


class _Ole:
    def __init__(self, path, head: int, tail: int):
        import olefile

        self.ole = olefile.OleFileIO(os.fspath(path))
        self.entries: dict[str, list[str]] = {}
        for parts in self.ole.listdir(streams=True, storages=True):
            self.entries["/".join(p.lstrip("".join(map(chr, range(32)))) for p in parts)] = parts
        self.head, self.tail = head, tail

    def exists(self, path: str) -> bool:
        return path in self.entries

    def read(self, path: str) -> tuple[bytes, bytes]:
        parts = self.entries.get(path)
        if parts is None or self.ole.get_type(parts) != 2:  # STGTY_STREAM
            return b"", b""
        size = self.ole.get_size(parts)
        with self.ole.openstream(parts) as s:
            head = s.read(self.head)
            if size <= len(head) or not self.tail:
                return head, head if size <= len(head) else b""
            s.seek(max(0, size - self.tail))
            return head, s.read(self.tail)

    def close(self) -> None:
        self.ole.close()


@contextlib.contextmanager
def open_container(kind: str, path, head: int, tail: int) -> Iterator[_Zip | _Ole | None]:
    """The container at `path` as `kind` (ZIP or OLE2), or None if it cannot be read so."""
    c = None
    try:
        c = _Zip(path, head, tail) if kind == "ZIP" else _Ole(path, head, tail)
    except Exception:  # noqa: BLE001 - any damage means "not this container"
        c = None
    try:
        yield c
    finally:
        if c is not None:
            c.close()
