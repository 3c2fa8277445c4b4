"""S3 locations against a real S3 server: Ceph's RADOS Gateway, started by scripts/ceph.sh
(`make test` does). The same OCFL storage root as on disk; nothing visible until complete;
faults from the real gateway (stopped mid-ingest) and from a fault-injecting proxy in front
of it; conditional writes; COMPLIANCE object lock."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest

from magazin.catalog.models import Unit
from magazin.core.config import load_home
from magazin.core.storage import s3 as s3_mod
from magazin.core.storage.location import object_files
from magazin.core.storage.ocfl import NewFile, VersionInfo
from magazin.core.storage.s3 import S3Location, VersionExists
from magazin.core.storage.store import Storage

from .conftest import Killed, ocfl_root_validate, s3_location, write_locations, write_tree
from .faultproxy import FaultProxy

pytestmark = pytest.mark.once  # the S3 tests add nothing on a second database


def _with_s3(home, **extra) -> dict:
    """The archive's copies: local-1 on disk and ceph-1 in a fresh bucket."""
    entry = s3_location(**extra)
    write_locations(
        home.path,
        [{"name": "local-1", "type": "filesystem", "path": "storage/local-1"}, entry],
        ["local-1", "ceph-1"],
    )
    return entry


def _s3(home) -> S3Location:
    return Storage(load_home(home.path)).location("ceph-1")


def _keys(loc: S3Location) -> list[str]:
    return [k["Key"] for k in loc.keys(loc.prefix)]


def _tenant_archive(cli):
    cli.json("tenant", "create", "stadt", "--name", "Stadtarchiv")
    cli.json("fonds", "create", "stadt", "OB-Reden", "--title", "Reden")


def _sip(tmp_path, n=3, name="sip"):
    files = {f"rede-{i}.txt": f"Rede Nummer {i} ({name})\n" for i in range(n)}
    return write_tree(tmp_path / name, files)


def _download(loc: S3Location, tenant: str, target: Path) -> Path:
    """The tenant's storage root copied from the bucket to disk, key by key."""
    root = loc.root(tenant)
    for key in _keys(loc):
        if not key.startswith(root):
            continue
        p = target / key[len(root) :]
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(loc.get_bytes(key))
    return target


def test_ingest_stores_a_valid_ocfl_root_in_the_bucket(s3, home, cli, tmp_path):
    _with_s3(home)
    _tenant_archive(cli)
    r = cli.json("ingest", _sip(tmp_path), "--fonds", "OB-Reden")
    assert r["status"] == "stored"
    loc = _s3(home)
    assert loc.tenants() == ["stadt"]
    aid = r["aips"][0]["aid"]
    unit = Unit.objects.get(aid=aid)
    assert sorted(c.location for c in unit.copies.all()) == ["ceph-1", "local-1"]
    # the same bytes as the copy on disk, key for key
    obj = loc.open("stadt", unit.ocfl_id)
    disk = Storage(load_home(home.path)).location("local-1").open("stadt", unit.ocfl_id)
    assert object_files(obj) == object_files(disk)
    for rel in object_files(obj):
        with obj.open_content(rel) as a, disk.open_content(rel) as b:
            assert a.read() == b.read(), rel
    # the bucket copied to disk is an OCFL 1.1 storage root ocfl-py finds valid
    out = ocfl_root_validate(_download(loc, "stadt", tmp_path / "copy"))
    n = len(list(loc.object_paths("stadt")))
    assert f"Objects checked: {n} / {n} are VALID" in out, out
    assert not re.search(r"\[[EW]\d{3}\]", out), out
    audit = cli.json("audit")
    assert audit["failed"] == [] and audit["ok"] == 2


def test_reads_fall_back_to_the_s3_copy_and_the_failed_copy_is_recorded(s3, home, cli, tmp_path):
    _with_s3(home)
    _tenant_archive(cli)
    aid = cli.json("ingest", _sip(tmp_path, 1), "--fonds", "OB-Reden")["aips"][0]["aid"]
    unit = Unit.objects.get(aid=aid)
    disk = Storage(load_home(home.path)).location("local-1")
    inv = disk.object_dir("stadt", unit.ocfl_id) / "inventory.json"
    inv.write_bytes(inv.read_bytes() + b" ")  # no longer matches its sidecar
    out = tmp_path / "dip.zip"
    r = cli.json("export", aid, "--out", out)
    assert r["location"] == "ceph-1" and r["files"] >= 1
    assert unit.copies.get(location="local-1").status == "damaged"
    # a correction reads the head from S3 too, and writes its version into both copies
    r = cli.json("aip", "edit", aid, "--title", "Neu")
    assert r["version"] == "v2"
    assert _s3(home).open("stadt", unit.ocfl_id).head == "v2"


