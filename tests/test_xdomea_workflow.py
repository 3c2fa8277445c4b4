"""xdomea Aussonderung end to end: agencies, inbox/outbox, 0501 → 0504 → appraisal → 0502 →
0505 → 0503 → 0507 → 0506, mapping to AIPs and child units, versions 2.3.0 to 3.1.0, two-step,
partial takeover, idempotent re-runs, and every kind of bad message."""

from __future__ import annotations

import copy
import os
import re
import shutil
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from magazin.core.xdomea.schemas import install, schema_dir, schema_for

from .conftest import make_user, ocfl_root_validate, snapshot, storage_objects
from .xdomea_builders import DOCX, PDF, Fmt, Node, message_xml, standard_tree, write_message

VERSIONS = ["2.3.0", "2.4.0", "3.0.0", "3.1.0"]
XMAN_PID = "9a75050f-323a-4e84-94c9-a889aa2b4fe8"


@pytest.fixture(scope="session")
def installed_schemas(tmp_path_factory) -> Path:
    from .conftest import shared_fixtures

    fx = shared_fixtures()
    if fx is None:
        pytest.skip("../shared/fixtures not present (set MAGAZIN_FIXTURES to its path)")
    h = tmp_path_factory.mktemp("xsd-home")
    install(h, fx / "xdomea" / "xsd")
    return schema_dir(h)


class Desk:
    """The e-records desk of the test archive: tenant stadt, fonds Rechtsamt, agency RA."""

    def __init__(self, cli, home, tmp_path):
        self.cli, self.home, self.tmp = cli, home, tmp_path
        self.inbox, self.outbox = tmp_path / "inbox", tmp_path / "outbox"

    def agency(self, *flags: str, code: str = "RA") -> dict:
        return self.cli.json(
            "xdomea", "agency", "create", "stadt", code,
            "--name", "Stadt Magdeburg, Rechtsamt", "--fonds", "Rechtsamt",
            "--inbox", self.inbox, "--outbox", self.outbox, *flags,
        )  # fmt: skip

    def schema(self, version: str) -> etree.XMLSchema:
        return schema_for(self.home.path, version)

    def send(self, version: str, code: str, pid: str, nodes: list[Node], **kw) -> Path:
        return write_message(self.inbox, self.schema(version), version, code, pid, nodes, **kw)

    def drop(self, path: Path) -> Path:
        self.inbox.mkdir(exist_ok=True)
        return Path(shutil.copy(path, self.inbox))

    def poll(self, expect: int = 0) -> list[dict]:
        return self.cli.json("xdomea", "poll", expect=expect)["messages"]

    def replies(self, code: str) -> list[Path]:
        return sorted(self.outbox.glob(f"*.{code}.zip"))

    def reply(self, code: str, version: str) -> etree._Element:
        """The answer in the outbox, checked: named as records systems name them, one XML
        inside, valid against the XSD of the version the agency used."""
        (path,) = self.replies(code)
        with zipfile.ZipFile(path) as zf:
            assert zf.namelist() == [path.name[:-4] + ".xml"]
            root = etree.fromstring(zf.read(zf.namelist()[0]))
        schema = self.schema(version)
        assert schema.validate(root), schema.error_log
        assert etree.QName(root).namespace == f"urn:xoev-de:xdomea:schema:{version}"
        for p in self.replies(code):
            p.unlink()  # taken by the agency
        return root

    def show(self, pid: str) -> dict:
        return self.cli.json("xdomea", "process", "show", pid)


@pytest.fixture
def desk(archive, home, tmp_path, installed_schemas):
    shutil.copytree(installed_schemas, schema_dir(home.path))
    archive.json("fonds", "create", "stadt", "Rechtsamt", "--title", "Rechtsamt")
    return Desk(archive, home, tmp_path)


def _t(root, path: str) -> list[str]:
    ns = etree.QName(root).namespace
    steps = "/".join(s if s in ("", "code", "name") else f"{{{ns}}}{s}" for s in path.split("/"))
    return [e.text for e in root.iterfind(f".//{steps}")]


def _flat(objs: list[dict]) -> list[dict]:
    out = []
    for o in objs:
        out.append(o)
        out += _flat(o["children"])
    return out


def _aids_0506(root: etree._Element, version: str) -> dict[str, str]:
    if version.startswith("3"):
        ns = etree.QName(root).namespace
        return {
            s.findtext(f"{{{ns}}}IDSGO"): s.findtext(f"{{{ns}}}Archivkennung")
            for s in root.iterfind(f"{{{ns}}}AusgesondertesSGO")
        }
    return dict(
        zip(
            _t(root, "Rueckgabeparameter/ID"),
            _t(root, "Rueckgabeparameter/Archivkennung"),
            strict=True,
        )
    )


def _failed_0506(root: etree._Element, version: str) -> str:
    """All failure texts of a 0506; asserts that the delivery is reported as failed."""
    ok = _t(root, "Erfolgreich")
    assert "0" in ok and "1" not in ok, ok
    return " ".join(_t(root, "Fehlermeldung"))


