"""E-ARK package validation (issue 14, part 1; first part): the DILCIS test corpus judged as
it intends - a package under valid/ does not fail the requirement its testCase.xml targets
(a SHOULD may warn), one under invalid/ fails it and names it, none crashes the validator -
the DILCIS examples, the profile a package declares, and containers read safely."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from magazin.core.eark.checks import table, validate
from magazin.core.eark.package import PackageError, open_package
from tests.conftest import shared_fixtures


@pytest.fixture(scope="module")
def eark() -> Path:
    root = shared_fixtures()
    if root is None:
        pytest.skip("../shared/fixtures is not here: the E-ARK corpus comes from there")
    return root / "eark"


@pytest.fixture(scope="module")
def schemas(eark, tmp_path_factory) -> Path:
    from magazin.core.eark.schemas import install, schema_dir

    home = tmp_path_factory.mktemp("home")
    install(home, [eark / "csip-spec/schema", eark.parent / "schemas/xlink.xsd"])
    return schema_dir(home)


def _cases(eark: Path):
    for tc in sorted((eark / "eark-ip-test-corpus/corpus").glob("*/*/testCase.xml")):
        doc = etree.parse(str(tc))
        rid = doc.find("id").get("requirementId")
        for pk in doc.iter("package"):
            yield rid, pk.get("isValid") == "TRUE", tc.parent / pk.findtext("path").strip()


def test_the_dilcis_corpus_is_judged_on_the_requirement_each_case_targets(eark, schemas):
    seen = 0
    for rid, valid, path in _cases(eark):
        with open_package(path) as pkg:
            report = validate(pkg, schemas)  # no case crashes it
        named = [r for r in report.results if r.id == rid]
        assert len(named) == 1, (rid, path, "the requirement is not reported")
        r = named[0]
        if valid:  # passes it, or only warns (a SHOULD; the corpus copy lost empty folders)
            assert r.passed or r.level != "MUST", (rid, path, r)
        else:
            assert not r.passed and r.message, (rid, path, r)
        seen += 1
    assert seen >= 40


def test_the_dilcis_examples_fail_the_requirements_they_break(eark, schemas):
    broken = {"minimal_IP_invmets.zip": "METS-XSD", "minimal_IP_nocrtdt.zip": "CSIP7",
              "minimal_IP_nomtshdr.zip": "CSIP117", "minimal_IP_nopcktyp.zip": "CSIP9",
              "minimal_IP_noflscid.zip": "CSIP59"}  # fmt: skip
    for name, rid in broken.items():
        with open_package(eark / "csip-spec/examples" / name) as pkg:
            report = validate(pkg, schemas)
        failed = {r.id for r in report.results if not r.passed}
        assert rid in failed, (name, failed)
    # a SIP made by the reference implementation (commons-ip, 2025): valid as a whole
    with open_package(eark / "commons-ip/6ab98a90-1686-4c74-9855-b2793a6d164d.zip") as pkg:
        report = validate(pkg, schemas)
    assert report.valid and (report.profile, report.version) == ("SIP", "2.2.0"), [
        r for r in report.results if not r.passed and r.level == "MUST"]  # fmt: skip


def test_the_declared_profile_decides_the_rules(eark, schemas):
    # the template package declares the unversioned CSIP profile: validated as 2.2.0, said so
    with open_package(eark / "eark-ip-test-corpus/corpus/template-ip/Valid_IP_example") as pkg:
        report = validate(pkg, schemas)
    assert report.version == "2.2.0" and "unversioned" in report.note
    # every MUST of each version is in the table the checks follow
    for version in ("2.0.4", "2.1.0", "2.2.0"):
        musts = [r["id"] for r in table()[version]["CSIP"] if r["level"] == "MUST"]
        assert len(musts) >= 85 and "CSIP1" in musts
    levels = {v: {r["id"]: r["level"] for r in table()[v]["CSIP"]} for v in ("2.1.0", "2.2.0")}
    assert (levels["2.1.0"]["CSIP96"], levels["2.2.0"]["CSIP96"]) == ("MUST", "SHOULD")


def _zip(entries: dict[str, bytes], **kw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_containers_are_read_safely(tmp_path):
    cases = {}
    cases["traversal.zip"] = _zip({"pkg/METS.xml": b"<mets/>", "pkg/../../evil": b"x"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("pkg/METS.xml")
        info.size = 7
        tf.addfile(info, io.BytesIO(b"<mets/>"))
        link = tarfile.TarInfo("pkg/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    cases["link.tar"] = buf.getvalue()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("../outside/METS.xml")
        info.size = 7
        tf.addfile(info, io.BytesIO(b"<mets/>"))
    cases["escape.tar"] = buf.getvalue()
    cases["nothing.bin"] = b"not a package"
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(PackageError):
            open_package(p)
    # a well-formed TAR of a folder: read like the folder
    src = tmp_path / "pkg"
    (src / "representations/rep1/data").mkdir(parents=True)
    (src / "METS.xml").write_bytes(b"<mets xmlns='http://www.loc.gov/METS/' OBJID='pkg'/>")
    (src / "representations/rep1/data/a.txt").write_bytes(b"a")
    with tarfile.open(tmp_path / "pkg.tar", "w") as tf:
        tf.add(src, arcname="pkg")
    with open_package(tmp_path / "pkg.tar") as pkg:
        assert pkg.name == "pkg"
        assert set(pkg.files) == {"METS.xml", "representations/rep1/data/a.txt"}
    # an archive not unpacking to one root folder breaks CSIPSTR1
    flat = tmp_path / "flat.zip"
    flat.write_bytes(_zip({"METS.xml": b"<mets xmlns='http://www.loc.gov/METS/'/>"}))
    with open_package(flat) as pkg:
        report = validate(pkg)
    assert not next(r for r in report.results if r.id == "CSIPSTR1").passed
    # XML with an external entity is read without resolving it
    xxe = tmp_path / "xxe"
    xxe.mkdir()
    (xxe / "METS.xml").write_bytes(b"<?xml version='1.0'?><!DOCTYPE m [<!ENTITY x SYSTEM "
                                   b"'file:///etc/passwd'>]><mets xmlns='http://www.loc.gov/METS/'"
                                   b" OBJID='&x;'/>")  # fmt: skip
    with open_package(xxe) as pkg:
        report = validate(pkg)
    assert "root:" not in json.dumps(report.as_dict())


def test_the_command_reports_each_requirement(cli, eark, tmp_path):
    code, out, _err = cli("eark", "validate", eark / "csip-spec/examples/minimal_IP_nocrtdt.zip",
                          "--json")  # fmt: skip
    r = json.loads(out)
    assert code == 1 and r["valid"] is False and set(r) >= {"valid", "profile", "version",
                                                            "results"}  # fmt: skip
    failed = {x["id"] for x in r["results"] if not x["passed"]}
    assert "CSIP7" in failed
    assert all(set(x) == {"id", "level", "passed", "message"} for x in r["results"])
    # without installed schemas the METS schema is not checked, and the report says so
    assert any(x["id"] == "METS-XSD" and "not installed" in x["message"] for x in r["results"])
    installed = cli.json("eark", "schemas", "install", eark / "csip-spec/schema",
                         eark.parent / "schemas/xlink.xsd")  # fmt: skip
    assert "mets.xsd" in installed["installed"]
    sip = eark / "commons-ip/6ab98a90-1686-4c74-9855-b2793a6d164d.zip"
    r = cli.json("eark", "validate", sip)
    assert r["valid"] and r["profile"] == "SIP"
    assert next(x for x in r["results"] if x["id"] == "METS-XSD")["passed"]
    code, _out, err = cli("eark", "validate", tmp_path / "nichts")
    assert code == 1 and "nichts" in err
