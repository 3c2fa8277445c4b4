"""Many hands on one archive at once (issue 11): `magazin serve` with its in-process worker, a
second `magazin worker`, two CLI ingests of 1,000 units each, an audit loop, edits, searches
and API uploads, all in processes of their own at the same time. Their logs must show that
they really overlapped; none may fail (no "database is locked", no other lock error); and
afterwards catalog and storage agree: every AIP once, every copy intact.

Runs on SQLite (the embedded default, where lock errors used to happen) and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import requests

from .conftest import free_port, magazin_command, run, write_tree

N = 1000  # units per CLI ingest
UPLOADS = 6
LOCK_ERRORS = re.compile(
    r"database is locked|database table is locked|OperationalError|deadlock|"
    r"could not obtain lock|Traceback",
    re.I,
)
ULID_OBJECT = re.compile(r"^urn:magazin:stadt:[0-9A-HJKMNP-TV-Z]{26}$")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _delivery(root: Path, name: str) -> tuple[Path, Path]:
    """A folder of N speeches with a table: one AIP per row."""
    sip = root / name
    rows = ["Datei;Titel;Datum"]
    for i in range(N):
        rel = f"{2000 + i % 20}/{name}_{i:04d}.txt"
        p = sip / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"Rede {name} Nummer {i} über die Elbe und den Haushalt {i * 7}", "utf-8")
        rows.append(f"{rel};Rede {name} {i};{1 + i % 28}.{1 + i % 12}.{2000 + i % 20}")
    table = root / f"{name}.csv"
    table.write_text("\n".join(rows) + "\n", "utf-8")
    return sip, table


class Timeline:
    """What each actor did, from when to when, and what it printed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.runs: list[dict] = []

    def command(self, actor: str, env, *args) -> subprocess.CompletedProcess:
        t0 = _now()
        r = subprocess.run(
            magazin_command() + [str(a) for a in args],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        with self.lock:
            self.runs.append({"actor": actor, "start": t0, "end": _now(), "args": args,
                              "code": r.returncode, "out": r.stdout, "err": r.stderr})  # fmt: skip
        return r

    def of(self, actor: str) -> list[dict]:
        return [r for r in self.runs if r["actor"] == actor]


def _overlaps(a0, a1, b0, b1) -> bool:
    return a0 < b1 and b0 < a1


def _zip(i: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"upload{i}/brief.txt", f"Brief {i} an den Stadtrat über die Elbbrücke")
        z.writestr(f"upload{i}/anlage.txt", f"Anlage {i}")
    return buf.getvalue()


def _log_times(text: str, pattern: str) -> list[dt.datetime]:
    """The times of the log lines (ISO 8601 first) that contain `pattern`."""
    out = []
    for line in text.splitlines():
        if pattern in line:
            out.append(dt.datetime.fromisoformat(line.split(" ", 1)[0]))
    return out


def test_everything_at_once(env, tmp_path):
    home = Path(env["MAGAZIN_HOME"])
    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv Magdeburg")
    run(env, "fonds", "create", "stadt", "OB-Reden", "--title", "Oberbürgermeister, Reden")
    token = json.loads(
        run(env, "user", "create", "anna", "--tenant", "stadt", "--role", "archivist",
            "--token", "--json").stdout
    )["token"]  # fmt: skip
    seed = json.loads(
        run(env, "ingest", write_tree(tmp_path / "seed", {f"s{i}.txt": f"Seed {i}"
            for i in range(3)}), "--json").stdout
    )  # fmt: skip
    seed_aid = seed["aips"][0]["aid"]
    sips = [_delivery(tmp_path, name) for name in ("a", "b")]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in ("serve", "worker")}
    daemons = {
        "serve": subprocess.Popen(
            magazin_command() + ["serve", "--port", str(port), "--poll-interval", "1"],
            env=env, stdout=logs["serve"], stderr=subprocess.STDOUT, text=True,
        ),
        "worker": subprocess.Popen(
            magazin_command() + ["worker", "--interval", "1"],
            env=env, stdout=logs["worker"], stderr=subprocess.STDOUT, text=True,
        ),
    }  # fmt: skip
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    for _ in range(200):
        try:
            api.get(f"{base}/api/units/", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.1)

    tl = Timeline()
    ingesting = threading.Event()
    ingesting.set()
    jobs: list[dict] = []
    problems: list[str] = []

    def ingest(name, sip, table):
        r = tl.command("ingest", env, "ingest", sip, "--metadata", table, "--json")
        if r.returncode != 0:
            problems.append(f"ingest {name}: exit {r.returncode}: {r.stderr[-2000:]}")

    def loop(actor, *args):
        while ingesting.is_set():
            r = tl.command(actor, env, *args)
            if r.returncode != 0:
                problems.append(
                    f"{actor}: exit {r.returncode}: {r.stderr[-2000:]}{r.stdout[-2000:]}"
                )

    def edits():
        i = 0
        while ingesting.is_set():
            i += 1
            r = tl.command("edit", env, "aip", "edit", seed_aid, "--title", f"Seed, Fassung {i}")
            if r.returncode != 0:
                problems.append(f"edit: exit {r.returncode}: {r.stderr[-2000:]}")

    def uploads():
        for i in range(UPLOADS):
            t0 = _now()
            r = api.post(f"{base}/api/ingest/", files={"file": (f"u{i}.zip", _zip(i))},
                         data={"fonds": "OB-Reden"}, timeout=120)  # fmt: skip
            if r.status_code != 202:
                problems.append(f"upload {i}: {r.status_code} {r.text[:500]}")
                continue
            jobs.append({"job": r.json()["job"], "sent": t0})
            r = api.get(f"{base}/api/search/", params={"q": "Rede"}, timeout=120)
            if r.status_code != 200:
                problems.append(f"API search: {r.status_code} {r.text[:500]}")

    actors = [
        threading.Thread(target=ingest, args=(name, *sip))
        for name, sip in zip("ab", sips, strict=True)
    ]
    helpers = [
        threading.Thread(target=loop, args=("audit", "audit", "--json")),
        threading.Thread(target=loop, args=("search", "search", "Rede", "--json")),
        threading.Thread(target=edits),
        threading.Thread(target=uploads),
    ]
    try:
        for t in actors + helpers:
            t.start()
        for t in actors:
            t.join()
        ingesting.clear()
        for t in helpers:
            t.join()
        # the uploads' jobs run to their end; the workers extract the text meanwhile
        deadline = time.monotonic() + 600
        states = {}
        while time.monotonic() < deadline:
            states = {j["job"]: api.get(f"{base}/api/jobs/{j['job']}/", timeout=30).json()
                      for j in jobs}  # fmt: skip
            if all(s["state"] not in ("queued", "running") for s in states.values()):
                break
            time.sleep(0.5)
    finally:
        for p in daemons.values():
            p.terminate()
        for p in daemons.values():
            p.wait(timeout=60)
    text = {}
    for name, f in logs.items():
        f.seek(0)
        text[name] = f.read()
        f.close()

    # -- nobody failed, nobody met a lock --------------------------------------------------
    assert not problems, "\n".join(problems)
    for r in tl.runs:
        assert not LOCK_ERRORS.search(r["out"] + r["err"]), (r["args"], r["err"][-3000:])
    for name, t in text.items():
        assert not LOCK_ERRORS.search(t), (name, t[-5000:])
    assert len(jobs) == UPLOADS
    unfinished = {j: s for j, s in states.items() if s["state"] != "done"}
    # the whole answer of each job that did not end well (its problems say why), untruncated
    assert not unfinished, json.dumps(unfinished, indent=1, ensure_ascii=False)[:6000]

    # -- they really overlapped --------------------------------------------------------------
    ingests = tl.of("ingest")
    assert len(ingests) == 2
    (a0, a1), (b0, b1) = ((r["start"], r["end"]) for r in ingests)
    assert _overlaps(a0, a1, b0, b1)
    span = (max(a0, b0), min(a1, b1))  # both CLI ingests running
    stored = [json.loads(r["out"]) for r in ingests]
    units = {u["aid"]: u for u in json.loads(run(env, "aip", "list", "--json").stdout)}
    # the units of both deliveries were catalogued interleaved, not one delivery after the other
    created = [
        sorted(
            dt.datetime.fromisoformat(json.loads(run(env, "aip", "show", x["aid"], "--json")
                                                 .stdout)["created"])
            for x in (s["aips"][0], s["aips"][-1])
        )
        for s in stored
    ]  # fmt: skip
    assert _overlaps(created[0][0], created[0][1], created[1][0], created[1][1]), created
    for actor in ("audit", "search", "edit"):
        during = [r for r in tl.of(actor) if _overlaps(r["start"], r["end"], *span)]
        assert len(during) >= 2, (actor, len(tl.of(actor)))
    job_times = [
        (dt.datetime.fromisoformat(s["started"]), dt.datetime.fromisoformat(s["finished"]))
        for s in states.values()
    ]
    assert any(_overlaps(j0, j1, *span) for j0, j1 in job_times), (job_times, span)
    extracted = _log_times(text["serve"] + text["worker"], "extracted for the search")
    assert any(span[0] <= t <= span[1] for t in extracted), (extracted, span)

    # -- catalog against storage ---------------------------------------------------------------
    expected = 1 + 2 * N + UPLOADS
    assert len(units) == expected
    for s in stored:
        assert s["status"] == "stored" and len(s["aips"]) == N
    titles = [u["title"] for u in units.values()]
    assert len(set(titles)) == len(titles), "a unit was stored twice"
    accessions = json.loads(run(env, "accession", "list", "--json").stdout)
    numbers = [a["number"] for a in accessions]
    assert len(numbers) == len(set(numbers)) == 1 + 2 + UPLOADS
    assert sorted(a["aips"] for a in accessions) == sorted([1] * (1 + UPLOADS) + [N, N])
    for loc in ("local-1", "local-2"):
        ids = []
        for marker in (home / "storage" / loc / "roots").rglob("0=ocfl_object_1.1"):
            inv = json.loads((marker.parent / "inventory.json").read_text())
            if ULID_OBJECT.match(inv["id"]):
                ids.append(inv["id"])
        assert len(ids) == len(set(ids)) == expected, loc
        aids = {"stadt-" + i.rsplit(":", 1)[1] for i in ids}
        assert aids == set(units), loc
    # every correction landed, one after the other, none lost
    n_edits = len(tl.of("edit"))
    seed_now = json.loads(run(env, "aip", "show", seed_aid, "--json").stdout)
    assert seed_now["title"] == f"Seed, Fassung {n_edits}"
    assert [e["type"] for e in seed_now["events"]].count("metadata modification") == n_edits
    audit = json.loads(run(env, "audit", "--json").stdout)
    # every AIP copy, and the copies of the tenant's journal and audit log where stored yet
    logs = sum(1 for loc in ("local-1", "local-2")
               for m in (home / "storage" / loc / "roots").rglob("0=ocfl_object_1.1")
               if json.loads((m.parent / "inventory.json").read_text())["id"].endswith(
                   (":journal", ":auditlog", ":evidence")))  # fmt: skip
    assert audit["failed"] == [] and audit["ok"] == audit["checked"] == 2 * expected + logs


