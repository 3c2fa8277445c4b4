"""The public OAI-PMH endpoint of a tenant: no login (harvesters have none), off unless its
admin switched it on (then 404, as for a tenant that does not exist)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from magazin.catalog.models import Tenant
from magazin.core.config import load_home

from .oai import Repository, answer


@csrf_exempt  # OAI-PMH allows POST with form arguments; nothing here changes anything
@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def oai_endpoint(request, tenant: str) -> HttpResponse:
    t = Tenant.objects.filter(slug=tenant, oai_enabled=True).first()
    if t is None:
        raise Http404("no OAI-PMH interface here")
    home = load_home()
    path = f"/oai/{t.slug}/"
    base = f"{t.public_url}{path}" if t.public_url else request.build_absolute_uri(path)
    repo = Repository(t, home.oai.repository_identifier, base, home.oai.admin_email)
    query = request.POST if request.method == "POST" else request.GET
    params = {k: query.getlist(k) for k in query}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return HttpResponse(answer(repo, params, now), content_type="text/xml; charset=utf-8")
