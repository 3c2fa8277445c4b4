"""OAI-PMH 2.0 per tenant (issue 14, part 4): all six verbs, every answer valid under
OAI-PMH.xsd, only what may be published, datestamps that change whenever what may be
published changes (so that incremental harvests miss nothing), deleted records, and a
harvest of 10,000 units by a standard client (oaipmh-scythe)."""

from __future__ import annotations

import datetime as dt
import functools
import time

import pytest
from django.test import Client
from lxml import etree

from tests.conftest import shared_fixtures
from tests.test_ead import assert_valid

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "e": "urn:isbn:1-931666-22-9"}  # fmt: skip
REPO = "magazin.example.org"  # the default [oai] repository_identifier


@functools.cache
def _schema():
    root = shared_fixtures()
    if root is None:
        pytest.skip("../shared/fixtures is not here: OAI-PMH.xsd comes from there")
    return etree.XMLSchema(etree.parse(str(root / "schemas/oai-pmh/OAI-PMH.xsd")))


def oai(client: Client, **params) -> etree._Element:
    """One request; its answer validated against OAI-PMH.xsd."""
    r = client.get("/oai/stadt/", params)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml"), r
    doc = etree.fromstring(r.content)
    schema = _schema()
    assert schema.validate(doc), (params, schema.error_log.last_error, r.content[:2000])
    return doc


def error(doc) -> str | None:
    e = doc.find("o:error", NS)
    return None if e is None else e.get("code")


def identifiers(doc) -> dict[str, tuple[str, bool]]:
    return {h.findtext("o:identifier", namespaces=NS): (h.findtext("o:datestamp", namespaces=NS),
                                                       h.get("status") == "deleted")
            for h in doc.iterfind(".//o:header", NS)}  # fmt: skip


def _publish(cli) -> None:
    cli.json("tenant", "set", "stadt", "--isil", "DE-Mb112", "--archive-type", "kommunal",
             "--state", "Sachsen-Anhalt", "--public-url", "https://archiv.example.org")  # fmt: skip


def _aids(cli) -> dict[str, str]:
    return {a["title"]: a["aid"] for a in cli.json("aip", "list", "--tenant", "stadt")}


def test_off_by_default_and_only_for_a_tenant_the_portal_can_name(speeches):
    cli, web = speeches, Client()
    assert web.get("/oai/stadt/", {"verb": "Identify"}).status_code == 404
    code, _out, err = cli("oai", "enable", "stadt")
    assert code == 1 and "--isil" in err and "--state" in err
    _publish(cli)
    r = cli.json("oai", "enable", "stadt")
    assert r["enabled"] and r["changed"] and r["path"] == "/oai/stadt/"
    doc = oai(web, verb="Identify")  # no login: harvesters have none
    ident = doc.find("o:Identify", NS)
    assert ident.findtext("o:repositoryName", namespaces=NS) == "Stadtarchiv Magdeburg"
    assert ident.findtext("o:baseURL", namespaces=NS) == "https://archiv.example.org/oai/stadt/"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert doc.find("o:request", NS).get("verb") == "Identify"
    assert cli.json("oai", "disable", "stadt")["enabled"] is False
    assert web.get("/oai/stadt/", {"verb": "Identify"}).status_code == 404
    assert web.get("/oai/nowhere/", {"verb": "Identify"}).status_code == 404
    cli.json("oai", "enable", "stadt")
    cli.json("catalog", "rebuild")  # the switch is kept in storage
    assert web.get("/oai/stadt/", {"verb": "Identify"}).status_code == 200


