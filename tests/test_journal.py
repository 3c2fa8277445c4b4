"""The archive journal (issue 15, part 1): every action that changes what a tenant holds or
decides is an entry, hash-chained, queued at once and stored in segments; `journal verify`
finds an entry edited, deleted, inserted or moved (naming the first bad one), an inventory
changed after its entry, and entries cut off at the end (versions in storage without one)."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from magazin.core.config import load_home
from magazin.core.evidence.journal import GENESIS, Journal, canonical, entry_hash
from magazin.core.ids import journal_id
from magazin.core.storage.store import Storage

from .conftest import make_user, write_tree


@pytest.fixture
def worked(archive, tmp_path):
    """An ingest, a correction, a release, a fixity audit: the journal's first entries."""
    sip = write_tree(tmp_path / "sip", {"rede.txt": "Rede zur Eröffnung"})
    aid = archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")["aips"][0]["aid"]
    archive.json("aip", "edit", aid, "--title", "Rede 1990")
    archive.json("access", "release", aid, "--reason", "Freigabe nach Prüfung")
    archive.json("audit")
    return archive, aid


def _storage(home) -> Storage:
    return Storage(load_home(home.path))


def _segment_files(home) -> list[Path]:
    """The stored segment of the tenant's journal, in every location (as a thorough
    tamperer would change it: every copy)."""
    storage = _storage(home)
    out = []
    for loc in storage.replicas:
        obj = loc.open("stadt", journal_id("stadt"))
        for paths in obj.inventory["manifest"].values():
            out += [obj.local_file(p) for p in paths if "/journal/" in p]
    assert out
    return out


def _rewrite(paths: list[Path], change) -> None:
    for p in paths:
        lines = [json.loads(x) for x in p.read_bytes().splitlines() if x.strip()]
        lines = change(lines)
        p.write_bytes(b"".join(canonical(e) + b"\n" for e in lines))


def test_actions_are_entries_and_the_chain_verifies(worked):
    cli, aid = worked
    entries = cli.json("journal", "show", "--tenant", "stadt")
    actions = [e["action"] for e in entries]
    # tenant, fonds, ingest, accession, correction, release, the audit's fixity day
    assert actions[:4] == ["record", "record", "ingest", "record"], actions
    assert {"correction", "access decision", "fixity"} <= set(actions), actions
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev"] == GENESIS
    for before, e in zip(entries, entries[1:], strict=False):
        assert e["prev"] == before["hash"]
    for e in entries:
        assert entry_hash({k: v for k, v in e.items() if k != "actor_name"}) == e["hash"]
        assert e["actor"].startswith("urn:magazin:actor:"), "a pseudonym, never the name"
    mine = cli.json("journal", "show", "--aid", aid)
    assert [e["action"] for e in mine] == ["ingest", "correction", "access decision"]
    assert [o["version"] for o in mine[1]["objects"]] == ["v2"]
    assert mine[1]["details"]["units"] == [aid]
    assert cli.json("journal", "show", "--since", "2999-01-01") == []
    r = cli.json("journal", "verify", "--tenant", "stadt")
    assert r["valid"] and r["first_bad"] is None and r["entries"] == len(entries), r
    assert r["unanchored"] == len(entries) and r["timestamps"] == "not configured"
    # stored as a segment: a version of the journal object; the queue emptied; still valid
    assert cli.json("journal", "flush")[0]["stored"] == len(entries)
    assert cli.json("journal", "flush")[0]["stored"] == 0, "nothing twice"
    assert cli.json("journal", "show") == entries
    assert cli.json("journal", "verify")["valid"]
    # the next action continues the stored chain
    cli.json("aip", "edit", aid, "--title", "Rede 1991")
    after = cli.json("journal", "show")
    assert after[-1]["seq"] == len(entries) + 1 and after[-1]["prev"] == entries[-1]["hash"]
    assert cli.json("journal", "verify")["valid"]


def test_a_user_is_named_by_pseudonym(worked):
    cli, aid = worked
    make_user(cli, "erika", "stadt", "archivist")
    cli.json("aip", "edit", aid, "--title", "Von Erika", "--user", "erika")
    last = cli.json("journal", "show")[-1]
    assert last["actor_name"] == "erika"
    assert "erika" not in json.dumps({k: v for k, v in last.items() if k != "actor_name"})


def _tamper_case(name):
    def edit(lines):
        lines[2]["details"]["accession"] = "2026-9999"
        return lines

    def delete(lines):
        return lines[:2] + lines[3:]

    def insert(lines):
        fake = {**lines[2], "action": "correction", "details": {"reason": "nachgetragen"}}
        fake["hash"] = entry_hash(fake)  # a well-formed entry of its own
        return lines[:3] + [fake] + lines[3:]

    def reorder(lines):
        return lines[:2] + [lines[3], lines[2]] + lines[4:]

    return {"edit": edit, "delete": delete, "insert": insert, "reorder": reorder}[name]


