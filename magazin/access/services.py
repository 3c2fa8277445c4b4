"""Archivists' decisions on access: the tenant's rule profile, releasing a unit for everyone,
granting a shortened closure period to a named reader. Each is recorded with who and why."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction

from magazin.catalog.models import Event, Tenant, Unit
from magazin.catalog.organisation import set_closure_profile
from magazin.catalog.services import DERIVED, apply_closure, event_rows, is_open, unit_root
from magazin.catalog.storage import archive_storage
from magazin.core.aip.builder import read_aip
from magazin.core.aip.mets import PREMIS_PATH
from magazin.core.aip.model import AipDescription, AipEvent, RightsStatement
from magazin.core.aip.premis import premis_xml
from magazin.core.config import load_home
from magazin.core.i18n import N_
from magazin.core.ids import USER_PREFIX, new_ulid, now, user_id
from magazin.core.records import name_agents, software_agent, user_agent
from magazin.core.storage.ocfl import NewFile, VersionInfo

from .closure import PROFILES
from .models import Grant, Membership, Release

log = logging.getLogger("magazin.access")


class AccessError(ValueError):
    pass


def active_grants(unit: Unit, day: dt.date | None = None):
    """The unit's grants in force: not expired, not revoked."""
    return unit.grants.filter(expires__gte=day or dt.date.today(), revoked__isnull=True)


def access_status(unit: Unit, day: dt.date | None = None) -> dict:
    """Whether a unit is open to readers, since when or why not."""
    day = day or dt.date.today()
    released = unit.releases.filter(withdrawn__isnull=True).exists()
    return {
        "status": "open" if is_open(unit, day, released) else "closed",
        "open_from": None
        if unit.open_from is None or unit.open_from == dt.date.min
        else unit.open_from.isoformat(),
        "reason": unit.closure_reason,
        "released": released,
        "grants": active_grants(unit, day).count(),
    }


def set_profile(tenant: Tenant, profile: str, by: str = "magazin") -> int:
    """Switch the tenant's rules (kept in the tenant's OCFL object) and recompute every
    unit's closure period."""
    if profile not in PROFILES:
        raise AccessError(
            N_("profile {profile!r}: one of {profiles}").format(
                profile=profile, profiles=", ".join(PROFILES)
            )
        )
    set_closure_profile(load_home(), tenant, by, profile)
    return _recompute(tenant)


@transaction.atomic
def _recompute(tenant: Tenant) -> int:
    units = list(Unit.objects.filter(tenant=tenant).select_related("tenant"))
    apply_closure(units)
    Unit.objects.bulk_update(units, DERIVED, batch_size=500)
    return len(units)


def check_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise AccessError(N_("a decision on access needs a reason"))
    return reason.strip()


def _decide(
    units: list[Unit],
    by: str,
    decide: Callable[[Unit, AipDescription], list[AipEvent]],
    progress=None,
) -> int:
    """Record decisions in the AIPs they concern, then in the catalog: per AIP one new
    version (through the engine) whose PREMIS holds the rights statements and a `policy
    assignment` event per decision; the catalog's rows follow from the statements.
    `decide(unit, desc)` changes desc.rights and returns the events. Returns the number of
    events (decisions) recorded."""
    home = load_home()
    storage = archive_storage(home)
    by_root: dict[int, tuple[Unit, list[Unit]]] = {}
    for u in units:
        root = unit_root(u)
        by_root.setdefault(root.pk, (root, []))[1].append(u)
    if progress is not None:
        progress.start(len(by_root), "decide")
    n = 0
    for root, members in by_root.values():
        with storage.change(root.tenant.slug, root.ocfl_id) as change:
            desc = read_aip(change.head)
            events = [e for u in members for e in decide(u, desc)]
            if events:
                sw, usr = software_agent(), user_agent(by)
                desc.events += events
                name_agents(desc, sw, usr)
                data = premis_xml(desc)
                change.commit(
                    [NewFile(PREMIS_PATH, None, hashlib.sha512(data).hexdigest(), data=data)],
                    VersionInfo(now(), f"Decision on access: {events[0].detail}"[:200], by,
                                user_id(by)),
                    action="access decision",
                    details={"units": [u.aid for u in members],
                             "decisions": [e.detail for e in events]},
                )  # fmt: skip
                with transaction.atomic():
                    Event.objects.bulk_create(event_rows(root, events))
                    sync_decisions(root, desc.rights)
                n += len(events)
        if progress is not None:
            progress.advance(1)
    if progress is not None:
        progress.done()
    return n


