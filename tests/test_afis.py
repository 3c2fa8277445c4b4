"""The link to the archive information system (issue 14, part 5): what an AFIS imports (CSV,
EAD 2002 valid under ead2002.xsd) and its descriptions coming back - checked first, applied as
new versions with a metadata modification event, idempotent, nothing applied on a bad file or
an ambiguous entry."""

from __future__ import annotations

import csv
import io
import json

from lxml import etree

from tests.conftest import shared_fixtures

EAD = {"e": "urn:isbn:1-931666-22-9", "xlink": "http://www.w3.org/1999/xlink"}


def _by_signature(cli) -> dict[str, dict]:
    out = {}
    for a in cli.json("aip", "list", "--tenant", "stadt"):
        d = cli.json("aip", "show", a["aid"])
        out[d["dc"]["identifier"][0]] = d
    return out


def _versions(cli) -> dict[str, int]:
    """Per AID, how many changes its AIP had (each correction is a new version with a
    metadata modification event)."""
    return {a["aid"]: sum(e["type"] == "metadata modification"
                          for e in cli.json("aip", "show", a["aid"])["events"])
            for a in cli.json("aip", "list", "--tenant", "stadt")}  # fmt: skip


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8")), delimiter=";"))


def test_the_export_names_every_unit_for_the_afis(speeches, tmp_path):
    import pytest
    import xmlschema

    cli = speeches
    cli.json("tenant", "set", "stadt", "--public-url", "https://archiv.example.org")
    out = tmp_path / "afis.csv"
    r = cli.json("afis", "export", "stadt", "--fonds", "OB-Reden", "--out", out)
    assert r["units"] == 5 and r["format"] == "csv"
    rows = _rows(out)
    assert list(rows[0]) == ["aid", "alternate_ids", "signature", "title", "date",
                             "description", "files", "access", "url", "afis_id"]  # fmt: skip
    by_sig = {row["signature"]: row for row in rows}
    assert set(by_sig) == {"OB-R-1", "OB-R-2", "OB-R-3", "OB-R-4", "OB-R-5"}
    assert by_sig["OB-R-1"]["access"] == "open" and by_sig["OB-R-2"]["access"] == "closed"
    assert by_sig["OB-R-1"]["title"] == "Rede zur Brücke 1960"
    aid = by_sig["OB-R-1"]["aid"]
    assert by_sig["OB-R-1"]["url"] == f"https://archiv.example.org/aip/{aid}/"
    assert by_sig["OB-R-1"]["files"] == "1" and by_sig["OB-R-1"]["date"] == "1960"

    ead = tmp_path / "afis.xml"
    r = cli.json("afis", "export", "stadt", "--format", "ead", "--out", ead)
    assert r["units"] == 5
    root = shared_fixtures()
    if root is None:
        pytest.skip("../shared/fixtures is not here: ead2002.xsd comes from there")
    xlink = {"http://www.loc.gov/standards/xlink/xlink.xsd": str(root / "schemas/xlink.xsd")}
    schema = xmlschema.XMLSchema10(str(root / "schemas/ead2002.xsd"), uri_mapper=xlink)
    errors = [str(e).splitlines()[0] for e in schema.iter_errors(str(ead))]
    assert not errors, errors[:5]
    doc = etree.parse(str(ead))
    aids = doc.xpath("//e:c/e:did/e:unitid[@type='aid']/text()", namespaces=EAD)
    assert sorted(aids) == sorted(row["aid"] for row in rows)
    dao = doc.find(".//e:dao", EAD)
    assert dao.get(f"{{{EAD['xlink']}}}href").startswith("https://archiv.example.org/aip/")


def test_descriptions_from_the_afis_update_the_units_they_match(speeches, tmp_path):
    cli = speeches
    before = _by_signature(cli)
    sheet = tmp_path / "aus-dem-afis.csv"
    sheet.write_text(
        "signature;title;date;description;afis_id\n"
        "OB-R-1;Rede zur Eröffnung der Strombrücke;1960-05-01;Mit Grußwort;AF-1001\n"
        "OB-R-2;Haushaltsrede 2014;2014;;AF-1002\n"  # same title and date: only the AFIS id
        "OB-R-9;Nicht bei uns;1999;;AF-1009\n", "utf-8")  # fmt: skip
    dry = cli.json("afis", "import", "stadt", sheet, "--dry-run")
    assert (dry["matched"], dry["updated"], dry["unchanged"]) == (2, 2, 0)
    assert dry["unmatched"] == [{"where": "line 4", "key": "OB-R-9"}] and not dry["conflicts"]
    assert _by_signature(cli) == before  # a dry run changes nothing

    r = cli.json("afis", "import", "stadt", sheet)
    assert (r["matched"], r["updated"], r["unchanged"]) == (2, 2, 0)
    after = _by_signature(cli)
    one = after["OB-R-1"]
    assert one["title"] == "Rede zur Eröffnung der Strombrücke"
    assert one["dc"]["date"] == ["1960-05-01"] and one["dc"]["description"] == ["Mit Grußwort"]
    assert one["dc"]["identifier"] == ["OB-R-1", "afis:AF-1001"]
    assert _versions(cli)[one["aid"]] == 1
    assert any(e["type"] == "metadata modification" and "archive information system"
               in e["detail"] for e in one["events"])  # fmt: skip
    assert after["OB-R-2"]["title"] == "Haushaltsrede 2014"
    assert after["OB-R-2"]["dc"]["identifier"] == ["OB-R-2", "afis:AF-1002"]
    assert _versions(cli)[after["OB-R-3"]["aid"]] == 0
    changes = _versions(cli)

    again = cli.json("afis", "import", "stadt", sheet)  # idempotent: a second run changes nothing
    assert (again["updated"], again["unchanged"]) == (0, 2)
    assert _versions(cli) == changes

    # matched by the AFIS id it sent, as an alternate id; the AFIS now renames a signature
    by_id = tmp_path / "nach-id.csv"
    by_id.write_text("afis_id;signature;title\nAF-1002;OB-R-2a;Haushaltsrede 2014\n", "utf-8")
    r = cli.json("afis", "import", "stadt", by_id, "--match", "alternate-id")
    assert (r["matched"], r["updated"]) == (1, 1)
    assert "OB-R-2a" in _by_signature(cli)

    # an EAD(DDB) finding aid (here Magazin's own, as an AFIS would send it back: its own ids
    # in c/@id, one title changed)
    cli.json("tenant", "set", "stadt", "--isil", "DE-Mb112", "--archive-type", "kommunal")
    fb = tmp_path / "findbuch.xml"
    cli.json("ead", "export", "stadt", "OB-Reden", "--out", fb)
    doc = etree.parse(str(fb))
    files = list(doc.iterfind(".//e:c[@level='file']", EAD))
    for n, c in enumerate(files):
        c.set("id", f"AFIS-{n}")
        if c.findtext("e:did/e:unitid", namespaces=EAD) == "OB-R-5":
            c.find("e:did/e:unittitle", EAD).text = "Rede, Datum unbekannt"
    doc.write(str(fb), xml_declaration=True, encoding="UTF-8")

    def imports() -> int:  # the journal's entries for units updated from the AFIS, as such
        return sum(1 for e in cli.json("journal", "show") if e["action"] == "import")

    before = imports()
    r = cli.json("afis", "import", "stadt", fb)
    assert r["matched"] == len(files) == 3 and r["updated"] == 3  # published: 3 of 5
    assert _by_signature(cli)["OB-R-5"]["title"] == "Rede, Datum unbekannt"
    assert cli.json("afis", "import", "stadt", fb)["unchanged"] == 3
    assert imports() == before + 3, "one entry per unit updated, none for the re-run"