def test_records_sets_formats_and_what_may_be_published(speeches, tmp_path):
    from tests.conftest import write_tree

    cli, web = speeches, Client()
    _publish(cli)
    cli.json("oai", "enable", "stadt")
    aids = _aids(cli)
    cli.json("tenant", "create", "land", "--name", "Landesarchiv")  # another tenant's unit
    cli.json("fonds", "create", "land", "L1", "--title", "Landesbestand")
    cli.json("ingest", write_tree(tmp_path / "l", {"l.txt": "Land"}), "--tenant", "land")
    doc = oai(web, verb="ListIdentifiers", metadataPrefix="oai_dc")
    ids = identifiers(doc)
    # three speeches may be published (open, general period, undated); the one about a
    # person and the secret one are not named at all; the fonds and the Tektonik
    expected = {f"oai:{REPO}:{aids[t]}" for t in
                ("Rede zur Brücke 1960", "Haushaltsrede 2014", "Rede ohne Datum")}  # fmt: skip
    expected |= {f"oai:{REPO}:OB-Reden", f"oai:{REPO}:tektonik"}
    assert set(ids) == expected and not any(deleted for _d, deleted in ids.values())
    headers = doc.findall(".//o:header", NS)
    stamps = [(h.findtext("o:datestamp", namespaces=NS), h.findtext("o:identifier",
               namespaces=NS)) for h in headers]  # fmt: skip
    assert stamps == sorted(stamps)
    assert {h.findtext("o:setSpec", namespaces=NS) for h in headers} == {"OB-Reden", None}

    sets = oai(web, verb="ListSets")
    assert [s.findtext("o:setSpec", namespaces=NS) for s in sets.iterfind(".//o:set", NS)] == [
        "OB-Reden"]  # fmt: skip
    formats = oai(web, verb="ListMetadataFormats").iterfind(".//o:metadataFormat", NS)
    prefixes = {f.findtext("o:metadataPrefix", namespaces=NS) for f in formats}
    assert prefixes == {"oai_dc", "ead_ddb"}
    unit = f"oai:{REPO}:{aids['Rede zur Brücke 1960']}"
    formats = oai(web, verb="ListMetadataFormats", identifier=unit)
    assert [f.findtext("o:metadataPrefix", namespaces=NS)
            for f in formats.iterfind(".//o:metadataFormat", NS)] == ["oai_dc"]  # fmt: skip

    rec = oai(web, verb="GetRecord", identifier=unit, metadataPrefix="oai_dc")
    dc = rec.find(".//o:metadata", NS)[0]
    assert dc.findtext("dc:title", namespaces=NS) == "Rede zur Brücke 1960"
    assert dc.findtext("dc:description", namespaces=NS) == "Eröffnung der Strombrücke"
    assert "OB-R-1" in [e.text for e in dc.iterfind("dc:identifier", NS)]
    assert error(oai(web, verb="GetRecord", identifier=unit, metadataPrefix="ead_ddb")) == (
        "cannotDisseminateFormat")  # fmt: skip

    # the finding aid and the Tektonik as EAD(DDB), valid under the DDB's schemas
    for key, kind in (("OB-Reden", "Findbuch"), ("tektonik", "Tektonik")):
        rec = oai(web, verb="GetRecord", identifier=f"oai:{REPO}:{key}", metadataPrefix="ead_ddb")
        ead = rec.find(".//o:metadata/e:ead", NS)
        assert ead is not None and ead.find("e:archdesc", NS).get("type") == kind
        out = tmp_path / f"{kind}.xml"
        out.write_bytes(etree.tostring(ead, xml_declaration=True, encoding="UTF-8"))
        assert_valid(out, kind)
    records = oai(web, verb="ListRecords", metadataPrefix="ead_ddb")
    assert len(records.findall(".//o:record", NS)) == 2  # units have no EAD(DDB) of their own
    assert error(oai(web, verb="ListRecords", metadataPrefix="oai_dc", set="Rep.~2018")) == (
        "noRecordsMatch")  # fmt: skip

    # reduced: the two protected speeches appear with a neutral title, their date and signature
    cli.json("tenant", "set", "stadt", "--closed-descriptions", "reduced")
    doc = oai(web, verb="ListRecords", metadataPrefix="oai_dc")
    text = etree.tostring(doc, encoding="unicode")
    assert "Müller" not in text and "Geheime" not in text
    assert text.count("Titel gesperrt (Schutzfrist)") == 2
    assert len(doc.findall(".//o:record", NS)) == 7


