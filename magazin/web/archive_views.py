"""The archive's own records of its work, for a tenant's archivists and admins: accessions
(Zugänge) with what they brought, and the access log (who viewed, downloaded, searched what)."""

from __future__ import annotations

import csv
import datetime as dt

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from magazin.access.logs import ACTIONS, access_log, log_dict
from magazin.catalog.journal import actor_names, journal_entries, journal_state
from magazin.catalog.models import Accession, Unit
from magazin.core.config import load_home
from magazin.ingest.models import IngestJob

from .views import archivist_scope


def accessions(request):
    scope = archivist_scope(request)
    qs = (
        Accession.objects.filter(tenant=scope.tenant)
        .select_related("fonds")
        .annotate(aips=Count("units", filter=Q(units__parent=None)))
        .order_by("-created", "-number")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "web/accessions.html", {"page": page})


def accession(request, number: str):
    """One accession: when, from whom, which delivery, its units, and its problems (the
    warnings of its ingest; refused deliveries are in quarantine)."""
    scope = archivist_scope(request)
    acc = (
        Accession.objects.filter(tenant=scope.tenant, number=number).select_related("fonds").first()
    )
    if acc is None:
        raise Http404("no such accession")
    units = acc.units.filter(parent=None).order_by("signature_key", "id")
    jobs = list(IngestJob.objects.filter(tenant=scope.tenant, result__accession=number))
    warnings = [w for j in jobs for w in (j.result or {}).get("warnings", [])]
    page = Paginator(units, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "web/accession.html",
        {"acc": acc, "page": page, "jobs": jobs, "warnings": warnings,
         "count": units.count()},
    )  # fmt: skip


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def access_log_page(request):
    """The access log of the tenant, narrowed to a unit, a user and a period; as CSV too."""
    scope = archivist_scope(request)
    g = request.GET
    filters = {"unit": g.get("unit", "").strip(), "user": g.get("user", "").strip(),
               "from": g.get("from", ""), "to": g.get("to", "")}  # fmt: skip
    qs = access_log(scope.tenant.slug, filters["unit"] or None, filters["user"] or None,
                    _day(filters["from"]), _day(filters["to"]))  # fmt: skip
    if g.get("format") == "csv":
        return _csv(qs)
    page = Paginator(qs, 100).get_page(g.get("page"))
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "web/access_log.html",
                  {"page": page, "filters": filters, "query": query + "&" if query else "",
                   "actions": ACTIONS})  # fmt: skip


def journal_page(request):
    """The tenant's archive journal, newest first, narrowed to a unit and a first day; each
    actor by name where the archive knows the pseudonym."""
    scope = archivist_scope(request)
    g = request.GET
    filters = {"unit": g.get("unit", "").strip(), "from": g.get("from", "")}
    home = load_home()
    try:
        entries = journal_entries(home, scope.tenant, _day(filters["from"]),
                                  filters["unit"] or None)  # fmt: skip
    except ValueError:  # not an AID
        entries = []
    page = Paginator(entries, 100).get_page(g.get("page"))
    names = actor_names(home)
    units = dict(Unit.objects.filter(tenant=scope.tenant, parent=None)
                 .filter(ocfl_id__in={o["id"] for e in page for o in e["objects"]})
                 .values_list("ocfl_id", "aid"))  # fmt: skip
    page.object_list = [
        {**e, "who": names.get(e["actor"]), "when": dt.datetime.fromisoformat(e["time"]),
         "units": [(units[o["id"]], o["version"]) for o in e["objects"] if o["id"] in units],
         "others": sum(1 for o in e["objects"] if o["id"] not in units)}
        for e in page]  # fmt: skip
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "web/journal.html",
                  {"page": page, "filters": filters, "query": query + "&" if query else "",
                   "state": journal_state(home, scope.tenant)})  # fmt: skip


class _Echo:
    def write(self, value):
        return value


def _csv(qs):
    """The whole selection as CSV (UTF-8 with BOM: spreadsheet programs read it as such)."""
    writer = csv.writer(_Echo(), delimiter=";")
    header = [_("Time"), _("User"), _("Action"), "AID", _("File or query"), _("Via")]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for e in qs.iterator(chunk_size=2000):
            d = log_dict(e)
            yield writer.writerow([d["time"], d["user"], d["action"], d["aid"] or "",
                                   d["path"], d["via"]])  # fmt: skip

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="zugriffsprotokoll.csv"'
    return response
