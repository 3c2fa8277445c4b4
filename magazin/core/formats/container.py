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
ZIP_TAIL_LIMIT = 16 << 20  # a compressed member's tail costs unpacking it all: not beyond this


class _Zip:
    def __init__(self, path):
        self.z = zipfile.ZipFile(path)
        self.names = set()
        for info in self.z.infolist():
            name = info.filename
            self.names.add(name)
            parts = name.split("/")
            for i in range(1, len(parts)):
                self.names.add("/".join(parts[:i]) + "/")
        self.cache: dict[str, tuple[bytes, bytes]] = {}

    def exists(self, path: str) -> bool:
        return path in self.names

    def read(self, path: str, head_n: int, tail_n: int) -> tuple[bytes, bytes]:
        """The member's first head_n and last tail_n bytes (read once per container)."""
        if path not in self.cache:
            self.cache[path] = self._read(path, head_n, tail_n)
        return self.cache[path]

    def _read(self, path: str, head_n: int, tail_n: int) -> tuple[bytes, bytes]:
        try:
            info = self.z.getinfo(path)
        except KeyError:
            return b"", b""
        if info.flag_bits & 0x1:  # encrypted
            return b"", b""
        with self.z.open(info) as f:
            head = f.read(head_n)
            if info.file_size <= len(head):
                return head, head
            if not tail_n:
                return head, b""
            if info.compress_type == zipfile.ZIP_STORED:
                f.seek(info.file_size - tail_n)
                return head, f.read(tail_n)
            if info.file_size > ZIP_TAIL_LIMIT:
                return head, b""
            last = head
            while chunk := f.read(CHUNK):
                last = (last + chunk)[-tail_n:]
            return head, last

    def close(self) -> None:
        self.z.close()


class _Ole:
    def __init__(self, path):
        import olefile

        self.ole = olefile.OleFileIO(os.fspath(path))
        self.entries: dict[str, list[str]] = {}
        for parts in self.ole.listdir(streams=True, storages=True):
            self.entries["/".join(p.lstrip("".join(map(chr, range(32)))) for p in parts)] = parts
        self.names = set(self.entries)

    def exists(self, path: str) -> bool:
        return path in self.entries

    def read(self, path: str, head_n: int, tail_n: int) -> tuple[bytes, bytes]:
        parts = self.entries.get(path)
        if parts is None or self.ole.get_type(parts) != 2:  # STGTY_STREAM
            return b"", b""
        size = self.ole.get_size(parts)
        with self.ole.openstream(parts) as s:
            head = s.read(head_n)
            if size <= len(head) or not tail_n:
                return head, head if size <= len(head) else b""
            s.seek(max(0, size - tail_n))
            return head, s.read(tail_n)

    def close(self) -> None:
        self.ole.close()


@contextlib.contextmanager
def open_container(kind: str, path) -> Iterator[_Zip | _Ole | None]:
    """The container at `path` as `kind` (ZIP or OLE2), or None if it cannot be read so."""
    c = None
    try:
        c = _Zip(path) if kind == "ZIP" else _Ole(path)
    except Exception:  # noqa: BLE001 - any damage means "not this container"
        c = None
    try:
        yield c
    finally:
        if c is not None:
            c.close()
