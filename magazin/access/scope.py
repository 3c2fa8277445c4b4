"""Tenant isolation, in one place: every view and API endpoint gets its units, fonds and files
through a Scope made from the request's user. A unit of another tenant is not found (404),
never forbidden, so that its existence does not leak.

Roles: an operator sees storage health of all tenants but no content; admins and archivists
see all units of their tenant; readers see the units open to them: closure period over
(magazin/access/closure.py), released for everyone, or granted to them by name until the
grant expires.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from magazin.catalog.models import Fonds, Tenant, Unit

from .models import Grant, Membership, Release


def releases():
    """Releases in force (not withdrawn): their units are open to every reader."""
    return Release.objects.filter(withdrawn__isnull=True)


def grants(user, day: dt.date):
    """The grants of this reader in force on `day` (not expired, not revoked)."""
    return Grant.objects.filter(reader=user, expires__gte=day, revoked__isnull=True)


def open_to_all(day: dt.date) -> Q:
    """Units open to every reader on `day`: closure period over, or released (a release not
    withdrawn). A condition on each unit (EXISTS), not a join: it neither repeats a unit nor
    makes the database list every open unit first."""
    return Q(open_from__lte=day) | Q(Exists(releases().filter(unit=OuterRef("pk"))))


def granted_to(user, day: dt.date) -> Q:
    """Units granted to this reader on `day` (grants not expired, not revoked)."""
    return Q(Exists(grants(user, day).filter(unit=OuterRef("pk"))))


@dataclass
class Scope:
    user: object
    tenant: Tenant | None
    role: str | None

    @classmethod
    def of(cls, user) -> Scope:
        if user is None or not user.is_authenticated:
            return cls(user, None, None)
        m = Membership.objects.select_related("tenant").filter(user=user).first()
        if m is None:
            return cls(user, None, None)
        return cls(user, m.tenant, m.role)

    @property
    def sees_content(self) -> bool:
        return self.tenant is not None and self.role in (
            Membership.ADMIN,
            Membership.ARCHIVIST,
            Membership.READER,
        )

    @property
    def can_edit(self) -> bool:
        return self.tenant is not None and self.role in (Membership.ADMIN, Membership.ARCHIVIST)

    @property
    def whole_tenant(self) -> int | None:
        """The tenant's key when units() is every unit of it (staff), else None (readers see
        a selection); lets the search use its own tenant column instead of a join."""
        if self.sees_content and self.role != Membership.READER:
            return self.tenant.pk
        return None

    @property
    def reader(self) -> tuple[int, object] | None:
        """(tenant key, user) when units() is a reader's selection: the search asks its own
        index for it (the closure periods, releases and grants) instead of the catalog."""
        if self.sees_content and self.role == Membership.READER:
            return self.tenant.pk, self.user
        return None

    def units(self):
        """Every unit (root or child) this user may see."""
        if not self.sees_content:
            return Unit.objects.none()
        qs = Unit.objects.filter(tenant=self.tenant)
        if self.role == Membership.READER:  # closure period over, released, or granted
            today = dt.date.today()
            qs = qs.filter(open_to_all(today) | granted_to(self.user, today))
        return qs

    def fonds(self):
        if not self.sees_content:
            return Fonds.objects.none()
        return Fonds.objects.filter(tenant=self.tenant)

    def unit(self, aid: str) -> Unit:
        """The unit with this AID, or 404 (also for units of other tenants)."""
        try:
            return (
                self.units().select_related("tenant", "fonds", "accession", "parent").get(aid=aid)
            )
        except Unit.DoesNotExist:
            raise Http404("no such unit") from None