def _event(by: str, detail: str, statement: RightsStatement) -> AipEvent:
    return AipEvent(new_ulid(), "policy assignment", now(), "success", detail,
                    N_("rights statement {id}").format(id=statement.id),
                    agents=[(user_id(by), "implementer")])  # fmt: skip


def sync_decisions(root: Unit, rights: list[RightsStatement]) -> None:
    """The catalog's releases and grants of one AIP as its rights statements say (rebuild,
    recovery and every decision go this one way)."""
    aids = {r.unit for r in rights}
    units = {u.aid: u for u in Unit.objects.filter(aid__in=aids, tenant_id=root.tenant_id)}
    readers = {
        m.reader_id: m.user
        for m in Membership.objects.filter(
            reader_id__in={r.reader for r in rights if r.reader}
        ).select_related("user")
    }
    for r in rights:
        unit = units.get(r.unit)
        if unit is None:
            continue
        who = r.granted_by.removeprefix(USER_PREFIX)
        ended = dt.datetime.fromisoformat(r.ended) if r.ended else None
        ended_by = r.ended_by.removeprefix(USER_PREFIX)
        if r.kind == "release":
            Release.objects.update_or_create(statement=r.id, defaults=dict(
                unit=unit, by=who, reason=r.reason, created=dt.datetime.fromisoformat(r.start),
                withdrawn=ended, withdrawn_by=ended_by, withdraw_reason=r.end_reason))  # fmt: skip
        elif r.reader in readers:
            Grant.objects.update_or_create(statement=r.id, defaults=dict(
                unit=unit, reader=readers[r.reader], by=who, reason=r.reason,
                purpose=r.purpose, expires=dt.date.fromisoformat(r.end),
                created=dt.datetime.fromisoformat(r.start), revoked=ended, revoked_by=ended_by,
                revoke_reason=r.end_reason))  # fmt: skip
        else:
            log.warning("grant %s on %s: no user has the reader id %s", r.id, r.unit, r.reader)


def _open(desc: AipDescription, aid: str, kind: str, reader: str | None = None):
    return [r for r in desc.rights if r.unit == aid and r.kind == kind and not r.ended
            and (reader is None or r.reader == reader)]  # fmt: skip


def release(units: list[Unit], by: str, reason: str, progress=None) -> int:
    """Open units for everyone before their closure periods end; returns how many were not
    released already."""
    reason = check_reason(reason)

    def decide(u: Unit, desc: AipDescription) -> list[AipEvent]:
        if _open(desc, u.aid, "release"):
            return []
        r = RightsStatement(new_ulid(), "release", u.aid, user_id(by), now(), reason)
        desc.rights.append(r)
        return [_event(by, N_("{aid} released for everyone by {user}: {reason}").format(
            aid=u.aid, user=by, reason=reason), r)]  # fmt: skip

    return _decide(units, by, decide, progress)


def withdraw_release(unit: Unit, by: str, reason: str) -> int:
    """The release of a unit ends (it is kept, with who and why)."""
    reason = check_reason(reason)
    if not unit.releases.filter(withdrawn__isnull=True).exists():
        raise AccessError(N_("{aid} is not released").format(aid=unit.aid))

    def decide(u: Unit, desc: AipDescription) -> list[AipEvent]:
        events = []
        for r in _open(desc, u.aid, "release"):
            r.ended, r.ended_by, r.end_reason = now(), user_id(by), reason
            events.append(_event(by, N_("release of {aid} withdrawn by {user}: {reason}")
                                 .format(aid=u.aid, user=by, reason=reason), r))  # fmt: skip
        return events

    n = _decide([unit], by, decide)
    if not n:
        raise AccessError(N_("{aid} is not released").format(aid=unit.aid))
    return n


