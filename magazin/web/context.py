"""What the page frame needs to know about the user: his tenant and the menu of his role."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from magazin import __version__
from magazin.access.models import Membership

# the menu: (URL name, label, roles that see it)
STAFF = {Membership.ADMIN, Membership.ARCHIVIST}
CONTENT = STAFF | {Membership.READER}
MENU = [
    ("dashboard", _("Overview"), CONTENT | {Membership.OPERATOR}),
    ("holdings", _("Holdings"), CONTENT),
    ("search", _("Search"), CONTENT),
    ("ingest", _("Ingest"), STAFF),
    ("accessions", _("Accessions"), STAFF),
    ("xdomea", _("xdomea"), STAFF),
    ("quarantine", _("Quarantine"), STAFF),
    ("attention", _("Preservation"), STAFF),
    ("access-log", _("Access log"), STAFF),
    ("journal", _("Journal"), STAFF),
    ("tektonik", _("Classification"), {Membership.ADMIN}),
    ("users", _("Users"), {Membership.ADMIN}),
    ("tenants", _("Tenants"), {Membership.OPERATOR}),
    ("storage", _("Storage"), {Membership.OPERATOR}),
]


def nav(request) -> dict:
    out = {"languages": settings.LANGUAGES, "version": __version__}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return out
    m = getattr(request, "membership", None)
    if m is None:
        m = Membership.objects.select_related("tenant").filter(user=user).first()
    role = m.role if m else None
    here = request.resolver_match.url_name if request.resolver_match else ""
    items = [
        {"url": reverse(name), "label": label, "current": name == here}
        for name, label, roles in MENU
        if role in roles
    ]
    out["nav"] = {
        "items": items,
        "tenant": m.tenant.name if m else "",
        "role": role,
        "can_edit": role in STAFF,
        "admin": role == Membership.ADMIN,
        "operator": role == Membership.OPERATOR,
    }
    return out
