"""The real thing: `magazin ingest` killed with SIGKILL at several moments of its run, then
run again. Storage never holds a partial object, and the second run completes the delivery
with exactly one AIP per record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from magazin.core.storage.validate import validate_object

from .conftest import magazin_command, run

N = 120


@pytest.fixture
def delivery(tmp_path):
    sip = tmp_path / "reden"
    rows = ["Datei;Titel;Datum"]
    for i in range(N):
        p = sip / f"{2010 + i % 5}" / f"rede_{i:03d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes((f"Rede {i} " * 2000).encode())
        rows.append(f"{p.relative_to(sip).as_posix()};Rede {i};1.1.{2010 + i % 5}")
    table = tmp_path / "reden.csv"
    table.write_text("\n".join(rows) + "\n", "utf-8")
    return sip, table


def _objects(home: Path) -> list[Path]:
    return [p.parent for p in (home / "storage").rglob("0=ocfl_object_1.1") if "/roots/" in str(p)]


def _top_dirs(root: Path) -> int:
    try:
        return sum(1 for e in os.scandir(root) if e.is_dir())
    except FileNotFoundError:
        return 0


def _staging_started(home: Path) -> bool:
    try:
        return any(e.name.endswith(".lock") for e in os.scandir(home / "storage/local-1/staging"))
    except FileNotFoundError:
        return False


# moments to kill at, recognised from what the run has done so far (the storage root of
# "stadt" starts with two tuple folders: the tenant's and the fonds' objects)
MOMENTS = {
    "while staging": _staging_started,
    "first objects in place": lambda h: _top_dirs(h / "storage/local-1/roots/stadt") > 2,
    "half placed": lambda h: _top_dirs(h / "storage/local-1/roots/stadt") > 2 + N // 2,
    "second location": lambda h: _top_dirs(h / "storage/local-2/roots/stadt") > 2 + N // 3,
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_sigkill_then_rerun(env, delivery, moment):
    sip, table = delivery
    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv")
    run(env, "fonds", "create", "stadt", "OB", "--title", "Reden")
    home = Path(env["MAGAZIN_HOME"])
    cmd = magazin_command() + ["ingest", str(sip), "--metadata", str(table), "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not MOMENTS[moment](home) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run was killed, it did not finish"
    home = Path(env["MAGAZIN_HOME"])
    print(f"killed {moment}: {len(_objects(home))} objects in storage")
    for obj in _objects(home):  # whatever is in a storage root is complete and valid
        ok, errors, _ = validate_object(obj)
        assert ok, (obj, errors)

    r = json.loads(run(env, "ingest", sip, "--metadata", table, "--json").stdout)
    assert r["status"] in ("stored", "duplicate") and len(r["aips"]) == N
    listed = json.loads(run(env, "aip", "list", "--json").stdout)
    assert len(listed) == N and len({a["title"] for a in listed}) == N
    aip_objects = [
        o
        for o in _objects(home)
        if o.name.count("%3a") == 3
        and "%3aaccession%3a" not in o.name
        and "%3afonds%3a" not in o.name
        and not o.name.endswith("%3atenant")
    ]
    assert len(aip_objects) == 2 * N, "each AIP exactly once in each location"
    audit = json.loads(run(env, "audit", "--json").stdout)
    assert audit["ok"] == 2 * N and audit["failed"] == []
    assert len(json.loads(run(env, "accession", "list", "--json").stdout)) == 1
    assert not list((home / "recovery").rglob("*.json"))
    for loc in ("local-1", "local-2"):
        leftovers = [p.name for p in (home / "storage" / loc / "staging").iterdir()]
        assert not [n for n in leftovers if not n.endswith(".lock")], leftovers
