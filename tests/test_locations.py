"""Locations come and go (list, show, check, replicate, retire), and fixity runs on a
schedule with its evidence in storage (the tenant's audit log)."""

from __future__ import annotations

import datetime as dt
import json
import tomllib

import pytest

from magazin.catalog.audit import scheduled_audit
from magazin.catalog.models import Copy, Event, Unit
from magazin.core.config import ConfigError, load_home
from magazin.core.ids import auditlog_id
from magazin.core.storage import replicate as replicate_mod
from magazin.core.storage.auditlog import AuditLog
from magazin.core.storage.location import FilesystemLocation
from magazin.core.storage.store import Storage
from magazin.core.storage.validate import validate_object

from .conftest import Killed, s3_location, write_locations, write_tree


@pytest.fixture
def four_aips(archive, tmp_path):
    sip = write_tree(tmp_path / "sip", {f"rede-{i}.txt": f"Rede {i}" for i in range(4)})
    table = tmp_path / "t.csv"
    table.write_text("Datei;Titel\n" + "".join(f"rede-{i}.txt;Rede {i}\n" for i in range(4)))
    r = archive.json("ingest", sip, "--metadata", table)
    return [a["aid"] for a in r["aips"]]


def _three_locations(home, replication):
    write_locations(
        home.path,
        [{"name": n, "type": "filesystem", "path": f"storage/{n}"}
         for n in ("local-1", "local-2", "local-3")],
        replication,
    )  # fmt: skip


def test_location_list_show_and_check(archive, home, four_aips):
    rows = archive.json("location", "list")
    assert [(r["name"], r["type"], r["state"]) for r in rows] == [
        ("local-1", "filesystem", "active"),
        ("local-2", "filesystem", "active"),
    ]
    for r in rows:
        assert r["objects"] == 4 + 3  # AIPs, the tenant, the fonds, the accession
        assert r["bytes"] > 0 and r["free"] > 0
        assert set(r) == {"name", "type", "state", "objects", "bytes", "free"}
    check = archive.json("location", "check", "local-1")
    assert check == {"name": "local-1", "reachable": True, "writable": True,
                     "conditional_writes": True, "object_lock": False}  # fmt: skip
    show = archive.json("location", "show", "local-2")
    assert show["copies"] == {"ok": 4, "damaged": 0, "missing": 0}
    assert show["tenants"] == ["stadt"]
    code, _, err = archive("location", "check", "mars")
    assert code == 1 and "mars" in err


def test_moving_to_a_new_location_is_replicate_then_retire(archive, home, four_aips):
    _three_locations(home, ["local-1", "local-2", "local-3"])
    states = {r["name"]: r["state"] for r in archive.json("location", "list")}
    assert states["local-3"] == "filling"
    r = archive.json("location", "replicate", "local-3")
    assert r["copied"] == 7 and r["failed"] == []
    again = archive.json("location", "replicate", "local-3")
    assert again["copied"] == 0 and again["skipped"] == again["objects"], "nothing twice"
    states = {r["name"]: r["state"] for r in archive.json("location", "list")}
    assert states["local-3"] == "active"
    for obj in (home.path / "storage/local-3/roots").rglob("0=ocfl_object_1.1"):
        ok, errors, _ = validate_object(obj.parent)
        assert ok, errors
    r = archive.json("location", "retire", "local-1")
    assert r["replication"] == ["local-2", "local-3"]
    toml = tomllib.loads((home.path / "magazin.toml").read_text())
    assert toml["replication"]["locations"] == ["local-2", "local-3"]
    previous = tomllib.loads(open(r["previous_config"]).read())
    assert previous["replication"]["locations"] == ["local-1", "local-2", "local-3"]
    assert "[limits]" in (home.path / "magazin.toml").read_text(), "the rest kept"
    states = {r["name"]: r["state"] for r in archive.json("location", "list")}
    assert states["local-1"] == "retired"
    # the retirement is evidence in the tenant's audit log, in the remaining locations
    entries = list(AuditLog(Storage(load_home(home.path))).entries("stadt"))
    assert any(e["event"] == "location retired" and e["location"] == "local-1"
               for e in entries)  # fmt: skip
    assert archive.json("audit", "--location", "local-3")["failed"] == []
    # a correction now goes to the remaining locations only
    archive.json("aip", "edit", four_aips[0], "--title", "Neu")
    oid = Unit.objects.get(aid=four_aips[0]).ocfl_id
    storage = Storage(load_home(home.path))
    assert storage.location("local-3").open("stadt", oid).head == "v2"
    assert storage.location("local-1").open("stadt", oid).head == "v1"


