"""E-ARK SIPs in (issue 14, part 1): `magazin ingest` recognises an E-ARK package, validates
it against the profile it declares (a failing package goes to quarantine, each problem coded
with its requirement's id), and a valid one becomes an AIP: its first representation the
original, further ones preservation-N with their names kept, its description from the
package's Dublin Core or EAD, the package METS and metadata kept."""

from __future__ import annotations

import shutil
import zipfile

import pytest
from lxml import etree

from tests.conftest import shared_fixtures, write_tree
from tests.test_aip_standards import _schema
from tests.test_preservation import _gif


@pytest.fixture
def eark(archive):
    root = shared_fixtures()
    if root is None:
        pytest.skip("../shared/fixtures is not here: the E-ARK material comes from there")
    archive.json("eark", "schemas", "install", root / "eark/csip-spec/schema",
                 root / "schemas/xlink.xsd")  # fmt: skip
    return archive, root / "eark"


def test_a_reference_sip_becomes_an_aip(eark, tmp_path):
    cli, fixtures = eark
    sip = fixtures / "commons-ip/6ab98a90-1686-4c74-9855-b2793a6d164d.zip"
    r = cli.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    assert r["status"] == "stored" and len(r["aips"]) == 1
    aip = cli.json("aip", "show", r["aips"][0]["aid"])
    assert aip["title"] == "Example"  # the EAD's unittitle
    assert "6ab98a90-1686-4c74-9855-b2793a6d164d" in aip["dc"]["identifier"]
    assert [(f["representation"], f["path"]) for f in aip["files"]] == [
        ("original", "file_example_TIFF_1MB.tiff")]  # fmt: skip
    # the package's name of the representation is its label in the AIP's METS
    assert aip["representation_labels"] == {"original": "tiff"}
    # the package's PREMIS begins the AIP's history, with its own identifier, time and agent
    taken = [e for e in aip["events"] if e["type"] == "creation"]
    assert len(taken) == 1 and taken[0]["outcome"] == "success", aip["events"]
    assert taken[0]["datetime"].startswith("2025-03-19T16:05:11")
    assert aip["events"][0] == taken[0]  # before the accession and ingest that extend it
    assert {e["type"] for e in aip["events"]} >= {"accession", "ingestion"}
    out = tmp_path / "dip.zip"
    cli.json("export", aip["aid"], "--out", out)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        mets = etree.fromstring(zf.read("METS.xml"))
        premis = zf.read("metadata/preservation/premis.xml").decode()
    m = "{http://www.loc.gov/METS/}"
    reps = [d for d in mets.iter(f"{m}div") if d.get("TYPE") == "representation"]
    assert [d.get("LABEL") for d in reps] == ["tiff"]
    assert "urn:roda:premis:event:69982fdf-a1a8-40e7-b3e7-5fe713aa3e95" in premis
    schemas = shared_fixtures()
    premis_xsd, mets_xsd = _schema(schemas, "premis-v3-0.xsd"), _schema(schemas, "mets.xsd")
    assert premis_xsd.validate(etree.fromstring(premis.encode())), premis_xsd.error_log
    assert mets_xsd.validate(mets), mets_xsd.error_log
    assert "<premis:eventIdentifierType>URN</premis:eventIdentifierType>" in premis
    # a rebuild of the catalog from storage restores both
    cli.json("catalog", "rebuild")
    assert cli.json("aip", "show", aip["aid"]) == aip
    # the package's METS and metadata kept as they came
    kept = {"METS.xml", "metadata/descriptive/ead_2002.xml", "representations/tiff/METS.xml"}
    assert {f"metadata/other/eark/{k}" for k in kept} <= names
    # the same package again: nothing new (the ingest's identity of a SIP)
    again = cli.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    assert [a["status"] for a in again["aips"]] == ["duplicate"]


def test_further_representations_and_a_broken_package(eark, tmp_path):
    cli, _fixtures = eark
    src = write_tree(tmp_path / "sip", {"plan.gif": _gif()})
    aid = cli.json("ingest", src, "--tenant", "stadt", "--fonds", "OB-Reden")["aips"][0]["aid"]
    r = cli.json("preserve", "run", "image-to-tiff", "--aid", aid)
    assert r["migrated"] == 1, r
    out = tmp_path / "two.zip"
    cli.json("export", aid, "--format", "eark-sip", "--out", out)
    cli.json("tenant", "create", "land", "--name", "Landesarchiv")
    cli.json("fonds", "create", "land", "L1", "--title", "Übernahmen")
    r = cli.json("ingest", out, "--tenant", "land", "--fonds", "L1")
    got = cli.json("aip", "show", r["aips"][0]["aid"])
    reps = {(f["representation"], f["path"].rsplit(".", 1)[-1]) for f in got["files"]}
    assert reps == {("original", "gif"), ("preservation-1", "tif")}
    assert got["representation_labels"] == {"original": "original",
                                            "preservation-1": "preservation-1"}  # fmt: skip
    # a DIP of one representation keeps that one's division (found by its files, not its label)
    dip = tmp_path / "dip.zip"
    cli.json("export", got["aid"], "--representation", "preservation-1", "--out", dip)
    with zipfile.ZipFile(dip) as zf:
        mets = etree.fromstring(zf.read("METS.xml"))
    m = "{http://www.loc.gov/METS/}"
    assert [d.get("LABEL") for d in mets.iter(f"{m}div") if d.get("TYPE") == "representation"] == [
        "preservation-1"]  # fmt: skip

    # the same package without metsHdr/@CREATEDATE: quarantined, the requirement named
    with zipfile.ZipFile(out) as zf:
        zf.extractall(tmp_path / "x")
    pkg = tmp_path / "x" / aid
    mets = etree.parse(str(pkg / "METS.xml"))
    del mets.getroot()[0].attrib["CREATEDATE"]
    mets.write(str(pkg / "METS.xml"), xml_declaration=True, encoding="UTF-8")
    broken = tmp_path / "kaputt" / aid
    shutil.copytree(pkg, broken)
    r = cli.json("ingest", broken, "--tenant", "land", "--fonds", "L1", expect=1)
    entry = cli.json("quarantine", "show", r["quarantine"])
    codes = {p["code"] for p in entry["problems"]}
    assert "CSIP7" in codes, entry["problems"]
