"""Audit with repair, DIP export, catalog rebuild, quarantine handling, CLI usage rules."""

from __future__ import annotations

import hashlib
import shutil
import zipfile

import pytest

from magazin.catalog.models import Accession, Copy, Event, File, Fonds, Tenant, Unit
from magazin.core.storage.validate import validate_object

from .conftest import write_tree

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def two_aips(archive, home, tmp_path):
    sip = write_tree(tmp_path / "sip", {"Reden/ä rede.pdf": PDF, "Reden/b.txt": "Text B"})
    t = tmp_path / "t.csv"
    t.write_text(
        "Datei;Titel;Datum;Anlass\nReden/ä rede.pdf;Rede A;3.10.2015;Einheit\n"
        "Reden/b.txt;Rede B;2016;\n",
        "utf-8",
    )
    r = archive.json("ingest", sip, "--metadata", t)
    return [a["aid"] for a in r["aips"]]


def _copy_dir(home, aid, loc_index):
    from magazin.core.storage.location import FilesystemLocation

    tenant, ulid = aid.split("-", 1)
    loc = FilesystemLocation(home.locations[loc_index])
    return loc.object_dir(tenant, f"urn:magazin:{tenant}:{ulid}")


def test_audit_clean(archive, two_aips):
    r = archive.json("audit")
    assert r == {"checked": 4, "ok": 4, "failed": [], "repaired": []}


def test_audit_finds_changed_missing_and_extra_files_and_repairs(archive, home, two_aips):
    a, b = two_aips
    obj_a2 = _copy_dir(home, a, 1)
    payload = next(p for p in obj_a2.rglob("*") if p.is_file() and "/data/" in str(p))
    payload.write_bytes(payload.read_bytes() + b"bitrot")
    (obj_a2 / "v1" / "content" / "stray.tmp").write_text("x")
    shutil.rmtree(_copy_dir(home, b, 0))
    r = archive.json("audit", expect=1)
    assert r["checked"] == 4 and r["ok"] == 2
    problems = {(f["aid"], f["location"], f["problem"]) for f in r["failed"]}
    assert (a, "local-2", "changed") in problems and (a, "local-2", "extra") in problems
    assert (b, "local-1", "missing") in problems
    assert Copy.objects.get(unit__aid=a, location="local-2").status == "damaged"
    assert Copy.objects.get(unit__aid=b, location="local-1").status == "missing"
    shown = archive.json("aip", "show", b)
    assert {"location": "local-1", "status": "missing"} in [
        {k: c[k] for k in ("location", "status")} for c in shown["copies"]
    ]
    # only one AIP, one location
    r = archive.json("audit", a, "--location", "local-1")
    assert r["checked"] == 1 and r["ok"] == 1
    r = archive.json("audit", "--repair")
    assert {(x["aid"], x["location"]) for x in r["repaired"]} == {(a, "local-2"), (b, "local-1")}
    # 4 AIP copies, and the tenant's audit log (in storage since the first audit) twice
    assert archive.json("audit") == {"checked": 6, "ok": 6, "failed": [], "repaired": []}
    # the repair is recorded as PREMIS events in a new OCFL version of every copy
    for i in (0, 1):
        for aid in (a, b):
            d = _copy_dir(home, aid, i)
            assert (d / "v2").is_dir()
            ok, errors, warnings = validate_object(d)
            assert ok and not warnings, errors + warnings
            premis = (d / "v2/content/metadata/preservation/premis.xml").read_text()
            assert "restored from the verified copy" in premis
    events = archive.json("aip", "show", a)["events"]
    assert [e["outcome"] for e in events if e["type"] == "fixity check"][-1] == "failure"
    assert "restored" in [e for e in events if e["type"] == "replication"][-1]["detail"]


def test_audit_without_good_copy_cannot_repair(archive, home, two_aips):
    a = two_aips[0]
    for i in (0, 1):
        shutil.rmtree(_copy_dir(home, a, i))
    r = archive.json("audit", "--repair", expect=1)
    assert r["repaired"] == [] and len(r["failed"]) == 2


def test_audit_of_unknown_aid_or_location_fails(archive, two_aips):
    code, _, err = archive("audit", "stadt-00000000000000000000000000")
    assert code == 1 and "no AIP" in err
    code, _, err = archive("audit", "--location", "mars")
    assert code == 1 and "mars" in err


def test_export_dip(archive, home, tmp_path, two_aips):
    a = two_aips[0]
    out = tmp_path / "out" / "dip.zip"
    r = archive.json("export", a, "--out", out)
    assert r["files"] == 5
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert names == {
            "METS.xml",
            "metadata/descriptive/dc.xml",
            "metadata/descriptive/table-row.xml",
            "metadata/preservation/premis.xml",
            "representations/original/data/Reden/ä rede.pdf",
        }
        assert zf.read("representations/original/data/Reden/ä rede.pdf") == PDF
        assert b"Rede A" in zf.read("metadata/descriptive/dc.xml")
    # a damaged first copy: the export falls back to the good one
    obj = _copy_dir(home, a, 0)
    f = next(p for p in obj.rglob("*.pdf"))
    f.write_bytes(b"broken")
    out2 = tmp_path / "dip2.zip"
    r = archive.json("export", a, "--out", out2)
    assert r["location"] == "local-2"
    with zipfile.ZipFile(out2) as zf:
        data = zf.read("representations/original/data/Reden/ä rede.pdf")
    assert hashlib.sha512(data).digest() == hashlib.sha512(PDF).digest()