def test_a_fixity_check_waits_for_a_version_being_written(tmp_path, monkeypatch):
    """A new version's folder goes in first, then the root inventory and its sidecar are
    replaced one after the other; a check in between would call the copy damaged. Under the
    object's lock (held by Storage.change) it waits instead."""
    import copy
    import hashlib

    from magazin.core.config import LocationConfig
    from magazin.core.storage import ocfl
    from magazin.core.storage.location import FilesystemLocation
    from magazin.core.storage.locks import ObjectLocks

    loc = FilesystemLocation(LocationConfig("local-1", "filesystem", tmp_path / "local-1"))
    loc.ensure_root("t")
    version = ocfl.VersionInfo("2026-12-02T10:00:00+00:00", "v", "t", "urn:magazin:user:t")
    data = b"Rede"
    built = tmp_path / "built"
    ocfl.build_object(built, "urn:x", [ocfl.NewFile("a.txt", None,
                      hashlib.sha512(data).hexdigest(), data=data)], version)  # fmt: skip
    loc.store_object("t", ocfl.OcflObject.open(built), move=True)
    half = threading.Event()
    original = FilesystemLocation._link_root

    def slow_link(self, d, vname):  # the inventory first, the sidecar later
        (d / "inventory.json").unlink()
        (d / "inventory.json").write_bytes((d / vname / "inventory.json").read_bytes())
        half.set()
        time.sleep(0.5)
        original(self, d, vname)

    monkeypatch.setattr(FilesystemLocation, "_link_root", slow_link)
    locks = ObjectLocks(tmp_path / "locks")
    new = b"Rede, korrigiert"

    def write():
        with locks.exclusive("urn:x"):
            head = loc.open("t", "urn:x")
            nf = ocfl.NewFile("a.txt", None, hashlib.sha512(new).hexdigest(), data=new)
            inv, added, _ = ocfl.next_version(copy.deepcopy(head.inventory), [nf], version)
            ocfl.stage_version(tmp_path / "stage" / "v2", inv, added)
            loc.commit_version("t", "urn:x", tmp_path / "stage" / "v2", inv)

    writer = threading.Thread(target=write)
    writer.start()
    assert half.wait(10)
    assert loc.check("t", "urn:x")  # without the lock: "damaged" in the middle of the write
    with locks.shared("urn:x"):
        assert loc.check("t", "urn:x") == []
        assert loc.open("t", "urn:x").read("a.txt") == new
    writer.join()
