"""Roles see only what they may (issue 11): every page and API list as an admin, an
archivist, a reader, an operator and a user of another tenant. Readers see counts, facets
and totals only of the units they may open; staff-only facts (quarantine, jobs, accessions,
access log, storage) reach only staff; every URL with an id of another tenant is 404."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from .conftest import PASSWORD, make_user, write_tree

ROLES = ("admin", "archivist", "reader", "operator", "other")


@pytest.fixture
def world(archive, tmp_path):
    """stadt: an open unit (1960) and a closed one (2020), a refused upload in quarantine, a
    job, an accession; land: a unit of its own. One user per role."""
    from magazin.ingest.jobs import run_pending

    sip = write_tree(tmp_path / "sip", {"alt.txt": "Hafenrede 1960", "neu.txt": "Hafenrede 2020"})
    (tmp_path / "t.csv").write_text(
        "Datei;Titel;Datum\nalt.txt;Rede offen;1960\nneu.txt;Rede gesperrt;2020\n", "utf-8"
    )
    r = archive.json("ingest", sip, "--metadata", tmp_path / "t.csv")
    archive.json("index")
    units = {archive.json("aip", "show", a["aid"])["title"]: a["aid"] for a in r["aips"]}
    archive.json("tenant", "set", "stadt", "--isil", "DE-Mb112", "--archive-type", "kommunal",
                 "--state", "Sachsen-Anhalt")  # fmt: skip
    archive.json("tenant", "create", "land", "--name", "Landesarchiv")
    archive.json("fonds", "create", "land", "L1", "--title", "Landesbestand")
    land = archive.json("ingest", write_tree(tmp_path / "l", {"l.txt": "Land"}), "--tenant",
                        "land", "--fonds", "L1")["aips"][0]["aid"]  # fmt: skip
    users = {
        "admin": make_user(archive, "adam", "stadt", "admin"),
        "archivist": make_user(archive, "anna", "stadt", "archivist"),
        "reader": make_user(archive, "rita", "stadt", "reader"),
        "operator": make_user(archive, "olga", "stadt", "operator"),
        "other": make_user(archive, "bert", "land", "archivist"),
    }
    # a refused upload: a job and a quarantine entry
    api = Client(HTTP_AUTHORIZATION=f"Token {users['archivist']['token']}")
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../boese.txt", "X")
    buf.seek(0)
    buf.name = "boese.zip"
    jid = api.post("/api/ingest/", {"file": buf}).json()["job"]
    run_pending()
    qid = api.get(f"/api/jobs/{jid}/").json()["quarantine"]
    assert qid
    return {"open": units["Rede offen"], "closed": units["Rede gesperrt"], "land": land,
            "users": users, "jid": jid, "qid": qid, "accession": r["accession"],
            "code": "OB-Reden"}  # fmt: skip


def _web(world, role) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="de")
    assert c.login(username=world["users"][role]["username"], password=PASSWORD)
    return c


def _api(world, role) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {world['users'][role]['token']}")


# page -> roles that get it (200); everyone else gets 404 (operators' overview: a redirect)
PAGES = {
    "/": {"admin", "archivist", "reader"},
    "/holdings/": {"admin", "archivist", "reader"},
    "/search/?q=Hafenrede": {"admin", "archivist", "reader"},
    "/fonds/{code}/": {"admin", "archivist", "reader"},
    "/fonds/{code}/findbuch.xml": {"admin", "archivist"},
    "/aip/{open}/": {"admin", "archivist", "reader"},
    "/aip/{closed}/": {"admin", "archivist"},
    "/aip/{closed}/files/neu.txt": {"admin", "archivist"},
    "/ingest/": {"admin", "archivist"},
    "/ingest/jobs/{jid}/": {"admin", "archivist"},
    "/quarantine/": {"admin", "archivist"},
    "/quarantine/{qid}/": {"admin", "archivist"},
    "/accessions/": {"admin", "archivist"},
    "/accessions/{accession}/": {"admin", "archivist"},
    "/access-log/": {"admin", "archivist"},
    "/journal/": {"admin", "archivist"},
    "/attention/": {"admin", "archivist"},
    "/attention/?outcome=all": {"admin", "archivist"},
    "/xdomea/": {"admin", "archivist"},
    "/users/": {"admin"},
    "/tektonik/": {"admin"},
    "/tektonik/tektonik.xml": {"admin"},
    "/tenants/": {"operator"},
    "/storage/": {"operator"},
}


def test_every_page_as_every_role(world):
    # the walk covers every page of the URL configuration (but login, logout, static files,
    # the language switch, the POST-only targets and the public OAI-PMH endpoint - no roles:
    # tests/test_oai.py - tested on their own)
    from .test_access import _patterns

    covered = {re.sub(r"\{\w+\}", "X", p.split("?")[0]) for p in PAGES}
    for pattern in _patterns():
        if pattern.startswith(("api/", "static/", "login/", "logout/", "language/", "access/",
                               "oai/")):  # fmt: skip
            continue
        if pattern.endswith(("/access", "/dip")) or "<path:path>" in pattern:
            continue
        if pattern.endswith("/evidence.ers"):  # needs a TSA: tests/test_evidence.py
            continue
        url = "/" + re.sub(r"<(?:\w+:)?\w+>", "X", pattern)
        if "xdomea/X" in url:  # a process page: tests/test_xdomea_workflow.py
            continue
        assert url in covered, f"page {url} is not in the role walk"
    for role in ROLES:
        client = _web(world, role)
        for page, allowed in PAGES.items():
            url = page.format(**world)
            r = client.get(url)
            expected = 200 if role in allowed else 404
            if role == "other":  # an archivist of land: his own pages, none of stadt's ids
                ids = set(re.findall(r"\{(\w+)\}", page)) - {"accession"}  # (numbers: below)
                expected = 200 if "archivist" in allowed and not ids else 404
            if role == "operator" and page == "/":
                expected = 302  # the operator's overview is the storage page
            assert r.status_code == expected, (role, url, r.status_code)


def _figures(page: str) -> list[str]:
    return re.findall(r"<li><strong>([^<]+)</strong> Verzeichnungseinheiten", page)


def test_a_reader_sees_counts_and_facts_only_of_what_he_may_open(world):
    reader, staff = _web(world, "reader"), _web(world, "archivist")
    page = reader.get("/").content.decode()
    assert _figures(page) == ["1"]  # not 2: the closed unit is not counted
    assert "Quarantäne" not in page and "Kopien und Integritätsprüfung" not in page
    assert "Übernahmen" not in page and "Speicherort" not in page
    staff_page = staff.get("/").content.decode()
    assert _figures(staff_page) == ["2"] and "1 Lieferung in Quarantäne" in staff_page
    assert "Kopien und Integritätsprüfung" in staff_page
    # holdings and fonds: the closed unit is not listed, nor counted
    for url in ("/holdings/", "/fonds/OB-Reden/"):
        page = reader.get(url).content.decode()
        assert "Rede offen" in page and "Rede gesperrt" not in page
    holdings = reader.get("/holdings/").content.decode()
    assert re.search(r"OB-Reden</a></td><td>[^<]*</td><td class=\"num\">1</td>", holdings)
    # search: hits, facets and the access facet only of open units
    hits = reader.get("/search/?q=Hafenrede").content.decode()
    assert "1 Treffer" in hits and "Rede gesperrt" not in hits
    assert "gesperrt</a> <small>" not in hits  # no count of closed units
    assert "2 Treffer" in staff.get("/search/?q=Hafenrede").content.decode()
    # the menu offers a reader no staff pages
    for href in ("/ingest/", "/quarantine/", "/accessions/", "/access-log/", "/users/",
                 "/attention/", "/journal/"):  # fmt: skip
        assert f'href="{href}"' not in page


def test_api_lists_per_role(world):
    counts = {}
    for role in ROLES:
        api = _api(world, role)
        units = api.get("/api/units/").json()
        found = api.get("/api/search/?q=Hafenrede").json()
        jobs = api.get("/api/jobs/").json()
        counts[role] = (units["count"], found["count"], jobs["count"],
                        api.get("/api/audit/").status_code)  # fmt: skip
        assert world["closed"] not in str(units) or role in ("admin", "archivist")
        if role == "reader":
            assert found["facets"]["access"] == {"open": 1, "closed": 0}
    # jobs: the refused upload, and the CLI's ingest
    assert counts["admin"] == counts["archivist"] == (2, 2, 2, 200)
    assert counts["reader"] == (1, 1, 0, 404)
    assert counts["operator"] == (0, 0, 0, 404)
    assert counts["other"] == (1, 0, 1, 200)  # its own unit and ingest; nothing of stadt


def test_urls_with_an_accession_number_are_404_for_others(world):
    url = f"/accessions/{world['accession']}/"
    assert _web(world, "archivist").get(url).status_code == 200
    for role in ("reader", "operator"):
        r = _web(world, role).get(url)
        assert r.status_code == 404 and world["open"] not in r.content.decode()
    # another tenant counts its accessions itself: the same number is its own accession
    page = _web(world, "other").get(url).content.decode()
    assert world["land"] in page and world["open"] not in page and "Rede" not in page
    assert _web(world, "other").get("/accessions/2026-9999/").status_code == 404