# -- the four-step workflow, every version -----------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_four_step_workflow_of_every_version(desk, home, version, fixtures):
    desk.agency()
    tree = standard_tree()
    a1, a2, fv, d5 = tree
    pid = str(uuid.uuid4())
    desk.send(version, "0501", pid, tree)
    (m,) = desk.poll()
    assert (m["code"], m["status"], m["process_id"]) == ("0501", "accepted", pid)
    assert not list(desk.inbox.iterdir())  # handled messages leave the inbox
    r0504 = desk.reply("0504", version)
    assert _t(r0504, "Kopf/ProzessID") == [pid]
    # our Kopf answers theirs: their receiver is our sender and the other way round
    assert _t(r0504, "Kopf/Absender/Institution/Name") == ["Stadtarchiv Magdeburg"]
    assert _t(r0504, "Kopf/Empfaenger/Institution/Name") == ["Stadt Magdeburg, Rechtsamt"]

    (p,) = desk.cli.json("xdomea", "process", "list")
    assert (p["process_id"], p["agency"], p["state"]) == (pid, "RA", "offered")
    assert [x["code"] for x in p["messages"]] == ["0501", "0504"]
    shown = desk.show(pid)
    listed = _flat(shown["objects"])
    assert len(listed) == sum(len(list(n.walk())) for n in tree)
    first = shown["objects"][0]
    assert (first["kind"], first["title"], first["reference"]) == (
        "Akte", "Bauantrag Müller, Große Straße 5", "63.10-01/2019",
    )  # fmt: skip
    assert (first["date_begin"], first["date_end"], first["proposal"]) == (
        "2019-03-01", "2021-11-30", "B",
    )  # fmt: skip
    assert first["retention"] == "10"
    assert [c["kind"] for c in first["children"]] == ["Vorgang", "Teilakte"]

    desk.cli.json(
        "xdomea", "appraise", pid, "--set", f"{a1.id}=A", f"{d5.id}=A", "--set", f"{a2.id}=V"
    )
    code, _out, err = desk.cli("xdomea", "send-appraisal", pid)
    assert code == 1 and "undecided" in err and fv.id in err
    assert not desk.replies("0502")
    desk.cli.json("xdomea", "appraise", pid, "--confirm-rest-v")
    sent = desk.cli.json("xdomea", "send-appraisal", pid)
    assert sent["state"] == "appraised"
    r0502 = desk.reply("0502", version)
    decided = dict(
        zip(
            _t(r0502, "BewertetesObjekt/ID"),
            _t(r0502, "BewertetesObjekt/Aussonderungsart//code"),
            strict=True,
        )
    )
    assert len(decided) == len(listed)
    assert {decided[n.id] for n in a1.walk()} == {"A"} and decided[d5.id] == "A"
    assert {decided[n.id] for n in (*a2.walk(), *fv.walk())} == {"V"}

    desk.send(version, "0505", pid, [])
    (m,) = desk.poll()
    assert m["status"] == "accepted"
    assert desk.show(pid)["state"] == "appraisal confirmed"

    before = len(storage_objects(home))
    desk.send(version, "0503", pid, [a1, d5])
    (m,) = desk.poll()
    assert m["status"] == "stored", m
    assert [a["status"] for a in m["aips"]] == ["stored", "stored"]
    # the delivery shows in the job list, from the xdomea inbox
    job = desk.cli.json("job", "list")[0]
    assert (job["origin"], job["kind"], job["state"], job["agency"]) == (
        "xdomea", "xdomea", "done", "RA")  # fmt: skip
    assert sorted(a["aid"] for a in job["aips"]) == sorted(a["aid"] for a in m["aips"])
    assert len(storage_objects(home)) == before + 2 * 2 + 2  # 2 AIPs and an accession, 2 copies
    if version.startswith("3"):
        r0507 = desk.reply("0507", version)
        assert _t(r0507, "Kopf/ProzessID") == [pid]
    else:
        assert not desk.replies("0507")  # 0507 exists from 3.0.0 on
    r0506 = desk.reply("0506", version)
    aids = _aids_0506(r0506, version)
    delivered = [n.id for n in (*a1.walk(), *d5.walk())]
    assert sorted(aids) == sorted(delivered)
    assert set(_t(r0506, "Erfolgreich")) == {"1"}

    shown = desk.show(pid)
    assert shown["state"] == "completed"
    by_id = {o["id"]: o for o in _flat(shown["objects"])}
    assert all(by_id[i]["aid"] == aids[i] and by_id[i]["delivered"] == "stored" for i in delivered)

    # the Akte is one AIP, its Teilakte, Vorgänge and Dokumente child units with their own AIDs
    akte = desk.cli.json("aip", "show", aids[a1.id])
    assert akte["title"] == "Bauantrag Müller, Große Straße 5"
    assert akte["fonds"] == "Rechtsamt" and akte["root"] == akte["aid"]
    assert akte["extra"]["reference_code"] == "63.10-01/2019"
    assert akte["extra"]["confidentiality"] == "002"
    assert (akte["extra"]["date_begin"], akte["extra"]["date_end"]) == ("2019-03-01", "2021-11-30")
    assert akte["dc"]["date"] == ["2019-03-01/2021-11-30"]
    assert [c["aid"] for c in akte["children"]] == [aids[c.id] for c in a1.children]
    d1 = a1.find("Bescheid über die Größe")
    v2 = d1.versions[1][1]
    names = [
        f.name if version.startswith("3") else f.filename(version)
        for _n, fs in d1.versions
        for f in fs
    ]
    seg = "63.10-01_2019/63.10-01_2019-1/63.10-01_2019-1-1"
    expect = [f"{seg}/v1/{names[0]}", f"{seg}/v2/{names[1]}", f"{seg}/v2/{names[2]}"]
    doc = desk.cli.json("aip", "show", aids[d1.id])
    assert sorted(f["path"] for f in doc["files"]) == sorted(expect)
    assert doc["parent"] == aids[a1.children[0].id] and doc["root"] == aids[a1.id]
    puids = {f["path"]: f["puid"] for f in doc["files"]}
    assert puids[expect[2]] == "fmt/412" and puids[expect[1]].startswith("fmt/")
    files = {f["path"]: f for f in akte["files"]}
    assert len(files) == 5 and set(expect) <= set(files)
    by_bytes = {f.content: f for n in a1.walk() for _n, fs in n.versions for f in fs}
    obj = _object_dir(home, akte["aid"])
    for path in expect:
        stored = (
            obj / "v1" / "content" / "representations" / "original" / "data" / path
        ).read_bytes()
        assert by_bytes[stored] in v2 + d1.versions[0][1]
    types = [e["type"] for e in akte["events"]]
    assert "appraisal" in types and "metadata modification" in types
    hist = next(e for e in akte["events"] if e["type"] == "metadata modification")
    assert hist["datetime"].startswith("2020-05-04T07:15:00")  # 09:15 in Berlin, summer time
    assert "Metadaten geändert" in hist["detail"]
    # the record's xdomea XML is stored as received
    xml = etree.parse(obj / "v1" / "content" / "metadata" / "descriptive" / "xdomea.xml").getroot()
    assert etree.QName(xml).localname == "Akte" and a1.id in etree.tostring(xml).decode()
    # METS: both names of each file, the unit tree; PREMIS: the original name
    mets = etree.parse(obj / "v1" / "content" / "METS.xml").getroot()
    mns = {"m": "http://www.loc.gov/METS/", "x": "http://www.w3.org/1999/xlink"}
    owner = {f.get("OWNERID") for f in mets.iterfind(".//m:file", mns)}
    assert {f.filename(version) for f in v2} <= owner
    logical = mets.find("m:structMap[@TYPE='LOGICAL']", mns)
    assert len(logical.findall(".//m:div", mns)) == len(list(a1.walk()))
    premis = (obj / "v1" / "content" / "metadata" / "preservation" / "premis.xml").read_text()
    assert v2[1].filename(version) in premis
    _standards_valid(home, fixtures)

    # the same delivery again: nothing stored twice, the same AIDs in the answer (only the
    # process's own object notes the message and the answer)
    before = aips_stored(home)
    desk.send(version, "0503", pid, [a1, d5])
    (m,) = desk.poll()
    assert m["status"] == "duplicate"
    assert [a["status"] for a in m["aips"]] == ["duplicate", "duplicate"]
    assert aips_stored(home) == before
    assert _aids_0506(desk.reply("0506", version), version) == aids

    # the catalog rebuilt from storage alone knows the child units again
    desk.cli.json("catalog", "rebuild")
    again = desk.cli.json("aip", "show", aids[d1.id])
    assert again["parent"] == aids[a1.children[0].id]
    assert sorted(f["path"] for f in again["files"]) == sorted(expect)


