"""Archivists' decisions on access: the tenant's rule profile, releasing a unit for everyone,
granting a shortened closure period to a named reader. Each is recorded with who and why."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from magazin.catalog.models import Tenant, Unit
from magazin.catalog.services import apply_closure

from .closure import PROFILES
from .models import Grant, Membership, Release


class AccessError(ValueError):
    pass


def access_status(unit: Unit, day: dt.date | None = None) -> dict:
    """Whether a unit is open to readers, since when or why not."""
    day = day or dt.date.today()
    released = unit.releases.exists()
    open_ = released or (unit.open_from is not None and unit.open_from <= day)
    return {
        "status": "open" if open_ else "closed",
        "open_from": None
        if unit.open_from is None or unit.open_from == dt.date.min
        else unit.open_from.isoformat(),
        "reason": unit.closure_reason,
        "released": released,
        "grants": unit.grants.filter(expires__gte=day).count(),
    }


@transaction.atomic
def set_profile(tenant: Tenant, profile: str) -> int:
    """Switch the tenant's rules and recompute every unit's closure period."""
    if profile not in PROFILES:
        raise AccessError(f"profile {profile!r}: one of {', '.join(PROFILES)}")
    tenant.closure_profile = profile
    tenant.save(update_fields=["closure_profile"])
    units = list(Unit.objects.filter(tenant=tenant).select_related("tenant"))
    apply_closure(units)
    Unit.objects.bulk_update(units, ["open_from", "closure_reason"], batch_size=500)
    return len(units)


def release(unit: Unit, by: str, reason: str) -> Release:
    if not reason.strip():
        raise AccessError("a release needs a reason")
    return Release.objects.create(unit=unit, by=by, reason=reason, created=timezone.now())


def grant(unit: Unit, reader: str, by: str, reason: str, purpose: str, expires: dt.date) -> Grant:
    user = get_user_model().objects.filter(username=reader).first()
    m = Membership.objects.filter(user=user).first() if user else None
    if m is None or m.tenant_id != unit.tenant_id:
        raise AccessError(f"no user {reader!r} in tenant {unit.tenant.slug}")
    if not reason.strip() or not purpose.strip():
        raise AccessError("a shortening needs a reason and a purpose")
    if expires < dt.date.today():
        raise AccessError(f"expiry {expires} is in the past")
    return Grant.objects.create(
        unit=unit, reader=user, by=by, reason=reason, purpose=purpose, expires=expires,
        created=timezone.now(),
    )  # fmt: skip
