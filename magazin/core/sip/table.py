"""Read a metadata table (CSV or XLSX) that describes one root unit per row.

German spreadsheet programs write CSV as Windows-1252 or UTF-8 (with BOM), separated by
semicolons; dates as 31.12.2014. Common German and English headers are understood as they
are; `--map COLUMN=FIELD` names the others. Unknown columns are kept as extra metadata.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..aip.dc import ELEMENTS
from ..i18n import N_
from ..problems import ProblemList

DC_ELEMENTS = ELEMENTS
# where in a table: the name of a problem's place and of a record from a row
ROW = N_("{table}, row {row}")

# header (normalised) -> field; "file" is the path column, the rest are DC elements
HEADER_FIELDS: dict[str, str] = {}
for _field, _names in {
    "file": [
        "datei",
        "dateiname",
        "pfad",
        "dateipfad",
        "file",
        "filename",
        "file name",
        "path",
        "filepath",
        "file path",
    ],
    "title": ["titel", "title", "betreff"],
    "date": ["datum", "date"],
    "creator": [
        "urheber",
        "verfasser",
        "creator",
        "autor",
        "author",
        "redner",
        "speaker",
        "provenienz",
    ],
    "identifier": [
        "signatur",
        "aktenzeichen",
        "reference",
        "reference code",
        "referenz",
        "ref",
        "identifier",
        "kennzeichen",
    ],
    "description": ["beschreibung", "description", "inhalt", "enthält", "enthaelt"],
    "subject": ["schlagwort", "schlagworte", "subject", "subjects", "keywords"],
    "language": ["sprache", "language"],
    "type": ["typ", "type", "gattung"],
    "rights": ["rechte", "rights"],
    "publisher": ["herausgeber", "publisher"],
    "contributor": ["mitwirkende", "contributor"],
    "coverage": ["ort", "coverage"],
}.items():
    for _n in _names:
        HEADER_FIELDS[_n] = _field

MAP_TARGETS = set(DC_ELEMENTS) | {"file", "extra", "reference", "ignore"}


def normalise_header(h: str) -> str:
    h = unicodedata.normalize("NFC", h).strip().strip("\ufeff").lower()
    return re.sub(r"\s+", " ", h)


@dataclass
class TableRow:
    number: int  # 1-based line/row number in the table (header is 1)
    path: str
    dc: dict[str, list[str]]
    extra: dict[str, str]
    cells: list[tuple[str, str]]  # (header, value) as received


@dataclass
class Table:
    name: str
    headers: list[str]
    rows: list[TableRow]
    warnings: list[tuple[str, str, str]]


def _decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    try:
        text = _decode_csv(data)
    except UnicodeDecodeError as e:
        raise ValueError(
            N_("not readable as UTF-8 or Windows-1252 text: {error}").format(error=e)
        ) from e
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first))
    try:
        return [row for row in reader]
    except csv.Error as e:
        raise ValueError(N_("malformed CSV: {error}").format(error=e)) from e


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0):
            return v.date().isoformat()
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class UnsafeTable(ValueError):
    """A workbook whose XML declares entities (XXE, entity expansion)."""


XLSX_MAX_UNPACKED = 512 * 1024 * 1024


def _precheck_xlsx(path: Path) -> None:
    """Refuse DTDs/entities in any XML part and workbooks that unpack to absurd sizes."""
    import zipfile

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(N_("not a readable XLSX workbook: {error}").format(error=e)) from e
    with zf:
        total = sum(i.file_size for i in zf.infolist())
        if total > XLSX_MAX_UNPACKED:
            raise ValueError(
                N_("the workbook unpacks to {size} bytes (limit {limit}); zip bomb?").format(
                    size=total, limit=XLSX_MAX_UNPACKED
                )
            )
        for info in zf.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            with zf.open(info) as f:
                head = f.read(64 * 1024)
            # a DOCTYPE can only stand before the root element, in the first bytes
            if b"<!doctype" in head.lower() or b"<!entity" in head.lower():
                raise UnsafeTable(
                    N_("{file} declares a DTD or entities (XXE); refused").format(
                        file=info.filename
                    )
                )


def _read_xlsx(path: Path) -> list[list[str]]:
    import defusedxml
    import openpyxl

    _precheck_xlsx(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            return [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
    except defusedxml.DefusedXmlException as e:
        raise UnsafeTable(
            N_("the workbook's XML declares entities, refused: {error}").format(error=e)
        ) from e
    except Exception as e:  # openpyxl raises many kinds for broken files
        raise ValueError(N_("not a readable XLSX workbook: {error}").format(error=e)) from e


_DE_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_DE_MONTH = re.compile(r"^(\d{1,2})\.(\d{4})$")
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def parse_date(value: str) -> str | None:
    """A German or ISO date (or a range 'a - b') as ISO 8601; None if it is not one."""
    v = value.strip()
    if not v:
        return None
    for sep in (" - ", " – ", "–", "/", " bis "):
        if sep in v:
            a, b = v.split(sep, 1)
            pa, pb = parse_date(a), parse_date(b)
            if pa and pb:
                return f"{pa}/{pb}"
            return None
    m = _DE_DATE.match(v)
    if m:
        d, mo, y = (int(x) for x in m.groups())
        try:
            return dt.date(y, mo, d).isoformat()
        except ValueError:
            return None
    m = _DE_MONTH.match(v)
    if m:
        mo, y = int(m.group(1)), int(m.group(2))
        return f"{y:04d}-{mo:02d}" if 1 <= mo <= 12 else None
    if _ISO.match(v):
        try:
            if len(v) == 10:
                dt.date.fromisoformat(v)
            return v
        except ValueError:
            return None
    m = re.match(r"^(\d{4}-\d{2}-\d{2})T[\d:]+$", v)
    if m:
        return m.group(1)
    return None


def normalise_row_path(p: str) -> str:
    p = p.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def read_table(path: Path, mapping: dict[str, str], problems: ProblemList) -> Table | None:
    """Read the table and map its columns; problems name the table, row and column."""
    name = path.name
    if not path.is_file():
        problems.add(name, N_("metadata table not found"), "missing-table")
        return None
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            rows = _read_xlsx(path)
        elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
            rows = _read_csv(path)
        else:
            problems.add(name, N_("metadata table must be .csv or .xlsx"), "bad-table")
            return None
    except UnsafeTable as e:
        problems.add(name, str(e), "unsafe-xml")
        return None
    except ValueError as e:
        problems.add(name, str(e), "bad-table")
        return None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        problems.add(name, N_("metadata table is empty"), "bad-table")
        return None
    headers = [h.strip().lstrip("\ufeff") for h in rows[0]]
    norm_map = {normalise_header(k): v for k, v in mapping.items()}
    fields: list[str] = []
    for h in headers:
        n = normalise_header(h)
        if n in norm_map:
            f = norm_map[n]
            f = "identifier" if f == "reference" else f
        elif n in HEADER_FIELDS:
            f = HEADER_FIELDS[n]
        elif n in DC_ELEMENTS:
            f = n
        else:
            f = "extra"
        fields.append(f)
    for k in norm_map:
        if k not in {normalise_header(h) for h in headers}:
            problems.add(
                name,
                N_("--map names column {column!r}, which the table does not have").format(column=k),
                "bad-table",
            )
    if fields.count("file") != 1:
        problems.add(
            name,
            N_(
                "no column names the file (expected a header like Datei, Dateiname, Pfad, "
                "file or path, or --map COLUMN=file)"
            )
            if "file" not in fields
            else N_(
                "several file columns (expected one header like Datei, Dateiname, Pfad, "
                "file or path, or --map COLUMN=file)"
            ),
            "bad-table",
        )
        return None
    warnings: list[tuple[str, str, str]] = []
    out: list[TableRow] = []
    file_col = fields.index("file")
    for i, raw in enumerate(rows[1:], start=2):
        cells = list(raw) + [""] * (len(headers) - len(raw))
        if len(raw) > len(headers) and any(c.strip() for c in raw[len(headers) :]):
            problems.add(
                ROW.format(table=name, row=i),
                N_("more cells than the header has columns"),
                "bad-table",
            )
            continue
        fpath = normalise_row_path(cells[file_col])
        if not fpath:
            problems.add(ROW.format(table=name, row=i), N_("the file column is empty"), "bad-table")
            continue
        dc: dict[str, list[str]] = {}
        extra: dict[str, str] = {}
        kept: list[tuple[str, str]] = []
        for h, f, v in zip(headers, fields, cells, strict=False):
            v = v.strip()
            kept.append((h, v))
            if not v or f in ("file", "ignore"):
                continue
            if f == "extra":
                extra[h] = v
                continue
            if f == "date":
                iso = parse_date(v)
                if iso is None:
                    warnings.append(
                        (
                            ROW.format(table=name, row=i),
                            N_(
                                "date {value!r} in column {column!r} is not a recognised date; "
                                "kept as written"
                            ).format(value=v, column=h),
                            "unparsed-date",
                        )
                    )
                    iso = v
                v = iso
            dc.setdefault(f, []).append(v)
        out.append(TableRow(i, fpath, dc, extra, kept))
    if not out and not problems:
        problems.add(name, N_("metadata table has no rows"), "bad-table")
    return Table(name, headers, out, warnings)