def aips_stored(home) -> dict[str, bytes]:
    """Every file of the AIPs in the first location (the processes' own objects note every
    message, refused ones too, as the catalog does)."""
    files = snapshot(home.locations[0].path / "roots")
    return {k: v for k, v in files.items() if "xdomea-process" not in k}


def _object_dir(home, aid: str) -> Path:
    ulid = aid.rsplit("-", 1)[1]
    return next(p for p in storage_objects(home) if p.name.endswith(ulid))


def _standards_valid(home, fixtures) -> None:
    from .test_aip_standards import _schema

    mets_schema = _schema(fixtures, "mets.xsd")
    premis_schema = _schema(fixtures, "premis-v3-0.xsd")
    for obj in storage_objects(home):
        content = obj / "v1" / "content"
        mets = etree.parse(content / "METS.xml")
        assert mets_schema.validate(mets), mets_schema.error_log
        premis = etree.parse(content / "metadata" / "preservation" / "premis.xml")
        assert premis_schema.validate(premis), premis_schema.error_log
    for loc in home.locations:
        for root in (loc.path / "roots").iterdir():
            out = ocfl_root_validate(root)
            assert f"Storage root {root} is VALID" in out, out
            assert not re.search(r"\[[EW]\d{3}\]", out), out
            assert "WARN" not in out.upper() and "ERROR" not in out.upper(), out


# -- the real containers --------------------------------------------------------------------


def test_real_x_man_containers_end_to_end(desk, home, fixtures):
    """The 0503 delivers two of the three Akten the 0501 offered: the third stays awaited."""
    xman = fixtures / "xdomea" / "messages" / "x-man"
    desk.agency()
    desk.drop(next(xman.glob("*0501.zip")))
    assert desk.poll()[0]["status"] == "accepted"
    desk.reply("0504", "3.0.0")
    desk.cli.json("xdomea", "appraise", XMAN_PID, "--all", "A")
    desk.cli.json("xdomea", "send-appraisal", XMAN_PID)
    assert len(_t(desk.reply("0502", "3.0.0"), "BewertetesObjekt")) == 13
    desk.drop(next(xman.glob("*0505.zip")))
    assert desk.poll()[0]["status"] == "accepted"
    desk.drop(next(xman.glob("*0503.zip")))
    (m,) = desk.poll()
    assert m["status"] == "stored" and len(m["aips"]) == 2
    desk.reply("0507", "3.0.0")
    aids = _aids_0506(desk.reply("0506", "3.0.0"), "3.0.0")
    assert len(aids) == 8
    shown = desk.show(XMAN_PID)
    assert shown["state"] == "awaiting delivery"
    third = shown["objects"][2]
    assert third["reference"] == "1234-3" and third["decision"] == "A" and not third["delivered"]
    akte = desk.cli.json("aip", "show", aids["37ad5391-e5c1-4818-aaa0-58c5dd381020"])
    paths = {f["path"]: f["puid"] for f in akte["files"]}
    pdf = "30d9f1ae-eee8-4314-b3cd-5bd90365ccaf_test_pdf_a1-b.pdf"
    docx = "f8bf94d0-4308-4ba4-910a-df3fc5f75949_test.docx"
    assert paths == {
        f"1234-1/1234-1.1/1234-1.1-1/v2.95/{pdf}": "fmt/354",
        f"1234-1/1234-1.2/1234-1.2-1/v2.12/{docx}": "fmt/412",
    }
    assert not [e for e in akte["events"] if e["outcome"] == "warning"]


# -- appraisal rules ------------------------------------------------------------------------


def _offered(desk, version="3.1.0") -> tuple[str, list[Node]]:
    desk.agency()
    tree = standard_tree()
    pid = str(uuid.uuid4())
    desk.send(version, "0501", pid, tree)
    desk.poll()
    return pid, tree


