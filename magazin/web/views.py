"""The archivists' pages: holdings and units, always through the user's tenant scope
(magazin/access/scope.py); every view of a unit is logged."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from magazin.access.logs import log_access
from magazin.access.scope import Scope
from magazin.catalog.models import Copy, File
from magazin.catalog.services import aip_detail
from magazin.core.aip.dc import ELEMENTS

SORTS = {"title": "title", "-title": "-title", "aid": "aid", "-aid": "-aid",
         "bytes": "bytes", "-bytes": "-bytes", "created": "id", "-created": "-id"}  # fmt: skip


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


def dashboard(request):
    """Holdings per fonds, formats, ingest activity, copies and fixity, open quarantine."""
    from magazin.ingest.models import QuarantineEntry

    scope = Scope.of(request.user)
    roots = scope.units().filter(parent=None)
    fonds = (
        scope.fonds()
        .annotate(
            aips=Count("units", filter=Q(units__parent=None)),
            files=Sum("units__files_count", filter=Q(units__parent=None)),
            bytes=Sum("units__bytes", filter=Q(units__parent=None)),
        )
        .order_by("code")
    )
    formats = list(
        File.objects.filter(representation__unit__in=roots)
        .values("puid", "format_name")
        .annotate(n=Count("id"))
        .order_by("-n")[:12]
    )
    top = max((f["n"] for f in formats), default=1)
    for f in formats:
        f["pct"] = round(100 * f["n"] / top)
    activity = list(
        roots.annotate(month=TruncMonth("created"))
        .values("month")
        .annotate(n=Count("id"), bytes=Sum("bytes"))
        .order_by("-month")[:12]
    )
    copies = list(
        Copy.objects.filter(unit__in=roots)
        .values("location", "status")
        .annotate(n=Count("id"), last=Max("checked"))
        .order_by("location", "status")
    )
    quarantine = (
        QuarantineEntry.objects.filter(status="open", tenant=scope.tenant.slug).count()
        if scope.tenant
        else 0
    )
    return render(
        request,
        "web/dashboard.html",
        {
            "scope": scope,
            "fonds": fonds,
            "formats": formats,
            "activity": activity,
            "copies": copies,
            "quarantine": quarantine,
        },
    )


def fonds_units(request, code: str):
    """The root units of one fonds, paginated and sortable."""
    scope = Scope.of(request.user)
    fonds = scope.fonds().filter(code=code).first()
    if fonds is None:
        raise Http404("no such fonds")
    sort = request.GET.get("sort", "title")
    units = scope.units().filter(parent=None, fonds=fonds).order_by(SORTS.get(sort, "title"), "id")
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(
        request, "web/fonds.html", {"fonds": fonds, "page": page, "sort": sort, "scope": scope}
    )


def search_page(request):
    """Full-text search with facets; each facet link keeps the other filters."""
    from urllib.parse import urlencode

    from magazin.access.search import FILTERS, facets, search

    scope = Scope.of(request.user)
    q = request.GET.get("q", "").strip()
    filters = {k: request.GET.get(k) for k in FILTERS if request.GET.get(k)}
    page = found = None
    groups = []
    if q:
        found = search(
            scope.units().select_related("fonds", "parent"), q, filters, scope.whole_tenant
        )
        page = Paginator(found, 25).get_page(request.GET.get("page"))

        def link(**change) -> str:
            params = {"q": q, **filters, **change}
            return "?" + urlencode({k: v for k, v in params.items() if v})

        f = facets(found)
        decade = [(d, n, {"from": d, "to": str(int(d) + 9)}) for d, n in f["date"].items()
                  if d != "unknown"]  # fmt: skip
        groups = [
            (_("Fonds"), [(k, n, {"fonds": k}) for k, n in f["fonds"].items()]),
            (_("Format"), [(k, n, {"format": k}) for k, n in f["format"].items()]),
            (_("Date"), [(f"{d}–{int(d) + 9}", n, c) for d, n, c in decade]),
            (_("Access"), [(_("open"), f["access"]["open"], {"access": "open"}),
                           (_("closed"), f["access"]["closed"], {"access": "closed"})]),
        ]  # fmt: skip
        groups = [
            (name, [(label, n, link(**c), all(filters.get(k) == v for k, v in c.items()))
                    for label, n, c in items])
            for name, items in groups
            if items
        ]  # fmt: skip
        if filters:
            groups.append((_("Filters"), [(_("remove all"), None, link(**dict.fromkeys(filters,
                          "")), False)]))  # fmt: skip
        pager_link = link(page="")
    return render(
        request,
        "web/search.html",
        {
            "q": q,
            "page": page,
            "groups": groups,
            "filters": filters,
            "pager": pager_link if q else "",
            "exact": getattr(found, "exact", True),
        },
    )


# the Dublin Core elements the unit page edits (the title has a field of its own)
DC_EDITABLE = [el for el in ELEMENTS if el != "title"]


def aip(request, aid: str):
    """The unit page; archivists correct the description here (a new OCFL version)."""
    from django.contrib import messages
    from django.shortcuts import redirect

    scope = Scope.of(request.user)
    unit = scope.unit(aid)
    if request.method == "POST":
        if not scope.can_edit:
            raise Http404("not available")
        from magazin.catalog.edit import edit_unit
        from magazin.core.config import load_home

        extra = {}
        key, value = request.POST.get("field", "").strip(), request.POST.get("value", "")
        if key:
            extra[key] = value if value.strip() else None
        dc = {}  # Dublin Core: one value per line; only the elements the form carried
        for el in DC_EDITABLE:
            if f"dc-{el}" in request.POST:
                lines = request.POST[f"dc-{el}"].replace("\r", "").split("\n")
                dc[el] = [v.strip() for v in lines if v.strip()]
        r = edit_unit(
            load_home(),
            unit,
            request.user.get_username(),
            title=request.POST.get("title"),
            dc=dc,
            extra=extra,
        )
        if r["changed"]:
            messages.success(request, "; ".join(r["changed"]))
        return redirect("aip", aid=unit.aid)
    log_access(request, unit, "view")
    d = aip_detail(unit)
    d["tree"] = _contents_tree(scope, unit)
    dc_form = []
    if scope.can_edit:
        dc_form = [(el, "\n".join(d["dc"].get(el, []))) for el in DC_EDITABLE]
    return render(
        request,
        "web/aip.html",
        {"d": d, "unit": unit, "can_edit": scope.can_edit, "dc_form": dc_form},
    )


TREE_LIMIT = 2000  # nodes shown on a unit page; deeper or larger trees page by unit


def _contents_tree(scope: Scope, unit) -> list[dict]:
    """The unit's descendants (xdomea Akte → Vorgang → Dokument …) as a nested tree, one
    query per level, only what the user may see."""
    nodes: dict[int, dict] = {}
    top: list[dict] = []
    level = [unit.pk]
    while level and len(nodes) < TREE_LIMIT:
        rows = list(
            scope.units()
            .filter(parent_id__in=level)
            .order_by("id")
            .values("pk", "parent_id", "aid", "title", "extra__kind")[: TREE_LIMIT - len(nodes)]
        )
        for r in rows:
            n = {"aid": r["aid"], "title": r["title"], "kind": r["extra__kind"] or "",
                 "children": []}  # fmt: skip
            nodes[r["pk"]] = n
            (top if r["parent_id"] == unit.pk else nodes[r["parent_id"]]["children"]).append(n)
        level = [r["pk"] for r in rows]
    return top


def unit_file(request, aid: str, path: str):
    from magazin.access.files import file_response

    unit = Scope.of(request.user).unit(aid)
    response = file_response(unit, path)
    log_access(request, unit, "file", path)
    return response


def unit_dip(request, aid: str):
    from magazin.access.files import dip_response

    unit = Scope.of(request.user).unit(aid)
    log_access(request, unit, "dip")
    return dip_response(unit)


def archivist_scope(request) -> Scope:
    """The scope of a tenant's archivist or admin; anyone else gets 404 (pages only: the API
    answers 403)."""
    scope = Scope.of(request.user)
    if not scope.can_edit:
        raise Http404("not available")
    return scope


def xdomea_processes(request):
    from magazin.xdomea.models import Process
    from magazin.xdomea.services import process_summary

    scope = archivist_scope(request)
    qs = (
        Process.objects.filter(agency__tenant=scope.tenant)
        .select_related("agency", "agency__tenant")
        .prefetch_related("messages")
    )
    return render(request, "web/xdomea.html", {"processes": [process_summary(p) for p in qs]})


def xdomea_process(request, process_id: str):
    """A process with its appraisal list: decide per object or in bulk, send the 0502."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from magazin.core.config import load_home
    from magazin.xdomea.services import (
        XdomeaError,
        appraise,
        get_process,
        object_tree,
        process_summary,
        send_appraisal,
    )

    scope = archivist_scope(request)
    try:
        process = get_process(process_id, scope.tenant.slug)
    except XdomeaError:
        raise Http404("no such process") from None
    if request.method == "POST":
        user = request.user.get_username()
        current = dict(process.items.values_list("idsgo", "decision"))
        decisions = [  # only what the archivist changed: unchanged radios keep their basis
            (k.removeprefix("d-"), v)
            for k, v in request.POST.items()
            if k.startswith("d-") and v in ("A", "V") and current.get(k[2:]) != v
        ]
        bulk = request.POST.get("all") or None
        try:
            if decisions or bulk in ("A", "V") or request.POST.get("rest_v"):
                appraise(
                    process,
                    user,
                    decisions=decisions,
                    all_=bulk if bulk in ("A", "V") else None,
                    confirm_rest_v=bool(request.POST.get("rest_v")),
                )
            if "send" in request.POST:
                r = send_appraisal(load_home(), process, user)
                messages.success(request, r["message"])
        except XdomeaError as e:
            messages.error(request, str(e))
        return redirect("xdomea-process", process_id=process.process_id)
    flat = []

    def walk(objs, depth):
        for o in objs:
            flat.append({**o, "depth": depth, "indent": depth * 2})  # whole em: no decimal comma
            walk(o["children"], depth + 1)

    walk(object_tree(process), 0)
    return render(
        request,
        "web/xdomea_process.html",
        {"p": process_summary(process), "objects": flat, "open": process.state == "offered"},
    )
