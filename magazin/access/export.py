"""DIP export: the files under their original names, with METS, PREMIS and DC, as one ZIP.

The files are read from the first copy whose bytes match the inventory digests; the ZIP is
written under a temporary name and renamed when complete."""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from pathlib import Path

from magazin.core.config import Home
from magazin.core.storage.location import FilesystemLocation
from magazin.core.storage.ocfl import OcflError, OcflObject
from magazin.errors import Failure

CHUNK = 1 << 20


class ExportError(Exception):
    pass


def export_dip(home: Home, unit, out: Path) -> dict:
    with home.locks.shared(unit.ocfl_id):  # the head version, not one being written
        return _export(home, unit, out)


def _export(home: Home, unit, out: Path) -> dict:
    last_error = "no copy found"
    for c in home.locations:
        loc = FilesystemLocation(c)
        obj_dir = loc.object_dir(unit.tenant.slug, unit.ocfl_id)
        if not obj_dir.is_dir():
            continue
        try:
            obj = OcflObject.open(obj_dir)
            n = _write_zip(obj, out)
            return {"aid": unit.aid, "out": str(out), "files": n, "location": loc.name}
        except (OcflError, ExportError) as e:
            last_error = f"{loc.name}: {e}"
    raise Failure(f"cannot export {unit.aid}: {last_error}")


def _write_zip(obj: OcflObject, out: Path) -> int:
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    state = obj.state()
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for logical in sorted(state):
                digest = state[logical]
                h = hashlib.new(obj.digest_algorithm)
                src = obj.content_path(digest)
                info = zipfile.ZipInfo(logical, time.localtime(src.stat().st_mtime)[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(src, "rb") as f, zf.open(info, "w", force_zip64=True) as dst:
                    while chunk := f.read(CHUNK):
                        h.update(chunk)
                        dst.write(chunk)
                if h.hexdigest() != digest.lower():
                    raise ExportError(f"{logical}: stored bytes do not match the inventory")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(state)
