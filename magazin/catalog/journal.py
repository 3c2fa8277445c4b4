"""The archive journal as archivists and operators read it: entries of a tenant filtered by
day and unit, actors' pseudonyms resolved to the users the archive knows, and the check of
each tenant's chain (`journal verify`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from magazin.core.atomic import write_atomically
from magazin.core.config import Home, load_home
from magazin.core.evidence.journal import actor_id, canonical
from magazin.core.evidence.records import Evidence
from magazin.core.evidence.verify import verify_journal
from magazin.core.ids import now, ocfl_id_for, parse_aid

from .models import JournalEntry, JournalMention, Tenant, Unit
from .services import parse_time, unit_root
from .storage import archive_storage

SYSTEM_ACTORS = ("magazin",)  # the name the worker and the software act under


def actor_names(home: Home) -> dict[str, str]:
    """Pseudonym -> user name, for the users the archive knows."""
    names = list(get_user_model().objects.values_list("username", flat=True))
    return {actor_id(home.path, n): n for n in [*SYSTEM_ACTORS, *names]}


INDEX_BATCH = 1000


def _mentions(e: dict) -> set[str]:
    """The objects (OCFL ids) and units (AIDs) an entry names."""
    details = e.get("details") or {}
    units = details.get("units") or [details.get("unit")]
    keys = {o.get("id") for o in e.get("objects") or []} | set(units)
    return {k for k in keys if isinstance(k, str) and k}


def _store_index(tenant: Tenant, batch: list[dict]) -> None:
    with transaction.atomic():  # an entry and its mentions together (a kill leaves neither)
        JournalEntry.objects.bulk_create(
            [JournalEntry(tenant=tenant, seq=int(e["seq"]), time=parse_time(e["time"]),
                          entry=canonical(e).decode()) for e in batch],
            ignore_conflicts=True)  # fmt: skip  # another process indexing the same segment
        JournalMention.objects.bulk_create(
            [JournalMention(tenant=tenant, seq=int(e["seq"]), key=k[:255])
             for e in batch for k in sorted(_mentions(e))],
            ignore_conflicts=True, batch_size=INDEX_BATCH)  # fmt: skip


def _indexable(e: dict) -> bool:
    try:
        return "_malformed" not in e and int(e["seq"]) > 0 and bool(parse_time(e["time"]))
    except (KeyError, TypeError, ValueError):
        return False  # for `journal verify` to report


def index_journal(home: Home, tenant: Tenant) -> int:
    """Index the entries stored since the newest indexed one (reading only the segments
    after it); returns the number of the newest indexed entry (0: none)."""
    last = JournalEntry.objects.filter(tenant=tenant).aggregate(m=Max("seq"))["m"] or 0
    batch: list[dict] = []
    for e in archive_storage(home).journal(tenant.slug).stored(since=last):
        if _indexable(e):
            batch.append(e)
        if len(batch) >= INDEX_BATCH:
            _store_index(tenant, batch)
            last, batch = max(last, int(batch[-1]["seq"])), []
    if batch:
        _store_index(tenant, batch)
        last = max(last, int(batch[-1]["seq"]))
    return last


class JournalRows(Sequence):
    """A tenant's journal entries matching a first day and a unit, newest first: those not
    yet indexed (still queued, or stored since), then the index's. Sliced by a paginator,
    it reads only the page's rows."""

    def __init__(self, fresh: list[dict], indexed):
        self.fresh = fresh
        self.indexed = indexed
        self._count = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = len(self.fresh) + self.indexed.count()
        return self._count

    def __getitem__(self, i):
        if not isinstance(i, slice):
            return self[i : i + 1][0] if i >= 0 else list(self)[i]
        start, stop, _ = i.indices(len(self))
        n = len(self.fresh)
        out = self.fresh[start:stop]
        if stop > n:
            rows = self.indexed.order_by("-seq").values_list("entry", flat=True)
            out += [json.loads(r) for r in rows[max(start - n, 0) : stop - n]]
        return out

    def oldest_first(self) -> Iterator[dict]:
        rows = self.indexed.order_by("seq").values_list("entry", flat=True)
        for r in rows.iterator(chunk_size=INDEX_BATCH):
            yield json.loads(r)
        yield from reversed(self.fresh)