def test_retire_refuses_while_a_location_holds_the_only_intact_copy(archive, home, four_aips):
    _three_locations(home, ["local-1", "local-3"])  # local-3 new and empty
    code, _, err = archive("location", "retire", "local-1")
    assert code == 1 and "only intact copy" in err and "replicate" in err
    assert tomllib.loads((home.path / "magazin.toml").read_text())["replication"]["locations"] == [
        "local-1",
        "local-3",
    ], "magazin.toml untouched"
    code, _, err = archive("location", "retire", "local-2")
    assert code == 1 and "not in [replication]" in err


def test_replicate_killed_half_way_resumes(archive, home, four_aips, monkeypatch):
    _three_locations(home, ["local-1", "local-2", "local-3"])
    calls = {"n": 0}
    original = FilesystemLocation.store_object

    def store(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise Killed()
        return original(self, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(FilesystemLocation, "store_object", store)
        with pytest.raises(Killed):
            archive("location", "replicate", "local-3")
    r = archive.json("location", "replicate", "local-3")
    assert r["skipped"] == 3 and r["copied"] == 4
    assert archive.json("audit", "--location", "local-3")["failed"] == []


def test_throttle_keeps_to_the_rate(monkeypatch):
    slept = []
    clock = {"t": 100.0}
    monkeypatch.setattr(replicate_mod.time, "monotonic", lambda: clock["t"])
    monkeypatch.setattr(replicate_mod.time, "sleep", lambda s: slept.append(s))
    t = replicate_mod.Throttle(10)  # 10 MB/s
    t.account(5_000_000)  # half a second's worth at once
    assert slept == [pytest.approx(0.5)]
    clock["t"] += 2.0
    t.account(5_000_000)  # 10 MB in 2 s: under the rate, no pause
    assert len(slept) == 1
    replicate_mod.Throttle(None).account(10**12)
    assert len(slept) == 1


def _log_object(home):
    storage = Storage(load_home(home.path))
    return [loc.open("stadt", auditlog_id("stadt")) for loc in storage.replicas]


def test_every_check_is_evidence_in_the_tenants_audit_log(archive, home, four_aips):
    a = Unit.objects.get(aid=four_aips[0])
    damaged = home.locations[1].path / "roots" / "stadt"
    target = next(p for p in damaged.rglob("rede-0.txt"))
    target.write_bytes(b"changed")
    r = archive.json("audit", expect=1)  # no --repair: nothing is written into the AIP
    assert len(r["failed"]) == 1
    assert Storage(load_home(home.path)).open("stadt", a.ocfl_id).head == "v1"
    logs = _log_object(home)
    assert len(logs) == 2 and logs[0].inventory == logs[1].inventory
    today = dt.datetime.now(dt.UTC).date().isoformat()  # the audit log's days are UTC days
    state = logs[0].state()
    assert list(state) == [f"log/{today[:4]}/{today}.jsonl"]
    entries = [json.loads(line) for line in logs[0].read(list(state)[0]).splitlines()]
    checks = [e for e in entries if e["event"] == "fixity check"]
    assert len(checks) == 8
    failed = [e for e in checks if e["outcome"] == "failure"]
    assert [(e["aid"], e["location"]) for e in failed] == [(a.aid, "local-2")]
    assert "changed" in failed[0]["detail"]
    copy = Copy.objects.get(unit=a, location="local-2")
    assert copy.status == "damaged" and copy.failed is not None
    # the repair: one new AIP version with both events, and the log says so
    r = archive.json("audit", "--repair")
    assert len(r["repaired"]) == 1
    obj = Storage(load_home(home.path)).open("stadt", a.ocfl_id)
    assert obj.head == "v2"
    types = list(Event.objects.filter(unit=a).values_list("type", "outcome"))
    assert ("fixity check", "failure") in types and types[-1] == ("replication", "success")
    entries = list(AuditLog(Storage(load_home(home.path))).entries("stadt"))
    assert any(e["event"] == "repair" and e["aid"] == a.aid for e in entries)
    assert Copy.objects.get(unit=a, location="local-2").repaired is not None


def test_each_day_is_one_version_holding_only_that_days_segment(archive, home, four_aips):
    storage = Storage(load_home(home.path))
    log = AuditLog(storage)
    for day in ("2026-11-29", "2026-11-30"):
        p = log.buffer / "stadt" / f"{day}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"time": f"{day}T12:00:00+00:00", "event": "fixity check"})
                     + "\n")  # fmt: skip
    assert log.flush() == 2
    assert not (log.buffer / "stadt" / "2026-11-29.jsonl").exists(), "stored, buffer gone"
    obj = storage.open("stadt", auditlog_id("stadt"))
    assert obj.head == "v2"
    assert list(obj.state("v1")) == ["log/2026/2026-11-29.jsonl"]
    assert list(obj.state("v2")) == ["log/2026/2026-11-30.jsonl"]
    assert log.flush() == 0, "nothing twice"
    days = [e["time"][:10] for e in log.entries("stadt")]
    assert days == ["2026-11-29", "2026-11-30"]
    # the catalog does not take the log for a unit
    archive.json("catalog", "rebuild")
    assert Unit.objects.count() == 4


def test_the_schedule_checks_every_copy_once_per_cycle_and_repairs(
    archive, home, four_aips, monkeypatch
):
    text = (home.path / "magazin.toml").read_text().replace("cycle_days = 90", "cycle_days = 2")
    (home.path / "magazin.toml").write_text(text)
    h = load_home(home.path)
    assert h.audit.cycle_days == 2
    day = 86400.0
    # every copy counts as checked at ingest: none is due, a round checks its share
    r = scheduled_audit(h, "worker", interval=day / 2, budget_seconds=600)
    assert r["checked"] == 2, "a quarter of the cycle: 8 copies / 4"
    checked = set(Copy.objects.exclude(checked=None).values_list("unit__aid", "location"))
    assert len(checked) == 2
    r = scheduled_audit(h, "worker", interval=day / 2, budget_seconds=600)
    assert r["checked"] == 2
    assert len(set(Copy.objects.exclude(checked=None).values_list("pk"))) == 4, (
        "the oldest checks first: no copy twice"
    )
    # overdue copies are all checked in one round, and a damaged one is repaired
    Copy.objects.update(checked=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    a = Unit.objects.get(aid=four_aips[1])
    target = next((home.path / "storage/local-1/roots/stadt").rglob("rede-1.txt"))
    target.write_bytes(b"bit rot")
    r = scheduled_audit(h, "worker", interval=60, budget_seconds=600)
    assert r["checked"] == 8 and len(r["repaired"]) == 1
    assert Storage(h).location("local-1").check("stadt", a.ocfl_id) == []
    report = archive.json("audit", "--report")
    assert report == {"cycle_days": 2, "copies": 8, "checked_in_cycle": 8,
                      "bytes": report["bytes"], "failures": 1, "repairs": 1,
                      "oldest_check": report["oldest_check"]}  # fmt: skip
    assert report["bytes"] > 0 and report["oldest_check"] is not None


def test_s3_location_entries_are_checked(home):
    toml = home.path / "magazin.toml"
    base = toml.read_text()
    for entry, message in [
        ('type = "s3"\nendpoint = "http://x"', "lacks 'bucket'"),
        ('type = "s3"\nendpoint = "http://x"\nbucket = "b"\naccess_key = "AKIA"',
         "credentials never go into magazin.toml"),
        ('type = "s3"\nendpoint = "http://x"\nbucket = "b"\nobject_lock_days = 0',
         "object_lock_days"),
        ('type = "tape"', "unknown type 'tape'"),
    ]:  # fmt: skip
        toml.write_text(base + f'\n[[locations]]\nname = "neu"\n{entry}\n')
        with pytest.raises(ConfigError, match=message):
            load_home(home.path)
    toml.write_text(base + '\n[[locations]]\nname = "neu"\ntype = "s3"\n'
                    'endpoint = "http://x"\nbucket = "b"\nprefix = "/archiv/"\n')  # fmt: skip
    loc = load_home(home.path).location("neu")
    assert (loc.bucket, loc.prefix, loc.access_key_env) == ("b", "archiv", "AWS_ACCESS_KEY_ID")


def test_an_s3_location_is_checked_and_filled(s3, archive, home, four_aips):
    entry = s3_location()
    write_locations(
        home.path,
        [{"name": "local-1", "type": "filesystem", "path": "storage/local-1"},
         {"name": "local-2", "type": "filesystem", "path": "storage/local-2"}, entry],
        ["local-1", "local-2", "ceph-1"],
    )  # fmt: skip
    check = archive.json("location", "check", "ceph-1")
    assert check == {"name": "ceph-1", "reachable": True, "writable": True,
                     "conditional_writes": True, "object_lock": False}  # fmt: skip
    r = archive.json("location", "replicate", "ceph-1", "--max-mb-per-s", "100")
    assert r["copied"] == 7 and r["failed"] == []
    assert archive.json("location", "retire", "local-2")["replication"] == ["local-1", "ceph-1"]
    rows = {r["name"]: r for r in archive.json("location", "list")}
    assert rows["ceph-1"]["state"] == "active" and rows["ceph-1"]["objects"] >= 7
    assert archive.json("audit", "--location", "ceph-1")["failed"] == []