def test_appraisal_rules(desk, tmp_path):
    pid, (a1, a2, fv, d5) = _offered(desk)
    d2 = a1.find("Nachtrag Weiß")
    # A on a child makes its parents A; its siblings stay undecided
    desk.cli.json("xdomea", "appraise", pid, "--set", f"{d2.id}=A")
    objs = {o["id"]: o for o in _flat(desk.show(pid)["objects"])}
    chain = [a1.id, a1.children[0].id, a1.children[0].children[1].id, d2.id]
    assert [objs[i]["decision"] for i in chain] == ["A"] * 4
    assert objs[a1.id]["decision_basis"] == "parent of A" and objs[d2.id]["decided_by"] == "tester"
    assert objs[d2.id]["decided_at"]
    assert objs[a1.find("Bescheid über die Größe").id]["decision"] is None
    # V on an object holding something decided A on its own is refused, nothing changes
    code, _o, err = desk.cli("xdomea", "appraise", pid, "--set", f"{a1.id}=V")
    assert code == 1 and d2.id in err
    assert {o["id"]: o["decision"] for o in _flat(desk.show(pid)["objects"])}[a1.id] == "A"
    # a decision passes down to descendants without their own
    desk.cli.json("xdomea", "appraise", pid, "--set", f"{a2.id}=V")
    objs = {o["id"]: o for o in _flat(desk.show(pid)["objects"])}
    assert {objs[n.id]["decision"] for n in a2.walk()} == {"V"}
    # decisions from a CSV (semicolon, German header); unknown IDs and bad values are named
    bad = tmp_path / "bad.csv"
    bad.write_text(f"IDSGO;Entscheidung\n{fv.id};X\n{uuid.uuid4()};A\n", "utf-8")
    code, _o, err = desk.cli("xdomea", "appraise", pid, "--csv", bad)
    assert code == 1 and "'X' is not A or V" in err and "no such object" in err
    good = tmp_path / "bewertung.csv"
    good.write_text(f"IDSGO;Entscheidung\n{fv.id};A\n{d5.id};v\n", "utf-8")
    r = desk.cli.json("xdomea", "appraise", pid, "--csv", good)
    objs = {o["id"]: o for o in _flat(desk.show(pid)["objects"])}
    assert (objs[fv.id]["decision"], objs[d5.id]["decision"]) == ("A", "V")
    assert r["decisions"]["undecided"] > 0
    code, _o, _e = desk.cli("xdomea", "appraise", pid)
    assert code == 2  # nothing asked
    desk.cli.json("xdomea", "appraise", pid, "--confirm-rest-v")
    objs = {o["id"]: o for o in _flat(desk.show(pid)["objects"])}
    assert objs[a1.find("Bescheid über die Größe").id]["decision"] == "V"
    assert objs[a1.find("Bescheid über die Größe").id]["decision_basis"] == "rest confirmed V"
    desk.cli.json("xdomea", "send-appraisal", pid)
    # once the 0502 is out, decisions are final
    code, _o, err = desk.cli("xdomea", "appraise", pid, "--all", "A")
    assert code == 1 and "appraised" in err
    code, _o, err = desk.cli("xdomea", "send-appraisal", pid)
    assert code == 1


# -- taking over: faults, partial takeover, two-step -----------------------------------------


def _appraised(desk, version="3.1.0", flags=()) -> tuple[str, list[Node]]:
    desk.agency(*flags)
    tree = standard_tree()
    a1, a2, fv, d5 = tree
    pid = str(uuid.uuid4())
    desk.send(version, "0501", pid, tree)
    desk.poll()
    desk.cli.json("xdomea", "appraise", pid, "--set", f"{a1.id}=A", f"{d5.id}=A", f"{a2.id}=V")
    desk.cli.json("xdomea", "appraise", pid, "--confirm-rest-v")
    desk.cli.json("xdomea", "send-appraisal", pid)
    for p in desk.outbox.iterdir():
        p.unlink()
    return pid, tree


@pytest.mark.parametrize("version", ["2.4.0", "3.1.0"])
def test_a_faulty_delivery_is_refused_whole_and_answered(desk, home, version):
    pid, (a1, a2, fv, d5) = _appraised(desk, version)
    missing = a1.find("Gutachten Straßenbau").versions[0][1][0]
    before = aips_stored(home)
    desk.send(version, "0503", pid, [a1, d5], skip_files={missing.filename(version)})
    (m,) = desk.poll(expect=1)
    assert m["status"] == "rejected" and m["quarantine"]
    assert {e["code"] for e in m["errors"]} == {"missing-document"}
    assert missing.filename(version) in m["errors"][0]["path"]
    assert aips_stored(home) == before  # nothing stored
    assert desk.cli.json("aip", "list") == [] and desk.cli.json("accession", "list") == []
    assert not list(desk.inbox.iterdir())
    q = desk.cli.json("quarantine", "show", m["quarantine"])
    assert q["problems"][0]["code"] == "missing-document" and Path(q["sip"]).is_file()
    text = _failed_0506(desk.reply("0506", version), version)
    assert missing.filename(version) in text
    shown = desk.show(pid)
    assert shown["state"] == "appraised"
    assert "missing-document" in shown["error"]
    objs = {o["id"]: o for o in _flat(shown["objects"])}
    assert objs[a1.id]["delivered"] == "failed" and objs[d5.id]["delivered"] == "failed"
    assert "whole or not at all" in objs[d5.id]["error"]
    # delivered again, complete: taken over
    desk.send(version, "0503", pid, [a1, d5])
    (m,) = desk.poll()
    assert m["status"] == "stored"
    assert desk.show(pid)["state"] == "completed"


def test_extra_files_objects_appraised_v_and_unknown_processes_are_refused(desk, home):
    pid, (a1, a2, fv, d5) = _appraised(desk)
    before = aips_stored(home)
    desk.send("3.1.0", "0503", pid, [d5], extra_files={"beigelegt.pdf": b"%PDF-1.4\n%%EOF\n"})
    (m,) = desk.poll(expect=1)
    assert [(e["code"], e["path"]) for e in m["errors"]] == [("unreferenced-file", "beigelegt.pdf")]
    assert "beigelegt.pdf" in _failed_0506(desk.reply("0506", "3.1.0"), "3.1.0")
    desk.send("3.1.0", "0503", pid, [a2, d5])
    (m,) = desk.poll(expect=1)
    assert {e["code"] for e in m["errors"]} == {"not-appraised-a"}
    assert "appraised V" in m["errors"][0]["reason"]
    assert "not-appraised-a" in _t(desk.reply("0506", "3.1.0"), "FehlermeldungCode/code")
    other = str(uuid.uuid4())
    desk.send("3.1.0", "0503", other, [d5])
    (m,) = desk.poll(expect=1)
    assert [e["code"] for e in m["errors"]] == ["unknown-process"]
    assert "unknown-process" in " ".join(_t(desk.reply("0506", "3.1.0"), "FehlermeldungCode/code"))
    assert desk.show(other)["state"] == "rejected"
    desk.send("3.1.0", "0503", other, [d5])  # sent again: still no offer behind it
    (m,) = desk.poll(expect=1)
    assert [e["code"] for e in m["errors"]] == ["unknown-process"]
    assert aips_stored(home) == before


