"""The holdings page: fonds and AIPs, German by default, English on request."""

from __future__ import annotations

from .conftest import PASSWORD, make_user, write_tree


def _login(cli, client):
    make_user(cli, "anna", "stadt", "archivist")
    assert client.login(username="anna", password=PASSWORD)


def test_holdings_page_lists_fonds_and_aips_in_german_and_english(archive, client, tmp_path):
    _login(archive, client)
    r = archive.json("ingest", write_tree(tmp_path / "sip", {"rede.txt": "Rede"}))
    aid = r["aips"][0]["aid"]
    page = client.get("/holdings/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Bestände" in page and "OB-Reden" in page and aid in page
    page_en = client.get("/holdings/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Fonds" in page_en and "Bestände" not in page_en
    detail = client.get(f"/aip/{aid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # PREMIS event types, outcomes and details in German; the record's data as it is
    assert "rede.txt" in detail and "Ereignisse" in detail and "Übernahme" in detail
    assert "erfolgreich" in detail and "übernommen von tester in den Bestand OB-Reden" in detail
    assert "ingestion" not in detail and ">success<" not in detail
    assert client.get("/aip/stadt-00000000000000000000000000/").status_code == 404


def test_empty_archive_page(cli, client):
    cli.json("tenant", "create", "stadt", "--name", "Stadtarchiv")
    _login(cli, client)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Noch keine Bestände." in page and "0</strong> Verzeichnungseinheiten" in page


def test_dashboard_fonds_search_and_downloads(archive, client, tmp_path):
    _login(archive, client)
    sip = write_tree(tmp_path / "sip", {"rede.txt": "Rede zur Eröffnung", "b.txt": "B"})
    aid = archive.json("ingest", sip)["aips"][0]["aid"]
    archive.json("index")
    de = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Übersicht" in de and "OB-Reden" in de and "x-fmt/111" in de
    en = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Overview" in en and "Formats" in en
    page = client.get("/fonds/OB-Reden/?sort=-title").content.decode()
    assert aid in page
    assert client.get("/fonds/Nope/").status_code == 404
    hits = client.get("/search/?q=eroffnung", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert aid in hits and "1 Treffer" in hits
    unit = client.get(f"/aip/{aid}/").content.decode()
    assert f"/aip/{aid}/files/rede.txt" in unit and "gesperrt" in unit  # no date range
    assert "keine Laufzeit: gesperrt, bis das Archiv entscheidet" in unit
    r = client.get(f"/aip/{aid}/files/rede.txt")
    assert b"".join(r.streaming_content) == "Rede zur Eröffnung".encode()
    assert client.get(f"/aip/{aid}/dip").status_code == 200
