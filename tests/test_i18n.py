"""A German web application (issue 11): the catalogue is complete, the engine's messages,
vocabularies and times reach the reader in his language and his tenant's time zone, error
pages have the site's frame, the language switch is remembered, the API speaks the language
of Accept-Language."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polib
import pytest

from magazin.core.i18n import Phrasebook, fill

from .conftest import PASSWORD, make_user, write_tree

LOCALE = Path(__file__).resolve().parent.parent / "magazin" / "locale"
SOURCE = Path(__file__).resolve().parent.parent / "magazin"


def test_the_german_catalogue_is_complete():
    po = polib.pofile(str(LOCALE / "de" / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, untranslated[:20]
    assert not fuzzy, fuzzy[:20]
    assert len(po) > 400
    # the compiled catalogue is the one the source says (compilemessages was run)
    mo = polib.mofile(str(LOCALE / "de" / "LC_MESSAGES" / "django.mo"))
    assert {e.msgid for e in mo} >= {e.msgid for e in po if not e.msgctxt}


def test_every_engine_message_is_in_the_catalogue():
    """Each N_("…") template of the code is a msgid of the catalogue (makemessages was run
    after it was written), so that the pages can translate it."""
    po = polib.pofile(str(LOCALE / "de" / "LC_MESSAGES" / "django.po"))
    known = {e.msgid for e in po}
    pattern = re.compile(r'N_\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)')
    missing = []
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts or path.name == "i18n.py":  # (an example in a docstring)
            continue
        for m in pattern.finditer(path.read_text("utf-8")):
            text = "".join(eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(1)))
            if text not in known:
                missing.append(f"{path.name}: {text}")
    assert not missing, missing


def test_web_wording_for_messages_that_name_cli_options():
    """A problem shown on a page points to the page's own control, never to a CLI flag."""
    for lang in ("de", "en"):
        po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
        for e in po:
            if "--unlisted" in e.msgid or "--map COLUMN" in e.msgid or "xdomea poll" in e.msgid:
                assert e.msgstr and "--" not in e.msgstr and "magazin " not in e.msgstr, e.msgid


def test_phrasebook_translates_filled_templates():
    book = Phrasebook({
        "{table}, row {row}": "{table}, Zeile {row}",
        "named in {table}, row {row} but not in the SIP":
            "in {table}, Zeile {row} genannt, aber nicht im SIP",
        "tenant {slug!r} exists already": "Den Mandanten „{slug}“ gibt es schon.",
        "{path}: {reason}": "{path}: {reason}",
        "Title": "Titel",
    })  # fmt: skip
    assert book.translate("named in t.csv, row 5 but not in the SIP") == (
        "in t.csv, Zeile 5 genannt, aber nicht im SIP"
    )
    assert book.translate("tenant 'stadt' exists already") == "Den Mandanten „stadt“ gibt es schon."
    # values that are messages themselves, through the caller's function
    assert book.translate("a.txt: b.csv, row 3", book.translate) == "a.txt: b.csv, Zeile 3"
    assert book.translate("Title") == "Titel"
    assert book.translate("Record data stays as it is") == "Record data stays as it is"
    assert fill("{a!r} and {a}", {"a": "'x'"}, frozenset({"a"})) == "'x' and x"


def _login(cli, client, name="anna", role="archivist"):
    make_user(cli, name, "stadt", role)
    assert client.login(username=name, password=PASSWORD)