def _catalog_state():
    return {
        "tenants": sorted((t.slug, t.name, t.created) for t in Tenant.objects.all()),
        "fonds": sorted((f.tenant.slug, f.code, f.title, f.created) for f in Fonds.objects.all()),
        "accessions": sorted(
            (
                a.tenant.slug,
                a.number,
                a.ulid,
                a.created,
                a.source,
                a.sip_name,
                a.files,
                a.bytes,
                a.fonds.code,
            )
            for a in Accession.objects.all()
        ),
        "units": sorted(
            (
                u.aid,
                u.ocfl_id,
                u.title,
                repr(u.dc),
                repr(u.extra),
                u.source_key,
                u.fingerprint,
                u.created,
                u.files_count,
                u.bytes,
                u.fonds.code,
                u.accession.number if u.accession else None,
            )
            for u in Unit.objects.all()
        ),
        "files": sorted(
            (
                f.representation.unit.aid,
                f.representation.name,
                f.path,
                f.size,
                f.sha512,
                f.puid,
                f.format_name,
                f.format_version,
                f.mime,
                f.basis,
            )
            for f in File.objects.all()
        ),
        "events": sorted(
            (
                e.unit.aid,
                e.ulid,
                e.type,
                e.datetime,
                e.outcome,
                e.detail,
                e.outcome_detail,
                repr(e.agents),
            )
            for e in Event.objects.all()
        ),
        "copies": sorted((c.unit.aid, c.location, c.status) for c in Copy.objects.all()),
    }


def test_catalog_rebuild_restores_everything(archive, home, tmp_path, two_aips):
    sip2 = write_tree(tmp_path / "bagless", {"x/y.txt": "y"})
    archive.json("ingest", sip2)
    archive.json("tenant", "create", "partner", "--name", "Partnerarchiv")
    archive.json("fonds", "create", "partner", "P1", "--title", "Partner-Bestand")
    before = _catalog_state()
    assert len(before["units"]) == 3 and len(before["events"]) >= 18
    from magazin.ingest.models import IngestJob

    IngestJob.objects.all().delete()  # operational state, not restored: the CLI's job rows
    Unit.objects.all().delete()
    Accession.objects.all().delete()
    Fonds.objects.all().delete()
    Tenant.objects.all().delete()
    r = archive.json("catalog", "rebuild")
    assert r["aips"] == 3 and r["tenants"] == 2 and r["fonds"] == 2 and r["accessions"] == 2
    assert _catalog_state() == before
    # duplicates are still recognised after a rebuild
    again = archive.json("ingest", sip2, "--tenant", "stadt")
    assert again["status"] == "duplicate"


def test_rebuild_marks_invalid_copy_damaged_and_fails_without_any_good_copy(
    archive, home, two_aips
):
    a = two_aips[0]
    inv = _copy_dir(home, a, 1) / "inventory.json"
    inv.write_text(inv.read_text().replace('"head": "v1"', '"head": "v7"'))
    archive.json("catalog", "rebuild")
    assert Copy.objects.get(unit__aid=a, location="local-2").status == "damaged"
    inv0 = _copy_dir(home, a, 0) / "inventory.json"
    inv0.write_text("{}")
    code, _, err = archive("catalog", "rebuild")
    assert code == 1 and "unreadable" in err
    assert Unit.objects.filter(aid=a).exists(), "a failed rebuild leaves the catalog as it was"


def test_quarantine_show_retry_discard(archive, home, tmp_path):
    sip = write_tree(tmp_path / "sip", {"a.txt": "a", "b.txt": "b"})
    t = tmp_path / "t.csv"
    t.write_text("Datei;Titel\na.txt;A\n")
    r = archive.json("ingest", sip, "--metadata", t, expect=1)
    qid = r["quarantine"]
    shown = archive.json("quarantine", "show", qid)
    assert shown["status"] == "open"
    assert shown["problems"] == [
        {"path": "b.txt", "reason": shown["problems"][0]["reason"], "code": "unlisted-file"}
    ]
    code, _, err = archive("quarantine", "retry", qid)
    assert code == 1 and "unlisted-file" in err
    t.write_text("Datei;Titel\na.txt;A\nb.txt;B\n")
    r = archive.json("quarantine", "retry", qid)
    assert r["status"] == "stored" and len(r["aips"]) == 2
    assert archive.json("quarantine", "list") == []
    assert archive.json("quarantine", "list", "--all")[0]["status"] == "retried"
    r2 = archive.json("ingest", tmp_path / "nope", expect=1)
    archive.json("quarantine", "discard", r2["quarantine"], "--reason", "falsch geliefert")
    d = archive.json("quarantine", "show", r2["quarantine"])
    assert d["status"] == "discarded" and d["note"] == "falsch geliefert"
    assert (home.quarantine / r2["quarantine"] / "report.json").exists()
    code, _, err = archive("quarantine", "retry", r2["quarantine"])
    assert code == 1 and "discarded" in err


