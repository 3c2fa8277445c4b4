"""Full-text search on both backends (this suite runs on SQLite and on PostgreSQL): metadata at
once, file text after the background step; case, umlauts and ß folded, prefixes match."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from django.test import Client

from magazin.access.search import fold, words

from .conftest import make_user, write_tree


def test_folding():
    assert fold("Müller") == fold("Mueller") == fold("Muller") == fold("MÜLLER") == "muller"
    assert fold("Straße") == fold("STRASSE") == fold("Strasse")
    assert fold("Œuvre é") == "œuvre e" or fold("Œuvre é").endswith(" e")
    assert words("Bürger-Meister, 2014!") == ["burger", "meister", "2014"]


@pytest.fixture
def indexed(archive, tmp_path):
    from bench.corpus import _docx, _odt, _pdf

    rng = random.Random(3)
    files = {
        "rede.pdf": _pdf("Ansprache zur Eröffnung der Stadtbibliothek", rng),
        "brief.docx": _docx("Sehr geehrter Herr Mueller, die Straßenreinigung", rng),
        "notiz.odt": _odt("Protokoll der Ratssitzung über Grünflächen", rng),
        "text.txt": "Haushaltsrede des Kämmerers".encode(),
    }
    aids = {}
    for name, data in files.items():
        r = archive.json("ingest", write_tree(tmp_path / name, {name: data}))
        aids[name] = r["aips"][0]["aid"]
    return aids


def _search(cli, q, *extra):
    return [x["aid"] for x in cli.json("search", q, *extra)]


def test_metadata_at_once_file_text_after_the_background_step(indexed, cli):
    # the file names are metadata (titles): found at once
    assert _search(cli, "notiz") == [indexed["notiz.odt"]]
    assert _search(cli, "Ratssitzung") == []  # the text is not extracted yet
    r = cli.json("index")
    assert r["extracted"] == 4 and r["pending"] == 0
    assert _search(cli, "Ratssitzung") == [indexed["notiz.odt"]]
    assert _search(cli, "eröffnung") == [indexed["rede.pdf"]]  # PDF, case folded
    assert _search(cli, "Müller") == [indexed["brief.docx"]]  # DOCX says Mueller
    assert _search(cli, "muller") == [indexed["brief.docx"]]
    assert _search(cli, "STRASSENREINIGUNG") == [indexed["brief.docx"]]  # ß
    assert _search(cli, "Kaemmerer") == [indexed["text.txt"]]
    assert _search(cli, "Stadtbib") == [indexed["rede.pdf"]]  # prefix
    assert _search(cli, "Ratssitzung Grün") == [indexed["notiz.odt"]]  # every word
    assert _search(cli, "Ratssitzung Bibliothek") == []
    hit = cli.json("search", "Haushalt")[0]
    assert hit["score"] > 0 and {"aid", "title", "fonds", "files", "bytes"} <= set(hit)
    assert _search(cli, "Haushalt", "--tenant", "stadt") == [indexed["text.txt"]]


def test_api_search_is_scoped_and_has_facets(indexed, cli):
    cli.json("index")
    token = make_user(cli, "anna", "stadt", "archivist")["token"]
    cli.json("tenant", "create", "land", "--name", "Land")
    other = make_user(cli, "bert", "land", "archivist")["token"]
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    r = api.get("/api/search/?q=Ratssitzung").json()
    assert r["count"] == 1 and r["results"][0]["aid"] == indexed["notiz.odt"]
    assert r["results"][0]["score"] > 0
    assert r["facets"]["fonds"] == {"OB-Reden": 1}
    assert r["facets"]["access"]["closed"] + r["facets"]["access"]["open"] == 1
    assert list(r["facets"]["format"]) == ["fmt/291"] or len(r["facets"]["format"]) == 1
    assert api.get("/api/search/?q=Ratssitzung&fonds=Nope").json()["count"] == 0
    # another tenant finds nothing of it
    r = Client(HTTP_AUTHORIZATION=f"Token {other}").get("/api/search/?q=Ratssitzung").json()
    assert r["count"] == 0


def test_date_range_facet_and_filter(archive, tmp_path, client):
    """Units carry the years of their date range; the search counts them by decade and
    filters by overlap (API, page and CLI)."""
    sip = write_tree(tmp_path / "sip", {"a.txt": "A", "b.txt": "B", "c.txt": "C", "d.txt": "D"})
    (tmp_path / "t.csv").write_text(
        "Datei;Titel;Datum\na.txt;Rede Hafen;1962\nb.txt;Rede Hafen;1965/1971\n"
        "c.txt;Rede Hafen;14.03.2014\nd.txt;Rede Hafen;\n",
        "utf-8",
    )
    archive.json("ingest", sip, "--metadata", tmp_path / "t.csv")
    token = make_user(archive, "anna", "stadt", "archivist")["token"]
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    r = api.get("/api/search/?q=hafen").json()
    assert r["count"] == 4
    assert r["facets"]["date"] == {"1960": 2, "2010": 1, "unknown": 1}

    def hits(**params) -> int:
        return api.get("/api/search/", {"q": "hafen", **params}).json()["count"]

    assert hits(**{"from": 1970}) == 2  # 1965/1971 overlaps, and 2014
    assert hits(**{"from": 1960, "to": 1969}) == 2
    assert hits(to=1963) == 1
    assert hits(**{"from": 1972, "to": 2013}) == 0
    assert hits(**{"from": "neunzehnhundert"}) == 4  # not a year: no filter
    assert len(archive.json("search", "hafen", "--from", "2000")) == 1
    assert len(archive.json("search", "hafen", "--to", "1964")) == 1
    # the page: decade links keep the query and other filters
    assert client.login(username="anna", password="Gutes-Passwort-2026")
    page = client.get("/search/?q=hafen&access=open", HTTP_ACCEPT_LANGUAGE="de").content
    page = page.decode()
    assert "1960–1969</a> <small>(2)</small>" in page
    assert "q=hafen&amp;access=open&amp;from=1960&amp;to=1969" in page
    page = client.get("/search/?q=hafen&from=1960&to=1969").content.decode()
    assert "2 Treffer" in page


def test_a_search_counts_and_ranks_at_most_cap_matches(archive, tmp_path, client, monkeypatch):
    """A query matching more units than CAP reports CAP hits, says so, and pages through
    them; below CAP counts are exact. Staff (whole tenant) and readers agree."""
    from magazin.access import search as search_module

    files = {f"rede-{i}.txt": f"Hafenrede {i}" for i in range(7)}
    table = tmp_path / "t.csv"
    table.write_text("Datei;Titel\n" + "".join(f"{n};Rede {n}\n" for n in files), "utf-8")
    archive.json("ingest", write_tree(tmp_path / "s", files), "--metadata", table)
    for u in archive.json("aip", "list"):
        archive.json("access", "release", u["aid"], "--reason", "frei")
    token = make_user(archive, "anna", "stadt", "archivist")["token"]
    reader = make_user(archive, "rita", "stadt", "reader")["token"]
    for tok in (token, reader):
        api = Client(HTTP_AUTHORIZATION=f"Token {tok}")
        r = api.get("/api/search/?q=rede").json()
        assert r["count"] == 7 and r["count_exact"] is True
        monkeypatch.setattr(search_module, "CAP", 5)
        r = api.get("/api/search/?q=rede").json()
        assert r["count"] == 5 and r["count_exact"] is False and len(r["results"]) == 5
        assert r["facets"]["fonds"] == {"OB-Reden": 5}
        monkeypatch.setattr(search_module, "CAP", 10_000)
    # pages: every match once, in score order
    from magazin.catalog.models import Unit

    whole = search_module.search(Unit.objects.all(), "rede")
    assert whole.count() == 7
    ranked = whole[0:7]
    scores = [u.score for u in ranked]
    assert scores == sorted(scores, reverse=True)
    paged = []
    for start in range(0, 9, 3):
        r = search_module.search(Unit.objects.all(), "rede")
        assert r.count() == 7
        paged += [u.aid for u in r[start : start + 3]]
    assert paged == [u.aid for u in ranked]
    assert search_module.search(Unit.objects.all(), "rede")[7:10] == []
    assert client.login(username="anna", password="Gutes-Passwort-2026")
    monkeypatch.setattr(search_module, "CAP", 5)
    page = client.get("/search/?q=rede", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Mehr als 5 Treffer" in page


def test_index_rows_go_with_their_units(archive, tmp_path):
    """A rebuild deletes and re-creates every unit: the full-text index keeps one document
    per unit, none left behind."""
    from magazin.access.fulltext import index_in
    from magazin.catalog.models import Unit
    from magazin.core.config import home_path

    archive.json("ingest", write_tree(tmp_path / "s", {"a.txt": "Hafen", "b.txt": "Elbe"}))

    def rows() -> int:
        return index_in(home_path()).documents()

    n = Unit.objects.count()
    assert n >= 1 and rows() == n
    found = [x["aid"] for x in archive.json("search", "a.txt")]
    archive.json("catalog", "rebuild")
    assert rows() == Unit.objects.count() == n
    assert [x["aid"] for x in archive.json("search", "a.txt")] == found and found


def test_a_changed_unit_is_searched_as_it_is_now(archive, tmp_path):
    """What a search reads of a unit - fonds, years, closure and formats, for the facets and
    a reader's scope - is the unit as it is now, however it was changed (the index holds
    copies, which the journal's triggers keep up: access migrations 0015, 0016)."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from magazin.access import search as search_module
    from magazin.access.scope import Scope
    from magazin.catalog.models import Fonds, Unit

    for name in ("a", "b"):
        archive.json("ingest", write_tree(tmp_path / name, {f"{name}.txt": "Hafen"}))
    archive.json("index")  # the file text
    make_user(archive, "anna", "stadt", "archivist")
    make_user(archive, "rita", "stadt", "reader")
    users = get_user_model().objects
    staff, reader = Scope.of(users.get(username="anna")), Scope.of(users.get(username="rita"))
    assert staff.whole_tenant is not None and reader.whole_tenant is None
    today = dt.date.today()

    def found(scope, **filters) -> tuple[list[str], dict]:
        r = search_module.search(scope.units(), "hafen", filters, scope.whole_tenant,
                                 scope.reader)  # fmt: skip
        if not isinstance(r, search_module.SearchResult):
            return [], {}
        return sorted(u.title for u in r), search_module.facets(r)

    a, b = Unit.objects.order_by("title")
    Unit.objects.filter(pk__in=[a.pk, b.pk]).update(open_from=today + dt.timedelta(days=1))
    assert found(reader)[0] == []
    assert found(staff)[1]["access"] == {"open": 0, "closed": 2}
    other = Fonds.objects.create(tenant=a.tenant, code="Hafenamt", title="Hafenamt",
                                 created=a.created)  # fmt: skip
    Unit.objects.filter(pk=a.pk).update(
        open_from=today, fonds=other, year_from=1991, year_to=1992, formats="fmt/1 fmt/2"
    )
    titles, facets = found(staff)
    assert titles == ["a", "b"]
    assert facets["access"] == {"open": 1, "closed": 1}
    assert facets["fonds"] == {"Hafenamt": 1, b.fonds.code: 1}
    assert facets["date"]["1990"] == 1
    assert facets["format"]["fmt/1"] == facets["format"]["fmt/2"] == 1
    titles, facets_read = found(reader)
    assert titles == ["a"] and facets_read["access"] == {"open": 1, "closed": 0}
    assert found(reader, **{"from": 1993})[0] == [] and found(reader, to=1991)[0] == ["a"]
    # written again (a description corrected, the text extracted): the same
    search_module.reindex_metadata([Unit.objects.get(pk=a.pk)])
    assert found(staff)[1] == facets
    Unit.objects.filter(pk=a.pk).update(open_from=today + dt.timedelta(days=365))
    assert found(reader)[0] == []


