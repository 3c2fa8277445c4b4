"""The e-records desk is kept in storage: agencies as record objects, each Aussonderung
process as one OCFL object with its messages' XML, the offered objects and the appraisal
decisions; `catalog rebuild` restores all of it exactly, and a run killed between the
database and storage is completed by the next poll."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid

import pytest

from magazin.core.config import load_home
from magazin.core.storage.store import Storage
from magazin.xdomea import keeping
from magazin.xdomea.models import Process

from .conftest import Killed, kill_on, ocfl_root_validate, storage_objects
from .test_rebuild_exact import dump
from .test_xdomea_workflow import desk, installed_schemas  # noqa: F401 - fixtures
from .xdomea_builders import standard_tree

V = "3.1.0"


def _object(home, pid: str):
    oid = keeping.process_object_id("stadt", "RA", pid)
    return Storage(load_home(home.path)).open("stadt", oid)


def _xdomea(rows: dict) -> dict:
    return {k: v for k, v in rows.items() if k.startswith("xdomea.")}


def test_rebuild_restores_agencies_processes_messages_and_decisions(desk, home):  # noqa: F811
    desk.agency()
    done, offered, refused = (str(uuid.uuid4()) for _ in range(3))
    tree = standard_tree()
    a1, a2, fv, d5 = tree
    # one process through to the delivery
    desk.send(V, "0501", done, tree)
    desk.poll()
    desk.cli.json("xdomea", "appraise", done, "--set", f"{a1.id}=A", f"{d5.id}=A",
                  "--confirm-rest-v")  # fmt: skip
    desk.cli.json("xdomea", "send-appraisal", done)
    desk.send(V, "0505", done, [])
    desk.poll()
    desk.send(V, "0503", done, [a1, d5])
    assert desk.poll()[0]["status"] == "stored"
    # one still in appraisal, one refused
    second = standard_tree()
    desk.send(V, "0501", offered, second)
    desk.poll()
    desk.cli.json("xdomea", "appraise", offered, "--set", f"{second[0].id}=V")
    bad = desk.inbox / f"{refused}_Aussonderung.Anbieteverzeichnis.0501.zip"
    bad.write_bytes(b"kaputt")
    os.utime(bad, (time.time() - 3600, time.time() - 3600))  # not still being written
    (m,) = desk.poll(expect=1)
    assert m["status"] == "rejected" and m["quarantine"]

    # what storage holds: the messages as exchanged, the decisions, the PREMIS appraisal event
    obj = _object(home, done)
    state = json.loads(obj.read(keeping.STATE))
    codes = [(x["code"], x["direction"]) for x in state["messages"]]
    assert codes == [("0501", "in"), ("0504", "out"), ("0502", "out"), ("0505", "in"),
                     ("0507", "out"), ("0503", "in"), ("0506", "out")]  # fmt: skip
    for x in state["messages"]:
        data = obj.read(keeping.MESSAGES + x["file"])
        assert hashlib.sha256(data).hexdigest() == x["sha256"]
    decided = {o["idsgo"]: o["decision"] for o in state["objects"]}
    assert decided[a1.id] == "A" and decided[a2.id] == "V" and decided[fv.id] == "V"
    premis = obj.read("metadata/preservation/premis.xml").decode()
    assert "appraisal" in premis and "0502" in premis
    assert len(obj.inventory["versions"]) > 3  # a version per step, never rewritten
    for loc in home.locations:
        out = ocfl_root_validate(loc.path / "roots" / "stadt")
        assert "is VALID" in out and "WARN" not in out.upper(), out

    before = dump()
    assert len(before["xdomea.Process"]) == 3 and len(before["xdomea.ProcessObject"]) > 10
    shutil.rmtree(home.path / "xdomea" / "messages")  # a new installation has no working copies
    desk.cli.json("catalog", "rebuild")
    after = dump()
    for model, rows in _xdomea(before).items():
        assert after[model] == rows, model
    # the process still in appraisal goes on from where it was: its 0501 is back
    desk.cli.json("xdomea", "appraise", offered, "--confirm-rest-v")
    sent = desk.cli.json("xdomea", "send-appraisal", offered)
    assert sent["state"] == "appraised" and sent["V"] == sent["objects"]


def test_a_step_killed_before_storage_is_completed_by_the_next_poll(desk, home, monkeypatch):  # noqa: F811
    desk.agency()
    pid = str(uuid.uuid4())
    tree = standard_tree()
    desk.send(V, "0501", pid, tree)
    desk.poll()
    head = _object(home, pid).head
    with monkeypatch.context() as m:
        kill_on(m, keeping, "keep_process", 1)
        with pytest.raises(Killed):
            desk.cli("xdomea", "appraise", pid, "--all", "A")
    # the database has the decisions, storage not yet; the marker says so
    assert set(Process.objects.get().items.values_list("decision", flat=True)) == {"A"}
    assert _object(home, pid).head == head
    assert list((home.path / "xdomea" / "unkept").rglob("*/*/*"))
    desk.poll()
    obj = _object(home, pid)
    assert obj.head != head
    state = json.loads(obj.read(keeping.STATE))
    assert {o["decision"] for o in state["objects"]} == {"A"}
    assert not [p for p in (home.path / "xdomea" / "unkept").rglob("*") if p.is_file()]
    desk.poll()
    assert _object(home, pid).head == obj.head  # nothing new to keep: no new version


def test_an_installation_from_before_is_brought_into_storage(desk, home):  # noqa: F811
    desk.agency()
    pid = str(uuid.uuid4())
    desk.send(V, "0501", pid, standard_tree())
    desk.poll()
    for p in storage_objects(home):  # as if written by a Magazin that kept them in the database
        if "xdomea-process" in p.name or "%3aagency%3a" in p.name:
            shutil.rmtree(p)
    (home.path / "xdomea" / "kept-in-storage").unlink()
    desk.poll()
    kept = [p.name for p in storage_objects(home)]
    assert sum("xdomea-process" in n for n in kept) == 2  # two copies
    assert sum("%3aagency%3a" in n for n in kept) == 2
    assert json.loads(_object(home, pid).read(keeping.STATE))["messages"][0]["code"] == "0501"
