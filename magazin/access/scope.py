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

from django.db.models import Q
from django.http import Http404

from magazin.catalog.models import Fonds, Tenant, Unit

from .models import Membership


def open_to_all(day: dt.date) -> Q:
    """Units open to every reader on `day`: closure period over, or released (a release not
    withdrawn)."""
    return Q(open_from__lte=day) | Q(releases__pk__isnull=False, releases__withdrawn__isnull=True)


def granted_to(user, day: dt.date) -> Q:
    """Units granted to this reader on `day` (grants not expired, not revoked)."""
    return Q(grants__reader=user, grants__expires__gte=day, grants__revoked__isnull=True)


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

    def units(self):
        """Every unit (root or child) this user may see."""
        if not self.sees_content:
            return Unit.objects.none()
        qs = Unit.objects.filter(tenant=self.tenant)
        if self.role == Membership.READER:
            qs = qs.filter(pk__in=self._open_units())
        return qs

    def _open_units(self):
        """Units open to this reader: closure period over, released, or granted to him."""
        today = dt.date.today()
        return (
            Unit.objects.filter(tenant=self.tenant)
            .filter(open_to_all(today) | granted_to(self.user, today))
            .values("pk")
        )

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