def test_correction_is_a_new_version_in_s3_and_rebuild_reads_it_from_s3_alone(
    s3, home, cli, tmp_path
):
    entry = _with_s3(home)
    _tenant_archive(cli)
    aid = cli.json("ingest", _sip(tmp_path, 2), "--fonds", "OB-Reden")["aips"][0]["aid"]
    cli.json("aip", "edit", aid, "--title", "Rede zur Eröffnung")
    before = cli.json("aip", "show", aid)
    # the disk copy gone: the bucket alone restores the catalog
    shutil.rmtree(home.path / "storage" / "local-1")
    write_locations(home.path, [entry], ["ceph-1"])
    cli.json("catalog", "rebuild")
    after = cli.json("aip", "show", aid)
    assert after["title"] == "Rede zur Eröffnung"
    assert [e["type"] for e in after["events"]] == [e["type"] for e in before["events"]]
    assert [f["sha512"] for f in after["files"]] == [f["sha512"] for f in before["files"]]


def test_large_files_go_up_in_parts_and_are_read_back_whole(s3, home, cli, tmp_path, monkeypatch):
    monkeypatch.setattr(s3_mod, "PART_SIZE", 5 * 1024 * 1024)  # the smallest S3 allows
    _with_s3(home)
    _tenant_archive(cli)
    sip = tmp_path / "gross"
    sip.mkdir()
    data = bytes(range(256)) * (13 * 4096)  # 13 MiB: three parts
    (sip / "film.bin").write_bytes(data)
    aid = cli.json("ingest", sip, "--fonds", "OB-Reden")["aips"][0]["aid"]
    unit = Unit.objects.get(aid=aid)
    loc = _s3(home)
    obj = loc.open("stadt", unit.ocfl_id)
    rel = obj.content_of("representations/original/data/film.bin")
    head = loc.client.head_object(Bucket=loc.bucket, Key=obj.prefix + rel)
    assert head["ETag"].strip('"').endswith("-3"), "uploaded in three parts"
    with obj.open_content(rel) as f:
        assert f.read() == data
    with obj.open_range(rel, 5, 9) as f:
        assert f.read() == data[5:10]
    assert cli.json("audit")["failed"] == []