@pytest.mark.parametrize("how,first_bad", [("edit", 3), ("delete", 3), ("insert", 4),
                                           ("reorder", 3)])  # fmt: skip
def test_a_tampered_stored_entry_is_found(worked, home, how, first_bad):
    cli, _aid = worked
    cli.json("journal", "flush")
    _rewrite(_segment_files(home), _tamper_case(how))
    r = cli.json("journal", "verify", expect=1)
    assert not r["valid"] and r["first_bad"] == first_bad, r


@pytest.mark.parametrize("how,first_bad", [("edit", 3), ("delete", 3), ("insert", 4),
                                           ("reorder", 3)])  # fmt: skip
def test_a_tampered_queued_entry_is_found(worked, home, how, first_bad):
    cli, _aid = worked
    queue = home.path / "evidence" / "stadt" / "queue.jsonl"
    _rewrite([queue], _tamper_case(how))
    r = cli.json("journal", "verify", expect=1)
    assert not r["valid"] and r["first_bad"] == first_bad, r


def test_entries_cut_off_at_the_end_are_found(worked, home):
    cli, aid = worked
    n = len(cli.json("journal", "show"))
    queue = home.path / "evidence" / "stadt" / "queue.jsonl"
    _rewrite([queue], lambda lines: lines[:-3])  # the chain alone is still whole
    r = cli.json("journal", "verify", expect=1)
    assert r["entries"] == n - 3 and r["first_bad"] == n - 2, r
    assert any("have no entry" in p["problem"] for p in r["problems"]), r


def test_an_inventory_changed_after_its_entry_is_found(worked, home):
    cli, aid = worked
    storage = _storage(home)
    unit = cli.json("aip", "show", aid)
    loc = storage.replicas[1]
    obj = loc.open("stadt", unit["ocfl_id"])
    inv = obj.local_file("v2/inventory.json")
    data = json.loads(inv.read_text())
    data["versions"]["v2"]["message"] = "nichts geändert"
    inv.write_text(json.dumps(data))
    r = cli.json("journal", "verify", expect=1)
    ingest = [e for e in cli.json("journal", "show", "--aid", aid) if e["action"] == "correction"]
    assert r["first_bad"] == ingest[0]["seq"], r
    assert any("v2/inventory.json differs" in p["problem"] for p in r["problems"]), r


def _append_many(home_path: str, n: int) -> None:
    from magazin.core.config import load_home as load

    journal = Journal(Storage(load(Path(home_path))), "stadt")
    for i in range(n):
        journal.append("location", "magazin", [], {"i": i})


def test_processes_append_at_once_without_breaking_the_chain(archive, home):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(home.path), 40)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    entries = archive.json("journal", "show")
    assert len([e for e in entries if e["action"] == "location"]) == 120
    assert archive.json("journal", "verify")["valid"]


def test_a_line_cut_by_a_kill_is_dropped_and_the_chain_goes_on(archive, home, tmp_path):
    queue = home.path / "evidence" / "stadt" / "queue.jsonl"
    whole = queue.read_bytes()
    queue.write_bytes(whole + b'{"seq": 3, "tim')  # a kill in the middle of an append
    sip = write_tree(tmp_path / "sip", {"a.txt": "a"})
    archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    assert archive.json("journal", "verify")["valid"]


def test_the_journal_begins_with_what_storage_held(archive, home, tmp_path):
    """An archive older than its journal: the first entry records every version found."""
    sip = write_tree(tmp_path / "sip", {"a.txt": "a"})
    archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    for f in (home.path / "evidence" / "stadt").iterdir():
        f.unlink()  # as if the journal had never been
    archive.json("fonds", "create", "stadt", "B2", "--title", "Zweiter Bestand")
    entries = archive.json("journal", "show")
    assert [e["action"] for e in entries] == ["found", "record"]
    assert len(entries[0]["objects"]) == 4  # tenant, fonds, AIP, accession
    assert archive.json("journal", "verify")["valid"]


def test_the_old_recovery_folder_name_is_taken_over(home, cli):
    from magazin.archive import open_archive

    old = home.path / "journal" / "changes"
    old.mkdir(parents=True)
    (old / "x.json").write_text("{}")
    (home.path / "recovery").rmdir() if (home.path / "recovery").exists() else None
    open_archive(home.path)
    assert (home.path / "recovery" / "changes" / "x.json").exists()
    assert not (home.path / "journal").exists()


def test_the_journal_page_and_the_storage_page(worked, client):
    from django.contrib.auth import get_user_model

    cli, aid = worked
    make_user(cli, "erika", "stadt", "archivist")
    make_user(cli, "olaf", "stadt", "operator")
    cli.json("aip", "edit", aid, "--title", "Von Erika", "--user", "erika")
    cli.json("journal", "verify")
    users = get_user_model().objects
    client.force_login(users.get(username="erika"))
    client.post("/language/", {"language": "de", "next": "/"})
    page = client.get("/journal/").content.decode()
    assert "Beschreibung korrigiert" in page and f'href="/aip/{aid}/"' in page
    assert "<td>erika</td>" in page  # the pseudonym resolved for the tenant's staff
    assert "Zuletzt geprüft" in page and "intakt" in page
    only = client.get(f"/journal/?unit={aid}").content.decode()
    assert only.count('<tr><td class="num">') == 4  # ingest, 2 corrections, release
    assert "keine Journaleinträge" in client.get("/journal/?unit=kaputt").content.decode()
    client.force_login(users.get(username="olaf"))
    storage = client.get("/storage/").content.decode()
    assert "Journal je Mandant" in storage and "Letzter Zeitstempel" in storage


