"""Correcting a description: a new OCFL version with a PREMIS event; the old version stays as
it was; catalog, closure period and search follow; a rebuild from storage keeps the edit."""

from __future__ import annotations

import json

from lxml import etree

from .conftest import make_user, ocfl_root_validate, snapshot, storage_objects, write_tree


def test_edit_makes_a_new_version_and_everything_follows(archive, home, tmp_path):
    cli = archive
    aid = cli.json("ingest", write_tree(tmp_path / "s", {"rede.txt": "Rede"}))["aips"][0]["aid"]
    ulid = aid.rsplit("-", 1)[1]
    objs = [p for p in storage_objects(home) if p.name.endswith(ulid)]
    assert len(objs) == 2
    v1 = {str(o): snapshot(o / "v1") for o in objs}
    assert cli.json("access", "show", aid)["status"] == "closed"  # no date yet
    r = cli.json("aip", "edit", aid, "--title", "Rede zur Grünanlage", "--dc", "date=1960",
                 "--set", "Anlass=Einweihung")  # fmt: skip
    assert r["version"] == "v2" and len(r["changed"]) == 3
    for o in objs:
        assert snapshot(o / "v1") == v1[str(o)]  # the old version is untouched
        inv = json.loads((o / "inventory.json").read_text())
        assert inv["head"] == "v2" and inv["versions"]["v2"]["user"]["name"] == "tester"
        premis = etree.parse(o / "v2" / "content" / "metadata" / "preservation" / "premis.xml")
        text = etree.tostring(premis, encoding="unicode")
        assert "metadata modification" in text and "Grünanlage" in text
        state = inv["versions"]["v2"]["state"].values()
        assert any("representations/original/data/rede.txt" in ps for ps in state)
    for loc in home.locations:
        out = ocfl_root_validate(loc.path / "roots" / "stadt")
        assert "is VALID" in out and "WARN" not in out.upper(), out
    d = cli.json("aip", "show", aid)
    assert d["title"] == "Rede zur Grünanlage" and d["dc"]["date"] == ["1960"]
    assert d["extra"]["Anlass"] == "Einweihung"
    assert d["events"][-1]["type"] == "metadata modification"
    assert "Grünanlage" in d["events"][-1]["outcome_detail"]
    assert d["access"]["status"] == "open"  # 1960 + 30 years: open since 1991
    assert [x["aid"] for x in cli.json("search", "Grunanlage")] == [aid]
    assert cli.json("aip", "edit", aid, "--title", "Rede zur Grünanlage")["version"] is None
    # storage is the truth: a rebuilt catalog has the corrected description
    cli.json("catalog", "rebuild")
    d = cli.json("aip", "show", aid)
    assert d["title"] == "Rede zur Grünanlage" and d["extra"]["Anlass"] == "Einweihung"
    cli.json("aip", "edit", aid, "--unset", "Anlass")
    assert "Anlass" not in cli.json("aip", "show", aid)["extra"]


def test_archivists_correct_on_the_unit_page_readers_cannot(archive, tmp_path):
    from django.test import Client

    cli = archive
    sip = write_tree(tmp_path / "s", {"rede.txt": "Rede"})
    aid = cli.json("ingest", sip)["aips"][0]["aid"]
    for name, role in (("anna", "archivist"), ("rita", "reader")):
        make_user(cli, name, "stadt", role)
    cli.json("access", "release", aid, "--reason", "Ausstellung")
    rita = Client()
    assert rita.login(username="rita", password="Gutes-Passwort-2026")
    assert "Verzeichnung berichtigen" not in rita.get(f"/aip/{aid}/").content.decode()
    assert rita.post(f"/aip/{aid}/", {"title": "Falsch"}).status_code == 404
    anna = Client()
    assert anna.login(username="anna", password="Gutes-Passwort-2026")
    assert "Verzeichnung berichtigen" in anna.get(f"/aip/{aid}/").content.decode()
    r = anna.post(f"/aip/{aid}/", {"title": "Rede im Rathaus", "field": "Sterbedatum",
                                   "value": "2001-05-01"})  # fmt: skip
    assert r.status_code == 302
    d = cli.json("aip", "show", aid)
    assert d["title"] == "Rede im Rathaus" and d["extra"]["Sterbedatum"] == "2001-05-01"
    assert d["events"][-1]["type"] == "metadata modification"


def test_dublin_core_is_edited_on_the_unit_page(archive, home, tmp_path):
    from django.test import Client

    from magazin.core.aip.builder import read_aip
    from magazin.core.storage.location import FilesystemLocation
    from magazin.core.storage.ocfl import OcflObject

    aid = archive.json("ingest", write_tree(tmp_path / "s", {"rede.txt": "Rede"}))["aips"][0]["aid"]
    make_user(archive, "anna", "stadt", "archivist")
    anna = Client()
    assert anna.login(username="anna", password="Gutes-Passwort-2026")
    page = anna.get(f"/aip/{aid}/").content.decode()
    assert 'name="dc-creator"' in page and 'name="dc-subject"' in page
    form = {"title": "", "dc-creator": "Trümper, Lutz", "dc-subject": "Hafen\r\nElbe\r\n\r\n",
            "dc-description": ""}  # fmt: skip
    assert anna.post(f"/aip/{aid}/", form).status_code == 302
    d = archive.json("aip", "show", aid)
    assert d["dc"]["creator"] == ["Trümper, Lutz"] and d["dc"]["subject"] == ["Hafen", "Elbe"]
    assert d["events"][-1]["type"] == "metadata modification"
    assert "creator" in d["events"][-1]["detail"] or "creator" in str(d["events"][-1])
    # every copy holds the new version with the DC in its METS
    ocfl_id = archive.json("aip", "show", aid)["ocfl_id"]
    for loc in home.locations:
        desc = read_aip(OcflObject.open(FilesystemLocation(loc).object_dir("stadt", ocfl_id)))
        assert desc.dc["subject"] == ["Hafen", "Elbe"]
    # removing a value: an empty field
    anna.post(f"/aip/{aid}/", {"dc-subject": ""})
    assert "subject" not in archive.json("aip", "show", aid)["dc"]
    # the same form again changes nothing: no new version
    n = len(archive.json("aip", "show", aid)["events"])
    anna.post(f"/aip/{aid}/", {"dc-creator": "Trümper, Lutz"})
    assert len(archive.json("aip", "show", aid)["events"]) == n