def test_a_delivery_before_the_appraisal_is_refused(desk, home):
    pid, (a1, a2, fv, d5) = _offered(desk)
    desk.send("3.1.0", "0503", pid, [d5])
    (m,) = desk.poll(expect=1)
    assert {e["code"] for e in m["errors"]} == {"not-appraised-a"}
    assert "not appraised" in m["errors"][0]["reason"]


def test_partial_takeover_fails_only_the_faulty_root(desk, home):
    pid, (a1, a2, fv, d5) = _appraised(desk, "3.0.0", ("--partial-takeover",))
    missing = a1.find("Nachtrag Weiß").versions[0][1][0]
    desk.send("3.0.0", "0503", pid, [a1, d5], skip_files={missing.filename("3.0.0")})
    (m,) = desk.poll(expect=1)
    assert m["status"] == "partial" and [a["status"] for a in m["aips"]] == ["stored"]
    r = desk.reply("0506", "3.0.0")
    ns = etree.QName(r).namespace
    verdict = {
        s.findtext(f"{{{ns}}}IDSGO"): s.findtext(f"{{{ns}}}Erfolgreich")
        for s in r.iterfind(f"{{{ns}}}AusgesondertesSGO")
    }
    assert verdict[d5.id] == "1" and {verdict[n.id] for n in a1.walk()} == {"0"}
    assert len(verdict) == len(list(a1.walk())) + 1
    shown = desk.show(pid)
    assert shown["state"] == "awaiting delivery"
    # a delivery in which every root fails is refused as a whole
    desk.send("3.0.0", "0503", pid, [a1], skip_files={missing.filename("3.0.0")})
    (m,) = desk.poll(expect=1)
    assert m["status"] == "rejected" and not m["aips"]
    assert {e["code"] for e in m["errors"]} == {"missing-document"}
    assert set(_t(desk.reply("0506", "3.0.0"), "Erfolgreich")) == {"0"}
    # the failed Akte delivered again later
    desk.send("3.0.0", "0503", pid, [a1])
    (m,) = desk.poll()
    assert m["status"] == "stored"
    assert desk.show(pid)["state"] == "completed"


def test_two_step_delivery_without_offer(desk, home):
    desk.agency("--two-step")
    tree = standard_tree()
    pid = str(uuid.uuid4())
    desk.send("2.3.0", "0503", pid, tree)
    (m,) = desk.poll()
    assert m["status"] == "stored" and len(m["aips"]) == 4
    aids = _aids_0506(desk.reply("0506", "2.3.0"), "2.3.0")
    assert len(aids) == sum(len(list(n.walk())) for n in tree)
    shown = desk.show(pid)
    assert shown["two_step"] and shown["state"] == "completed"
    assert {o["decision_basis"] for o in _flat(shown["objects"])} == {"two-step"}
    free = desk.cli.json("aip", "show", aids[tree[3].id])
    assert free["extra"]["xdomea_kind"] == "Dokument" and len(free["files"]) == 1


def test_declared_format_contradicting_the_file_is_stored_with_a_warning(desk, home):
    desk.agency("--two-step")
    doc = Node(
        "Dokument", "Vermerk", "10-1",
        versions=[("1", [Fmt(PDF, "Vermerk.pdf", write_docx_bytes())])],
    )  # fmt: skip
    pid = str(uuid.uuid4())
    desk.send("3.0.0", "0503", pid, [doc])
    (m,) = desk.poll()
    assert m["status"] == "stored"
    aid = m["aips"][0]["aid"]
    events = desk.cli.json("aip", "show", aid)["events"]
    # the identified format against the declared one (beside each file's own validation)
    (w,) = [e for e in events if e["type"] == "validation" and "declared" in e["detail"]]
    assert w["outcome"] == "warning"
    assert "018 (pdf" in w["outcome_detail"] and "fmt/412" in w["outcome_detail"]


def write_docx_bytes() -> bytes:
    from .xdomea_builders import _docx_bytes

    return _docx_bytes("Vermerk", 11)


# -- bad messages ----------------------------------------------------------------------------


def _container(folder: Path, name: str, xml: bytes, extra: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.xml", xml)
        for k, v in (extra or {}).items():
            zf.writestr(k, v)
    return path


def test_bad_messages_are_quarantined_with_a_specific_error(desk, home):
    desk.agency()
    pid = str(uuid.uuid4())
    offer = f"{pid}_Aussonderung.Anbieteverzeichnis.0501"
    good = etree.tostring(message_xml("3.0.0", "0501", pid, standard_tree()))
    ns = b"urn:xoev-de:xdomea:schema:3.0.0"
    cases = {
        "invalid": good.replace(b"<xdomea:Betreff>", b"<xdomea:Titel>", 1).replace(
            b"</xdomea:Betreff>", b"</xdomea:Titel>", 1
        ),
        "bad-xml": b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + good.replace(b"<xdomea:Betreff>", b"<xdomea:Betreff>&e;", 1),
        "bad-namespace": good.replace(ns, b"urn:example:other"),
        "schema-missing": good.replace(ns, b"urn:xoev-de:xdomea:schema:4.0.0"),
    }
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'.encode()
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + b"]><l>&i;</l>"
    )
    cases["bad-xml laughs"] = laughs
    for expect, xml in cases.items():
        path = _container(desk.inbox, offer, xml)
        (m,) = desk.poll(expect=1)
        assert m["status"] == "rejected", expect
        assert m["errors"][0]["code"] == expect.split()[0], (expect, m["errors"])
        assert m["quarantine"] and not path.exists()
        assert not desk.replies("0504")  # a faulty offer gets no reply
        if expect == "schema-missing":
            assert "magazin xdomea schemas install" in m["errors"][0]["reason"]
    # the errors are recorded on the process the file name names; nothing was offered
    (p,) = desk.cli.json("xdomea", "process", "list")
    assert (p["process_id"], p["state"], p["roots"]) == (pid, "rejected", 0)
    assert [x["status"] for x in p["messages"]] == ["rejected"] * len(cases)
    assert "bad-xml" in p["error"]
    # not named like a message; a ZIP with a path leaving it; duplicate IDs
    # a container still being written is left for the next poll; an old broken one is refused
    partial = desk.send("3.0.0", "0501", pid, standard_tree())
    partial.write_bytes(partial.read_bytes()[:200])
    (m,) = desk.poll()
    assert m["status"] == "waiting" and partial.exists() and not m["quarantine"]
    os.utime(partial, (time.time() - 3600, time.time() - 3600))
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "bad-zip" and m["quarantine"] and not partial.exists()
    odd = desk.inbox / "Anbietung Rechtsamt.zip"
    odd.write_bytes(b"PK")
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "bad-name" and not odd.exists()
    _container(desk.inbox, offer, good, {"../../etc/evil.pdf": b"x"})
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "unsafe-path"
    tree = standard_tree()
    tree[3].id = tree[0].id
    root = message_xml("3.0.0", "0501", pid, tree)
    desk.send("3.0.0", "0501", pid, tree, root=root)
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "duplicate-id" and tree[0].id in m["errors"][0]["reason"]
    # the error is recorded on the process, which stays open for a corrected offer
    assert desk.show(pid)["state"] == "rejected" and "duplicate-id" in desk.show(pid)["error"]
    sent = desk.send("3.0.0", "0501", pid, standard_tree()).read_bytes()
    assert desk.poll()[0]["status"] == "accepted"
    assert desk.show(pid)["state"] == "offered"
    # the same offer again is a duplicate; another one under the same ProzessID is refused
    (desk.inbox / f"{offer}.zip").write_bytes(sent)
    assert desk.poll()[0]["status"] == "duplicate"
    desk.send("3.0.0", "0501", pid, standard_tree())
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "process-exists"
    assert desk.show(pid)["state"] == "offered"
    # tenant, two fonds, the agency and the process's own object only, two copies each
    assert len(storage_objects(home)) == 10
    assert not [p for p in storage_objects(home) if "%3aaccession%3a" in p.name]