def test_problems_events_and_statuses_in_german_and_english(archive, client, tmp_path):
    """A refused upload's problems on the job and quarantine pages, PREMIS events on the
    unit page: German by default, English on request; the web's wording, not the CLI's."""
    from magazin.ingest.jobs import run_pending

    _login(archive, client)
    sip = write_tree(tmp_path / "sip", {"a.txt": "A", "b.txt": "B"})
    (tmp_path / "t.csv").write_text("Datei;Titel\na.txt;Rede A\n", "utf-8")
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sip.rglob("*"):
            z.write(p, p.relative_to(sip).as_posix())
    buf.seek(0)
    buf.name = "reden.zip"
    table = open(tmp_path / "t.csv", "rb")  # noqa: SIM115
    r = client.post("/ingest/", {"mode": "upload", "file": buf, "fonds": "OB-Reden",
                                 "metadata": table})  # fmt: skip
    table.close()
    assert r.status_code == 302
    run_pending()
    job = r.url
    de = client.get(job, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "abgewiesen" in de and "Die Datei ist in t.csv nicht genannt" in de
    assert "--unlisted" not in de and ">rejected<" not in de
    en = client.get(job, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "payload file is not named in t.csv" in en and "Also take files" in en
    assert "--unlisted" not in en
    # the quarantine page names the delivery, not where the server keeps it
    q = client.get("/quarantine/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "reden.zip" in q and "/uploads/" not in q and "offen" in q


def test_times_in_the_tenants_zone_and_sizes_with_bytes(archive, client, tmp_path):
    from magazin.catalog.models import Tenant

    _login(archive, client)
    aid = archive.json("ingest", write_tree(tmp_path / "s", {"a.txt": "x" * 12345}))["aips"][0][
        "aid"
    ]
    page = client.get(f"/aip/{aid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # 1.12.2026, 22:42 – German short format, in Europe/Berlin (+01:00 or +02:00)
    shown = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert shown
    iso, text = shown[0]
    t = dt.datetime.fromisoformat(iso)
    assert t.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))
    assert text == f"{t.day}.{t.month}.{t.year}, {t:%H:%M}"
    assert "12,1\xa0KB" in page and 'title="12.345 Bytes"' in page
    # the tenant's own zone
    Tenant.objects.filter(slug="stadt").update(time_zone="America/New_York")
    page = client.get(f"/aip/{aid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    iso = re.findall(r'<time datetime="([^"]+)">', page)[0]
    assert dt.datetime.fromisoformat(iso).utcoffset() in (
        dt.timedelta(hours=-5),
        dt.timedelta(hours=-4),
    )
    en = client.get(f"/aip/{aid}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "12.1\xa0KB" in en and 'title="12,345 Bytes"' in en
    # JSON keeps ISO 8601 with offset
    shown = archive.json("aip", "show", aid)
    assert dt.datetime.fromisoformat(shown["events"][0]["datetime"]).utcoffset() is not None


def test_error_pages_have_the_frame_and_the_language(archive, client):
    _login(archive, client)
    r = client.get("/aip/stadt-00000000000000000000000000/", HTTP_ACCEPT_LANGUAGE="de")
    page = r.content.decode()
    assert r.status_code == 404 and "Nicht gefunden" in page and "Hauptmenü" in page
    assert "Not Found" not in page and 'href="/holdings/"' in page
    r = client.get("/nirgends/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 404 and "Not found" in r.content.decode()
    r = client.get("/api/nirgends/", HTTP_ACCEPT_LANGUAGE="de")
    assert r.status_code == 404 and r.json() == {"detail": "Nicht gefunden."}
    # a server error: the page in the frame (request context), not Django's plain text
    from django.test import RequestFactory

    from magazin.web.errors import server_error

    request = RequestFactory().get("/")
    request.user = type("U", (), {"is_authenticated": False})()
    body = server_error(request).content.decode()
    assert "Fehler auf dem Server" in body and "<main" in body


def test_a_server_error_is_a_page_in_the_language(archive, client, monkeypatch):
    _login(archive, client)
    client.raise_request_exception = False

    def broken(request):
        raise RuntimeError("boom")

    import magazin.web.views as views

    monkeypatch.setattr(views, "holdings", broken)
    from django.urls import clear_url_caches

    clear_url_caches()
    import importlib

    import magazin.urls
    import magazin.web.urls

    importlib.reload(magazin.web.urls)
    importlib.reload(magazin.urls)
    try:
        r = client.get("/holdings/", HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 500
        assert "Server error" in r.content.decode() and "boom" not in r.content.decode()
    finally:
        monkeypatch.undo()
        importlib.reload(magazin.web.urls)
        importlib.reload(magazin.urls)
        clear_url_caches()


def test_the_language_switch_is_remembered_for_the_user(archive, client):
    from magazin.access.models import Membership

    _login(archive, client)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'name="language" value="en"' in page and "Übersicht" in page
    r = client.post("/language/", {"language": "en", "next": "/holdings/"})
    assert r.status_code == 302 and r.url == "/holdings/"
    assert Membership.objects.get(user__username="anna").language == "en"
    # another browser (no cookie), asking for German: the user's choice wins
    from django.test import Client

    other = Client()
    assert other.login(username="anna", password=PASSWORD)
    page = other.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Overview" in page and "Übersicht" not in page and '<html lang="en">' in page
    # a language we do not have changes nothing
    client.post("/language/", {"language": "fr", "next": "/"})
    assert Membership.objects.get(user__username="anna").language == "en"


def test_the_tenants_language_where_the_browser_asks_for_none_of_ours(archive, client):
    from magazin.catalog.models import Tenant

    _login(archive, client)
    Tenant.objects.filter(slug="stadt").update(language="en")
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Overview" in page
    Tenant.objects.filter(slug="stadt").update(language="de")
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Übersicht" in page


@pytest.mark.parametrize("lang, text", [("de", "Übernahme ist den Archivar"),
                                        ("en", "Ingest is for the archivists")])  # fmt: skip
def test_api_messages_follow_accept_language(archive, client, lang, text):
    token = make_user(archive, "rita", "stadt", "reader")["token"]
    r = client.post("/api/ingest/", {}, HTTP_AUTHORIZATION=f"Token {token}",
                    HTTP_ACCEPT_LANGUAGE=lang)  # fmt: skip
    assert r.status_code == 403 and text in r.json()["detail"]
    r = client.get("/api/units/stadt-00000000000000000000000000/",
                   HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE=lang)  # fmt: skip
    assert r.status_code == 404 and set(r.json()) == {"detail"}


def test_the_api_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "JobPage" in schema and "UnitPage" in schema and "jobs_list" in schema


def test_unit_list_items_carry_signature_date_range_and_access(archive, client, tmp_path):
    token = make_user(archive, "anna", "stadt", "archivist")["token"]
    sip = write_tree(tmp_path / "s", {"a.txt": "A", "b.txt": "B"})
    (tmp_path / "t.csv").write_text(
        "Datei;Titel;Datum;Signatur\na.txt;Alt;1960;OB-R-2\nb.txt;Neu;2020;OB-R-10\n", "utf-8"
    )
    archive.json("ingest", sip, "--metadata", tmp_path / "t.csv")
    items = client.get("/api/units/", HTTP_AUTHORIZATION=f"Token {token}").json()["results"]
    by_title = {u["title"]: u for u in items}
    assert by_title["Alt"]["signature"] == "OB-R-2" and by_title["Alt"]["date"] == ["1960"]
    assert by_title["Alt"]["access"] == "open" and by_title["Neu"]["access"] == "closed"
    assert by_title["Neu"]["year_from"] == 2020
