"""Preservation pages for a tenant's archivists: the files needing attention (invalid, or not
validated) and the holdings by format risk."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from magazin.catalog.models import File
from magazin.preservation.register import holdings_by_risk
from magazin.preservation.validation import NOT_VALID

from .views import archivist_scope


def attention(request):
    """Every file of the tenant that is not valid: invalid first, then not validated."""
    scope = archivist_scope(request)
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
    return render(request, "web/attention.html", {
        "page": page, "outcome": outcome, "query": f"outcome={outcome}", "risks": risks,
        "by_risk": by_risk,
    })  # fmt: skip