def test_the_audit_checks_and_repairs_the_journal_like_an_aip(worked, home):
    cli, _aid = worked
    cli.json("journal", "flush")
    segment = _segment_files(home)[1]  # the copy in local-2
    segment.write_bytes(segment.read_bytes().replace(b'"record"', b'"rekord"', 1))
    r = cli.json("audit", expect=1)
    assert [(f["aid"], f["location"]) for f in r["failed"]] == [(journal_id("stadt"), "local-2")]
    r = cli.json("audit", "--repair")
    assert [(x["aid"], x["location"]) for x in r["repaired"]] == [(journal_id("stadt"), "local-2")]
    assert cli.json("audit")["failed"] == []
    v = cli.json("journal", "verify")
    assert v["valid"], v
    repairs = [e for e in cli.json("journal", "show") if e["action"] == "repair"]
    assert [e["details"]["object"] for e in repairs] == [journal_id("stadt")]


def test_the_schedule_checks_the_journal_once_per_cycle(worked, home):
    from magazin.catalog.audit import scheduled_audit

    cli, _aid = worked
    cli.json("journal", "flush")
    segment = _segment_files(home)[0]
    segment.write_bytes(segment.read_bytes().replace(b'"record"', b'"rekord"', 1))
    r = scheduled_audit(load_home(home.path), "magazin", interval=60, budget_seconds=60)
    assert [(x["aid"], x["location"]) for x in r["repaired"]] == [(journal_id("stadt"), "local-1")]
    again = scheduled_audit(load_home(home.path), "magazin", interval=60, budget_seconds=60)
    assert not any(f["aid"] == journal_id("stadt") for f in again["failed"])
    assert again["checked"] < r["checked"], "checked once per cycle, not every round"
    assert cli.json("journal", "verify")["valid"]


def test_the_index_reads_new_segments_only_and_a_rebuild_restores_it(worked, home):
    """`journal show` and the journal page read the catalog's index of the journal: it is
    brought up to date from the segments stored since its newest entry (an old segment is
    not read again), the queue is read as it is, and a rebuild refills it from storage."""
    from magazin.catalog.journal import journal_entries
    from magazin.catalog.models import JournalEntry, JournalMention, Tenant

    cli, aid = worked
    cli.json("journal", "flush")
    before = cli.json("journal", "show")
    tenant = Tenant.objects.get(slug="stadt")
    assert JournalEntry.objects.filter(tenant=tenant).count() == len(before)
    assert JournalMention.objects.filter(tenant=tenant, key=aid).exists()
    # queued entries after the stored ones: shown too, not yet indexed
    journal = _storage(home).journal("stadt")
    for i in range(130):
        journal.append("role", "tester", [], {"user": f"urn:test:{i}", "change": "granted"})
    cli.json("journal", "flush")
    for i in range(30):
        journal.append("role", "tester", [], {"user": f"urn:test:q{i}", "change": "granted"})
    rows = journal_entries(load_home(home.path), tenant)
    n = len(before) + 160
    assert len(rows) == n
    pages = [e["seq"] for start in range(0, n, 100) for e in rows[start : start + 100]]
    assert pages == list(range(n, 0, -1)), "newest first, queued then indexed, no gap"
    assert [e["seq"] for e in rows.oldest_first()] == list(range(1, n + 1))
    assert JournalEntry.objects.filter(tenant=tenant).count() == len(before) + 130
    # an old segment is not read again: the index keeps what it read (verify reads storage)
    for p in _segment_files(home):
        if p.name.startswith("000000000001-"):
            p.write_bytes(p.read_bytes().replace(b'"record"', b'"rekord"', 1))
    assert cli.json("journal", "show")[0]["action"] == "record"
    assert cli.json("journal", "verify", expect=1)["first_bad"] == 1
    for p in _segment_files(home):
        if p.name.startswith("000000000001-"):
            p.write_bytes(p.read_bytes().replace(b'"rekord"', b'"record"', 1))
    # a rebuild refills the index from storage
    shown = cli.json("journal", "show")
    JournalEntry.objects.all().delete()
    JournalMention.objects.all().delete()
    cli.json("catalog", "rebuild")
    assert JournalEntry.objects.filter(tenant__slug="stadt").count() == n - 30
    assert cli.json("journal", "show") == shown
    assert [e["action"] for e in cli.json("journal", "show", "--aid", aid)] == [
        "ingest", "correction", "access decision"]  # fmt: skip