def test_a_faulty_confirmation_is_recorded_on_its_process_without_reply(desk):
    pid, _tree = _offered(desk)
    for p in desk.outbox.iterdir():
        p.unlink()
    desk.send("3.1.0", "0505", pid, [])
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "unexpected-message"
    assert not list(desk.outbox.iterdir())
    shown = desk.show(pid)
    assert "unexpected-message" in shown["error"]
    assert shown["messages"][-1]["status"] == "rejected"


def test_a_delivery_with_a_traversal_entry_is_refused_and_answered(desk, home):
    pid, (a1, a2, fv, d5) = _appraised(desk)
    path = desk.send("3.1.0", "0503", pid, [d5], extra_files={"../../../tmp/x.pdf": b"x"})
    before = aips_stored(home)
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "unsafe-path" and not path.exists()
    assert "unsafe-path" in " ".join(_t(desk.reply("0506", "3.1.0"), "FehlermeldungCode/code"))
    assert aips_stored(home) == before


def test_the_sender_is_checked_where_the_agency_has_an_authority_id(desk):
    desk.agency("--authority-id", "MD-99")
    pid = str(uuid.uuid4())
    desk.send("3.0.0", "0501", pid, standard_tree())
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "wrong-sender" and "MD-30" in m["errors"][0]["reason"]
    # the right authority passes
    desk.inbox, desk.outbox = desk.tmp / "inbox2", desk.tmp / "outbox2"
    desk.agency("--authority-id", "md-30", code="RB")
    desk.send("3.0.0", "0501", pid, standard_tree())
    (m,) = desk.poll()
    assert (m["agency"], m["status"]) == ("RB", "accepted")


def test_agency_create_checks_its_input(desk, tmp_path):
    code, _o, err = desk.cli(
        "xdomea", "agency", "create", "stadt", "X", "--name", "x", "--fonds", "Nope",
        "--inbox", tmp_path / "i", "--outbox", tmp_path / "o",
    )  # fmt: skip
    assert code == 1 and "Nope" in err
    desk.agency()
    code, _o, err = desk.cli(
        "xdomea", "agency", "create", "stadt", "RB", "--name", "x", "--fonds", "Rechtsamt",
        "--inbox", desk.inbox, "--outbox", tmp_path / "o2",
    )  # fmt: skip
    assert code == 1 and "inbox" in err
    agencies = desk.cli.json("xdomea", "agency", "list")
    assert [a["code"] for a in agencies] == ["RA"]
    assert agencies[0]["inbox"] == str(desk.inbox)


def test_every_message_magazin_writes_is_valid_in_every_version(desk, home):
    from magazin.core.xdomea import write

    for version in VERSIONS:
        tree = standard_tree()
        root = message_xml(version, "0503", str(uuid.uuid4()), tree)
        ids = [n.id for t in tree for n in t.walk()]
        built = [
            write.receipt(root, version, "0504"),
            write.appraisal_list(root, version, [(i, "A") for i in ids]),
            write.import_report(
                root,
                version,
                [
                    write.ObjectResult(ids[0], True, "stadt-01ABC"),
                    write.ObjectResult(ids[1], False, None, [("missing-document", "fehlt: ä.pdf")]),
                ],
            ),  # fmt: skip
        ]
        if version.startswith("3"):
            built.append(write.receipt(root, version, "0507"))
        for el in built:
            data = write.serialise(copy.deepcopy(el), home.path, version)
            schema = schema_for(home.path, version)
            assert schema.validate(etree.fromstring(data)), (version, schema.error_log)
        broken = write.receipt(root, version, "0504")
        broken.remove(broken[0])
        with pytest.raises(write.WriteError):
            write.serialise(broken, home.path, version)


def test_builders_write_what_the_issue_asks_for():
    tree = standard_tree()
    kinds = [n.kind for t in tree for n in t.walk()]
    assert kinds.count("Akte") == 2 and "Teilakte" in kinds and "Teilvorgang" in kinds
    assert [t.kind for t in tree][2:] == ["Vorgang", "Dokument"]
    d1 = tree[0].find("Bescheid über die Größe")
    assert len(d1.versions) == 2 and [f.code for f in d1.versions[1][1]] == [PDF, DOCX]
    text = " ".join(n.title for t in tree for n in t.walk())
    assert "ü" in text and "ß" in text and "Größe" in text
    names = [f.name for t in tree for n in t.walk() for _v, fs in n.versions for f in fs]
    assert any("ß" in n for n in names) and any("Ü" in n for n in names)


