"""Read a ZIP SIP without unpacking it: entries are checked first, then streamed one by one."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from ..i18n import N_
from ..problems import ProblemList
from .limits import Limits
from .model import PayloadFile
from .safety import check_relative_path

_RATIO_FLOOR = 1024 * 1024
_TOTAL_RATIO_FLOOR = 100 * 1024 * 1024


def open_zip(path: Path, problems: ProblemList) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        problems.add(path.name, N_("not a readable ZIP file: {error}").format(error=e), "bad-zip")
        return None


def scan_zip(
    zf: zipfile.ZipFile, zip_path: Path, problems: ProblemList, limits: Limits
) -> list[PayloadFile]:
    """Check every entry (paths, links, encryption, sizes, ratios) and list the files."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        problems.add(
            zip_path.name,
            N_("{n} entries exceed the limit of {limit}").format(
                n=len(infos), limit=limits.max_entries
            ),
            "zip-bomb",
        )
        return []
    files: list[PayloadFile] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        shown = f"{zip_path.name}:{name}"
        mode = (info.external_attr >> 16) & 0xFFFF
        if info.is_dir():
            if not check_relative_path(name.rstrip("/"), problems, shown):
                continue
            continue
        if not check_relative_path(name, problems, shown):
            continue
        if mode and stat.S_ISLNK(mode):
            problems.add(
                shown, N_("symbolic link entry: links are not taken into the archive"), "symlink"
            )
            continue
        if info.flag_bits & 0x1:
            problems.add(shown, N_("entry is encrypted"), "encrypted")
            continue
        if name in seen:
            problems.add(shown, N_("entry name occurs twice in the ZIP"), "duplicate-entry")
            continue
        seen.add(name)
        if info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
            zipfile.ZIP_BZIP2,
            zipfile.ZIP_LZMA,
        ):
            problems.add(
                shown,
                N_("unsupported compression method {method}").format(method=info.compress_type),
                "bad-zip",
            )
            continue
        size = info.file_size
        total += size
        if size > _RATIO_FLOOR and size > limits.max_ratio * max(info.compress_size, 1):
            problems.add(
                shown,
                N_("compression ratio {ratio}:1 exceeds {limit}:1 (zip bomb?)").format(
                    ratio=size // max(info.compress_size, 1), limit=limits.max_ratio
                ),
                "zip-bomb",
            )
            continue
        files.append(PayloadFile(name, size, _opener(zf, info)))
    if total > limits.max_total_bytes:
        problems.add(
            zip_path.name,
            N_("unpacks to {size} bytes, more than the limit of {limit}").format(
                size=total, limit=limits.max_total_bytes
            ),
            "zip-bomb",
        )
    on_disk = os.path.getsize(zip_path)
    if total > _TOTAL_RATIO_FLOOR and total > limits.max_total_ratio * max(on_disk, 1):
        problems.add(
            zip_path.name,
            N_("unpacks to {size} bytes from {packed} (more than {limit}:1, zip bomb?)").format(
                size=total, packed=on_disk, limit=limits.max_total_ratio
            ),
            "zip-bomb",
        )
    files.sort(key=lambda f: f.path)
    return files


def _opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    return lambda: zf.open(info)