def test_every_error_is_answered_as_the_protocol_says(speeches):
    cli, web = speeches, Client()
    _publish(cli)
    cli.json("oai", "enable", "stadt")
    cases = [
        ({}, "badVerb"),
        ({"verb": "Harvest"}, "badVerb"),
        ({"verb": "Identify", "set": "x"}, "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-13-01"},
         "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2021-01-01",
          "until": "2020-01-01"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2021-01-01",
          "until": "2030-01-01T00:00:00Z"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"},
         "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "resumptionToken": "kaputt!"}, "badResumptionToken"),
        ({"verb": "ListIdentifiers", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
         "badArgument"),
        ({"verb": "GetRecord", "identifier": f"oai:{REPO}:nichts", "metadataPrefix": "oai_dc"},
         "idDoesNotExist"),
        ({"verb": "GetRecord", "identifier": "oai:anderswo:OB-Reden",
          "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
    ]  # fmt: skip
    for params, code in cases:
        doc = oai(web, **params)
        assert error(doc) == code, (params, etree.tostring(doc)[:500])
        if code in ("badVerb", "badArgument"):
            assert not doc.find("o:request", NS).attrib  # the request echoed without arguments
    r = web.get("/oai/stadt/?verb=Identify&verb=Identify")
    assert error(etree.fromstring(r.content)) == "badVerb"
    r = web.post("/oai/stadt/", {"verb": "ListSets"})  # POST with form arguments, no CSRF token
    assert r.status_code == 200 and error(etree.fromstring(r.content)) is None


def test_incremental_harvests_miss_no_change(speeches):
    from magazin.catalog.models import Tenant
    from magazin.core.config import load_home
    from magazin.interop.oai import Repository, answer

    cli, web = speeches, Client()
    _publish(cli)
    cli.json("oai", "enable", "stadt")
    aids = _aids(cli)
    time.sleep(1.1)  # datestamps count in seconds: the harvest after everything so far
    first = oai(web, verb="ListIdentifiers", metadataPrefix="oai_dc")
    since = first.findtext("o:responseDate", namespaces=NS)
    time.sleep(1.1)  # datestamps count in seconds

    # a corrected description: the unit and its fonds' finding aid change
    cli.json("aip", "edit", aids["Haushaltsrede 2014"], "--title", "Haushaltsrede 2014/15")
    doc = oai(web, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": since})
    assert set(identifiers(doc)) == {f"oai:{REPO}:{aids['Haushaltsrede 2014']}",
                                     f"oai:{REPO}:OB-Reden"}  # fmt: skip
    since = doc.findtext("o:responseDate", namespaces=NS)
    time.sleep(1.1)

    # released: the secret speech appears; the release withdrawn: it is reported deleted
    secret = aids["Geheime Rede"]
    cli.json("access", "release", secret, "--reason", "Freigabe nach Prüfung")
    doc = oai(web, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": since})
    assert identifiers(doc)[f"oai:{REPO}:{secret}"][1] is False
    since = doc.findtext("o:responseDate", namespaces=NS)
    time.sleep(1.1)
    cli.json("access", "revoke", secret, "--release", "--reason", "Irrtum")
    doc = oai(web, verb="ListRecords", metadataPrefix="oai_dc", **{"from": since})
    assert identifiers(doc)[f"oai:{REPO}:{secret}"][1] is True  # deleted
    deleted = [r for r in doc.iterfind(".//o:record", NS)
               if r.find("o:header", NS).get("status") == "deleted"]  # fmt: skip
    assert len(deleted) == 1 and deleted[0].find("o:metadata", NS) is None
    before = etree.tostring(oai(web, verb="ListIdentifiers", metadataPrefix="oai_dc"))

    # the same answers after a rebuild: datestamps come from what storage keeps
    cli.json("catalog", "rebuild")
    after = etree.tostring(oai(web, verb="ListIdentifiers", metadataPrefix="oai_dc"))
    strip = lambda b: etree.tostring(etree.fromstring(b).find("o:ListIdentifiers", NS))  # noqa: E731
    assert strip(before) == strip(after)

    # time passes: the speech about a person (died 2020: 10 years) appears on 1 January 2031
    # with that day as its datestamp, so that a harvest from the day before finds it
    tenant = Tenant.objects.get(slug="stadt")
    repo = Repository(tenant, REPO, "https://archiv.example.org/oai/stadt/",
                      load_home().oai.admin_email)  # fmt: skip
    person = f"oai:{REPO}:{aids['Rede über Müller']}"
    now = dt.datetime(2030, 12, 31, 12, tzinfo=dt.UTC)
    doc = etree.fromstring(answer(repo, {"verb": ["ListIdentifiers"],
                                         "metadataPrefix": ["oai_dc"]}, now))  # fmt: skip
    assert person not in identifiers(doc)
    now = dt.datetime(2031, 1, 2, 8, tzinfo=dt.UTC)
    since = {"verb": ["ListIdentifiers"], "metadataPrefix": ["oai_dc"],
             "from": ["2030-12-31T12:00:00Z"]}  # fmt: skip
    doc = etree.fromstring(answer(repo, since, now))
    assert identifiers(doc)[person] == ("2031-01-01T00:00:00Z", False)
    # and on 1 January 2045 the 2014 speech's records open: its record changes (a link)
    now = dt.datetime(2045, 1, 1, 9, tzinfo=dt.UTC)
    get = {"verb": ["GetRecord"], "metadataPrefix": ["oai_dc"],
           "identifier": [f"oai:{REPO}:{aids['Haushaltsrede 2014']}"]}  # fmt: skip
    doc = etree.fromstring(answer(repo, get, now))
    assert doc.findtext(".//o:datestamp", namespaces=NS) == "2045-01-01T00:00:00Z"


def test_a_harvest_of_10000_units_by_a_standard_client(archive, live_server, transactional_db):
    """oaipmh-scythe pages through the resumption tokens: every unit exactly once; a second
    harvest from the first one's responseDate yields exactly the units changed since. (The
    units are catalog rows made here at once: OAI-PMH reads only the catalog.)"""
    from oaipmh_scythe import Scythe

    from magazin.catalog.models import Event, Fonds, Tenant, Unit

    cli = archive
    _publish(cli)
    cli.json("oai", "enable", "stadt")
    tenant = Tenant.objects.get(slug="stadt")
    fonds = Fonds.objects.get(tenant=tenant, code="OB-Reden")
    created = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    Unit.objects.bulk_create(
        Unit(tenant=tenant, fonds=fonds, aid=f"stadt-massen-{i:05d}", title=f"Akte {i}",
             dc={"title": [f"Akte {i}"], "date": [str(1950 + i % 60)]}, created=created,
             open_from=dt.date(1950 + i % 60 + 31, 1, 1), signature=f"M-{i}")
        for i in range(10_000)
    )  # fmt: skip
    time.sleep(1.1)
    url = f"{live_server.url}/oai/stadt/"
    with Scythe(url) as scythe:
        identify = scythe.identify()
        headers = list(scythe.list_identifiers(metadata_prefix="oai_dc", set_="OB-Reden"))
    units = [h.identifier for h in headers if ":stadt-massen-" in h.identifier]
    assert len(units) == 10_000 and len(set(units)) == 10_000
    assert not any(h.deleted for h in headers)
    started = Client().get("/oai/stadt/", {"verb": "Identify"})
    since = etree.fromstring(started.content).findtext("o:responseDate", namespaces=NS)
    time.sleep(1.1)
    changed = Unit.objects.filter(aid__in=["stadt-massen-00007", "stadt-massen-04242"])
    for u in changed:  # what a correction leaves in the catalog: an event of this time
        Event.objects.create(unit=u, ulid=f"E{u.pk}", type="metadata modification",
                             datetime=dt.datetime.now(dt.UTC), outcome="success")  # fmt: skip
    with Scythe(url) as scythe:
        again = list(scythe.list_identifiers(metadata_prefix="oai_dc", from_=since))
    assert {h.identifier for h in again} == {f"oai:{REPO}:stadt-massen-00007",
                                             f"oai:{REPO}:stadt-massen-04242",
                                             f"oai:{REPO}:OB-Reden"}  # fmt: skip
    assert identify is not None
