"""Closure periods (Schutzfristen) with the figures of both shipped profiles, and what readers
see: only open units, released ones, and those granted to them by name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from magazin.access.closure import PROFILES, ClosureParams, closure, params_from

from .conftest import make_user, write_tree

D = dt.date
FED, LSA = PROFILES["federal"], PROFILES["lsa"]


@pytest.mark.parametrize(
    "params, profile, opens",
    [
        (ClosureParams(end=D(2010, 6, 30)), FED, D(2041, 1, 1)),  # the example
        (ClosureParams(end=D(2010, 6, 30)), LSA, D(2041, 1, 1)),
        (ClosureParams(end=D(2010, 1, 1), secret=True), FED, D(2071, 1, 1)),
        (ClosureParams(end=D(2010, 1, 1), secret=True), LSA, D(2071, 1, 1)),
        # personal data, federal: 10 after death; else 100 after birth; else 60 after the end
        (ClosureParams(end=D(1990, 1, 1), personal=True, death=D(2015, 3, 1)), FED, D(2026, 1, 1)),
        (ClosureParams(end=D(1990, 1, 1), personal=True, death=D(2000, 3, 1)), FED, D(2021, 1, 1)),
        (ClosureParams(end=D(2010, 1, 1), personal=True, birth=D(1950, 5, 5)), FED, D(2051, 1, 1)),
        (ClosureParams(end=D(2010, 1, 1), personal=True), FED, D(2071, 1, 1)),
        # Sachsen-Anhalt: 30 after death; else 110 after birth
        (ClosureParams(end=D(2010, 1, 1), personal=True, death=D(2020, 3, 1)), LSA, D(2051, 1, 1)),
        (ClosureParams(end=D(2010, 1, 1), personal=True, birth=D(1950, 5, 5)), LSA, D(2061, 1, 1)),
        (ClosureParams(end=D(2010, 1, 1), personal=True), LSA, None),  # no life dates: decide
        # the longest period wins; an explicit Schutzfrist bis counts too
        (ClosureParams(end=D(2010, 1, 1), secret=True, personal=True, death=D(2050, 1, 1)),
         LSA, D(2081, 1, 1)),
        (ClosureParams(end=D(2010, 1, 1), until=D(2060, 12, 31)), FED, D(2061, 1, 1)),
        # published: open regardless; no date range: closed until an archivist decides
        (ClosureParams(end=D(2020, 1, 1), secret=True, published=True), FED, D.min),
        (ClosureParams(), FED, None),
    ],
)  # fmt: skip
def test_profiles(params, profile, opens):
    c = closure(params, profile)
    assert c.open_from == opens, c.reasons
    assert c.reasons


def test_parameters_from_table_columns_and_xdomea():
    p = params_from(
        {"date": ["2009-01-01/2010-12-31"]},
        {"Personenbezug": "ja", "Geburtsdatum": "12.03.1950", "Verschlusssache": "nein"},
    )
    assert (p.end, p.personal, p.birth, p.secret) == (D(2010, 12, 31), True, D(1950, 3, 12), False)
    p = params_from({"date": ["2014"]}, {"Schutzfrist bis": "2050", "Sterbedatum": "2001-07"})
    assert (p.end, p.until, p.death, p.personal) == (
        D(2014, 12, 31),
        D(2050, 12, 31),
        D(2001, 7, 1),
        True,
    )
    p = params_from({}, {"date_end": "2018-07-24", "confidentiality": "002"})  # xdomea VS-NfD
    assert (p.end, p.secret) == (D(2018, 7, 24), True)
    assert params_from({}, {"confidentiality": "003"}).secret is False  # offen
    assert params_from({"date": ["1990"]}, {"published": "yes"}).published


def test_readers_see_only_what_is_open_to_them(archive, tmp_path):
    cli = archive
    table = (
        "Datei;Titel;Datum;Personenbezug;Sterbedatum;Verschlusssache\n"
        "alt.txt;Rede 1960;1960;;;\n"
        "neu.txt;Rede 2014;2014;;;\n"
        "person.txt;Rede über Müller;1980;ja;2020-01-01;\n"
        "geheim.txt;Geheime Rede;1970;;;ja\n"
        "ohne.txt;Rede ohne Datum;;;;\n"
    )
    sip = write_tree(tmp_path / "sip", {n: n for n in
                     ("alt.txt", "neu.txt", "person.txt", "geheim.txt", "ohne.txt")})  # fmt: skip
    (tmp_path / "t.csv").write_text(table, "utf-8")
    r = cli.json("ingest", sip, "--metadata", tmp_path / "t.csv")
    by_title = {}
    for a in r["aips"]:
        d = cli.json("aip", "show", a["aid"])
        by_title[d["title"]] = d
    assert by_title["Rede 1960"]["access"]["status"] == "open"
    assert by_title["Rede 2014"]["access"]["open_from"] == "2045-01-01"
    assert by_title["Rede über Müller"]["access"]["open_from"] == "2031-01-01"  # death + 10
    assert by_title["Geheime Rede"]["access"]["open_from"] == "2031-01-01"  # 1970 + 60
    assert by_title["Rede ohne Datum"]["access"]["open_from"] is None
    rita = Client(HTTP_AUTHORIZATION=f"Token {make_user(cli, 'rita', 'stadt', 'reader')['token']}")
    udo = Client(HTTP_AUTHORIZATION=f"Token {make_user(cli, 'udo', 'stadt', 'reader')['token']}")

    def visible(c):
        return {u["title"] for u in c.get("/api/units/").json()["results"]}

    assert visible(rita) == {"Rede 1960"}
    closed = by_title["Rede 2014"]["aid"]
    assert rita.get(f"/api/units/{closed}/").status_code == 404
    # a shortening for rita by name, with reason, purpose and expiry
    cli.json("access", "grant", closed, "--reader", "rita", "--reason", "Forschung",
             "--purpose", "Dissertation", "--expires", "2099-12-31")  # fmt: skip
    assert visible(rita) == {"Rede 1960", "Rede 2014"} and visible(udo) == {"Rede 1960"}
    r = rita.get(f"/api/units/{closed}/")
    assert r.status_code == 200 and r.json()["access"]["grants"] == 1
    code, _o, err = cli("access", "grant", closed, "--reader", "rita", "--reason", "x",
                        "--purpose", "y", "--expires", "2001-01-01")  # fmt: skip
    assert code == 1 and "past" in err
    # released for everyone, with a reason
    undated = by_title["Rede ohne Datum"]["aid"]
    cli.json("access", "release", undated, "--reason", "Veröffentlicht im Amtsblatt")
    assert "Rede ohne Datum" in visible(udo)
    assert cli.json("access", "show", undated)["released"] is True
    # the Sachsen-Anhalt profile: personal data 30 years after death
    cli.json("access", "profile", "stadt", "lsa")
    person = by_title["Rede über Müller"]["aid"]
    assert cli.json("access", "show", person)["open_from"] == "2051-01-01"