def test_gateway_stopped_mid_ingest_leaves_nothing_and_the_next_run_completes(
    s3, home, cli, tmp_path, monkeypatch
):
    _with_s3(home, retries=2, timeout=2)
    _tenant_archive(cli)
    sip = _sip(tmp_path, 4)
    calls = {"n": 0}
    original = S3Location.put_file

    def put_then_stop(self, key, f, size, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the third content file: the gateway dies
            s3.stop()
        return original(self, key, f, size, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(S3Location, "put_file", put_then_stop)
        code, out, err = cli("ingest", sip, "--fonds", "OB-Reden")
    try:
        assert code == 1, (out, err)
        assert "ceph-1" in err and "Traceback" not in err, err
        assert "magazin-test-secret" not in err, "credentials never in messages"
        assert Unit.objects.count() == 0, "the catalog untouched"
        disk = home.path / "storage" / "local-1" / "roots" / "stadt"
        assert not [p for p in disk.rglob("0=ocfl_object_1.1") if "%3a01" in str(p)], (
            "no AIP visible on disk"
        )
    finally:
        s3.start()
    loc = _s3(home)
    assert not [p for p in loc.object_paths("stadt") if re.search(r"%3a[0-9A-Z]{26}$", p)], (
        "no AIP visible in the bucket"
    )
    r = cli.json("ingest", sip, "--fonds", "OB-Reden")
    assert r["status"] == "stored" and len(r["aips"]) == 1
    assert cli.json("audit")["failed"] == []
    uploads = loc.client.list_multipart_uploads(Bucket=loc.bucket).get("Uploads", [])
    assert uploads == []


@pytest.fixture
def proxied(s3, home):
    from .conftest import s3_endpoint

    proxy = FaultProxy(s3_endpoint())
    yield proxy
    proxy.close()


def test_transient_errors_are_retried_with_back_off(proxied, home, cli, tmp_path):
    _with_s3(home, endpoint=proxied.endpoint, retries=4, timeout=5)
    _tenant_archive(cli)
    proxied.inject("503", faults=2)
    r = cli.json("ingest", _sip(tmp_path, 2), "--fonds", "OB-Reden")
    assert r["status"] == "stored"
    assert proxied.injected == 2
    proxied.inject("reset", faults=2)
    r = cli.json("ingest", _sip(tmp_path, 2, "sip2"), "--fonds", "OB-Reden")
    assert r["status"] == "stored"
    assert proxied.injected == 4
    assert cli.json("audit")["failed"] == []


@pytest.mark.parametrize("mode", ["503", "hang"])
def test_lasting_errors_and_timeouts_fail_cleanly(proxied, home, cli, tmp_path, mode):
    _with_s3(home, endpoint=proxied.endpoint, retries=2, timeout=1)
    _tenant_archive(cli)
    proxied.inject(mode, faults=None)
    code, _out, err = cli("ingest", _sip(tmp_path, 2), "--fonds", "OB-Reden")
    assert code == 1 and "ceph-1" in err and "Traceback" not in err, err
    assert Unit.objects.count() == 0
    proxied.inject(None)
    loc = _s3(home)
    assert not [p for p in loc.object_paths("stadt") if re.search(r"%3a[0-9A-Z]{26}$", p)]
    assert cli.json("ingest", _sip(tmp_path, 2), "--fonds", "OB-Reden")["status"] == "stored"


def _one_object(home, cli, tmp_path):
    _tenant_archive(cli)
    aid = cli.json("ingest", _sip(tmp_path, 1), "--fonds", "OB-Reden")["aips"][0]["aid"]
    return Unit.objects.get(aid=aid).ocfl_id


def test_two_writers_racing_for_one_version_make_it_once(s3, home, cli, tmp_path):
    """The storage layer alone (the object lock bypassed): the conditional write of the
    version's inventory lets exactly one of two writers make v2."""
    _with_s3(home)
    oid = _one_object(home, cli, tmp_path)
    loc = _s3(home)
    assert loc.conditional_writes(), "the gateway honours If-None-Match on this bucket"
    obj = loc.open("stadt", oid)
    results = []
    barrier = threading.Barrier(2)

    def writer(n: int) -> None:
        import copy
        import hashlib
        import tempfile

        from magazin.core.storage.ocfl import next_version, stage_version

        data = f"writer {n}".encode()
        nf = NewFile("metadata/note.txt", None, hashlib.sha512(data).hexdigest(), data=data)
        v = VersionInfo("2026-12-02T10:00:00+00:00", f"writer {n}", "t", "urn:magazin:user:t")
        inv, new, _ = next_version(copy.deepcopy(obj.inventory), [nf], v)
        d = Path(tempfile.mkdtemp(dir=tmp_path))
        stage_version(d / "v2", inv, new)
        barrier.wait()
        try:
            loc.commit_version("stadt", oid, d / "v2", inv)
            results.append(("won", n))
        except VersionExists:
            results.append(("lost", n))

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["lost", "won"], results
    winner = next(n for r, n in results if r == "won")
    head = loc.open("stadt", oid)
    assert head.head == "v2" and head.inventory["versions"]["v2"]["message"] == f"writer {winner}"
    assert head.read("metadata/note.txt") == f"writer {winner}".encode()


def test_object_lock_refuses_to_delete_any_version_written(s3, home, cli, tmp_path):
    _with_s3(home, object_lock_days=1)
    _tenant_archive(cli)
    aid = cli.json("ingest", _sip(tmp_path, 1), "--fonds", "OB-Reden")["aips"][0]["aid"]
    cli.json("aip", "edit", aid, "--title", "Korrigiert")
    loc = _s3(home)
    assert loc.probe()["object_lock"] is True
    versions = loc.client.list_object_versions(Bucket=loc.bucket)["Versions"]
    assert len(versions) > 10
    refused = 0
    for v in versions:
        retention = loc.client.get_object_retention(
            Bucket=loc.bucket, Key=v["Key"], VersionId=v["VersionId"]
        )["Retention"]
        assert retention["Mode"] == "COMPLIANCE"
        try:
            loc.client.delete_object(Bucket=loc.bucket, Key=v["Key"], VersionId=v["VersionId"])
        except loc.client.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "AccessDenied"
            refused += 1
    assert refused == len(versions), "every object version written is retained"
    assert cli.json("audit")["failed"] == []


def test_a_change_killed_between_locations_is_completed(s3, home, cli, tmp_path, monkeypatch):
    _with_s3(home)
    oid = _one_object(home, cli, tmp_path)
    aid = Unit.objects.get(ocfl_id=oid).aid

    def killed(self, *a, **kw):
        raise Killed()

    with monkeypatch.context() as m:
        m.setattr(S3Location, "commit_version", killed)
        with pytest.raises(Killed):
            cli("aip", "edit", aid, "--title", "Halb")
    storage = Storage(load_home(home.path))
    assert storage.location("local-1").open("stadt", oid).head == "v2"
    assert storage.location("ceph-1").open("stadt", oid).head == "v1"
    assert storage.pending(), "the change is journaled"
    assert Unit.objects.get(aid=aid).title != "Halb", "the catalog did not see it yet"
    r = cli.json("audit")  # completes what the killed change left first
    assert r["failed"] == []
    assert storage.location("ceph-1").open("stadt", oid).head == "v2"
    assert not storage.pending()
    assert Unit.objects.get(aid=aid).title == "Halb", "the catalog re-read the object"
