"""Holdings overview: fonds and AIPs (the full archivists' UI comes with the web issue)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, render

from magazin.catalog.models import Fonds, Unit
from magazin.catalog.services import aip_detail


def holdings(request):
    fonds = Fonds.objects.select_related("tenant").annotate(
        aips=Count("units"), bytes=Sum("units__bytes")
    )
    units = Unit.objects.filter(parent=None).select_related("tenant", "fonds").order_by("-id")
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(request, "web/holdings.html", {"fonds": fonds, "page": page})


def aip(request, aid: str):
    unit = get_object_or_404(Unit.objects.select_related("tenant", "fonds", "accession"), aid=aid)
    return render(request, "web/aip.html", {"d": aip_detail(unit)})