def test_a_bad_file_or_an_ambiguous_entry_changes_nothing(speeches, tmp_path):
    cli = speeches
    before = _by_signature(cli)
    aids = {s: d["aid"] for s, d in before.items()}
    # two units with one signature: the entry is ambiguous, so nothing at all is applied
    cli.json("aip", "edit", aids["OB-R-5"], "--dc", "identifier=OB-R-1")
    before = _versions(cli)
    sheet = tmp_path / "doppelt.csv"
    sheet.write_text("signature;title\nOB-R-2;Neuer Titel\nOB-R-1;Welche?\n", "utf-8")
    code, out, _err = cli("afis", "import", "stadt", sheet, "--json")
    r = json.loads(out)
    assert code == 1 and r["updated"] == 0
    assert r["conflicts"][0]["key"] == "OB-R-1" and len(r["conflicts"][0]["aids"]) == 2
    assert _versions(cli) == before

    cases = {
        "kaputt.xml": b"<ead xmlns='urn:isbn:1-931666-22-9'><archdesc>",
        "xxe.xml": (b"<?xml version='1.0'?><!DOCTYPE ead [<!ENTITY x SYSTEM "
                    b"'file:///etc/passwd'>]><ead><c><did><unitid>OB-R-2</unitid>"
                    b"<unittitle>&x;</unittitle></did></c></ead>"),
        "mods.xml": b"<mods xmlns='http://www.loc.gov/mods/v3'/>",
        "spalten.csv": b"signature;title\nOB-R-2;Titel;zu viel\n",
        "ohne-schluessel.csv": b"titel;datum\nRede;2010\n",
        "latin1.csv": "signature;title\nOB-R-2;Rede über\n".encode("latin-1"),
        "leer.csv": b"signature;title\n;Ohne Signatur\n",
    }  # fmt: skip
    for name, data in cases.items():
        bad = tmp_path / name
        bad.write_bytes(data)
        code, _out, err = cli("afis", "import", "stadt", bad)
        assert code == 1 and name in err, (name, err)
        assert "passwd" not in err and "root:" not in err
    assert _versions(cli) == before


def test_an_import_killed_midway_is_finished_by_running_it_again(speeches, tmp_path, monkeypatch):
    import pytest

    from magazin.catalog import edit
    from tests.conftest import Killed, kill_on

    cli = speeches
    sheet = tmp_path / "afis.csv"
    sheet.write_text("signature;title\nOB-R-1;Erster neuer Titel\nOB-R-2;Zweiter neuer Titel\n"
                     "OB-R-5;Dritter neuer Titel\n", "utf-8")  # fmt: skip
    with monkeypatch.context() as m:
        kill_on(m, edit, "_edit_aip", 2)  # killed while changing the second unit
        with pytest.raises(Killed):
            cli("afis", "import", "stadt", sheet)
    titles = {s: d["title"] for s, d in _by_signature(cli).items()}
    assert titles["OB-R-1"] == "Erster neuer Titel" and titles["OB-R-2"] == "Haushaltsrede 2014"
    cli.json("audit")  # recovers whatever the kill left half-written, then checks
    r = cli.json("afis", "import", "stadt", sheet)
    assert (r["updated"], r["unchanged"]) == (2, 1)
    titles = {s: d["title"] for s, d in _by_signature(cli).items()}
    assert [titles[s] for s in ("OB-R-1", "OB-R-2", "OB-R-5")] == [
        "Erster neuer Titel", "Zweiter neuer Titel", "Dritter neuer Titel"]  # fmt: skip
    assert sum(e["type"] == "metadata modification" for e in cli.json(
        "aip", "show", _by_signature(cli)["OB-R-1"]["aid"])["events"]) == 1  # fmt: skip
