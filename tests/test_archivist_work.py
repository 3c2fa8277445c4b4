"""What archivists could only do in the CLI before (issue 11): access decisions on the unit
page and in bulk, the access log, accessions, API tokens, the classification and fonds,
sortable fonds pages, search snippets and order, quarantine retries with a corrected table;
and the CLI commands that go with them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.test import Client

from .conftest import PASSWORD, make_user, write_tree


@pytest.fixture
def reden(archive, tmp_path):
    """Three speeches: one open (1960), two closed (2020, 2021), signatures OB-R-2/-10/-9."""
    sip = write_tree(tmp_path / "reden", {"a.txt": "Rede über den Hafen", "b.txt": "Haushalt",
                                          "c.txt": "Elbbrücke"})  # fmt: skip
    (tmp_path / "t.csv").write_text(
        "Datei;Titel;Datum;Signatur\n"
        "a.txt;Hafenrede;01.02.1960;OB-R-10\n"
        "b.txt;Haushaltsrede;2021;OB-R-2\n"
        "c.txt;Brückenrede;13.3.2020;OB-R-9\n",
        "utf-8",
    )
    r = archive.json("ingest", sip, "--metadata", tmp_path / "t.csv", "--source", "Hauptamt")
    roles = (("anna", "archivist"), ("rita", "reader"), ("adam", "admin"))
    users = {name: make_user(archive, name, "stadt", role) for name, role in roles}
    titles = {archive.json("aip", "show", a["aid"])["title"]: a["aid"] for a in r["aips"]}
    return {"aids": titles, "accession": r["accession"], "users": users}


def _web(name: str) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="de")
    assert c.login(username=name, password=PASSWORD)
    return c


def test_access_decisions_on_the_unit_page(reden):
    aid = reden["aids"]["Haushaltsrede"]
    anna, rita = _web("anna"), _web("rita")
    assert rita.get(f"/aip/{aid}/").status_code == 404
    # no reason: refused, nothing changes
    r = anna.post(f"/aip/{aid}/access", {"action": "release", "reason": " "}, follow=True)
    assert "braucht eine Begründung" in r.content.decode()
    assert rita.get(f"/aip/{aid}/").status_code == 404
    # a grant to the reader, until a day: she sees the unit and that it was granted to her
    until = dt.date.today() + dt.timedelta(days=30)
    r = anna.post(f"/aip/{aid}/access", {"action": "grant", "reader": "rita",
                  "purpose": "Dissertation", "reason": "wissenschaftlich",
                  "expires": until.isoformat()}, follow=True)  # fmt: skip
    assert "Benutzung genehmigt" in r.content.decode()
    page = rita.get(f"/aip/{aid}/").content.decode()
    assert f"bis {until.day}.{until.month}.{until.year} genehmigt" in page
    assert "Dissertation" in page and "Über die Benutzung entscheiden" not in page
    # revoked: gone again
    staff = anna.get(f"/aip/{aid}/").content.decode()
    assert "rita" in staff and "Widerrufen" in staff
    anna.post(f"/aip/{aid}/access", {"action": "revoke", "reader": "rita", "reason": "Ende"})
    assert rita.get(f"/aip/{aid}/").status_code == 404
    # released for everyone, then the release withdrawn
    anna.post(f"/aip/{aid}/access", {"action": "release", "reason": "Pressefreigabe"})
    assert rita.get(f"/aip/{aid}/").status_code == 200
    anna.post(f"/aip/{aid}/access", {"action": "unrelease", "reason": "Irrtum"})
    assert rita.get(f"/aip/{aid}/").status_code == 404
    # a reader cannot decide
    assert rita.post(f"/aip/{aid}/access", {"action": "release", "reason": "x"}).status_code == 404
    # the decisions are kept with who and why
    from magazin.access.models import Grant, Release

    g = Grant.objects.get(unit__aid=aid)
    assert g.revoked and g.revoked_by == "anna" and g.revoke_reason == "Ende"
    rel = Release.objects.get(unit__aid=aid)
    assert rel.withdrawn and rel.withdraw_reason == "Irrtum" and rel.by == "anna"


def test_access_on_the_command_line(archive, reden):
    closed = [reden["aids"]["Haushaltsrede"], reden["aids"]["Brückenrede"]]
    code, out, err = archive("access", "release", closed[0], "--fonds", "OB-Reden",
                             "--reason", "x")  # fmt: skip
    assert code == 2 and "not both" in err
    done = archive.json("access", "release", "--fonds", "OB-Reden", "--reason", "Freigabe")
    assert {d["aid"] for d in done} == set(reden["aids"].values())
    assert {d["status"] for d in done} == {"open"}
    one = archive.json("access", "revoke", closed[0], "--release", "--reason", "zurück")
    assert one["aid"] == closed[0] and one["status"] == "closed" and not one["released"]
    until = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    archive.json("access", "grant", closed[0], "--reader", "rita", "--reason", "r",
                 "--purpose", "p", "--expires", until)  # fmt: skip
    assert archive.json("access", "show", closed[0])["grants"] == 1
    assert archive.json("access", "revoke", closed[0], "--reader", "rita",
                        "--reason", "Ende")["grants"] == 0  # fmt: skip
    code, _out, err = archive("access", "revoke", closed[0], "--reader", "rita", "--reason", "x")
    assert code == 1 and "no grant" in err
    code, _out, err = archive("access", "revoke", closed[0], "--reason", "x")
    assert code == 2


def test_marking_a_fonds_for_publication_is_a_metadata_modification(archive, reden):
    aid = reden["aids"]["Haushaltsrede"]
    assert archive.json("access", "show", aid)["status"] == "closed"
    code, _out, err = archive("access", "publish", "--fonds", "OB-Reden", "--reason", " ")
    assert code == 1 and "reason" in err
    done = archive.json("access", "publish", "--fonds", "OB-Reden", "--reason", "Pressemappe")
    assert {d["status"] for d in done} == {"open"}
    shown = archive.json("aip", "show", aid)
    assert shown["extra"]["zur Veröffentlichung bestimmt"] == "ja"
    mods = [e for e in shown["events"] if e["type"] == "metadata modification"]
    assert len(mods) == 1 and "Pressemappe" in mods[0]["detail"]
    # a second time changes nothing, and a rebuild keeps it (it is in the AIP)
    archive.json("access", "publish", aid, "--reason", "nochmal")
    assert len([e for e in archive.json("aip", "show", aid)["events"]
                if e["type"] == "metadata modification"]) == 1  # fmt: skip
    archive.json("catalog", "rebuild")
    assert archive.json("access", "show", aid)["status"] == "open"


def test_the_access_log_page_cli_and_csv(archive, reden):
    aid = reden["aids"]["Hafenrede"]
    rita, anna = _web("rita"), _web("anna")
    rita.get(f"/aip/{aid}/")
    rita.get(f"/aip/{aid}/files/a.txt")
    rita.get("/search/?q=Hafen")
    anna.get(f"/aip/{aid}/dip")
    log = archive.json("access", "log")
    assert [(x["user"], x["action"]) for x in log] == [
        ("anna", "dip"),
        ("rita", "search"),
        ("rita", "download"),
        ("rita", "view"),
    ]
    assert set(log[0]) >= {"time", "user", "action", "aid", "path"}
    assert log[1]["path"] == "Hafen" and log[2]["path"] == "a.txt"
    assert len(archive.json("access", "log", "--user", "rita")) == 3
    assert len(archive.json("access", "log", "--unit", aid, "--user", "anna")) == 1
    today = dt.date.today()
    assert len(archive.json("access", "log", "--from", today.isoformat())) == 4
    assert archive.json("access", "log", "--to", (today - dt.timedelta(days=1)).isoformat()) == []
    code, _out, err = archive("access", "log", "--from", "gestern")
    assert code == 2
    # all tenants unless --tenant is given
    archive.json("tenant", "create", "land", "--name", "Land")
    assert len(archive.json("access", "log")) == 4
    assert archive.json("access", "log", "--tenant", "land") == []
    page = anna.get("/access-log/?user=rita").content.decode()
    assert "gesucht" in page and "heruntergeladen" in page and "DIP heruntergeladen" not in page
    assert rita.get("/access-log/").status_code == 404
    r = anna.get("/access-log/?user=rita&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig")),
                           delimiter=";"))  # fmt: skip
    assert rows[0][:3] == ["Zeit", "Benutzer", "Vorgang"] and len(rows) == 4
    assert rows[1][1] == "rita" and rows[1][2] == "search"


def test_accessions_list_and_page(reden):
    anna = _web("anna")
    page = anna.get("/accessions/").content.decode()
    assert reden["accession"] in page and "Hauptamt" in page
    acc = anna.get(f"/accessions/{reden['accession']}/").content.decode()
    assert "Hafenrede" in acc and "Hauptamt" in acc and "Kommandozeile" in acc
    assert "Die Übernahme meldete keine Probleme." in acc


def test_cli_ingests_are_jobs(archive, reden):
    jobs = archive.json("job", "list")
    assert jobs[0]["origin"] == "cli" and jobs[0]["state"] == "done"
    assert jobs[0]["accession"] == reden["accession"] and len(jobs[0]["aips"]) == 3
    page = _web("anna").get("/ingest/").content.decode()
    assert "Kommandozeile" in page and "reden" in page


def test_named_api_tokens_hashed_shown_once(archive, reden, client):
    from magazin.access.models import ApiToken

    first = archive.json("user", "token", "anna", "--name", "skript")
    second = archive.json("user", "token", "anna")
    assert set(first) == {"username", "name", "token"} and second["name"] == "token-1"
    for t in (first["token"], second["token"]):
        r = client.get("/api/units/", HTTP_AUTHORIZATION=f"Token {t}")
        assert r.status_code == 200
    stored = list(ApiToken.objects.filter(user__username="anna").values_list("digest", flat=True))
    assert first["token"] not in stored and len(stored) == 3  # with make_user's "default"
    assert ApiToken.objects.get(name="skript").last_used is not None
    code, _out, err = archive("user", "token", "anna", "--name", "skript")
    assert code == 1 and "already" in err
    archive.json("user", "token", "anna", "--revoke", "skript")
    r = client.get("/api/units/", HTTP_AUTHORIZATION=f"Token {first['token']}")
    assert r.status_code == 401 and set(r.json()) == {"detail"}
    code, _out, err = archive("user", "token", "anna", "--revoke", "skript")
    assert code == 1
    # the admin makes one in the web: shown on the answer, then never again
    adam = _web("adam")
    r = adam.post("/users/", {"action": "token", "username": "rita", "name": "lesesaal"})
    token = re.search(r"<code>([0-9a-f]{48})</code>", r.content.decode()).group(1)
    assert client.get("/api/units/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    page = adam.get("/users/").content.decode()
    assert "lesesaal" in page and token not in page and "zuletzt benutzt" in page
    adam.post("/users/", {"action": "revoke-token", "username": "rita", "name": "lesesaal"})
    assert client.get("/api/units/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    # not for users of other tenants
    archive.json("tenant", "create", "land", "--name", "Land")
    make_user(archive, "bert", "land", "archivist")
    assert adam.post("/users/", {"action": "token", "username": "bert"}).status_code == 404


def test_classification_fonds_and_tenants_in_the_web_kept_in_storage(archive, reden, home):
    adam = _web("adam")
    adam.post("/tektonik/", {"action": "group", "path": "A", "title": "Amtsbücher"})
    adam.post("/tektonik/", {"action": "group", "path": "A/A2", "title": "Reden"})
    r = adam.post("/tektonik/", {"action": "group", "path": "B/B1", "title": "x"}, follow=True)
    assert "übergeordnete Gruppe B gibt es nicht" in r.content.decode()
    adam.post("/tektonik/", {"action": "fonds", "code": "OB-Akten", "title": "Akten",
                             "group": "A/A2"})  # fmt: skip
    adam.post("/tektonik/", {"action": "edit-fonds", "code": "OB-Reden", "title": "Reden des OB",
                             "group": "A"})  # fmt: skip
    page = adam.get("/tektonik/").content.decode()
    assert "Amtsbücher" in page and "OB-Akten" in page and "Reden des OB" in page
    assert _web("anna").get("/tektonik/").status_code == 404
    # the operator edits the tenant
    make_user(archive, "olga", "stadt", "operator")
    olga = _web("olga")
    olga.post("/tenants/", {"action": "edit", "slug": "stadt", "name": "Stadtarchiv MD",
                            "time_zone": "Europe/Vienna", "language": "en"})  # fmt: skip
    wrong = {"action": "edit", "slug": "stadt", "name": "x", "time_zone": "Mars/Olympus",
             "language": "en"}  # fmt: skip
    r = olga.post("/tenants/", wrong, follow=True)
    assert "Mars/Olympus" in r.content.decode()
    olga.post("/tenants/", {"action": "create", "slug": "kreis", "name": "Kreisarchiv",
                            "time_zone": "Europe/Berlin", "language": "de"})  # fmt: skip
    # all of it in storage: a rebuild restores it
    archive.json("catalog", "rebuild")
    tk = archive.json("tektonik", "list", "--tenant", "stadt")
    assert tk == [{"path": "A", "title": "Amtsbücher", "fonds": ["OB-Reden"]},
                  {"path": "A/A2", "title": "Reden", "fonds": ["OB-Akten"]}]  # fmt: skip
    tenants = {t["slug"]: t for t in archive.json("tenant", "list")}
    assert tenants["stadt"] == {"slug": "stadt", "name": "Stadtarchiv MD",
                                "time_zone": "Europe/Vienna", "language": "en",
                                "invalid_files": "warn", "isil": None, "archive_type": None,
                                "state": None, "public_url": None,
                                "closed_descriptions": "omit"}  # fmt: skip
    assert "kreis" in tenants
    assert {f["code"]: f["title"] for f in archive.json("fonds", "list", "--tenant", "stadt")} == {
        "OB-Reden": "Reden des OB",
        "OB-Akten": "Akten",
    }


def test_classification_on_the_command_line(archive):
    archive.json("tektonik", "create", "stadt", "A", "--title", "Amtsbücher")
    code, _out, err = archive("tektonik", "create", "stadt", "A/../B", "--title", "x")
    assert code == 1 and "signatures" in err
    code, _out, err = archive("fonds", "create", "stadt", "X", "--title", "X", "--group", "Z")
    assert code == 1 and "no classification group Z" in err
    assert archive.json("fonds", "create", "stadt", "X", "--title", "X",
                        "--group", "A")["group"] == "A"  # fmt: skip
    assert archive.json("fonds", "edit", "X", "--tenant", "stadt", "--group", "")["group"] is None
    code, _out, err = archive("tenant", "edit", "stadt", "--time-zone", "Nirgendwo/Stadt")
    assert code == 1 and "time zone" in err


def test_fonds_page_sorts_naturally_and_chronologically(reden):
    anna = _web("anna")

    def order(sort):
        page = anna.get(f"/fonds/OB-Reden/?sort={sort}").content.decode()
        return [t for t in re.findall(r">(\w+rede)</a>", page)]

    assert order("signature") == ["Haushaltsrede", "Brückenrede", "Hafenrede"]  # 2, 9, 10
    assert order("-signature") == ["Hafenrede", "Brückenrede", "Haushaltsrede"]
    assert order("date") == ["Hafenrede", "Brückenrede", "Haushaltsrede"]  # 1960, 2020, 2021
    assert order("-date") == ["Haushaltsrede", "Brückenrede", "Hafenrede"]
    page = anna.get("/fonds/OB-Reden/").content.decode()
    for column in ("Signatur", "Titel", "Laufzeit", "Zugang", "Umfang"):
        assert f">{column}" in page
    assert "1.2.1960" in page and "13.3.2020" in page


def test_search_snippets_order_file_names_and_format_names(archive, reden):
    archive.json("index")
    anna = _web("anna")
    page = anna.get("/search/?q=hafen").content.decode()
    assert "<mark>Hafen</mark>" in page and "Rede über den" in page
    # the original file names are found
    assert "Brückenrede" in anna.get("/search/?q=c.txt").content.decode()
    # order by date or signature
    page = anna.get("/search/?q=rede&order=-date").content.decode()
    assert re.findall(r">(\w+rede)</a>", page) == ["Haushaltsrede", "Brückenrede", "Hafenrede"]
    page = anna.get("/search/?q=rede&order=signature").content.decode()
    assert re.findall(r">(\w+rede)</a>", page) == ["Haushaltsrede", "Brückenrede", "Hafenrede"]
    # formats by name
    assert "Plain Text File (x-fmt/111)" in page


def test_quarantine_retry_with_a_corrected_table(archive, reden, tmp_path):
    from magazin.ingest.jobs import run_pending

    sip = write_tree(tmp_path / "neu", {"x.txt": "X", "y.txt": "Y"})
    (tmp_path / "falsch.csv").write_text("Datei;Titel\nx.txt;Nur X\n", "utf-8")
    r = archive.json("ingest", sip, "--metadata", tmp_path / "falsch.csv", expect=1)
    qid = r["quarantine"]
    anna = _web("anna")
    page = anna.get(f"/quarantine/{qid}/").content.decode()
    assert "Berichtigte Metadatentabelle" in page and "falsch.csv" in page
    fixed = io.BytesIO(b"Datei;Titel\nx.txt;Nur X\ny.txt;Und Y\n")
    fixed.name = "richtig.csv"
    r = anna.post(f"/quarantine/{qid}/", {"retry": "1", "metadata": fixed})
    assert r.status_code == 302
    run_pending()
    shown = json.loads(json.dumps(archive.json("quarantine", "show", qid)))
    assert shown["status"] == "retried"
    titles = {u["title"] for u in archive.json("aip", "list")}
    assert {"Nur X", "Und Y"} <= titles
    # a table that is not one is refused, the entry stays as it was
    (tmp_path / "z.csv").write_text("Datei;Titel\n", "utf-8")
    r = archive.json("ingest", write_tree(tmp_path / "z", {"z.txt": "Z"}), "--metadata",
                     tmp_path / "z.csv", expect=1)  # fmt: skip
    bad = io.BytesIO(b"x")
    bad.name = "liste.txt"
    r2 = anna.post(f"/quarantine/{r['quarantine']}/", {"retry": "1", "metadata": bad}, follow=True)
    assert "eine Metadatentabelle ist eine .csv- oder .xlsx-Datei" in r2.content.decode()
    assert archive.json("quarantine", "show", r["quarantine"])["status"] == "open"


def test_bulk_access_decisions_for_a_selection_a_fonds_and_a_search(archive, reden):
    from magazin.core.config import load_home
    from magazin.ingest.jobs import run_pending

    anna, rita = _web("anna"), _web("rita")
    closed = [reden["aids"]["Haushaltsrede"], reden["aids"]["Brückenrede"]]
    page = anna.get("/fonds/OB-Reden/").content.decode()
    assert 'form="bulk"' in page and "Über die Benutzung mehrerer Einheiten entscheiden" in page
    assert 'form="bulk"' not in rita.get("/fonds/OB-Reden/").content.decode()
    # nothing ticked: refused
    r = anna.post("/access/", {"target": "selection", "action": "release", "reason": "x",
                               "next": "/fonds/OB-Reden/"}, follow=True)  # fmt: skip
    assert "Bitte die Einheiten wählen" in r.content.decode()
    # a selection: released, in a background job with progress that leads back
    r = anna.post("/access/", {"target": "selection", "aid": [closed[0]], "action": "release",
                               "reason": "Ausstellung", "next": "/fonds/OB-Reden/"})  # fmt: skip
    assert r.status_code == 302 and r.url.startswith("/ingest/jobs/")
    assert rita.get(f"/aip/{closed[0]}/").status_code == 404  # not yet: the job is queued
    assert run_pending() == 1
    page = anna.get(r.url).content.decode()
    assert "Zugangsentscheidung" in page and "für alle freigeben" in page
    assert 'href="/fonds/OB-Reden/"' in page and "Erfasste Entscheidungen: 1" in page
    assert rita.get(f"/aip/{closed[0]}/").status_code == 200
    assert rita.get(f"/aip/{closed[1]}/").status_code == 404
    job = anna.get(f"/api/jobs/{r.url.split('/')[-2]}/").json()
    assert (job["state"], job["progress"], job["action"], job["units"], job["decisions"]) == (
        "done", 100, "release", 1, 1)  # fmt: skip
    # every hit of a search: granted to the reader (a wrong request is refused at once)
    until = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    r = anna.post("/access/", {"target": "search", "q": "brückenrede", "action": "grant",
                               "reader": "niemand", "purpose": "Ausstellung",
                               "reason": "Leihgabe", "expires": until}, follow=True)  # fmt: skip
    assert "niemand" in r.content.decode() and run_pending() == 0
    anna.post("/access/", {"target": "search", "q": "brückenrede", "action": "grant",
                           "reader": "rita", "purpose": "Ausstellung", "reason": "Leihgabe",
                           "expires": until})  # fmt: skip
    run_pending()
    assert rita.get(f"/aip/{closed[1]}/").status_code == 200
    # run again (as after its worker was killed), the job decides nothing twice
    from magazin.access import bulk
    from magazin.access.models import Grant
    from magazin.ingest.models import IngestJob

    job = IngestJob.objects.get(kind="decision", options__action="grant")
    grants = Grant.objects.count()
    again = bulk.run(load_home(), job.tenant, job.user, job.options, None)
    assert again["decisions"] == 0 and Grant.objects.count() == grants
    # a whole fonds: marked for publication (one new version of each AIP)
    from magazin.core.storage.store import Storage

    def head(aid: str) -> int:
        oid = archive.json("aip", "show", aid)["ocfl_id"]
        return int(Storage(load_home()).open("stadt", oid).head[1:])

    heads = {aid: head(aid) for aid in reden["aids"].values()}
    anna.post("/access/", {"target": "fonds", "fonds": "OB-Reden", "action": "publish",
                           "reason": "Jubiläum"})  # fmt: skip
    run_pending()
    for aid in reden["aids"].values():
        shown = archive.json("aip", "show", aid)
        assert shown["extra"]["zur Veröffentlichung bestimmt"] == "ja"
        assert head(aid) == heads[aid] + 1
    # a reader cannot, and a foreign redirect target is not followed
    assert rita.post("/access/", {"target": "fonds", "fonds": "OB-Reden", "action": "release",
                                  "reason": "x"}).status_code == 404  # fmt: skip
    r = anna.post("/access/", {"target": "selection", "aid": [closed[0]], "action": "release",
                               "reason": "x", "next": "https://example.org/"})  # fmt: skip
    assert "example.org" not in anna.get(r.url).content.decode()
    run_pending()
    # an archivist of another tenant cannot decide on this tenant's units
    archive.json("tenant", "create", "land", "--name", "Land")
    make_user(archive, "bert", "land", "archivist")
    archive.json("access", "revoke", closed[0], "--release", "--reason", "zurück")
    _web("bert").post("/access/", {"target": "selection", "aid": [closed[0]],
                                   "action": "release", "reason": "fremd"})  # fmt: skip
    _web("bert").post("/access/", {"target": "fonds", "fonds": "OB-Reden", "action": "release",
                                   "reason": "fremd"})  # fmt: skip
    run_pending()
    from magazin.access.models import Release

    assert not Release.objects.filter(by="bert").exists()