def test_a_long_word_matches_only_the_words_it_begins(archive, tmp_path):
    """Prefixes are indexed up to ten letters; a longer query word still matches only the
    words it begins (checked against the whole words)."""
    texts = {"a": "Hafenrundfahrt", "b": "Hafenrundfunk", "c": "Hafenrundfahrten"}
    for name, text in texts.items():
        archive.json("ingest", write_tree(tmp_path / name, {f"{name}.txt": text}))
    archive.json("index")
    titles = lambda q: sorted(x["title"] for x in archive.json("search", q))  # noqa: E731
    assert titles("Hafenrundfahrt") == ["a", "c"]
    assert titles("hafenrundfahrten") == ["c"]
    assert titles("Hafenrundf") == ["a", "b", "c"]
    assert titles("Hafenrundfunkhaus") == []


def test_a_reader_finds_what_is_open_released_or_granted_to_them(archive, tmp_path):
    """The reader's scope, as the index filters it: closure period over, released, or
    granted to this reader (not to another, not expired, not revoked)."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from magazin.access import search as search_module
    from magazin.access.models import Grant, Release
    from magazin.access.scope import Scope
    from magazin.catalog.models import Unit

    for name in ("offen", "frei", "erlaubt", "fremd", "abgelaufen", "zu"):
        archive.json("ingest", write_tree(tmp_path / name, {f"hafen-{name}.txt": "Hafen"}))
    make_user(archive, "rita", "stadt", "reader")
    make_user(archive, "otto", "stadt", "reader")
    users = get_user_model().objects
    rita, otto = users.get(username="rita"), users.get(username="otto")
    today = dt.date.today()
    unit = {f"{u.title}.txt": u for u in Unit.objects.all()}
    Unit.objects.update(open_from=today + dt.timedelta(days=30))
    Unit.objects.filter(pk=unit["offen.txt"].pk).update(open_from=today)
    Unit.objects.filter(pk=unit["abgelaufen.txt"].pk).update(open_from=None)  # undecided
    archive.json("access", "release", unit["frei.txt"].aid, "--reason", "frei")
    for title, reader, expires in (("erlaubt.txt", rita, 1), ("fremd.txt", otto, 1),
                                   ("abgelaufen.txt", rita, -1)):  # fmt: skip
        Grant.objects.create(unit=unit[title], reader=reader, created=unit[title].created,
                             expires=today + dt.timedelta(days=expires))  # fmt: skip
    scope = Scope.of(rita)

    def titles() -> list[str]:
        r = search_module.search(scope.units(), "hafen", None, None, scope.reader)
        by_queryset = search_module.search(scope.units(), "hafen")  # checked in the catalog
        assert sorted(u.title for u in by_queryset) == sorted(u.title for u in r)
        return sorted(f"{u.title}.txt" for u in r)

    assert titles() == ["erlaubt.txt", "frei.txt", "offen.txt"]
    facets = search_module.facets(search_module.search(scope.units(), "hafen", None, None,
                                                       scope.reader))  # fmt: skip
    assert facets["access"] == {"open": 2, "closed": 1}  # the grant opens it to rita only

    def filtered(**filters) -> list[str]:
        r = search_module.search(scope.units(), "hafen", filters, None, scope.reader)
        return sorted(f"{u.title}.txt" for u in r) if r else []

    assert filtered(access="closed") == ["erlaubt.txt"]
    assert filtered(access="open") == ["frei.txt", "offen.txt"]
    assert filtered(fonds="OB-Reden", access="open") == ["frei.txt", "offen.txt"]
    assert filtered(fonds="Nope") == []
    Grant.objects.filter(unit=unit["erlaubt.txt"]).update(revoked=dt.datetime.now(dt.UTC))
    assert titles() == ["frei.txt", "offen.txt"]
    Release.objects.filter(unit=unit["frei.txt"]).update(withdrawn=dt.datetime.now(dt.UTC))
    assert titles() == ["offen.txt"]
    Release.objects.create(unit=unit["zu.txt"], by="archivarin", reason="frei",
                           created=unit["zu.txt"].created)  # fmt: skip
    assert titles() == ["offen.txt", "zu.txt"]
    Release.objects.filter(unit=unit["zu.txt"]).delete()
    assert titles() == ["offen.txt"]


def test_the_index_is_built_again_from_the_catalog(archive, tmp_path):
    """The tantivy index is derived: deleted, damaged, built from another catalog, or ahead
    of this one's journal (restored), it is built afresh from the catalog's search documents
    at the next search, into a new folder that replaces the old one."""
    from django.db import connection

    from magazin.access import fulltext
    from magazin.core.config import home_path

    for name in ("a", "b"):
        archive.json("ingest", write_tree(tmp_path / name, {f"{name}.txt": "Hafen"}))
    found = sorted(x["aid"] for x in archive.json("search", "txt"))
    assert len(found) == 2
    folder = home_path() / "search"
    shutil.rmtree(folder)
    assert sorted(x["aid"] for x in archive.json("search", "txt")) == found
    (first,) = folder.glob("index-*")
    with connection.cursor() as c:  # as if the catalog were another one
        c.execute("UPDATE magazin_search_catalog SET identity = 'another'")
    assert sorted(x["aid"] for x in archive.json("search", "txt")) == found
    (second,) = folder.glob("index-*")
    assert second != first
    assert json.loads((folder / "state.json").read_text())["catalog"] == "another"
    shutil.rmtree(second)  # its folder gone, the state left
    assert sorted(x["aid"] for x in archive.json("search", "txt")) == found
    (third,) = folder.glob("index-*")
    (third / "meta.json").write_text("{damaged")  # damaged, seen by a process opening it
    fulltext._INDEXES.clear()
    assert sorted(x["aid"] for x in archive.json("search", "txt")) == found
    assert [p.name for p in folder.glob("index-*")] != [third.name]
    # ahead of the journal (the catalog restored from an older backup): built afresh
    (fourth,) = folder.glob("index-*")
    state = json.loads((folder / "state.json").read_text())
    (folder / "state.json").write_text(json.dumps({**state, "seq": state["seq"] + 1000}))
    assert sorted(x["aid"] for x in archive.json("search", "txt")) == found
    assert [p.name for p in folder.glob("index-*")] != [fourth.name]


def test_the_journal_is_kept_by_triggers(archive, tmp_path):
    """Every change of what the index holds is noted by a trigger (access migrations 0015,
    0016); a later migration that remakes `catalog_unit` or the search documents on SQLite
    (Django copies the table) would drop them, and must create them again."""
    from django.db import connection

    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                      "AND name LIKE 'magazin_search_%' ORDER BY name")  # fmt: skip
        else:
            c.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                      "AND tgname LIKE 'magazin_search_%' ORDER BY tgname")  # fmt: skip
        names = [n for (n,) in c.fetchall() if n != "magazin_search_new_catalog"]
    assert names == ["magazin_search_doc_added", "magazin_search_doc_changed",
                     "magazin_search_doc_removed", "magazin_search_grant_added",
                     "magazin_search_grant_changed", "magazin_search_grant_removed",
                     "magazin_search_release_added",
                     "magazin_search_release_changed", "magazin_search_release_removed",
                     "magazin_search_unit_changed", "magazin_search_unit_removed"]  # fmt: skip
    archive.json("ingest", write_tree(tmp_path / "s", {"a.txt": "Hafen"}))
    r = archive.json("index")
    assert r["indexed"] == 1 and archive.json("index")["indexed"] == 0
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM magazin_search_journal")
        assert c.fetchone()[0] == 0  # what the index has is dropped from the journal
        c.execute("UPDATE catalog_unit SET title = title || ' '")  # not indexed: no entry
        c.execute("SELECT count(*) FROM magazin_search_journal")
        assert c.fetchone()[0] == 0
        c.execute("DELETE FROM magazin_access_searchdoc")
    assert archive.json("search", "hafen") == []


def test_the_journal_is_pruned_to_what_every_index_has(archive, tmp_path):
    """Several machines may share a PostgreSQL catalog, each with its own index: the journal
    keeps what one of them has not read yet; an index not seen for FOLLOWED_DAYS is no
    longer waited for, and is built afresh when it comes back."""
    import datetime as dt

    from django.db import connection

    from magazin.access import fulltext
    from magazin.access.search import search
    from magazin.catalog.models import Unit
    from magazin.core.config import home_path

    def journal() -> int:
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM magazin_search_journal")
            return c.fetchone()[0]

    def found(index: fulltext.FullTextIndex) -> int:
        return index.matches(["hafen"], fulltext.Within(), 100).total

    here = fulltext.index_in(home_path())
    there = fulltext.FullTextIndex(tmp_path / "elsewhere" / "search")
    archive.json("ingest", write_tree(tmp_path / "a", {"hafen-a.txt": "a"}))
    assert here.catch_up(prune=True) == 1 and there.catch_up(prune=True) == 1
    assert journal() == 0
    archive.json("ingest", write_tree(tmp_path / "b", {"hafen-b.txt": "b"}))
    assert here.catch_up(prune=True) == 1
    assert journal() > 0  # the other index has not read it
    assert there.catch_up(prune=True) == 1 and found(there) == 2
    assert journal() == 0
    with connection.cursor() as c:
        c.execute("SELECT count(*), count(DISTINCT folder) FROM magazin_search_follower")
        assert c.fetchone() == (2, 2)
    # the other index not seen for a while: pruned past it, then built afresh
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=fulltext.FOLLOWED_DAYS + 1)).isoformat()
    with connection.cursor() as c:
        c.execute("UPDATE magazin_search_follower SET seen = %s WHERE folder = %s",
                  [old, str(there.folder)])  # fmt: skip
    archive.json("ingest", write_tree(tmp_path / "c", {"hafen-c.txt": "c"}))
    Unit.objects.filter(title="a").delete()
    assert here.catch_up(prune=True) == 2 and journal() == 0
    (before,) = there.folder.glob("index-*")
    assert there.catch_up() == 2  # every unit, into a new folder
    (after,) = there.folder.glob("index-*")
    assert after != before and found(there) == found(here) == 2
    assert sorted(u.title for u in search(Unit.objects.all(), "hafen")) == ["b", "c"]


def test_an_entry_committed_after_a_later_one_is_indexed(env, tmp_path):
    """PostgreSQL numbers the journal's entries as they are written, not as they are
    committed: a change committed after a later-numbered one was read is indexed all the
    same (the index remembers the transactions then in progress)."""
    from .conftest import run

    if "DATABASE_URL" not in env:
        pytest.skip("SQLite writes one transaction at a time (PostgreSQL's concurrency)")
    import psycopg

    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv")
    run(env, "fonds", "create", "stadt", "OB", "--title", "Reden")
    run(env, "ingest", write_tree(tmp_path / "a", {"hafen-a.txt": "a"}))
    run(env, "index")  # its text extracted, its row not written again below
    with psycopg.connect(env["DATABASE_URL"]) as other:  # a transaction left open
        other.execute("UPDATE magazin_access_searchdoc SET metadata = metadata || ' leuchtturm'")
        run(env, "ingest", write_tree(tmp_path / "b", {"hafen-b.txt": "b"}))  # numbered after
        assert len(json.loads(run(env, "search", "hafen", "--json").stdout)) == 2
        run(env, "index")  # the journal pruned meanwhile
        other.commit()
    assert json.loads(run(env, "index", "--json").stdout)["indexed"] == 1
    found = json.loads(run(env, "search", "leuchtturm", "--json").stdout)
    assert [x["title"] for x in found] == ["a"]


KILL_AT = """
import os, signal, sys
from magazin.access import fulltext

