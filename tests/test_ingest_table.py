"""End to end through the CLI: a folder of speeches with a metadata table."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata

import openpyxl
import pytest

from magazin.catalog.models import Accession, Unit

from .conftest import snapshot, storage_objects, write_tree

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
CSV_CP1252 = (
    "Datei;Titel;Datum;Redner;Anlass;Signatur\n"
    "Reden/2014/rede 1.txt;Neujahrsempfang;31.12.2014;Dr. Trümper;Empfang;OB-1/2014\n"
    "Reden/2014/Grüße.pdf;Grußwort zum Fest;01.05.2014;Dr. Trümper;Stadtfest;OB-2/2014\n"
).encode("cp1252")


@pytest.fixture
def speeches(tmp_path):
    sip = write_tree(
        tmp_path / "sip",
        {
            "Reden/2014/rede 1.txt": "Sehr geehrte Damen und Herren, …",
            "Reden/2014/Grüße.pdf": PDF,
        },
    )
    table = tmp_path / "reden.csv"
    table.write_bytes(CSV_CP1252)
    return sip, table


def test_table_rows_become_aips_with_dublin_core(archive, home, speeches):
    sip, table = speeches
    before = snapshot(sip)
    r = archive.json("ingest", sip, "--metadata", table)
    assert r["status"] == "stored" and r["errors"] == []
    assert len(r["aips"]) == 2 and {a["status"] for a in r["aips"]} == {"stored"}
    assert r["accession"].startswith(f"{dt.date.today().year}-")
    assert snapshot(sip) == before, "the SIP must never be altered"

    listed = archive.json("aip", "list")
    assert {a["title"] for a in listed} == {"Neujahrsempfang", "Grußwort zum Fest"}
    assert set(listed[0]) == {"aid", "title", "tenant", "fonds", "files", "bytes"}
    a = next(x for x in listed if x["title"] == "Grußwort zum Fest")
    assert a["tenant"] == "stadt" and a["fonds"] == "OB-Reden" and a["files"] == 1
    show = archive.json("aip", "show", a["aid"])
    for key in ("aid", "title", "tenant", "fonds", "dc", "files", "events", "copies"):
        assert key in show
    assert show["dc"]["date"] == ["2014-05-01"]
    assert show["dc"]["creator"] == ["Dr. Trümper"]
    assert show["dc"]["identifier"] == ["OB-2/2014"]
    assert show["extra"] == {"Anlass": "Stadtfest"}
    f = show["files"][0]
    assert f["path"] == "Reden/2014/Grüße.pdf" and f["representation"] == "original"
    assert f["size"] == len(PDF) and f["sha512"] == hashlib.sha512(PDF).hexdigest()
    assert f["puid"] == "fmt/18" and f["mime"] == "application/pdf"
    txt = archive.json(
        "aip", "show", next(x["aid"] for x in listed if x["title"] == "Neujahrsempfang")
    )["files"][0]
    # a plain text file matches no signature: the extension answers, and says so
    assert txt["puid"] == "x-fmt/111" and txt["basis"] == "extension"
    assert txt["mime"] == "text/plain"
    types = {e["type"] for e in show["events"]}
    assert {
        "ingestion",
        "message digest calculation",
        "format identification",
        "fixity check",
        "replication",
        "accession",
    } <= types
    assert all(
        dt.datetime.fromisoformat(e["datetime"]).utcoffset() is not None for e in show["events"]
    )
    assert sorted(c["location"] for c in show["copies"]) == ["local-1", "local-2"]
    assert {c["status"] for c in show["copies"]} == {"ok"}
    # one OCFL object per AIP per location, plus tenant, fonds and accession objects
    assert len(storage_objects(home)) == 2 * (2 + 3)
    acc = archive.json("accession", "list")
    assert acc[0]["number"] == r["accession"] and acc[0]["files"] == 2 and acc[0]["aips"] == 2
    assert acc[0]["sip_name"] == "sip"


def test_same_delivery_again_is_a_duplicate(archive, home, speeches):
    sip, table = speeches
    first = archive.json("ingest", sip, "--metadata", table)
    objects = set(storage_objects(home))
    again = archive.json("ingest", sip, "--metadata", table)
    assert again["status"] == "duplicate"
    assert {a["status"] for a in again["aips"]} == {"duplicate"}
    assert {a["aid"] for a in again["aips"]} == {a["aid"] for a in first["aips"]}
    assert set(storage_objects(home)) == objects
    assert Unit.objects.count() == 2 and Accession.objects.count() == 1


def test_same_record_with_changed_metadata_is_an_error(archive, home, speeches, tmp_path):
    sip, table = speeches
    archive.json("ingest", sip, "--metadata", table)
    changed = tmp_path / "changed.csv"
    changed.write_bytes(CSV_CP1252.replace(b"Neujahrsempfang", b"Anderer Titel"))
    objects = set(storage_objects(home))
    r = archive.json("ingest", sip, "--metadata", changed, expect=1)
    assert r["status"] == "rejected"
    assert [e["code"] for e in r["errors"]] == ["conflicting-duplicate"]
    assert "rede 1.txt" in r["errors"][0]["path"]
    assert set(storage_objects(home)) == objects and Unit.objects.count() == 2


def test_row_naming_missing_file_rejects_sip_into_quarantine(archive, home, speeches):
    sip, table = speeches
    (sip / "Reden/2014/rede 1.txt").unlink()
    code, out, err = archive("ingest", sip, "--metadata", table)
    assert code == 1
    assert "rede 1.txt" in err and "missing-file" in err
    assert Unit.objects.count() == 0
    assert len(storage_objects(home)) == 2 * 2  # only tenant and fonds objects
    q = archive.json("quarantine", "list")
    assert len(q) == 1
    report = json.loads((home.quarantine / q[0]["id"] / "report.json").read_text())
    assert report["problems"][0]["code"] == "missing-file"
    assert report["problems"][0]["path"] == "Reden/2014/rede 1.txt"
    txt = (home.quarantine / q[0]["id"] / "report.txt").read_text()
    assert "rede 1.txt" in txt and "missing-file" in txt
    # staging is cleaned up; the SIP is still where it was
    for loc in home.locations:
        assert not any((loc.path / "staging").iterdir())


def test_unlisted_payload_rejected_by_default_or_stored_as_unit(archive, home, speeches):
    sip, table = speeches
    (sip / "Reden/extra.txt").write_text("nicht in der Tabelle")
    r = archive.json("ingest", sip, "--metadata", table, expect=1)
    assert [(e["path"], e["code"]) for e in r["errors"]] == [("Reden/extra.txt", "unlisted-file")]
    assert Unit.objects.count() == 0
    r = archive.json("ingest", sip, "--metadata", table, "--unlisted", "unit")
    assert len(r["aips"]) == 3
    assert Unit.objects.filter(title="extra.txt").count() == 1


def test_xlsx_table_with_map_and_real_dates(archive, home, tmp_path):
    sip = write_tree(tmp_path / "sip", {"a.txt": "A", "b/c.txt": "C"})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Dateiname", "Titel", "Datum", "Veranstaltung", "Redner/in"])
    ws.append(["a.txt", "Rede A", dt.datetime(2015, 3, 1), "Ratssitzung", "X"])
    ws.append(["b\\c.txt", "Rede C", "12.2016", "Jubiläum", "Y"])
    wb.save(tmp_path / "t.xlsx")
    r = archive.json(
        "ingest",
        sip,
        "--metadata",
        tmp_path / "t.xlsx",
        "--map",
        "Redner/in=creator",
        "--map",
        "Veranstaltung=description",
    )
    assert r["status"] == "stored"
    units = {u.title: u for u in Unit.objects.all()}
    assert units["Rede A"].dc["date"] == ["2015-03-01"]
    assert units["Rede C"].dc["date"] == ["2016-12"]
    assert units["Rede C"].dc["creator"] == ["Y"]
    assert units["Rede C"].dc["description"] == ["Jubiläum"]


def test_utf8_bom_comma_csv_and_english_headers(archive, tmp_path):
    sip = write_tree(tmp_path / "sip", {"x.txt": "x"})
    t = tmp_path / "t.csv"
    t.write_bytes(
        "\ufefffile,title,date,creator,reference,description,Occasion\n"
        'x.txt,"Title, with comma",2014-12-31,Müller,R-1,Desc,Gala\n'.encode("utf-8")
    )
    archive.json("ingest", sip, "--metadata", t)
    u = Unit.objects.get()
    assert u.title == "Title, with comma"
    assert u.dc == {
        "title": ["Title, with comma"],
        "date": ["2014-12-31"],
        "creator": ["Müller"],
        "identifier": ["R-1"],
        "description": ["Desc"],
    }
    assert u.extra == {"Occasion": "Gala"}


def test_table_without_file_column_is_rejected(archive, tmp_path):
    sip = write_tree(tmp_path / "sip", {"x.txt": "x"})
    t = tmp_path / "t.csv"
    t.write_text("Titel;Datum\nA;1.1.2000\n")
    r = archive.json("ingest", sip, "--metadata", t, expect=1)
    assert r["errors"][0]["code"] == "bad-table" and r["errors"][0]["path"] == "t.csv"


def test_nfd_names_are_kept_and_matched_from_an_nfc_table(archive, home, tmp_path):
    nfd = unicodedata.normalize("NFD", "Grüße Ölmühle.txt")
    sip = write_tree(tmp_path / "sip", {nfd: "text"})
    t = tmp_path / "t.csv"
    t.write_text("Datei;Titel\n" + unicodedata.normalize("NFC", nfd) + ";T\n", "utf-8")
    r = archive.json("ingest", sip, "--metadata", t)
    show = archive.json("aip", "show", r["aips"][0]["aid"])
    assert show["files"][0]["path"] == nfd  # exactly as received (NFD)


def test_table_path_in_other_letter_case_matches_with_a_warning(archive, tmp_path):
    sip = write_tree(tmp_path / "sip", {"Reden/Rede.PDF": PDF})
    t = tmp_path / "t.csv"
    t.write_text("Datei;Titel\nreden\\rede.pdf;Rede\n", "utf-8")
    r = archive.json("ingest", sip, "--metadata", t)
    assert r["status"] == "stored"
    assert [(w["path"], w["code"]) for w in r["warnings"]] == [("reden/rede.pdf", "case-mismatch")]
    show = archive.json("aip", "show", r["aips"][0]["aid"])
    assert show["files"][0]["path"] == "Reden/Rede.PDF"
    ingestion = next(e for e in show["events"] if e["type"] == "ingestion")
    assert ingestion["outcome"] == "warning" and "case" in ingestion["outcome_detail"]
