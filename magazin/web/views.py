"""The archivists' pages: holdings and units, always through the user's tenant scope
(magazin/access/scope.py); every view of a unit is logged."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.shortcuts import render

from magazin.access.logs import log_access
from magazin.access.scope import Scope
from magazin.catalog.services import aip_detail


def holdings(request):
    scope = Scope.of(request.user)
    roots = Q(units__parent=None)
    fonds = (
        scope.fonds()
        .select_related("tenant")
        .annotate(aips=Count("units", filter=roots), bytes=Sum("units__bytes", filter=roots))
    )
    units = scope.units().filter(parent=None).select_related("tenant", "fonds").order_by("-id")
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(request, "web/holdings.html", {"fonds": fonds, "page": page, "scope": scope})


def aip(request, aid: str):
    unit = Scope.of(request.user).unit(aid)
    log_access(request, unit, "view")
    return render(request, "web/aip.html", {"d": aip_detail(unit)})
