"""The archive journal as archivists and operators read it: entries of a tenant filtered by
day and unit, actors' pseudonyms resolved to the users the archive knows, and the check of
each tenant's chain (`journal verify`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.db import transaction

from magazin.core.atomic import write_atomically
from magazin.core.config import Home, load_home
from magazin.core.evidence.journal import actor_id
from magazin.core.evidence.records import Evidence
from magazin.core.evidence.verify import verify_journal
from magazin.core.ids import now, ocfl_id_for, parse_aid

from .models import Tenant, Unit
from .services import unit_root
from .storage import archive_storage

SYSTEM_ACTORS = ("magazin",)  # the name the worker and the software act under


def actor_names(home: Home) -> dict[str, str]:
    """Pseudonym -> user name, for the users the archive knows."""
    names = list(get_user_model().objects.values_list("username", flat=True))
    return {actor_id(home.path, n): n for n in [*SYSTEM_ACTORS, *names]}


def journal_entries(home: Home, tenant: Tenant, since: dt.date | None = None,
                    aid: str | None = None) -> Iterator[dict]:  # fmt: skip
    """The tenant's entries, oldest first; from the day `since` (UTC), and those naming the
    unit `aid` (its AIP's versions, or the unit in the details)."""
    oid = None
    if aid:
        unit = Unit.objects.filter(aid=aid).first()
        oid = unit_root(unit).ocfl_id if unit else ocfl_id_for(*parse_aid(aid))
    day = since.isoformat() if since else None
    for e in archive_storage(home).journal(tenant.slug).entries():
        if "_malformed" in e:
            continue
        if day and str(e.get("time", ""))[:10] < day:
            continue
        if aid:
            details = e.get("details") or {}
            units = details.get("units") or [details.get("unit")]
            if not (aid in units or any(o.get("id") == oid for o in e.get("objects") or [])):
                continue
        yield e


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
        pass
    try:
        verified = json.loads((home.path / "evidence" / tenant.slug / "verified.json").read_text())
        verified["time"] = dt.datetime.fromisoformat(verified["time"])
    except (OSError, ValueError, KeyError):
        verified = None
    stamp = None
    if home.evidence.tsa_url:
        last = Evidence(archive_storage(home), tenant.slug, home.evidence).last_run()
        stamp = dt.datetime.fromisoformat(last["time"]) if last else None
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
