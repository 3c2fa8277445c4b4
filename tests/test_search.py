"""Full-text search on both backends (this suite runs on SQLite and on PostgreSQL): metadata at
once, file text after the background step; case, umlauts and ß folded, prefixes match."""

from __future__ import annotations

import random

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