def journal_entries(home: Home, tenant: Tenant, since: dt.date | None = None,
                    aid: str | None = None) -> JournalRows:  # fmt: skip
    """The tenant's entries from the day `since` (UTC) and naming the unit `aid` (its AIP's
    versions, or the unit in the details); the index is brought up to date first."""
    keys = None
    if aid:
        unit = Unit.objects.filter(aid=aid).first()
        keys = {aid, unit_root(unit).ocfl_id if unit else ocfl_id_for(*parse_aid(aid))}
    start = dt.datetime.combine(since, dt.time(), dt.UTC) if since else None
    last = index_journal(home, tenant)
    fresh = [e for e in archive_storage(home).journal(tenant.slug).entries(since=last)
             if _indexable(e) and int(e["seq"]) > last
             and (start is None or parse_time(e["time"]) >= start)
             and (keys is None or keys & _mentions(e))]  # fmt: skip
    # up to `last` from the index, the rest from storage (another process may index more
    # meanwhile: read once, not twice)
    indexed = JournalEntry.objects.filter(tenant=tenant, seq__lte=last)
    if start:
        indexed = indexed.filter(time__gte=start)
    if keys:
        named = JournalMention.objects.filter(tenant=tenant, key__in=keys).values("seq")
        indexed = indexed.filter(seq__in=named)
    return JournalRows(fresh[::-1], indexed)


def record_account_change(tenant: Tenant, by: str, action: str, username: str,
                          change: str, **more: str) -> None:  # fmt: skip
    """A user or role change into the tenant's journal once the database has it (the user
    named by pseudonym, like the actor)."""
    home = load_home()
    details = {"user": actor_id(home.path, username), "change": change, **more}
    transaction.on_commit(
        lambda: archive_storage(home).journal(tenant.slug).append(action, by, [], details)
    )


def verify(home: Home, tenants: list[Tenant]) -> list[dict]:
    """`journal verify` for these tenants; each result is kept for the storage page."""
    storage = archive_storage(home)
    out = []
    for t in tenants:
        evidence = Evidence(storage, t.slug, home.evidence)
        report = verify_journal(storage, t.slug, evidence).as_dict()
        kept = {"time": now(), **{k: report[k] for k in ("valid", "entries", "first_bad")}}
        path = home.path / "evidence" / t.slug / "verified.json"
        write_atomically(path, json.dumps(kept).encode())
        out.append(report)
    return out


def journal_state(home: Home, tenant: Tenant) -> dict:
    """For the storage and journal pages: the last entry, what is stored, the last time-stamp
    and the last verification."""
    journal = archive_storage(home).journal(tenant.slug)
    last = None
    for last in journal.entries(since=max(journal.head_seq() - 1, 0)):  # noqa: B007
        pass  # the newest entry
    try:
        verified = json.loads((home.path / "evidence" / tenant.slug / "verified.json").read_text())
        verified["time"] = dt.datetime.fromisoformat(verified["time"])
    except (OSError, ValueError, KeyError):
        verified = None
    stamp = None
    if home.evidence.tsa_url:
        run = Evidence(archive_storage(home), tenant.slug, home.evidence).last_run()
        stamp = dt.datetime.fromisoformat(run["time"]) if run else None
    return {"tenant": tenant, "last": last and {**last, "when": dt.datetime.fromisoformat(
                last["time"])},
            "queued": journal.queued_count(), "timestamp": stamp,
            "tsa": home.evidence.tsa_url, "verified": verified}  # fmt: skip


def flush(home: Home, tenants: list[Tenant], user: str) -> list[dict]:
    storage = archive_storage(home)
    return [{"tenant": t.slug, "stored": storage.journal(t.slug).flush(user)} for t in tenants]


def flush_due(home: Home, user: str = "magazin") -> int:
    """The worker's part: each tenant's queue stored once its oldest entry has waited
    `[evidence] journal_minutes`; returns the entries stored."""
    storage = archive_storage(home)
    stored = 0
    for slug in Tenant.objects.values_list("slug", flat=True):
        journal = storage.journal(slug)
        if journal.due(home.evidence.journal_minutes):
            stored += journal.flush(user)
    return stored


def all_tenants() -> list[Tenant]:
    return list(Tenant.objects.order_by("slug"))