def test_quarantined_message_is_taken_once_its_problem_is_solved(archive, home, tmp_path, fixtures):
    """A 3.0.0 offer arrives before the 3.0.0 schemas are installed: refused with the
    install hint, kept; after `schemas install`, `quarantine retry` takes it."""
    cli = archive
    cli.json("fonds", "create", "stadt", "Rechtsamt", "--title", "Rechtsamt")
    d = Desk(cli, home, tmp_path)
    d.agency()
    d.drop(next((fixtures / "xdomea" / "messages" / "x-man").glob("*0501.zip")))
    (m,) = d.poll(expect=1)
    assert m["errors"][0]["code"] == "schema-missing"
    cli.json("xdomea", "schemas", "install", fixtures / "xdomea" / "xsd")
    r = cli.json("quarantine", "retry", m["quarantine"])
    assert r["status"] == "accepted" and r["process_id"] == XMAN_PID
    assert cli.json("quarantine", "show", m["quarantine"])["status"] == "retried"
    assert d.show(XMAN_PID)["state"] == "offered"
    assert d.replies("0504")


def test_worker_polls_the_inboxes(desk, env, tmp_path):
    import subprocess
    import sys

    desk.agency()
    tree = standard_tree()
    pid = str(uuid.uuid4())
    desk.send("3.1.0", "0501", pid, tree)
    # the worker is its own process on its own database: give it the same set-up
    e = dict(env)
    run = [sys.executable, "-m", "magazin.cli"]

    def magazin(*args):
        return subprocess.run(run + [str(a) for a in args], env=e, capture_output=True, text=True)

    assert magazin("tenant", "create", "stadt", "--name", "Stadt").returncode == 0
    assert magazin("fonds", "create", "stadt", "RA", "--title", "Rechtsamt").returncode == 0
    assert (
        magazin("xdomea", "schemas", "install", desk.home.path / "xdomea" / "schemas").returncode
        == 0
    )
    r = magazin(
        "xdomea", "agency", "create", "stadt", "RA", "--name", "Rechtsamt", "--fonds", "RA",
        "--inbox", desk.inbox, "--outbox", tmp_path / "worker-out",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = magazin("worker", "--once", "--json")
    assert r.returncode == 0, r.stderr
    assert '"status": "accepted"' in r.stdout and pid in r.stdout
    assert list((tmp_path / "worker-out").glob(f"{pid}_*.0504.zip"))


def test_duplicate_ids_in_a_delivery_are_refused(desk, home):
    desk.agency("--two-step")
    tree = standard_tree()
    tree[3].id = tree[2].children[0].id
    pid = str(uuid.uuid4())
    desk.send("3.1.0", "0503", pid, tree)
    (m,) = desk.poll(expect=1)
    assert m["errors"][0]["code"] == "duplicate-id"
    r = desk.reply("0506", "3.1.0")
    assert _t(r, "IDSGO") == [tree[3].id] and _t(r, "Erfolgreich") == ["0"]
    assert len(storage_objects(home)) == 10  # no accession, no AIP
    assert not [p for p in storage_objects(home) if "%3aaccession%3a" in p.name]


def test_path_segments_and_format_codes():
    from magazin.core.xdomea.dateiformat import contradiction
    from magazin.core.xdomea.objects import local_time, safe_segment

    assert safe_segment("63.10/2019: A*B?") == "63.10_2019_ A_B_"
    assert safe_segment("..") == "_" and safe_segment("a\x00b") == "a_b"
    assert safe_segment("Straße".encode().decode()) == "Straße"
    assert len(safe_segment("ä" * 200).encode()) <= 120
    ext = {"fmt/412": ["docx"], "fmt/354": ["pdf"], "fmt/18": ["pdf"], "x-fmt/111": ["txt"]}
    lookup = lambda p: ext.get(p, [])  # noqa: E731
    assert contradiction("018", "fmt/354", "Acrobat PDF/A", lookup) is None
    assert "fmt/412" in contradiction("018", "fmt/412", "Word", lookup)
    assert contradiction("044", "fmt/18", "Acrobat PDF 1.4", lookup).endswith("not PDF/A")
    assert contradiction("044", "fmt/354", "Acrobat PDF/A", lookup) is None
    assert contradiction("100", "fmt/412", "Word", lookup) is None  # Sonstiges
    assert "could not be identified" in contradiction("035", None, None, lookup)
    assert local_time("2020-05-04T09:15:00") == "2020-05-04T09:15:00+02:00"
    assert local_time("2020-01-04T09:15:00Z") == "2020-01-04T09:15:00+00:00"


def test_siblings_with_the_same_reference_get_their_ids_as_folders(desk, home):
    desk.agency("--two-step")

    def doc(ref: str, name: str, data: bytes) -> Node:
        return Node("Dokument", "Brief", ref, versions=[("1", [Fmt(PDF, name, data)])])

    docs = [
        doc("X-1", "a.pdf", b"%PDF-1.4\n%%EOF\n"),
        doc("x-1", "a.pdf", b"%PDF-1.5\n%%EOF\n"),
        doc("v1", "b.pdf", b"%PDF-1.6\n%%EOF\n"),
        doc("Z-1", "Gro\u0308ße: Ent/wurf?.pdf", b"%PDF-1.7\n%%EOF\n"),  # NFD, '/' and ':'
    ]
    akte = Node("Akte", "Akte", "A/1", children=[Node("Vorgang", "V", "V1", children=docs)])
    desk.send("3.1.0", "0503", str(uuid.uuid4()), [akte])
    (m,) = desk.poll()
    shown = desk.cli.json("aip", "show", m["aips"][0]["aid"])
    assert sorted(f["path"] for f in shown["files"]) == sorted(
        [f"A_1/V1/{docs[0].id}/v1/a.pdf", f"A_1/V1/{docs[1].id}/v1/a.pdf",
         f"A_1/V1/{docs[2].id}/v1/b.pdf", "A_1/V1/Z-1/v1/Größe_ Ent_wurf_.pdf"]
    )  # fmt: skip


def test_each_answer_follows_the_version_of_the_message_it_answers(desk):
    """The records system was updated between offer (2.4.0) and delivery (3.1.0)."""
    pid, (a1, a2, fv, d5) = _appraised(desk, "2.4.0")
    desk.send("3.1.0", "0503", pid, [d5])
    (m,) = desk.poll()
    assert m["status"] == "stored"
    desk.reply("0507", "3.1.0")
    aids = _aids_0506(desk.reply("0506", "3.1.0"), "3.1.0")
    assert list(aids) == [d5.id]
    assert desk.show(pid)["state"] == "awaiting delivery"  # the Akte appraised A is still due


def test_the_appraisal_page(desk):
    from django.test import Client

    pid, (a1, a2, fv, d5) = _offered(desk)
    desk.cli.json("tenant", "create", "land", "--name", "Land")
    users = (
        ("anna", "stadt", "archivist"),
        ("rita", "stadt", "reader"),
        ("bert", "land", "archivist"),
    )
    for name, tenant, role in users:
        make_user(desk.cli, name, tenant, role)
    web = Client()
    assert web.login(username="anna", password="Gutes-Passwort-2026")
    listing = web.get("/xdomea/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert pid in listing and "Aussonderungen" in listing
    page = web.get(f"/xdomea/{pid}/").content.decode()
    assert "Bauantrag Müller" in page and f'name="d-{a1.id}"' in page
    # one decision by radio button, the rest confirmed V, then the 0502
    web.post(f"/xdomea/{pid}/", {f"d-{a1.id}": "A", f"d-{d5.id}": "A", "rest_v": "1"})
    objs = {o["id"]: o for o in _flat(desk.show(pid)["objects"])}
    assert objs[a1.children[0].id]["decision_basis"] == "inherited"
    assert objs[fv.id]["decision"] == "V" and objs[d5.id]["decided_by"] == "anna"
    web.post(f"/xdomea/{pid}/", {"send": "1"})
    assert desk.show(pid)["state"] == "appraised"
    decided = _t(desk.reply("0502", "3.1.0"), "BewertetesObjekt/ID")
    assert len(decided) == len(objs)
    # not for readers, not for other tenants
    for name in ("rita", "bert"):
        other = Client()
        assert other.login(username=name, password="Gutes-Passwort-2026")
        assert other.get(f"/xdomea/{pid}/").status_code == 404
        assert other.post(f"/xdomea/{pid}/", {"send": "1"}).status_code == 404


def test_a_child_unit_is_corrected_inside_its_aip(desk, home, fixtures):
    desk.agency("--two-step")
    tree = standard_tree()
    desk.send("3.1.0", "0503", str(uuid.uuid4()), tree[:1])
    (m,) = desk.poll()
    aids = _aids_0506(desk.reply("0506", "3.1.0"), "3.1.0")
    doc = tree[0].find("Nachtrag Weiß")
    r = desk.cli.json("aip", "edit", aids[doc.id], "--title", "Nachtrag Weiß (berichtigt)")
    assert r["version"] == "v2"
    desk.cli.json("catalog", "rebuild")
    child = desk.cli.json("aip", "show", aids[doc.id])
    assert child["title"] == "Nachtrag Weiß (berichtigt)"
    assert child["parent"] == aids[tree[0].find("Nachträge zur Maßnahme").id]
    assert desk.cli.json("aip", "show", aids[tree[0].id])["title"] == tree[0].title
    _standards_valid(home, fixtures)


def test_message_uploaded_on_the_web_is_handled_as_if_in_the_inbox(desk, client, tmp_path):
    """An archivist uploads an 0501 for agency RA: the job handles it like the poll would
    (process offered, 0504 answered), then the 0503 the same way (AIPs stored)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import PASSWORD

    desk.agency()
    make_user(desk.cli, "anna", "stadt", "archivist")
    assert client.login(username="anna", password=PASSWORD)
    assert "RA – Stadt Magdeburg, Rechtsamt" in client.get("/ingest/").content.decode()
    pid, tree = str(uuid.uuid4()), standard_tree()
    elsewhere = tmp_path / "upload"
    offer = write_message(elsewhere, desk.schema("3.1.0"), "3.1.0", "0501", pid, tree)

    def upload(path: Path, name: str | None = None) -> dict:
        f = SimpleUploadedFile(name or path.name, path.read_bytes())
        r = client.post("/ingest/", {"mode": "xdomea", "agency": "RA", "file": f})
        assert r.status_code == 302 and "/ingest/jobs/" in r["Location"], r
        code, _o, err = desk.cli("worker", "--once")
        assert code == 0, err
        return client.get(f"/api/jobs/{r['Location'].split('/')[-2]}/").json()

    job = upload(offer)
    assert job["state"] == "done" and job["status"] == "accepted", job
    assert job["kind"] == "xdomea" and job["agency"] == "RA"
    assert desk.cli.json("xdomea", "process", "show", pid)["state"] == "offered"
    assert desk.replies("0504") and not list(desk.inbox.glob("*.zip"))
    desk.cli.json("xdomea", "appraise", pid, "--all", "A")
    desk.cli.json("xdomea", "send-appraisal", pid)
    delivery = write_message(elsewhere, desk.schema("3.1.0"), "3.1.0", "0503", pid, tree)
    job = upload(delivery)
    assert job["state"] == "done" and job["aips"], job
    assert {a["aid"] for a in job["aips"]} <= {u["aid"] for u in desk.cli.json("aip", "list")}
    # the Akte's page shows its structure as a tree: Vorgang → Teilvorgang → Dokument
    akte = next(u for u in desk.cli.json("aip", "list") if u["title"].startswith("Bauantrag"))
    page = client.get(f"/aip/{akte['aid']}/").content.decode()
    tree = page[page.index('<ul class="tree">') :]
    order = ["Prüfung der Maßnahme", "Bescheid über die Größe", "Nachträge zur Maßnahme",
             "Nachtrag Weiß", "Teilakte Gutachten", "Gutachten Straßenbau"]  # fmt: skip
    positions = [tree.index(t) for t in order]
    assert positions == sorted(positions)
    nested = tree[: tree.index("Nachtrag Weiß")]
    assert nested.count('<ul class="tree">') == 3  # Akte's list, Vorgang's, Teilvorgang's
    # a file that is not named like an xdomea message is refused before anything happens
    r = client.post("/ingest/", {"mode": "xdomea", "agency": "RA",
                                 "file": SimpleUploadedFile("lieferung.zip", b"PK")})  # fmt: skip
    assert r["Location"] == "/ingest/"
    assert "not the file name of an xdomea message" in client.get("/ingest/").content.decode()
