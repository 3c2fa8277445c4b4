"""Ingest pages: upload a container or pick one from the drop area, follow the job's progress,
and deal with quarantine (retry or discard). For a tenant's archivists and admins only."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from magazin.core.config import load_home
from magazin.ingest.jobs import (
    JobError,
    drop_entries,
    drop_job,
    job_dict,
    replace_table,
    retry_job,
    run_again,
    upload_job,
    xdomea_job,
)
from magazin.ingest.models import IngestJob, QuarantineEntry
from magazin.ingest.services import QuarantineError, discard_entry
from magazin.xdomea.models import Agency

from .i18n import tr
from .views import archivist_scope


def ingest(request):
    """The ingest form (upload, drop area, xdomea message) and the tenant's recent jobs."""

    scope = archivist_scope(request)
    home = load_home()
    user = request.user.get_username()
    if request.method == "POST":
        p = request.POST
        unlisted = "unit" if p.get("include_unlisted") else "reject"
        try:
            if p.get("mode") == "xdomea":
                upload = request.FILES.get("file")
                if upload is None:
                    raise JobError(_("Choose the xdomea message to upload."))
                job = xdomea_job(home, scope.tenant, user, upload, p.get("agency", ""))
            elif p.get("mode") == "drop":
                if not p.get("folder"):
                    raise JobError(_("Choose a folder from the drop area."))
                job = drop_job(
                    home,
                    scope.tenant,
                    user,
                    p["folder"],
                    p.get("fonds") or None,
                    p.get("table") or None,
                    unlisted,
                    p.get("source", ""),
                )
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise JobError(_("Choose the container (ZIP or BagIt) to upload."))
                job = upload_job(
                    home,
                    scope.tenant,
                    user,
                    upload,
                    p.get("fonds") or None,
                    request.FILES.get("metadata"),
                    unlisted,
                    p.get("source", ""),
                )
        except JobError as e:
            messages.error(request, tr(str(e)))
            return redirect("ingest")
        except OSError as e:  # the data folder is full or not writable: nothing was kept
            messages.error(request, _("Could not keep the upload: %(e)s") % {"e": e})
            return redirect("ingest")
        return redirect("job", jid=job.jid)
    jobs = IngestJob.objects.filter(tenant=scope.tenant).select_related("tenant")[:50]
    return render(
        request,
        "web/ingest.html",
        {
            "fonds": scope.fonds().order_by("code"),
            "drop": drop_entries(home, scope.tenant),
            "drop_folder": home.drop_folder(scope.tenant.slug),
            "agencies": Agency.objects.filter(tenant=scope.tenant).order_by("code"),
            "jobs": [job_dict(j) for j in jobs],
        },
    )


def job(request, jid: str):
    """One job with live progress (a small script asks /api/jobs/<id>/ every second)."""
    scope = archivist_scope(request)
    j = IngestJob.objects.filter(tenant=scope.tenant, jid=jid).select_related("tenant").first()
    if j is None:
        raise Http404("no such job")
    if request.method == "POST":
        try:
            run_again(j, request.user.get_username())
        except JobError as e:
            messages.error(request, tr(str(e)))
        return redirect("job", jid=j.jid)
    d = job_dict(j)
    return render(request, "web/job.html", {"job": d, "finished": j.state in IngestJob.FINISHED})


def quarantine(request):
    scope = archivist_scope(request)
    qs = QuarantineEntry.objects.filter(tenant=scope.tenant.slug)
    show_all = bool(request.GET.get("all"))
    if not show_all:
        qs = qs.filter(status="open")
    entries = [(q, delivery_name(q)) for q in qs[:200]]
    return render(request, "web/quarantine.html", {"entries": entries, "show_all": show_all})


def delivery_name(q: QuarantineEntry) -> str:
    """What the archivist delivered (the file or folder name), not where the server keeps it."""
    from pathlib import Path

    return Path(q.sip_path).name or q.sip_path


def quarantine_entry(request, qid: str):
    """The full report; retry (as a background job) or discard (the record is kept)."""

    scope = archivist_scope(request)
    q = QuarantineEntry.objects.filter(tenant=scope.tenant.slug, qid=qid).first()
    if q is None:
        raise Http404("no such quarantine entry")
    if request.method == "POST":
        user = request.user.get_username()
        try:
            if "retry" in request.POST:
                table = request.FILES.get("metadata")
                if table is not None:  # a corrected table comes with the retry
                    replace_table(load_home(), q, table)
                return redirect("job", jid=retry_job(scope.tenant, user, q).jid)
            if "discard" in request.POST:
                discard_entry(load_home(), q, user, request.POST.get("reason", "").strip())
                messages.success(request, _("Discarded; the record is kept."))
        except (JobError, QuarantineError) as e:
            messages.error(request, tr(str(e)))
        return redirect("quarantine-entry", qid=q.qid)
    jobs = IngestJob.objects.filter(tenant=scope.tenant, options__quarantine=q.qid)
    return render(
        request,
        "web/quarantine_entry.html",
        {"q": q, "jobs": jobs, "delivery": delivery_name(q), "table": q.request.get("table")},
    )
