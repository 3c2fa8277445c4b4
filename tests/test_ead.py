"""EAD(DDB) 1.2 finding aids for the Archivportal-D (issue 14, part 3): the fonds as a
Findbuch and the classification as a Tektonik, valid under both of the DDB's schema variants
(XSD 1.0 and 1.1 catch different errors), with only what archive law lets the archive
publish."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import shared_fixtures

EAD = {"e": "urn:isbn:1-931666-22-9", "xlink": "http://www.w3.org/1999/xlink"}


@functools.cache
def _schemas(kind: str) -> list:
    import xmlschema

    root = shared_fixtures()
    if root is None:
        pytest.skip("../shared/fixtures is not here: the EAD(DDB) schemas come from there")
    base = root / "schemas/ead-ddb/ead_ddb/1.2/schema"
    # the schemas import xlink.xsd from the web: the copy beside them (no network here)
    mapper = {"http://www.loc.gov/standards/xlink/xlink.xsd": str(root / "schemas/xlink.xsd")}
    variants = (("1.0", xmlschema.XMLSchema10), ("1.1", xmlschema.XMLSchema11))
    return [cls(str(base / f"EAD_DDB_1.2_{kind}_XSD{v}.xsd"), uri_mapper=mapper)
            for v, cls in variants]  # fmt: skip


def assert_valid(path: Path, kind: str) -> None:
    for schema in _schemas(kind):
        errors = [str(e).splitlines()[0] for e in schema.iter_errors(str(path))]
        assert not errors, (schema.url, errors[:5])


def _units(path: Path) -> dict[str, etree._Element]:
    doc = etree.parse(str(path))
    return {c.findtext("e:did/e:unitid", namespaces=EAD): c
            for c in doc.iterfind(".//e:c[@level='file']", EAD)}  # fmt: skip


def test_a_fonds_becomes_a_findbuch_with_only_what_may_be_published(speeches, tmp_path):
    cli = speeches
    out = tmp_path / "findbuch.xml"
    code, _out, err = cli("ead", "export", "stadt", "OB-Reden", "--out", out)
    assert code == 1 and "--isil" in err and "--archive-type" in err and not out.exists()
    code, _out, err = cli("tenant", "set", "stadt", "--isil", "Magdeburg")
    assert code == 1 and "ISIL" in err
    code, _out, err = cli("tenant", "set", "stadt", "--archive-type", "städtisch")
    assert code == 1 and "kommunal" in err
    t = cli.json("tenant", "set", "stadt", "--isil", "DE-Mb112", "--archive-type", "kommunal",
                 "--public-url", "https://archiv.magdeburg.example/")  # fmt: skip
    assert t["changed"] == ["isil", "archive_type", "public_url"]
    assert t["public_url"] == "https://archiv.magdeburg.example"

    r = cli.json("ead", "export", "stadt", "OB-Reden", "--out", out)
    # 1960 and 2014 (general period: the description may be published), undated too; the
    # speech about a person who died in 2020 and the secret one are left out
    assert (r["units"], r["reduced"], r["left_out"]) == (3, 0, 2)
    assert_valid(out, "Findbuch")
    doc = etree.parse(str(out))
    assert doc.find("e:eadheader/e:eadid", EAD).get("mainagencycode") == "DE-Mb112"
    corp = doc.find("e:archdesc/e:did/e:repository/e:corpname", EAD)
    assert corp.get("role") == "Kommunale Archive" and corp.get("id") == "DE-Mb112"
    assert corp.text == "Stadtarchiv Magdeburg"
    top = doc.find("e:archdesc/e:dsc/e:c[@level='collection']", EAD)
    assert top.findtext("e:did/e:unittitle", namespaces=EAD) == "Oberbürgermeister, Reden"
    assert top.get("id") == doc.findtext("e:eadheader/e:eadid", namespaces=EAD)
    assert top.find("e:did/e:unitdate", EAD).get("normal") == "1960-01-01/2014-12-31"
    units = _units(out)
    assert set(units) == {"OB-R-1", "OB-R-2", "OB-R-5"}
    old = units["OB-R-1"]
    assert old.findtext("e:did/e:unittitle", namespaces=EAD) == "Rede zur Brücke 1960"
    assert old.findtext("e:did/e:abstract", namespaces=EAD) == "Eröffnung der Strombrücke"
    assert old.find("e:did/e:unitdate", EAD).get("normal") == "1960-01-01/1960-12-31"
    assert "1 Datei" in old.findtext("e:did/e:physdesc/e:extent", namespaces=EAD)
    links = {e.get(f"{{{EAD['xlink']}}}role"): e.get(f"{{{EAD['xlink']}}}href")
             for e in old.iter(f"{{{EAD['e']}}}extref", f"{{{EAD['e']}}}daoloc")}  # fmt: skip
    aid = old.get("id")
    assert links == {"url_archivalunit": f"https://archiv.magdeburg.example/aip/{aid}/",
                     "externer_viewer": f"https://archiv.magdeburg.example/aip/{aid}/"}  # fmt: skip
    # closed under the general period: described, but no link to its records
    closed = units["OB-R-2"]
    assert closed.findtext("e:did/e:unittitle", namespaces=EAD) == "Haushaltsrede 2014"
    assert closed.find("e:daogrp", EAD) is None
    assert closed.find("e:otherfindaid", EAD) is not None

    # reduced: level, signature and date range, the title replaced by a neutral text
    t = cli.json("tenant", "set", "stadt", "--closed-descriptions", "reduced")
    assert t["changed"] == ["closed_descriptions"]
    r = cli.json("ead", "export", "stadt", "OB-Reden", "--out", out)
    assert (r["units"], r["reduced"], r["left_out"]) == (5, 2, 0)
    assert_valid(out, "Findbuch")
    units = _units(out)
    text = out.read_text("utf-8")
    assert "Müller" not in text and "Geheime" not in text
    for sig, year in (("OB-R-3", "1980"), ("OB-R-4", "1970")):
        c = units[sig]
        assert c.findtext("e:did/e:unittitle", namespaces=EAD) == "Titel gesperrt (Schutzfrist)"
        assert c.find("e:did/e:unitdate", EAD).get("normal") == f"{year}-01-01/{year}-12-31"
        assert c.find("e:otherfindaid", EAD) is None and c.find("e:daogrp", EAD) is None
        assert c.find("e:did/e:physdesc", EAD) is None

    # a released unit is open: its description and link appear in full
    secret = next(a for a in cli.json("aip", "list", "--tenant", "stadt")
                  if a["title"] == "Geheime Rede")  # fmt: skip
    cli.json("access", "release", secret["aid"], "--reason", "Freigabe nach Prüfung")
    cli.json("ead", "export", "stadt", "OB-Reden", "--out", out)
    units = _units(out)
    assert units["OB-R-4"].findtext("e:did/e:unittitle", namespaces=EAD) == "Geheime Rede"
    assert units["OB-R-4"].find("e:daogrp", EAD) is not None


def test_the_settings_are_kept_in_storage_and_survive_a_rebuild(speeches, tmp_path):
    cli = speeches
    cli.json("tenant", "set", "stadt", "--isil", "DE-Mb112", "--archive-type", "kommunal",
             "--public-url", "https://archiv.example.org",
             "--closed-descriptions", "reduced")  # fmt: skip
    before = next(t for t in cli.json("tenant", "list") if t["slug"] == "stadt")
    assert cli.json("tenant", "set", "stadt", "--isil", "DE-Mb112")["changed"] == []
    cli.json("catalog", "rebuild")
    after = next(t for t in cli.json("tenant", "list") if t["slug"] == "stadt")
    assert after == before and after["isil"] == "DE-Mb112"
    assert after["closed_descriptions"] == "reduced"


def test_the_classification_becomes_a_tektonik_naming_each_findbuch(speeches, tmp_path):
    cli = speeches
    cli.json("tenant", "set", "stadt", "--isil", "DE-Mb112", "--archive-type", "kommunal",
             "--public-url", "https://archiv.example.org")  # fmt: skip
    code, _out, err = cli("ead", "tektonik", "stadt", "--out", tmp_path / "t.xml")
    assert code == 1 and "--state" in err
    code, _out, err = cli("tenant", "set", "stadt", "--state", "Anhalt")
    assert code == 1 and "Sachsen-Anhalt" in err
    cli.json("tenant", "set", "stadt", "--state", "Sachsen-Anhalt")
    cli.json("tektonik", "create", "stadt", "A", "--title", "Verwaltung")
    cli.json("tektonik", "create", "stadt", "A/A1", "--title", "Oberbürgermeister")
    cli.json("fonds", "create", "stadt", "Rep. 18", "--title", "Rechtsamt", "--group", "A")
    cli.json("fonds", "edit", "OB-Reden", "--tenant", "stadt", "--group", "A/A1")
    tek = tmp_path / "tektonik.xml"
    r = cli.json("ead", "tektonik", "stadt", "--out", tek)
    assert (r["groups"], r["fonds"]) == (2, 2)
    assert_valid(tek, "Tektonik")
    doc = etree.parse(str(tek))
    assert doc.find("e:archdesc/e:did/e:repository", EAD).get("label") == "Sachsen-Anhalt"
    a = doc.find(".//e:c[@level='class']", EAD)
    assert a.findtext("e:did/e:unittitle", namespaces=EAD) == "Verwaltung"
    a1 = a.find("e:c[@level='class']", EAD)
    assert a1.findtext("e:did/e:unitid", namespaces=EAD) == "A1"
    reden = a1.find("e:c[@level='file']", EAD)
    assert reden.findtext("e:did/e:unittitle", namespaces=EAD) == "Oberbürgermeister, Reden"
    rep = a.find("e:c[@level='file']", EAD)
    assert rep.findtext("e:did/e:unitid", namespaces=EAD) == "Rep. 18"
    # the Tektonik names each fonds by its Findbuch's identifier: the portal joins them
    fb = tmp_path / "findbuch.xml"
    cli.json("ead", "export", "stadt", "OB-Reden", "--out", fb)
    eadid = etree.parse(str(fb)).findtext("e:eadheader/e:eadid", namespaces=EAD)
    assert reden.get("id") == eadid


def test_the_admin_sets_publication_on_a_page_and_staff_download_the_finding_aids(speeches):
    from django.test import Client

    from tests.conftest import PASSWORD, make_user

    cli = speeches
    admin, reader = Client(HTTP_ACCEPT_LANGUAGE="de"), Client(HTTP_ACCEPT_LANGUAGE="de")
    make_user(cli, "ada", "stadt", "admin")
    make_user(cli, "rita", "stadt", "reader")
    assert admin.login(username="ada", password=PASSWORD)
    assert reader.login(username="rita", password=PASSWORD)
    r = admin.get("/fonds/OB-Reden/findbuch.xml", follow=True)  # not yet: says what is missing
    assert r.redirect_chain and "--isil" in r.content.decode()
    form = {"action": "publication", "isil": "DE-Mb112", "archive_type": "kommunal",
            "state": "Sachsen-Anhalt", "public_url": "https://archiv.example.org",
            "closed_descriptions": "reduced"}  # fmt: skip
    page = admin.post("/tektonik/", form, follow=True).content.decode()
    assert "Veröffentlichung" in page and 'value="DE-Mb112"' in page
    t = next(t for t in cli.json("tenant", "list") if t["slug"] == "stadt")
    assert (t["isil"], t["state"], t["closed_descriptions"]) == ("DE-Mb112", "Sachsen-Anhalt",
                                                                 "reduced")  # fmt: skip
    page = admin.post("/tektonik/", {**form, "isil": "Magdeburg"}, follow=True).content.decode()
    assert "ISIL" in page
    assert Client().get("/oai/stadt/", {"verb": "Identify"}).status_code == 404
    admin.post("/tektonik/", {**form, "oai": "on"})  # the OAI-PMH interface switched on
    assert Client().get("/oai/stadt/", {"verb": "Identify"}).status_code == 200
    admin.post("/tektonik/", form)  # and off
    assert Client().get("/oai/stadt/", {"verb": "Identify"}).status_code == 404
    for url, kind in (("/fonds/OB-Reden/findbuch.xml", "Findbuch"),
                      ("/tektonik/tektonik.xml", "Tektonik")):  # fmt: skip
        r = admin.get(url)
        assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
        root = etree.fromstring(r.content)
        assert root.find("e:archdesc", EAD).get("type") == kind
        assert reader.get(url).status_code == 404  # staff only
    fb = etree.fromstring(admin.get("/fonds/OB-Reden/findbuch.xml").content)
    titles = fb.xpath("//e:c[@level='file']/e:did/e:unittitle/text()", namespaces=EAD)
    assert titles.count("Titel gesperrt (Schutzfrist)") == 2
