"""The archivists' pages: holdings and units, always through the user's tenant scope
(magazin/access/scope.py); every view of a unit is logged."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from magazin.access import bulk
from magazin.access import services as acc
from magazin.access.files import dip_response, file_response, representation_for
from magazin.access.logs import log_access, log_search
from magazin.access.scope import Scope
from magazin.access.search import FILTERS, ORDERS, facets, format_names, ordered, search
from magazin.access.search import snippets as find_snippets
from magazin.access.services import active_grants
from magazin.catalog.edit import edit_unit
from magazin.catalog.evidence import export as evidence_export
from magazin.catalog.evidence import summary as evidence_summary
from magazin.catalog.models import Copy, File
from magazin.catalog.services import aip_detail, unit_root, with_descendants
from magazin.core.aip.dc import ELEMENTS
from magazin.core.config import load_home
from magazin.errors import Failure
from magazin.ingest.jobs import decision_job
from magazin.ingest.models import QuarantineEntry
from magazin.preservation.register import holdings_by_risk
from magazin.web.i18n import label, tr, tr_list
from magazin.xdomea.models import Process
from magazin.xdomea.services import (
    XdomeaError,
    appraise,
    get_process,
    object_tree,
    process_summary,
    send_appraisal,
)

# the fonds page's columns and what each sorts by (the signature naturally, the date range
# by its first day); the id keeps the order stable
SORTS = {
    "signature": ("signature_key", "id"),
    "title": ("title", "id"),
    "date": ("date_key", "id"),
    "accession": ("accession__number", "id"),
    "size": ("bytes", "id"),
}


def _sorted(units, sort: str):
    key = sort.lstrip("-")
    fields = SORTS.get(key, SORTS["signature"])
    if sort.startswith("-"):
        fields = tuple(f"-{f}" for f in fields)
    return units.order_by(*fields)


def holdings(request):
    """The fonds of the tenant with the units the user may see, and the newest of them."""
    scope = Scope.of(request.user)
    if not scope.sees_content:
        raise Http404("no holdings")
    visible = scope.units().filter(parent=None)
    fonds = (
        scope.fonds()
        .annotate(aips=Count("units", filter=Q(units__in=visible)),
                  bytes=Sum("units__bytes", filter=Q(units__in=visible)))
        .order_by("code")
    )  # fmt: skip
    units = visible.select_related("fonds", "accession").order_by("-id")
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(request, "web/holdings.html", {"fonds": fonds, "page": page, "scope": scope})


def dashboard(request):
    """What the user may know at a glance: his holdings per fonds and their formats; staff
    also ingest activity, copies and fixity, open quarantine. Operators see no content:
    their overview is the storage page."""

    scope = Scope.of(request.user)
    if scope.role == "operator":
        return redirect("storage")
    if not scope.sees_content:
        raise Http404("no overview")
    roots = scope.units().filter(parent=None)
    fonds = (
        scope.fonds()
        .annotate(
            aips=Count("units", filter=Q(units__in=roots)),
            files=Sum("units__files_count", filter=Q(units__in=roots)),
            bytes=Sum("units__bytes", filter=Q(units__in=roots)),
        )
        .order_by("code")
    )
    totals = roots.aggregate(n=Count("id"), files=Sum("files_count"), bytes=Sum("bytes"))
    formats = list(
        File.objects.filter(representation__unit__in=roots)
        .values("puid", "format_name", "format_version")
        .annotate(n=Count("id"))
        .order_by("-n")[:12]
    )
    top = max((f["n"] for f in formats), default=1)
    for f in formats:
        f["pct"] = round(100 * f["n"] / top)
    context = {"scope": scope, "fonds": fonds, "totals": totals, "formats": formats,
               "staff": scope.can_edit}  # fmt: skip
    if scope.can_edit:  # how the archive works: for its staff only
        context["activity"] = list(
            roots.annotate(month=TruncMonth("created"))
            .values("month")
            .annotate(n=Count("id"), bytes=Sum("bytes"))
            .order_by("-month")[:12]
        )
        context["copies"] = list(
            Copy.objects.filter(unit__in=roots)
            .values("location", "status")
            .annotate(n=Count("id"), last=Max("checked"))
            .order_by("location", "status")
        )
        context["quarantine"] = QuarantineEntry.objects.filter(
            status="open", tenant=scope.tenant.slug
        ).count()
        context["risks"] = risk_chart(holdings_by_risk(scope.tenant))
    return render(request, "web/dashboard.html", context)


def risk_chart(rows: list[dict]) -> list[dict]:
    """The holdings by format risk, high first, each with its share for the bar."""
    out = []
    for risk in ("high", "medium", "low", None):
        here = [r for r in rows if r["risk"] == risk]
        if here:
            out.append({"risk": risk or "none", "files": sum(r["files"] for r in here),
                        "bytes": sum(r["bytes"] for r in here),
                        "formats": ", ".join(r["puid"] or "?" for r in here[:6])
                        + (", …" if len(here) > 6 else "")})  # fmt: skip
    total = max((r["files"] for r in out), default=1)
    for r in out:
        r["pct"] = round(100 * r["files"] / total)
    return out


def fonds_units(request, code: str):
    """The root units of one fonds the user may see: signature, title, date range,
    accession, extent; sorted by any of them, paginated."""
    scope = Scope.of(request.user)
    fonds = scope.fonds().filter(code=code).first()
    if fonds is None:
        raise Http404("no such fonds")
    sort = request.GET.get("sort", "signature")
    if sort.lstrip("-") not in SORTS:
        sort = "signature"
    units = _sorted(
        scope.units().filter(parent=None, fonds=fonds).select_related("accession"), sort
    )
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    columns = [("signature", _("Reference code")), ("title", _("Title")),
               ("date", _("Date range")), ("accession", _("Accession")),
               ("size", _("Extent"))]  # fmt: skip
    whole = _("every unit of the fonds %(code)s") % {"code": fonds.code}
    return render(request, "web/fonds.html",
                  {"fonds": fonds, "page": page, "sort": sort, "columns": columns,
                   "can_edit": scope.can_edit, "bulk_hidden": [("fonds", fonds.code)],
                   "bulk_whole": whole})  # fmt: skip


def fonds_ead(request, code: str):
    """The fonds as an EAD(DDB) Findbuch (what may be published only), for archivists to
    upload to the Archivportal-D."""
    from magazin.interop import ead

    from .responses import xml_download

    scope = Scope.of(request.user)
    fonds = scope.fonds().filter(code=code).first() if scope.can_edit else None
    if fonds is None:
        raise Http404("no such fonds")
    try:
        xml, _stats = ead.findbuch(fonds)
    except ead.EadError as e:
        messages.error(request, tr(str(e)))
        return redirect("fonds", code=fonds.code)
    return xml_download(xml, f"{fonds.tenant.slug}-{fonds.code}-findbuch.xml")


def search_page(request):
    """Full-text search with facets, snippets and a choice of order; each facet link keeps
    the other filters. Every search is written to the access log."""

    scope = Scope.of(request.user)
    if not scope.sees_content:
        raise Http404("no search")
    q = request.GET.get("q", "").strip()
    filters = {k: request.GET.get(k) for k in FILTERS if request.GET.get(k)}
    order = request.GET.get("order", "")
    order = order if order in ORDERS else ""
    page = found = None
    groups, pieces = [], {}
    pager_link = ""
    if q:
        log_search(request, scope.tenant.slug, q)
        found = search(scope.units().select_related("fonds", "parent"), q, filters,
                       scope.whole_tenant, scope.reader)  # fmt: skip
        page = Paginator(ordered(found, order), 25).get_page(request.GET.get("page"))
        pieces = find_snippets(list(page), q)

        def link(**change) -> str:
            params = {"q": q, **filters, "order": order, **change}
            return "?" + urlencode({k: v for k, v in params.items() if v})

        f = facets(found)
        names = format_names(f["format"])
        decade = [(d, n, {"from": d, "to": str(int(d) + 9)}) for d, n in f["date"].items()
                  if d != "unknown"]  # fmt: skip
        formats = [
            (f"{names[k]} ({k})" if k in names else (k if k != "unknown" else _("not identified")),
             n, {"format": k})
            for k, n in f["format"].items()
        ]  # fmt: skip
        groups = [
            (_("Fonds"), [(k, n, {"fonds": k}) for k, n in f["fonds"].items()]),
            (_("Format"), formats),
            (_("Date range"), [(f"{d}–{int(d) + 9}", n, c) for d, n, c in decade]),
            (_("Access"), [(label("access", "open"), f["access"]["open"], {"access": "open"}),
                           (label("access", "closed"), f["access"]["closed"],
                            {"access": "closed"})]),
        ]  # fmt: skip
        groups = [  # a value no match has is no way to narrow the search
            (name, [(text, n, link(**c, page=""), all(filters.get(k) == v for k, v in c.items()))
                    for text, n, c in items if n])
            for name, items in groups
            if any(n for _t, n, _c in items)
        ]  # fmt: skip
        if filters:
            groups.append((_("Filters"), [(_("remove all"), None, link(**dict.fromkeys(filters,
                          ""), page=""), False)]))  # fmt: skip
        pager_link = link(page="")[1:] + "&"
        orders = [
            ("", _("relevance")),
            ("date", _("date, oldest first")),
            ("-date", _("date, newest first")),
            ("signature", _("reference code")),
        ]
        orders = [(key, text, link(order=key, page=""), key == order) for key, text in orders]
    return render(
        request,
        "web/search.html",
        {
            "q": q,
            "page": page,
            "groups": groups,
            "filters": filters,
            "pager": pager_link,
            "exact": getattr(found, "exact", True),
            "snippets": pieces,
            "orders": orders if q else [],
            "can_edit": scope.can_edit,
            "bulk_hidden": [("q", q), *filters.items()],
            "bulk_whole": _("every hit of this search"),
        },
    )


# the Dublin Core elements the unit page edits (the title has a field of its own)
DC_EDITABLE = [el for el in ELEMENTS if el != "title"]


def aip(request, aid: str):
    """The unit page; archivists correct the description here (a new OCFL version)."""

    scope = Scope.of(request.user)
    unit = scope.unit(aid)
    if request.method == "POST":
        if not scope.can_edit:
            raise Http404("not available")

        extra = {}
        key, value = request.POST.get("field", "").strip(), request.POST.get("value", "")
        if key:
            extra[key] = value if value.strip() else None
        dc = {}  # Dublin Core: one value per line; only the elements the form carried
        for el in DC_EDITABLE:
            if f"dc-{el}" in request.POST:
                lines = request.POST[f"dc-{el}"].replace("\r", "").split("\n")
                dc[el] = [v.strip() for v in lines if v.strip()]
        try:
            r = edit_unit(load_home(), unit, request.user.get_username(),
                          title=request.POST.get("title"), dc=dc, extra=extra)  # fmt: skip
        except Failure as e:
            messages.error(request, tr(str(e)))
        else:
            if r["changed"]:
                messages.success(request, "; ".join(tr(c) for c in r["changed"]))
        return redirect("aip", aid=unit.aid)
    log_access(request, unit, "view")
    rep = representation_for(unit, request.GET.get("representation"), scope.can_edit)
    d = aip_detail(unit, rep)
    d["tree"] = _contents_tree(scope, unit)
    context = {
        "d": d,
        "unit": unit,
        "can_edit": scope.can_edit,
        # the fields of the description Magazin keeps for itself are not shown as fields
        "extra": sorted((k, v) for k, v in d["extra"].items()
                        if k not in INTERNAL_FIELDS and isinstance(v, str | int | float)),
        "closure_reasons": tr_list(unit.closure_reason),
        # each representation with the name it had in the package it came from, if any
        "representations": [(r, d["representation_labels"].get(r, ""))
                            for r in d["representations"]],
        "parent_title": unit.parent.title if unit.parent_id else "",
    }  # fmt: skip
    if scope.can_edit:
        context["evidence"] = evidence_summary(load_home(), unit_root(unit))
        context["dc_form"] = [(el, "\n".join(d["dc"].get(el, []))) for el in DC_EDITABLE]
        context["grants"] = active_grants(unit).select_related("reader").order_by("expires")
        context["readers"] = scope.tenant.members.filter(role="reader").values_list(
            "user__username", flat=True
        )
    else:
        context["my_grant"] = active_grants(unit).filter(reader=request.user).first()
    return render(request, "web/aip.html", context)


def _expiry(post) -> dt.date:
    """The day until which a grant holds, from a form."""
    try:
        return dt.date.fromisoformat(post.get("expires", ""))
    except ValueError:
        raise acc.AccessError(_("Give the day until which access is granted.")) from None


@require_POST
def bulk_access(request):
    """Access decisions for many units at once: the units ticked on a fonds or search page,
    a whole fonds, or every hit of a search (each with its parts). Release, grant to a named
    reader, or mark as intended for publication (a new version of each AIP)."""

    scope = archivist_scope(request)
    p, user = request.POST, request.user.get_username()
    target = p.get("target", "selection")
    if target == "fonds":
        units = list(scope.units().filter(fonds__code=p.get("fonds", "")).select_related(
            "tenant", "fonds"))  # fmt: skip
    elif target == "search":
        filters = {k: p.get(k) for k in FILTERS if p.get(k)}
        found = search(scope.units(), p.get("q", ""), filters, scope.whole_tenant, scope.reader)
        units = with_descendants(list(getattr(found, "matched", found).select_related(
            "tenant", "fonds")))  # fmt: skip
    else:
        units = with_descendants(list(scope.units().filter(aid__in=p.getlist("aid"))
                                      .select_related("tenant", "fonds")))  # fmt: skip
    back = p.get("next", "/")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    if not units:
        messages.error(request, _("Choose the units the decision is about."))
        return redirect(back)
    action = p.get("action")
    if action not in bulk.ACTIONS:
        raise Http404("no such action")
    try:
        job = decision_job(
            scope.tenant, user, action, units, reason=p.get("reason", ""),
            reader=p.get("reader", "").strip(), purpose=p.get("purpose", ""),
            expires=_expiry(p) if action == "grant" else None, back=back,
        )  # fmt: skip
    except acc.AccessError as e:
        messages.error(request, tr(str(e)))
        return redirect(back)
    messages.success(request, _("The decision on %(n)s unit(s) is being recorded.")
                     % {"n": len(units)})  # fmt: skip
    return redirect("job", jid=job.jid)


# extra fields that are Magazin's own bookkeeping, not part of the description shown
INTERNAL_FIELDS = {"path", "kind"}


@require_POST
def unit_access(request, aid: str):
    """Access decisions on one unit (with its parts): release, withdraw the release, grant to
    a named reader, revoke a grant. Each needs a reason."""

    scope = archivist_scope(request)
    unit = scope.unit(aid)
    p, user = request.POST, request.user.get_username()
    try:
        action = p.get("action")
        if action == "release":
            acc.release(with_descendants([unit]), user, p.get("reason", ""))
            messages.success(request, _("Released for everyone."))
        elif action == "unrelease":
            acc.withdraw_release(unit, user, p.get("reason", ""))
            messages.success(request, _("The release was withdrawn."))
        elif action == "grant":
            expires = _expiry(p)
            acc.grant(unit, p.get("reader", "").strip(), user, p.get("reason", ""),
                      p.get("purpose", ""), expires)  # fmt: skip
            messages.success(request, _("Access granted."))
        elif action == "revoke":
            acc.revoke(unit, p.get("reader", ""), user, p.get("reason", ""))
            messages.success(request, _("The grant was revoked."))
        else:
            raise Http404("no such action")
    except acc.AccessError as e:
        messages.error(request, tr(str(e)))
    return redirect("aip", aid=unit.aid)


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

    scope = Scope.of(request.user)
    unit = scope.unit(aid)
    response = file_response(unit, path, request.GET.get("representation"), scope.can_edit)
    log_access(request, unit, "download", path)
    return response


def unit_dip(request, aid: str):

    scope = Scope.of(request.user)
    unit = scope.unit(aid)
    rep = representation_for(unit, request.GET.get("representation"), scope.can_edit)
    log_access(request, unit, "dip")
    return dip_response(unit, rep)


def unit_evidence(request, aid: str):
    """The evidence record of the AIP's newest version (or `?version=vN`), for staff."""
    scope = archivist_scope(request)
    unit = scope.unit(aid)
    try:
        record, info = evidence_export(load_home(), unit_root(unit).aid,
                                       request.GET.get("version") or None)  # fmt: skip
    except Failure:
        raise Http404("no evidence record") from None
    response = HttpResponse(record, content_type="application/octet-stream")
    name = f"{info['aid']}-{info['version']}.ers"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def archivist_scope(request) -> Scope:
    """The scope of a tenant's archivist or admin; anyone else gets 404 (pages only: the API
    answers 403)."""
    scope = Scope.of(request.user)
    if not scope.can_edit:
        raise Http404("not available")
    return scope


def xdomea_processes(request):

    scope = archivist_scope(request)
    qs = (
        Process.objects.filter(agency__tenant=scope.tenant)
        .select_related("agency", "agency__tenant")
        .prefetch_related("messages")
    )
    return render(request, "web/xdomea.html", {"processes": [process_summary(p) for p in qs]})


def xdomea_process(request, process_id: str):
    """A process with its appraisal list: decide per object or in bulk, send the 0502."""

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
                    load_home(),
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
            messages.error(request, tr(str(e)))
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