def test_tenant_and_fonds_options_required_only_when_ambiguous(cli, tmp_path):
    sip = write_tree(tmp_path / "sip", {"a.txt": "a"})
    code, _, err = cli("ingest", sip)
    assert code == 2 and "--tenant" in err
    cli.json("tenant", "create", "a", "--name", "A")
    cli.json("fonds", "create", "a", "F1", "--title", "F1")
    cli.json("fonds", "create", "a", "F2", "--title", "F2")
    code, _, err = cli("ingest", sip)
    assert code == 2 and "--fonds" in err
    assert cli.json("ingest", sip, "--fonds", "F1")["status"] == "stored"
    cli.json("tenant", "create", "b", "--name", "B")
    code, _, err = cli("ingest", sip, "--fonds", "F1")
    assert code == 2 and "--tenant" in err
    code, _, err = cli("fonds", "create", "nobody", "X", "--title", "X")
    assert code == 1 and "nobody" in err
    code, _, err = cli("tenant", "create", "a", "--name", "again")
    assert code == 1 and "exists" in err
    code, _, err = cli("tenant", "create", "Bad Slug", "--name", "x")
    assert code == 1
    code, _, _ = cli("ingest")
    assert code == 2
    code, _, _ = cli("aip", "show", "stadt-nothing")
    assert code == 1


def test_list_commands_cover_all_tenants_unless_named(archive, tmp_path):
    archive.json("tenant", "create", "partner", "--name", "P")
    archive.json("fonds", "create", "partner", "P1", "--title", "P1")
    archive.json("ingest", write_tree(tmp_path / "s1", {"a.txt": "1"}), "--tenant", "stadt")
    archive.json("ingest", write_tree(tmp_path / "s2", {"a.txt": "2"}), "--tenant", "partner")
    assert {a["tenant"] for a in archive.json("aip", "list")} == {"stadt", "partner"}
    assert {a["tenant"] for a in archive.json("aip", "list", "--tenant", "partner")} == {"partner"}
    assert len(archive.json("accession", "list")) == 2
    assert len(archive.json("accession", "list", "--tenant", "stadt")) == 1


def test_ingest_reports_progress_of_every_phase(archive, home, tmp_path):
    from magazin.core.ingest import IngestRequest
    from magazin.ingest.services import run_ingest

    class Recorder:
        def __init__(self):
            self.phases, self.current = {}, None

        def start(self, total, what):
            self.current = what
            self.phases[what] = [total, 0]

        def advance(self, n):
            self.phases[self.current][1] += n

        def done(self):
            self.current = None

    sip = write_tree(tmp_path / "sip", {"a.txt": "aaa", "b/c.txt": "cc"})
    t = tmp_path / "t.csv"
    t.write_text("Datei;Titel\na.txt;A\nb/c.txt;C\n")
    rec = Recorder()
    result, _ = run_ingest(home, IngestRequest(sip, "stadt", "OB-Reden", t), rec)
    assert result.status == "stored"
    # identification happens in the copying pass: no phase of its own
    assert rec.phases == {"copy": [5, 5], "verify": [10, 10], "store": [2, 2]}


def test_storage_failure_is_reported_without_a_traceback(archive, home, tmp_path, monkeypatch):
    import magazin.core.ingest as ingest_mod

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest_mod, "place_object", disk_full)
    code, _, err = archive("ingest", write_tree(tmp_path / "sip", {"a.txt": "a"}))
    assert code == 1 and "No space left on device" in err and "Traceback" not in err
    assert Unit.objects.count() == 0


def test_human_output_of_every_reporting_command(archive, home, tmp_path, two_aips):
    a = two_aips[0]
    for argv, expect in [
        (("aip", "list"), a),
        (("aip", "show", a), "ingestion"),
        (("accession", "list"), "sip"),
        (("audit",), "4 copies checked"),
        (("tenant", "list"), "stadt"),
        (("fonds", "list"), "OB-Reden"),
        (("quarantine", "list"), "Quarantine is empty"),
        (("formats", "identify", tmp_path / "t.csv"), "t.csv"),
        (("init",), str(home.path)),
        (("export", a, "--out", tmp_path / "d.zip"), "written"),
        (("catalog", "rebuild"), "2 aips"),
    ]:
        code, out, err = archive(*argv)
        assert code == 0, (argv, err)
        assert expect in out, (argv, out)
    code, out, err = archive("ingest", write_tree(tmp_path / "s", {"x.txt": "x"}))
    assert code == 0 and "stored: accession" in out
    code, out, err = archive("ingest", tmp_path / "nope")
    assert code == 1 and "REJECTED" in err and "quarantine" in err
