"""Preservation pages for a tenant's archivists: the files needing attention (invalid, or not
validated) and the holdings by format risk."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from magazin.access.models import Membership
from magazin.catalog.models import File, Unit
from magazin.catalog.services import CatalogError
from magazin.core.config import load_home
from magazin.core.preservation.plans import PLANS, available
from magazin.core.preservation.register import RISKS
from magazin.errors import Failure
from magazin.ingest.jobs import preserve_job
from magazin.preservation.register import holdings_by_risk, set_entry
from magazin.preservation.validation import NOT_VALID

from .i18n import tr
from .views import archivist_scope


def attention(request):
    """Every file of the tenant that is not valid: invalid first, then not validated; and a
    preservation plan started on the holdings (or one fonds) as a background job."""
    scope = archivist_scope(request)
    if request.method == "POST" and request.POST.get("action") == "risk":
        return _set_risk(request, scope)
    if request.method == "POST":
        roots = Unit.objects.filter(tenant=scope.tenant, parent=None)
        code = request.POST.get("fonds", "")
        if code:
            roots = roots.filter(fonds__code=code)
        try:
            job = preserve_job(scope.tenant, request.user.get_username(),
                               request.POST.get("plan", ""), list(roots),
                               back=reverse("attention"))  # fmt: skip
        except Failure as e:
            messages.error(request, tr(str(e)))
            return redirect("attention")
        return redirect("job", jid=job.jid)
    outcome = request.GET.get("outcome", "failure")
    wanted = {"failure": ["failure"], "warning": ["warning", ""], "all": list(NOT_VALID)}.get(
        outcome, ["failure"]
    )
    qs = (
        File.objects.filter(representation__unit__tenant=scope.tenant, validation__in=wanted)
        .select_related("representation__unit")
        .order_by("representation__unit__aid", "path")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    risks = holdings_by_risk(scope.tenant)
    by_risk = {r: sum(x["files"] for x in risks if x["risk"] == r)
               for r in ("high", "medium", "low", None)}  # fmt: skip
    plans = [{**p.as_dict(), "available": available(p)} for p in PLANS.values()]
    is_admin = scope.role == Membership.ADMIN
    return render(request, "web/attention.html", {
        "page": page, "outcome": outcome, "query": f"outcome={outcome}", "risks": risks,
        "by_risk": by_risk, "plans": plans, "is_admin": is_admin, "risk_names": RISKS,
        "fonds": scope.tenant.fonds.order_by("code").values_list("code", "title"),
    })  # fmt: skip


def _set_risk(request, scope):
    """A tenant admin's change of a format register entry (kept in the tenant's object)."""
    if scope.role != Membership.ADMIN:
        raise Http404("not available")
    post = request.POST
    plan = {"": None, "-": ""}.get(post.get("plan", ""), post.get("plan"))  # "-": no plan
    note = post.get("note", "").strip() or None  # empty: unchanged
    try:
        r = set_entry(load_home(), scope.tenant, post.get("puid", "").strip(),
                      request.user.get_username(), risk=post.get("risk") or None,
                      plan=plan, note=note)  # fmt: skip
    except CatalogError as e:
        messages.error(request, tr(str(e)))
    else:
        if r["changed"]:
            messages.success(request, _("Format register entry %(puid)s changed.")
                             % {"puid": r["puid"]})  # fmt: skip
    return redirect("attention")
