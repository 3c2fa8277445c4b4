"""Pages for the two kinds of administrators: a tenant admin manages the users of his tenant;
an operator sees the storage health of every tenant (counts, bytes, fixity), never content."""

from __future__ import annotations

import shutil

from django.contrib import messages
from django.db.models import Count, Max, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from magazin.access.models import Membership
from magazin.access.scope import Scope
from magazin.access.users import TENANT_ROLES, UserError, change_user, create_user, tenant_users
from magazin.catalog.models import Copy, Tenant
from magazin.core.config import load_home


def _role(request, role: str) -> Scope:
    scope = Scope.of(request.user)
    if scope.tenant is None or scope.role != role:
        raise Http404("not available")
    return scope


def users(request):
    """The tenant's users: add one, change role, (de)activate, set a new password."""
    scope = _role(request, Membership.ADMIN)
    me = request.user.get_username()
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("action") == "create":
                if p.get("password") != p.get("password2"):
                    raise UserError(_("The two passwords differ."))
                role = p.get("role", "")
                if role not in TENANT_ROLES:
                    raise UserError(f"role {role!r}: use one of {', '.join(TENANT_ROLES)}")
                name = p.get("username", "").strip()
                create_user(name, scope.tenant, role, p.get("password") or None)
                messages.success(request, _("User %(name)s created.") % {"name": p["username"]})
            else:
                active = {"activate": True, "deactivate": False}.get(p.get("action", ""))
                change_user(
                    scope.tenant,
                    p.get("username", ""),
                    me,
                    role=p.get("role") or None,
                    active=active,
                    password=p.get("password") or None,
                )
                messages.success(request, _("User %(name)s changed.") % {"name": p["username"]})
        except UserError as e:
            messages.error(request, str(e))
        return redirect("users")
    return render(
        request,
        "web/users.html",
        {"members": tenant_users(scope.tenant), "roles": TENANT_ROLES, "me": me},
    )


def storage(request):
    """Storage health across tenants: copies per location and status with the last fixity
    check, AIPs and bytes per tenant, free space per location. No titles, no AIDs."""
    _role(request, Membership.OPERATOR)
    home = load_home()
    tenants = (
        Tenant.objects.annotate(
            aips=Count("units", filter=Q(units__parent=None), distinct=True),
            bytes=Sum("units__bytes", filter=Q(units__parent=None)),
        )
        .order_by("slug")
        .values("slug", "name", "aips", "bytes")
    )
    copies = list(
        Copy.objects.filter(unit__parent=None)
        .values("unit__tenant__slug", "location", "status")
        .annotate(n=Count("id"), last=Max("checked"))
        .order_by("unit__tenant__slug", "location", "status")
    )
    locations = []
    for loc in home.locations:
        try:
            du = shutil.disk_usage(loc.path)
            free, total = du.free, du.total
        except OSError:
            free = total = None
        here = [c for c in copies if c["location"] == loc.name]
        locations.append(
            {
                "name": loc.name,
                "path": str(loc.path),
                "replica": loc.name in home.replication,
                "free": free,
                "total": total,
                "copies": sum(c["n"] for c in here),
                "bad": sum(c["n"] for c in here if c["status"] != "ok"),
            }
        )
    from magazin.ingest.models import QuarantineEntry

    quarantine = dict(
        QuarantineEntry.objects.filter(status="open")
        .values_list("tenant")
        .annotate(n=Count("id"))
        .values_list("tenant", "n")
    )
    return render(
        request,
        "web/storage.html",
        {
            "tenants": [{**t, "quarantine": quarantine.get(t["slug"], 0)} for t in tenants],
            "copies": copies,
            "locations": locations,
        },
    )
