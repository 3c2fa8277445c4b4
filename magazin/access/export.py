"""DIP export: the files under their original names, with METS, PREMIS and DC, as one ZIP.

The files are read from the first copy whose bytes match the inventory digests; the ZIP is
written under a temporary name and renamed when complete."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zipfile
from pathlib import Path

from magazin.catalog.storage import archive_storage
from magazin.core.config import Home
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
    for loc, obj in archive_storage(home).copies(unit.tenant.slug, unit.ocfl_id):
        try:
            n = _write_zip(obj, out)
            return {"aid": unit.aid, "out": str(out), "files": n, "location": loc.name}
        except (OcflError, ExportError, OSError) as e:
            last_error = f"{loc.name}: {e}"
    raise Failure(f"cannot export {unit.aid}: {last_error}")


def _zip_time(iso: str) -> tuple:
    """A ZIP entry's time: when the version holding the bytes was made (local time)."""
    t = dt.datetime.fromisoformat(iso).astimezone()
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)


def _write_zip(obj: OcflObject, out: Path) -> int:
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    state = obj.state()
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for logical in sorted(state):
                digest = state[logical]
                h = hashlib.new(obj.digest_algorithm)
                rel = obj.content_of(logical)
                created = obj.inventory["versions"][rel.split("/", 1)[0]]["created"]
                info = zipfile.ZipInfo(logical, _zip_time(created))
                info.compress_type = zipfile.ZIP_DEFLATED
                with obj.open_content(rel) as f, zf.open(info, "w", force_zip64=True) as dst:
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
