"""Pages for the two kinds of administrators: a tenant admin manages the users of his tenant;
an operator sees the storage health of every tenant (counts, bytes, fixity), never content."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Max, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from magazin.access.models import ApiToken, Membership
from magazin.access.scope import Scope
from magazin.access.tokens import TokenError, create_token, revoke_token
from magazin.access.users import TENANT_ROLES, UserError, change_user, create_user, tenant_users
from magazin.catalog.journal import journal_state
from magazin.catalog.locations import location_state
from magazin.catalog.models import Copy, Fonds, Tenant
from magazin.catalog.organisation import (
    LANGUAGES,
    classification,
    create_fonds,
    create_group,
    create_tenant,
    edit_fonds,
    edit_tenant,
    set_oai,
    set_publication,
)
from magazin.catalog.services import CatalogError
from magazin.catalog.storage import archive_storage
from magazin.core.config import load_home
from magazin.core.i18n import N_
from magazin.ingest.models import QuarantineEntry
from magazin.interop import ead
from magazin.interop.vocabulary import ARCHIVE_TYPES, STATES
from magazin.web.i18n import tr
from magazin.web.responses import xml_download


def _role(request, role: str) -> Scope:
    scope = Scope.of(request.user)
    if scope.tenant is None or scope.role != role:
        raise Http404("not available")
    return scope


def users(request):
    """The tenant's users: add one, change role, (de)activate, set a new password; their API
    tokens: make one (shown once, on the answer to the request), see the last use, revoke."""

    scope = _role(request, Membership.ADMIN)
    me = request.user.get_username()
    new_token = None
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("action") in ("token", "revoke-token"):
                m = tenant_users(scope.tenant).filter(user__username=p.get("username", "")).first()
                if m is None or m.role == Membership.OPERATOR:
                    raise Http404("no such user")
                if p["action"] == "revoke-token":
                    revoke_token(m.user, p.get("name", ""))
                    messages.success(request, _("The token was revoked."))
                else:
                    t, token = create_token(m.user, p.get("name", ""))
                    new_token = {"username": m.user.username, "name": t.name, "token": token}
            elif p.get("action") == "create":
                if p.get("password") != p.get("password2"):
                    raise UserError(_("The two passwords differ."))
                role = p.get("role", "")
                if role not in TENANT_ROLES:
                    raise UserError(
                        N_("role {role!r}: use one of {roles}").format(
                            role=role, roles=", ".join(TENANT_ROLES)
                        )
                    )
                name = p.get("username", "").strip()
                create_user(name, scope.tenant, role, p.get("password") or None, by=me)
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
        except (UserError, TokenError) as e:
            messages.error(request, tr(str(e)))
        if new_token is None:
            return redirect("users")
    members = list(tenant_users(scope.tenant))
    tokens = ApiToken.objects.filter(user__in=[m.user for m in members], revoked__isnull=True)
    by_user: dict[int, list] = {}
    for t in tokens.order_by("name"):
        by_user.setdefault(t.user_id, []).append(t)
    return render(
        request,
        "web/users.html",
        {"members": [(m, by_user.get(m.user_id, [])) for m in members],
         "roles": TENANT_ROLES, "me": me, "new_token": new_token},
    )  # fmt: skip


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
    for loc in archive_storage(home).locations:
        here = [c for c in copies if c["location"] == loc.name]
        locations.append(
            {
                "name": loc.name,
                "type": loc.kind,
                "where": loc.describe(),
                "state": location_state(home, loc, loc.reachable()),
                "free": loc.free(),
                "copies": sum(c["n"] for c in here),
                "bad": sum(c["n"] for c in here if c["status"] != "ok"),
            }
        )

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
            "journals": [journal_state(home, t) for t in Tenant.objects.order_by("slug")],
        },
    )


def tenants(request):
    """Operators create tenants and change their name, time zone and language (kept in the
    tenant's OCFL object)."""

    _role(request, Membership.OPERATOR)
    if request.method == "POST":
        p, user = request.POST, request.user.get_username()
        try:
            if p.get("action") == "create":
                t = create_tenant(load_home(), p.get("slug", "").strip(), p.get("name", ""),
                                  user, p.get("time_zone") or "Europe/Berlin",
                                  p.get("language") or "de")  # fmt: skip
                messages.success(request, _("Tenant %(name)s created.") % {"name": t.name})
            else:
                t = Tenant.objects.filter(slug=p.get("slug", "")).first()
                if t is None:
                    raise Http404("no such tenant")
                if edit_tenant(load_home(), t, user, p.get("name"), p.get("time_zone"),
                               p.get("language")):  # fmt: skip
                    messages.success(request, _("Tenant %(name)s changed.") % {"name": t.name})
        except CatalogError as e:
            messages.error(request, tr(str(e)))
        return redirect("tenants")
    rows = Tenant.objects.annotate(
        n_units=Count("units", filter=Q(units__parent=None), distinct=True),
        n_users=Count("members", distinct=True),
    ).order_by("slug")
    return render(request, "web/tenants.html",
                  {"tenants": rows, "tenant_languages": LANGUAGES, "zones": _zones()})  # fmt: skip


def _zones() -> list[str]:
    import zoneinfo

    return sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc"))


def tektonik(request):
    """A tenant admin's classification (Tektonik): groups with signatures, the fonds in them;
    new groups and fonds, a fonds' title and group changed."""

    scope = _role(request, Membership.ADMIN)
    if request.method == "POST":
        p, user, home = request.POST, request.user.get_username(), load_home()
        try:
            action = p.get("action")
            if action == "group":
                g = create_group(home, scope.tenant, p.get("path", ""), p.get("title", ""), user)
                messages.success(request, _("Group %(path)s created.") % {"path": g.path})
            elif action == "fonds":
                f = create_fonds(home, scope.tenant, p.get("code", "").strip(),
                                 p.get("title", ""), user, p.get("group") or None)  # fmt: skip
                messages.success(request, _("Fonds %(code)s created.") % {"code": f.code})
            elif action == "publication":
                changed = set_publication(home, scope.tenant, user, p.get("isil", ""),
                                          p.get("archive_type", ""), p.get("public_url", ""),
                                          p.get("closed_descriptions") or "omit",
                                          p.get("state", ""))  # fmt: skip
                if set_oai(home, scope.tenant, user, p.get("oai") == "on") or changed:
                    messages.success(request, _("Publication settings saved."))
            elif action == "edit-fonds":
                f = Fonds.objects.filter(tenant=scope.tenant, code=p.get("code", "")).first()
                if f is None:
                    raise Http404("no such fonds")
                if edit_fonds(home, f, user, p.get("title"), p.get("group", "")):
                    messages.success(request, _("Fonds %(code)s changed.") % {"code": f.code})
        except CatalogError as e:
            messages.error(request, tr(str(e)))
        return redirect("tektonik")
    tree = classification(scope.tenant)
    groups = [g for g in tree if g["path"]]
    return render(request, "web/tektonik.html",
                  {"tree": tree, "groups": groups, "tenant": scope.tenant,
                   "archive_types": [(k, _(label)) for k, (_ddb, label) in ARCHIVE_TYPES.items()],
                   "states": STATES, "oai_path": f"/oai/{scope.tenant.slug}/"})  # fmt: skip


def tektonik_ead(request):
    """The classification as an EAD(DDB) Tektonik, to upload to the Archivportal-D."""
    scope = _role(request, Membership.ADMIN)
    try:
        xml, _stats = ead.tektonik(scope.tenant)
    except ead.EadError as e:
        messages.error(request, tr(str(e)))
        return redirect("tektonik")
    return xml_download(xml, f"{scope.tenant.slug}-tektonik.xml")
