"""SIP readers: detect the kind of a delivery and check its structure before anything is copied.

`read_sip` returns a Transfer (payload files + records) or raises RejectedSIP naming every
problem. The SIP itself is only read, never moved or changed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
import zipfile
from pathlib import Path

from ..aip.xml import NS, to_bytes
from ..i18n import N_
from ..problems import Problem, ProblemList, RejectedSIP
from .bagit_sip import check_bag, is_bag, shadow_bag
from .eark_sip import is_eark, read_eark
from .folder import scan_folder
from .limits import Limits
from .model import PayloadFile, Record, Transfer
from .safety import check_collisions, collision_key
from .table import HEADER_FIELDS, ROW, normalise_header, read_table
from .zipsip import open_zip, scan_zip

__all__ = ["read_sip", "Transfer", "Record", "PayloadFile", "Limits"]

_XDOMEA_NAME = re.compile(r"_[A-Za-z]+\.[A-Za-z]+\.05\d\d\.(xml|zip)$")


def _xdomea_problem(name: str, problems: ProblemList) -> None:
    problems.add(
        name,
        N_(
            "this is an xdomea message; xdomea deliveries are taken over through "
            "the agency's inbox with `magazin xdomea poll`, not `magazin ingest`"
        ),
        "xdomea-message",
    )


# what becomes of payload files a metadata table does not name: refused, or a unit each
UNLISTED = ("reject", "unit")


def read_sip(
    path: Path,
    table: Path | None = None,
    mapping: dict[str, str] | None = None,
    unlisted: str = "reject",
    limits: Limits | None = None,
    tmp: Path | None = None,
    eark_schemas: Path | None = None,
) -> Transfer:
    """Read and check the SIP at `path` (folder, ZIP, BagIt bag; optional metadata table)."""
    limits = limits or Limits()
    problems = ProblemList()
    path = Path(path)
    if not path.exists():
        raise RejectedSIP([Problem(str(path), N_("SIP not found"), "missing-sip")])
    if _XDOMEA_NAME.search(path.name):
        _xdomea_problem(path.name, problems)
        problems.raise_if_any()
    transfer: Transfer | None = None
    try:
        if table is None and is_eark(path):
            transfer = read_eark(path, problems, limits, eark_schemas)
        elif path.is_dir():
            transfer = _read_folder(path, table, problems)
        elif zipfile.is_zipfile(path):
            transfer = _read_zip(path, problems, limits, tmp)
        else:
            problems.add(path.name, N_("not a folder, ZIP file or BagIt bag"), "unknown-sip")
        if transfer is not None and not problems:
            _check_payload(transfer, problems)
            if not problems and transfer.kind != "eark":  # its one record is made already
                _plan_records(transfer, path, table, mapping or {}, unlisted, problems)
        problems.raise_if_any()
    except BaseException:
        if transfer is not None:
            transfer.close()
        raise
    assert transfer is not None
    return transfer


def _read_folder(path: Path, table: Path | None, problems: ProblemList) -> Transfer | None:
    skip: set[str] = set()
    if table is not None:
        try:
            skip.add(table.resolve().relative_to(path.resolve()).as_posix())
        except ValueError:
            pass
    if is_bag(path):
        files = scan_folder(path, problems)
        if problems:
            return None
        payload = [f for f in files if f.path.startswith("data/")]
        warnings: list[Problem] = []
        info = check_bag(path, problems, warnings, payload)
        for f in payload:
            f.path = f.path[len("data/") :]
        t = Transfer("bagit", path.name, str(path), payload, [], warnings, info)
        _bag_metadata(t, path / "bag-info.txt")
        return t
    files = scan_folder(path, problems, skip=skip)
    return Transfer("folder", path.name, str(path), files, [])


def _bag_metadata(t: Transfer, info_file: Path | None, data: bytes | None = None) -> None:
    if data is None and info_file is not None and info_file.is_file():
        data = info_file.read_bytes()
    if data is not None:
        t.info["_bag_info_bytes"] = data.decode("latin-1")


def _read_zip(
    path: Path, problems: ProblemList, limits: Limits, tmp: Path | None
) -> Transfer | None:
    zf = open_zip(path, problems)
    if zf is None:
        return None
    files = scan_zip(zf, path, problems, limits)
    if problems:
        zf.close()
        return None
    names = [f.path for f in files]
    if any(_XDOMEA_NAME.search(n) for n in names) or _has_xdomea_xml(files):
        zf.close()
        _xdomea_problem(path.name, problems)
        return None

    def bag_at(prefix: str) -> bool:
        inner = [n[len(prefix) :] for n in names if n.startswith(prefix)]
        return "bagit.txt" in inner or (
            any(n.startswith("data/") for n in inner)
            and any(n.startswith("manifest-") and "/" not in n for n in inner)
        )

    tops = {n.split("/", 1)[0] for n in names}
    prefix = ""
    if not bag_at("") and len(tops) == 1 and bag_at(next(iter(tops)) + "/"):
        prefix = next(iter(tops)) + "/"
    if bag_at(prefix):
        entries = {f.path[len(prefix) :]: f for f in files if f.path.startswith(prefix)}
        tmp_parent = tmp or Path(tempfile.gettempdir())
        tmp_parent.mkdir(parents=True, exist_ok=True)
        shadow = shadow_bag(entries, tmp_parent)
        try:
            payload = [
                PayloadFile(rel, pf.size, pf.opener)
                for rel, pf in entries.items()
                if rel.startswith("data/")
            ]
            warnings: list[Problem] = []
            info = check_bag(shadow, problems, warnings, payload)
            for f in payload:
                f.path = f.path[len("data/") :]
            payload.sort(key=lambda f: f.path)
            t = Transfer("bagit", path.stem, str(path), payload, [], warnings, info)
            _bag_metadata(t, shadow / "bag-info.txt")
        finally:
            shutil.rmtree(shadow, ignore_errors=True)
        t._closers.append(zf.close)
        return t
    t = Transfer("zip", path.stem, str(path), files, [])
    t._closers.append(zf.close)
    return t


_XDOMEA_NS = b"urn:xoev-de:xdomea:schema"


def _has_xdomea_xml(files: list[PayloadFile]) -> bool:
    """An XML file at the top of the SIP whose root element is in the xdomea namespace."""
    for f in files:
        if "/" in f.path or not f.path.lower().endswith(".xml"):
            continue
        with f.opener() as fh:
            head = fh.read(4096)
        if _XDOMEA_NS in head:
            return True
    return False


def _check_payload(t: Transfer, problems: ProblemList) -> None:
    if not t.files:
        problems.add(t.name, N_("the SIP contains no files"), "empty-sip")
        return
    if t.kind in ("folder", "zip") and _has_xdomea_xml(t.files):
        _xdomea_problem(t.name, problems)
        return
    check_collisions([f.path for f in t.files], problems)


def _plan_records(
    t: Transfer,
    sip_path: Path,
    table: Path | None,
    mapping: dict[str, str],
    unlisted: str,
    problems: ProblemList,
) -> None:
    if table is None:
        title = t.info.get("Title") or t.info.get("External-Description") or t.name
        dc: dict[str, list[str]] = {"title": [title]}
        if t.info.get("Source-Organization"):
            dc["creator"] = [t.info["Source-Organization"]]
        if t.info.get("External-Identifier"):
            dc["identifier"] = [t.info["External-Identifier"]]
        if t.info.get("Bagging-Date"):
            dc["date"] = [t.info["Bagging-Date"]]
        rec = Record([f.path for f in t.files], dc, label=t.name)
        raw = t.info.pop("_bag_info_bytes", None)
        if raw is not None:
            rec.source_metadata = ("bag-info.txt", raw.encode("latin-1"))
        t.records = [rec]
        t.one_aip = True
        return
    t.info.pop("_bag_info_bytes", None)
    tab = read_table(table, mapping, problems)
    if tab is None:
        return
    t.table = tab.name
    t.one_aip = False
    by_name = {f.path: f for f in t.files}
    by_nfc = {unicodedata.normalize("NFC", f.path): f for f in t.files}
    # payload names never collide by case (checked above), so a match ignoring case is unique;
    # tables typed on Windows often differ from the files in letter case only
    by_key = {collision_key(f.path): f for f in t.files}
    used: dict[str, int] = {}
    for row in tab.rows:
        f = by_name.get(row.path) or by_nfc.get(unicodedata.normalize("NFC", row.path))
        where = {"table": tab.name, "row": row.number}
        if f is None and (f := by_key.get(collision_key(row.path))) is not None:
            t.warnings.append(
                Problem(
                    row.path,
                    N_("{table}, row {row} names {path!r} in other letter case; matched").format(
                        **where, path=f.path
                    ),
                    "case-mismatch",
                )
            )
        if f is None:
            problems.add(
                row.path,
                N_("named in {table}, row {row} but not in the SIP").format(**where),
                "missing-file",
            )
            continue
        if f.path in used:
            problems.add(
                row.path,
                N_("named in {table}, row {row} and again in row {first}").format(
                    **where, first=used[f.path]
                ),
                "duplicate-row",
            )
            continue
        used[f.path] = row.number
        title = row.dc.get("title") or [f.path.rsplit("/", 1)[-1]]
        row.dc["title"] = title
        t.records.append(
            Record(
                [f.path],
                row.dc,
                row.extra,
                ("table-row.xml", table_row_xml(tab.name, row)),
                row_path=f.path,
                label=ROW.format(**where),
            )
        )
    for w in tab.warnings:
        t.warnings.append(Problem(*w))
    for f in t.files:
        if f.path in used:
            continue
        if unlisted == "unit":
            t.records.append(
                Record(
                    [f.path], {"title": [f.path.rsplit("/", 1)[-1]]}, row_path=f.path, label=f.path
                )
            )
        else:
            problems.add(
                f.path,
                N_(
                    "payload file is not named in {table} (use --unlisted unit to store it as "
                    "a unit of its own)"
                ).format(table=tab.name),
                "unlisted-file",
            )


def table_row_xml(table_name: str, row) -> bytes:
    """The table row as received, one cell per column, with the field it was mapped to."""
    from lxml import etree

    root = etree.Element(
        f"{{{NS['mz']}}}row", nsmap={"mz": NS["mz"]}, table=table_name, number=str(row.number)
    )
    for header, value in row.cells:
        field = HEADER_FIELDS.get(normalise_header(header), "")
        if header in row.extra:
            field = "extra"
        cell = etree.SubElement(root, f"{{{NS['mz']}}}cell", column=header)
        if field:
            cell.set("field", field)
        cell.text = value
    return to_bytes(root)
