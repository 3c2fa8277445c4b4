"""XML with external entities or entity expansion is refused wherever Magazin reads XML:
metadata tables (XLSX is XML) and the METS/PREMIS/DC read back from storage."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from magazin.catalog.models import Unit
from magazin.core.aip.xml import UnsafeXML, parse_xml

from .conftest import storage_objects, write_tree

XXE = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>'
BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<r>&c;</r>'
)


@pytest.mark.parametrize("data", [XXE, BOMB])
def test_parse_xml_refuses_entities(data):
    with pytest.raises(UnsafeXML):
        parse_xml(data, "x.xml")


def test_parse_xml_reads_plain_xml():
    assert parse_xml(b"<r><a>1</a></r>").findtext("a") == "1"


def _xlsx_with_xxe(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Datei", "Titel"])
    ws.append(["a.txt", "A"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = (
                    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM '
                    b'"file:///etc/passwd">]>' + data
                )
            out.writestr(info, data)
    return path


def test_xlsx_table_with_external_entity_is_rejected(archive, home, tmp_path):
    sip = write_tree(tmp_path / "sip", {"a.txt": "a"})
    table = _xlsx_with_xxe(tmp_path / "t.xlsx")
    r = archive.json("ingest", sip, "--metadata", table, expect=1)
    assert [(e["path"], e["code"]) for e in r["errors"]] == [("t.xlsx", "unsafe-xml")]
    assert Unit.objects.count() == 0 and len(storage_objects(home)) == 4


def test_rebuild_refuses_stored_metadata_with_entities(archive, home, tmp_path):
    r = archive.json("ingest", write_tree(tmp_path / "sip", {"a.txt": "a"}))
    aid = r["aips"][0]["aid"]
    # an attacker with write access to storage plants an XXE into METS (and fixes the
    # inventory digests so that the object still looks consistent)
    import hashlib
    import json

    for obj in storage_objects(home):
        if aid.split("-", 1)[1] not in obj.name:
            continue
        mets = obj / "v1/content/METS.xml"
        data = mets.read_bytes().replace(
            b"?>", b'?><!DOCTYPE mets [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1
        )
        mets.write_bytes(data)
        inv = json.loads((obj / "inventory.json").read_text())
        old = next(d for d, ps in inv["manifest"].items() if ps == ["v1/content/METS.xml"])
        new = hashlib.sha512(data).hexdigest()
        inv["manifest"][new] = inv["manifest"].pop(old)
        st = inv["versions"]["v1"]["state"]
        st[new] = st.pop(old)
        raw = json.dumps(inv).encode()
        for d in (obj, obj / "v1"):
            (d / "inventory.json").write_bytes(raw)
            (d / "inventory.json.sha512").write_text(
                hashlib.sha512(raw).hexdigest() + " inventory.json\n"
            )
    code, _, err = archive("catalog", "rebuild")
    assert code == 1 and "DOCTYPE" in err and "passwd" not in err.split("DOCTYPE")[0]
    assert Unit.objects.filter(aid=aid).exists()
