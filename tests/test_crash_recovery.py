"""A process killed at any moment leaves no partial object in a storage root and no catalog
rows for it; running the same ingest again completes it, never making two AIPs per record."""

from __future__ import annotations

import os
import re

import pytest

from magazin.catalog.models import Accession, Unit
from magazin.core import ingest as ingest_mod
from magazin.core.storage.validate import validate_object

from .conftest import Killed, kill_on, storage_objects, write_tree


@pytest.fixture
def delivery(archive, tmp_path):
    sip = write_tree(tmp_path / "sip", {f"r{i}.txt": f"Rede {i}" for i in range(4)})
    t = tmp_path / "t.csv"
    t.write_text("Datei;Titel\n" + "".join(f"r{i}.txt;Rede {i}\n" for i in range(4)))
    return sip, t


def _aip_objects(home):
    """Object folders of AIPs (urn:magazin:<tenant>:<ULID>), not tenant/fonds/accession."""
    return [
        p
        for p in storage_objects(home)
        if re.fullmatch(r"urn%3amagazin%3a[a-z0-9-]+%3a[0-9A-Z]{26}", p.name)
    ]


def _check_storage(home):
    """Every object in every root is complete and valid."""
    for obj in storage_objects(home):
        ok, errors, warnings = validate_object(obj)
        assert ok and not warnings, (obj, errors, warnings)


@pytest.mark.parametrize(
    "point,n",
    [
        ("write_object", 3),  # while building objects in staging
        ("place", 1),  # after staging, before anything is in place
        ("place", 2),  # first AIP in local-1 only
        ("place", 5),  # two AIPs in both locations, the third in one; none catalogued
        ("record_aips", 2),  # first AIP catalogued, the others in place
        ("store_record", 1),  # every AIP catalogued, the accession object not yet written
    ],
)
def test_killed_ingest_is_completed_by_running_it_again(
    archive, home, delivery, monkeypatch, point, n
):
    sip, table = delivery
    with monkeypatch.context() as m:
        if point in ("write_object", "store_record"):
            kill_on(m, ingest_mod, point, n)
        elif point == "place":
            kill_on(m, ingest_mod, "place_object", n)
        else:
            from magazin.catalog.services import DjangoCatalog

            m.setattr(ingest_mod, "BATCH_FILES", 1)  # one AIP per batch and transaction
            kill_on(m, DjangoCatalog, "record_aips", n)
        with pytest.raises(Killed):
            archive("ingest", sip, "--metadata", table)
    _check_storage(home)
    planned = set(Unit.objects.values_list("ocfl_id", flat=True))
    placed = {p.name for p in _aip_objects(home)}
    catalogued = {"record_aips": n - 1, "store_record": 4}.get(point, 0)
    assert Unit.objects.count() == catalogued

    r = archive.json("ingest", sip, "--metadata", table)
    assert r["status"] in ("stored", "duplicate")
    assert Unit.objects.count() == 4, "exactly one AIP per record"
    assert Accession.objects.count() == 1
    assert planned <= set(Unit.objects.values_list("ocfl_id", flat=True))
    _check_storage(home)
    aip_objects = _aip_objects(home)
    assert len(aip_objects) == 4 * 2, "each AIP once in each location"
    assert placed <= {p.name for p in aip_objects}, "objects placed before are completed"
    assert archive.json("audit")["ok"] == 8
    assert not any(home.recovery.rglob("*.json")), "journal cleared after completion"
    accession_objects = [p for p in storage_objects(home) if "%3aaccession%3a" in p.name]
    assert len(accession_objects) == 2, "the accession object in each location"
    again = archive.json("ingest", sip, "--metadata", table)
    assert again["status"] == "duplicate" and Unit.objects.count() == 4


def test_rerun_reuses_the_planned_identifiers(archive, home, delivery, monkeypatch):
    sip, table = delivery
    with monkeypatch.context() as m:
        kill_on(m, ingest_mod, "place_object", 3)
        with pytest.raises(Killed):
            archive("ingest", sip, "--metadata", table)
    placed = {p.name for p in _aip_objects(home)}
    assert placed
    r = archive.json("ingest", sip, "--metadata", table)
    aids = {a["aid"].split("-", 1)[1] for a in r["aips"]}
    placed_ulids = {n.rsplit("%3a", 1)[1] for n in placed}
    assert placed_ulids & aids, "objects placed before the kill are completed, not replaced"
    left = home.recovery / "stadt"
    assert not os.path.exists(left) or not any(left.iterdir())


def test_staging_left_by_a_killed_run_is_cleaned_but_a_running_one_is_kept(archive, home, tmp_path):
    from magazin.core.staging import claim, clean_stale

    staging = home.locations[0].path / "staging"
    dead = staging / "01DEADDEADDEADDEADDEADDEAD"
    fd = claim(dead)
    (dead / "payload").mkdir()
    os.close(fd)  # the process that held it is gone
    alive = staging / "01A11VEA11VEA11VEA11VEA11V"
    fd_alive = claim(alive)
    old = staging / "copy-01OLD"
    old.mkdir()
    os.utime(old, (0, 0))
    fresh = staging / "copy-01NEW"
    fresh.mkdir()
    try:
        archive.json("ingest", write_tree(tmp_path / "sip", {"a.txt": "a"}))
        left = {p.name for p in staging.iterdir()}
        assert dead.name not in left and f"{dead.name}.lock" not in left
        assert alive.name in left and old.name not in left and fresh.name in left
    finally:
        os.close(fd_alive)
    assert alive.name in clean_stale(staging)


def test_a_run_killed_while_claiming_its_work_folder_leaves_nothing_kept(tmp_path, monkeypatch):
    """The lock comes before the folder: a run that dies in between leaves no folder that
    the next run would take for someone's temporary folder and keep for hours."""
    from magazin.core import staging

    class Killed(BaseException):
        pass

    def dies(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(staging.os, "open", dies)
    with pytest.raises(Killed):
        staging.claim(tmp_path / "staging" / "01ABC")
    monkeypatch.undo()
    assert not (tmp_path / "staging" / "01ABC").exists()
    assert staging.clean_stale(tmp_path / "staging") == []
