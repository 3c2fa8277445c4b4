"""Archivists' decisions on access: the tenant's rule profile, releasing a unit for everyone,
granting a shortened closure period to a named reader. Each is recorded with who and why."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from magazin.catalog.models import Tenant, Unit
from magazin.catalog.services import DERIVED, apply_closure, is_open
from magazin.core.i18n import N_

from .closure import PROFILES
from .models import Grant, Membership, Release


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


@transaction.atomic
def set_profile(tenant: Tenant, profile: str) -> int:
    """Switch the tenant's rules and recompute every unit's closure period."""
    if profile not in PROFILES:
        raise AccessError(
            N_("profile {profile!r}: one of {profiles}").format(
                profile=profile, profiles=", ".join(PROFILES)
            )
        )
    tenant.closure_profile = profile
    tenant.save(update_fields=["closure_profile"])
    units = list(Unit.objects.filter(tenant=tenant).select_related("tenant"))
    apply_closure(units)
    Unit.objects.bulk_update(units, DERIVED, batch_size=500)
    return len(units)


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise AccessError(N_("a decision on access needs a reason"))
    return reason.strip()


@transaction.atomic
def release(units: list[Unit], by: str, reason: str) -> int:
    """Open units for everyone before their closure periods end; returns how many were not
    released already."""
    reason = _reason(reason)
    done = set(
        Release.objects.filter(unit__in=units, withdrawn__isnull=True).values_list(
            "unit_id", flat=True
        )
    )
    new = [Release(unit=u, by=by, reason=reason, created=timezone.now())
           for u in units if u.pk not in done]  # fmt: skip
    Release.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def withdraw_release(unit: Unit, by: str, reason: str) -> int:
    """The release of a unit ends (it is kept, with who and why)."""
    reason = _reason(reason)
    n = Release.objects.filter(unit=unit, withdrawn__isnull=True).update(
        withdrawn=timezone.now(), withdrawn_by=by, withdraw_reason=reason
    )
    if not n:
        raise AccessError(N_("{aid} is not released").format(aid=unit.aid))
    return n


def _reader(unit: Unit, reader: str):
    user = get_user_model().objects.filter(username=reader).first()
    m = Membership.objects.filter(user=user).first() if user else None
    if m is None or m.tenant_id != unit.tenant_id:
        raise AccessError(
            N_("no user {reader!r} in tenant {tenant}").format(
                reader=reader, tenant=unit.tenant.slug
            )
        )
    return user


def grant(unit: Unit, reader: str, by: str, reason: str, purpose: str, expires: dt.date) -> Grant:
    """Shorten the closure period for one named reader, for a purpose, until a day."""
    user = _reader(unit, reader)
    if not reason.strip() or not purpose.strip():
        raise AccessError(N_("a shortening needs a reason and a purpose"))
    if expires < dt.date.today():
        raise AccessError(N_("expiry {expires} is in the past").format(expires=expires))
    return Grant.objects.create(
        unit=unit, reader=user, by=by, reason=reason, purpose=purpose, expires=expires,
        created=timezone.now(),
    )  # fmt: skip


def revoke(unit: Unit, reader: str, by: str, reason: str) -> int:
    """End a reader's grants on a unit before they expire (they are kept, with who and why)."""
    reason = _reason(reason)
    user = _reader(unit, reader)
    n = (
        active_grants(unit)
        .filter(reader=user)
        .update(revoked=timezone.now(), revoked_by=by, revoke_reason=reason)
    )
    if not n:
        raise AccessError(
            N_("{reader} has no grant on {aid} to revoke").format(reader=reader, aid=unit.aid)
        )
    return n
