"""Handing out stored bytes: a unit's file from a copy whose SHA-512 matches, or its DIP."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.http import FileResponse, Http404

from magazin.access.export import export_dip
from magazin.catalog.services import (
    access_representation,
    representations,
    unit_files,
    unit_root,
)
from magazin.catalog.storage import archive_storage
from magazin.core.config import load_home
from magazin.core.storage.ocfl import OcflError


def representation_for(unit, wanted: str | None, staff: bool) -> str:
    """The representation a user gets: staff any they ask for, readers the access
    representation (the newest preservation one); another one is not there for them."""
    root = unit_root(unit)
    access = access_representation(root)
    if not wanted:
        return access
    if wanted not in representations(root) or (not staff and wanted != access):
        raise Http404("no such representation")
    return wanted


def file_of(unit, path: str, representation: str | None = None):
    """The File of `unit` (a child unit: only files under its folder) with this path, in
    the representation (None: the access representation's, else any)."""
    files = unit_files(unit).filter(path=path)
    if representation is not None:
        f = files.filter(representation__name=representation).first()
    else:
        access = access_representation(unit_root(unit))
        f = files.filter(representation__name=access).first() or files.first()
    if f is None:
        raise Http404("no such file")
    return f


def open_verified(unit, f):
    """An open file of the stored copy, after checking its SHA-512 (a damaged copy is
    skipped; none good: 404 is wrong, so this raises)."""
    root = unit_root(unit)
    home = load_home()
    logical = f"representations/{f.representation.name}/data/{f.path}"
    # the inventory of the head version, not of one being written (the content files it
    # names never change)
    with home.locks.shared(root.ocfl_id):
        try:
            return archive_storage(home).verified_file(
                root.tenant.slug, root.ocfl_id, logical, home.tmp
            )
        except (OcflError, KeyError) as e:
            raise OSError(f"no good copy of {root.aid}/{f.path}: {e}") from e


def dip_response(unit, representation: str | None = None) -> FileResponse:
    """The DIP of the AIP the unit lives in, as a ZIP download: the files of one
    representation (default: the access representation) with the metadata."""
    root = unit_root(unit)
    tmp = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115
    tmp.close()
    export_dip(load_home(), root, Path(tmp.name),
               representation or access_representation(root))  # fmt: skip
    data = open(tmp.name, "rb")  # noqa: SIM115 - closed by the response
    Path(tmp.name).unlink()  # the open handle keeps the bytes until sent
    return FileResponse(data, as_attachment=True, filename=f"{unit.aid}.zip")


def file_response(unit, path: str, wanted: str | None = None, staff: bool = True) -> FileResponse:
    """A file of the representation asked for; without one, staff (following an older
    link) get the file wherever it is, readers only ever the access representation's."""
    rep = None if staff and not wanted else representation_for(unit, wanted, staff)
    f = file_of(unit, path, rep)
    return FileResponse(open_verified(unit, f), as_attachment=True, filename=Path(f.path).name)