def die(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "adding":  # documents half added, nothing committed
    fulltext.FullTextIndex._add = staticmethod(die)
else:  # committed, the position reached not yet recorded
    write = fulltext._write_json
    fulltext._write_json = lambda p, d: die() if p.name == "state.json" else write(p, d)
from magazin.cli import main
sys.exit(main(["search", "hafen", "--json"]))
"""


@pytest.mark.parametrize("moment", ["adding", "committed"])
def test_indexing_killed_then_searched(env, tmp_path, moment):
    """`magazin search` killed (SIGKILL) while it brings the index up to date, first from
    nothing, then with new units: the next search finds every unit once, and a single
    index folder is left."""
    import subprocess
    import sys

    from .conftest import run

    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv")
    run(env, "fonds", "create", "stadt", "OB", "--title", "Reden")
    folder = Path(env["MAGAZIN_HOME"]) / "search"
    for part in ("first", "second"):
        for i in range(3):
            run(env, "ingest", write_tree(tmp_path / f"{part}-{i}", {f"hafen-{i}.txt": part}))
        killed = subprocess.run([sys.executable, "-c", KILL_AT, moment], env=env,
                                capture_output=True, timeout=120)  # fmt: skip
        assert killed.returncode == -9, killed.stderr.decode()
        found = json.loads(run(env, "search", "hafen", "--json").stdout)
        titles = sorted(x["title"] for x in found)
        want = 3 if part == "first" else 6
        assert len(titles) == len(set(titles)) == want, titles
        assert len(list(folder.glob("index-*"))) == 1
        run(env, "index")  # the files' text: the units indexed once more
        state = json.loads((folder / "state.json").read_text())
        assert json.loads(run(env, "index", "--json").stdout)["indexed"] == 0
        assert json.loads((folder / "state.json").read_text()) == state


def test_each_tenant_finds_its_own(archive, tmp_path):
    """Two tenants' units in one index: each tenant's staff find their own only."""
    archive.json("tenant", "create", "land", "--name", "Landesarchiv")
    archive.json("fonds", "create", "land", "Akten", "--title", "Akten")
    sip = write_tree(tmp_path / "a", {"hafen-stadt.txt": "a"})
    archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    sip = write_tree(tmp_path / "b", {"hafen-land.txt": "b"})
    archive.json("ingest", sip, "--tenant", "land", "--fonds", "Akten")
    for tenant in ("stadt", "land"):
        found = archive.json("search", "hafen", "--tenant", tenant)
        assert [x["title"] for x in found] == ["a" if tenant == "stadt" else "b"]
    assert len(archive.json("search", "hafen")) == 2


def test_a_search_waits_for_the_first_index_not_for_a_newer_one(archive, tmp_path):
    """Another process holding the index's lock: with no index built yet a search waits for
    it (it would find nothing), with one built it waits briefly and searches that."""
    import fcntl
    import os
    import threading
    import time

    from magazin.access.fulltext import index_in
    from magazin.core.config import home_path

    archive.json("ingest", write_tree(tmp_path / "a", {"hafen-a.txt": "a"}))
    index = index_in(home_path())
    index.folder.mkdir(parents=True, exist_ok=True)

    def hold(seconds: float) -> threading.Thread:
        fd = os.open(index.folder / "writer.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)

        def release():
            time.sleep(seconds)
            os.close(fd)

        t = threading.Thread(target=release)
        t.start()
        return t

    holder = hold(1.0)
    assert index.catch_up(wait=0.05) == 1  # waited past `wait` for the lock, then built it
    holder.join()
    archive.json("ingest", write_tree(tmp_path / "b", {"hafen-b.txt": "b"}))
    holder = hold(1.0)
    assert index.catch_up(wait=0.05) == 0  # the index there is searched meanwhile
    holder.join()
    assert index.catch_up(wait=0.05) == 1 and index.documents() == 2


def test_a_tenant_with_replaced_documents_still_finds_only_its_own(archive, tmp_path):
    """A unit indexed again leaves its old document deleted but counted in the postings
    until segments merge: whether a tenant holds every unit must not be read from them."""
    from magazin.access import search as search_module
    from magazin.catalog.models import Tenant, Unit

    archive.json("tenant", "create", "land", "--name", "Landesarchiv")
    archive.json("fonds", "create", "land", "Akten", "--title", "Akten")
    for name in ("a", "b"):
        sip = write_tree(tmp_path / name, {f"hafen-{name}.txt": name})
        archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    sip = write_tree(tmp_path / "c", {"hafen-c.txt": "c"})
    archive.json("ingest", sip, "--tenant", "land", "--fonds", "Akten")
    stadt = Tenant.objects.get(slug="stadt")
    for _round in range(3):  # each round replaces the documents of stadt's units
        Unit.objects.filter(tenant=stadt).update(year_from=1990 + _round, year_to=1999)
        r = search_module.search(Unit.objects.filter(tenant=stadt), "hafen", None, stadt.pk)
        assert r.count() == 2 and search_module.facets(r)["fonds"] == {"OB-Reden": 2}
