"""A minimal writer for OLE2 compound files (MS-CFB, version 3), enough for container
skeletons: storages from `/` in paths, small streams in the mini stream, big ones in sectors."""

from __future__ import annotations

import struct

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        self.name, self.kind, self.data = name, kind, data
        self.children: dict[str, _Entry] = {}
        self.start, self.size = END, len(data)
        self.left = self.right = self.child = NOSTREAM
        self.sid = 0


def write_cfb(files: dict[str, bytes]) -> bytes:
    root = _Entry("Root Entry", 5)
    for path, data in files.items():
        node = root
        parts = path.split("/")
        for part in parts[:-1]:
            node = node.children.setdefault(part, _Entry(part, 1))
        node.children[parts[-1]] = _Entry(parts[-1], 2, data)
    entries: list[_Entry] = []

    def number(e: _Entry) -> None:
        e.sid = len(entries)
        entries.append(e)
        for c in e.children.values():
            number(c)

    number(root)

    def tree(kids: list[_Entry]) -> int:
        if not kids:
            return NOSTREAM
        mid = len(kids) // 2
        k = kids[mid]
        k.left, k.right = tree(kids[:mid]), tree(kids[mid + 1 :])
        return k.sid

    for e in entries:
        kids = sorted(e.children.values(), key=lambda c: (len(c.name), c.name.upper()))
        e.child = tree(kids)

    # mini stream
    mini, minifat = bytearray(), []
    for e in entries:
        if e.kind == 2 and e.size < CUTOFF and e.size:
            first = len(mini) // MINI
            n = -(-e.size // MINI)
            e.start = first
            minifat += [first + i + 1 for i in range(n - 1)] + [END]
            mini += e.data + b"\x00" * (n * MINI - e.size)
    root.size = len(mini)

    sectors: list[bytes] = []
    fat: list[int] = []

    def put(data: bytes) -> int:
        if not data:
            return END
        n = -(-len(data) // SECTOR)
        first = len(sectors)
        for i in range(n):
            sectors.append(data[i * SECTOR : (i + 1) * SECTOR].ljust(SECTOR, b"\x00"))
            fat.append(first + i + 1 if i < n - 1 else END)
        return first

    for e in entries:
        if e.kind == 2 and e.size >= CUTOFF:
            e.start = put(e.data)
    root.start = put(bytes(mini)) if mini else END
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_start = put(minifat_bytes.ljust(-(-len(minifat_bytes) // SECTOR) * SECTOR, b"\xff"))
    n_minifat = -(-len(minifat_bytes) // SECTOR)

    def dirent(e: _Entry) -> bytes:
        name = e.name.encode("utf-16-le")[:62]
        start = e.start if (e.kind == 2 and e.size) or e.kind == 5 else 0
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name) + 2,
            e.kind,
            1,
            e.left,
            e.right,
            e.child,
            b"\x00" * 16,
            0,
            0,
            0,
            start if e.kind != 1 else 0,
            e.size if e.kind != 1 else 0,
        )

    dirs = b"".join(dirent(e) for e in entries)
    dirs += b"".join(
        struct.pack(
            "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"", 0, 0, 0, 0, 0
        )
        for _ in range((-len(entries)) % 4)
    )
    dir_start = put(dirs)

    n_fat = 1
    while (len(sectors) + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    if n_fat > 109:
        raise ValueError("compound file too large for this writer")
    fat_start = len(sectors)
    fat += [FATSECT] * n_fat
    fat += [FREE] * (n_fat * (SECTOR // 4) - len(fat))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    for i in range(n_fat):
        sectors.append(fat_bytes[i * SECTOR : (i + 1) * SECTOR])

    difat = [fat_start + i for i in range(n_fat)] + [FREE] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\x00" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\x00" * 6,
        0,
        n_fat,
        dir_start,
        0,
        CUTOFF,
        minifat_start if n_minifat else END,
        n_minifat,
        END,
        0,
    ) + b"".join(struct.pack("<I", v) for v in difat)
    return header + b"".join(sectors)