def reader_in(tenant: Tenant, reader: str) -> Membership:
    """The membership of a named reader in the tenant; AccessError if there is none."""
    user = get_user_model().objects.filter(username=reader).first()
    m = Membership.objects.filter(user=user).first() if user else None
    if m is None or m.tenant_id != tenant.pk:
        raise AccessError(
            N_("no user {reader!r} in tenant {tenant}").format(reader=reader, tenant=tenant.slug)
        )
    return m


def grant(unit: Unit, reader: str, by: str, reason: str, purpose: str, expires: dt.date) -> Grant:
    """Shorten the closure period for one named reader, for a purpose, until a day."""
    grant_many([unit], reader, by, reason, purpose, expires)
    return Grant.objects.filter(unit=unit, reader__username=reader).latest("created")


def check_grant(
    tenant: Tenant, reader: str, reason: str, purpose: str, expires: dt.date | None
) -> Membership:
    """A grant's request as it must be: a reader of the tenant, a reason and a purpose, an
    expiry not in the past. Returns the reader's membership."""
    m = reader_in(tenant, reader)
    if not reason.strip() or not purpose.strip():
        raise AccessError(N_("a shortening needs a reason and a purpose"))
    if expires is None or expires < dt.date.today():
        raise AccessError(N_("expiry {expires} is in the past").format(expires=expires))
    return m


def grant_many(
    units: list[Unit], reader: str, by: str, reason: str, purpose: str, expires: dt.date,
    progress=None,
) -> int:  # fmt: skip
    """A grant on each unit for the same reader, purpose and day (one version per AIP)."""
    members = {u.tenant_id: check_grant(u.tenant, reader, reason, purpose, expires)
               for u in units}  # fmt: skip

    def decide(u: Unit, desc: AipDescription) -> list[AipEvent]:
        m = members[u.tenant_id]
        same = (expires.isoformat(), purpose.strip(), reason.strip())
        if any((r.end, r.purpose, r.reason) == same
               for r in _open(desc, u.aid, "grant", m.reader_id)):  # fmt: skip
            return []  # granted so already (a job run again after its worker ended)
        r = RightsStatement(new_ulid(), "grant", u.aid, user_id(by), now(), reason.strip(),
                            end=expires.isoformat(), reader=m.reader_id,
                            purpose=purpose.strip())  # fmt: skip
        desc.rights.append(r)
        # the event names the reader by pseudonym only, as the statement does
        return [_event(by, N_("closure period of {aid} shortened until {expires} for reader "
                              "{reader} by {user}: {reason}").format(
            aid=u.aid, expires=expires.isoformat(), reader=m.reader_id, user=by,
            reason=reason.strip()), r)]  # fmt: skip

    return _decide(units, by, decide, progress)


def revoke(unit: Unit, reader: str, by: str, reason: str) -> int:
    """End a reader's grants on a unit before they expire (they are kept, with who and why)."""
    reason = check_reason(reason)
    m = reader_in(unit.tenant, reader)
    if not active_grants(unit).filter(reader=m.user).exists():
        raise AccessError(
            N_("{reader} has no grant on {aid} to revoke").format(reader=reader, aid=unit.aid)
        )
    today = dt.date.today().isoformat()

    def decide(u: Unit, desc: AipDescription) -> list[AipEvent]:
        events = []
        for r in _open(desc, u.aid, "grant", m.reader_id):
            if r.end and r.end < today:
                continue  # expired already
            r.ended, r.ended_by, r.end_reason = now(), user_id(by), reason
            events.append(_event(by, N_("grant on {aid} for reader {reader} revoked by {user}: "
                                        "{reason}").format(aid=u.aid, reader=m.reader_id,
                                                           user=by, reason=reason), r))  # fmt: skip
        return events

    return _decide([unit], by, decide)
