"""The REST API: units, their files and DIPs, through the same tenant scope as the web pages
(magazin/access/scope.py). Token authentication (`Authorization: Token …`) or the session."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from magazin.access.files import dip_response, file_response, representation_for
from magazin.access.logs import log_access
from magazin.access.models import Release
from magazin.access.scope import Scope
from magazin.access.search import FILTERS, facets, search
from magazin.catalog.models import Copy
from magazin.catalog.services import aip_detail, iso, unit_summary
from magazin.core.config import load_home
from magazin.core.sip import UNLISTED
from magazin.ingest.jobs import JobError, job_dict, upload_job, xdomea_job
from magazin.ingest.models import IngestJob
from magazin.web.i18n import tr

UNIT_SUMMARY = inline_serializer(
    "UnitSummary",
    fields={
        "aid": serializers.CharField(),
        "title": serializers.CharField(),
        "tenant": serializers.CharField(),
        "fonds": serializers.CharField(),
        "signature": serializers.CharField(allow_null=True, help_text="reference code"),
        "date": serializers.ListField(child=serializers.CharField(),
                                      help_text="date range as recorded (ISO 8601)"),
        "year_from": serializers.IntegerField(allow_null=True),
        "year_to": serializers.IntegerField(allow_null=True),
        "access": serializers.ChoiceField(["open", "closed"]),
        "kind": serializers.CharField(allow_null=True),
        "parent": serializers.CharField(allow_null=True),
        "children": serializers.IntegerField(),
        "files": serializers.IntegerField(),
        "bytes": serializers.IntegerField(),
    },
)  # fmt: skip


def paged(name: str, item) -> serializers.Serializer:
    """The schema of a page of a list: {"count", "next", "previous", "results"}."""
    return inline_serializer(name, fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": type(item)(many=True) if not hasattr(item, "child") else item,
    })  # fmt: skip


# whether a unit has a release in force, for lists that show the access status
RELEASED = Exists(Release.objects.filter(unit=OuterRef("pk"), withdrawn__isnull=True))


class UnitList(APIView):
    """Root units (or, with ?parent=AID, a unit's children), paginated."""

    @extend_schema(
        parameters=[
            OpenApiParameter("fonds", str, description="fonds code"),
            OpenApiParameter("q", str, description="words in the title"),
            OpenApiParameter("parent", str, description="list this unit's children"),
            OpenApiParameter("page", int),
        ],
        operation_id="units_list",
        responses={200: paged("UnitPage", UNIT_SUMMARY)},
    )
    def get(self, request):
        scope = Scope.of(request.user)
        qs = scope.units().select_related("tenant", "fonds", "parent").annotate(released=RELEASED)
        parent = request.query_params.get("parent")
        if parent:
            qs = qs.filter(parent=scope.unit(parent))
        else:
            qs = qs.filter(parent=None)
        if fonds := request.query_params.get("fonds"):
            qs = qs.filter(fonds__code=fonds)
        if q := request.query_params.get("q"):
            for word in q.split():
                qs = qs.filter(title__icontains=word)
        pager = PageNumberPagination()
        page = pager.paginate_queryset(qs.order_by("id"), request, view=self)
        return pager.get_paginated_response([unit_summary(u) for u in page])


class Search(APIView):
    """Full-text search: the same shape as the unit list, plus `score` and `facets`."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("fonds", str),
            OpenApiParameter("format", str, description="PUID"),
            OpenApiParameter("access", str, enum=["open", "closed"]),
            OpenApiParameter("from", int, description="date range overlaps: from this year"),
            OpenApiParameter("to", int, description="date range overlaps: up to this year"),
            OpenApiParameter("page", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):

        scope = Scope.of(request.user)
        p = request.query_params
        filters = {k: p.get(k) for k in FILTERS if p.get(k)}
        qs = search(
            scope.units().select_related("tenant", "fonds", "parent"),
            p.get("q", ""),
            filters,
            scope.whole_tenant,
            scope.reader,
        )
        pager = PageNumberPagination()
        page = pager.paginate_queryset(qs, request, view=self)
        response = pager.get_paginated_response(
            [{**unit_summary(u), "score": float(u.score)} for u in page]
        )
        response.data["facets"] = facets(qs)
        # false when the query matched more units than a search counts (access.search.CAP)
        response.data["count_exact"] = getattr(qs, "exact", True)
        return response


REPRESENTATION = OpenApiParameter(
    "representation", str, description="the representation (default: the newest preservation "
    "representation, else the original; readers get only that one)")  # fmt: skip


class UnitDetail(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, parameters=[REPRESENTATION])
    def get(self, request, aid: str):
        scope = Scope.of(request.user)
        unit = scope.unit(aid)
        rep = representation_for(unit, request.query_params.get("representation"),
                                 scope.can_edit)  # fmt: skip
        log_access(request, unit, "view", via="api")
        return Response(aip_detail(unit, rep))


class UnitFile(APIView):
    """A file's bytes, read from the first copy whose bytes match the stored digest."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   parameters=[REPRESENTATION])  # fmt: skip
    def get(self, request, aid: str, path: str):
        scope = Scope.of(request.user)
        unit = scope.unit(aid)
        response = file_response(
            unit, path, request.query_params.get("representation"), scope.can_edit
        )
        log_access(request, unit, "download", path, via="api")
        return response


class UnitDip(APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY},
                   parameters=[REPRESENTATION])  # fmt: skip
    def get(self, request, aid: str):
        scope = Scope.of(request.user)
        unit = scope.unit(aid)
        rep = representation_for(unit, request.query_params.get("representation"),
                                 scope.can_edit)  # fmt: skip
        log_access(request, unit, "dip", via="api")
        return dip_response(unit, rep)


# one component for the job, used by the list and the single job
JOB = inline_serializer(
    "Job",
    fields={
        "job": serializers.CharField(),
        "state": serializers.ChoiceField(IngestJob.STATES),
        "progress": serializers.IntegerField(help_text="0 to 100"),
        "phase": serializers.CharField(),
        "kind": serializers.CharField(),
        "origin": serializers.ChoiceField(IngestJob.ORIGINS),
        "name": serializers.CharField(),
        "status": serializers.CharField(allow_null=True),
        "aips": serializers.ListField(child=serializers.DictField()),
        "errors": serializers.ListField(child=serializers.DictField()),
        "quarantine": serializers.CharField(allow_null=True),
    },
)


def _archivist(request) -> Scope:
    """Ingest and quarantine are for a tenant's archivists and admins."""
    from rest_framework.exceptions import PermissionDenied

    scope = Scope.of(request.user)
    if not scope.can_edit:
        raise PermissionDenied(_("Ingest is for the archivists and admins of a tenant."))
    return scope


class Ingest(APIView):
    """Upload a ZIP or BagIt container (with an optional metadata table), or an xdomea
    message for one agency; the ingest runs in the background as a job."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "IngestUpload",
                fields={
                    "file": serializers.FileField(),
                    "fonds": serializers.CharField(required=False),
                    "metadata": serializers.FileField(required=False, help_text=".csv or .xlsx"),
                    "unlisted": serializers.ChoiceField(UNLISTED, required=False),
                    "source": serializers.CharField(required=False),
                    "agency": serializers.CharField(
                        required=False, help_text="an xdomea message for this agency's inbox"
                    ),
                },
            )
        },
        responses={
            202: inline_serializer("JobCreated", fields={"job": serializers.CharField()}),
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
            507: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request):

        scope = _archivist(request)
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": _("file: the container to ingest is missing")}, status=400)
        d = request.data
        home = load_home()
        user = request.user.get_username()
        try:
            if d.get("agency"):
                job = xdomea_job(home, scope.tenant, user, upload, d["agency"], origin="api")
            else:
                job = upload_job(
                    home,
                    scope.tenant,
                    user,
                    upload,
                    d.get("fonds") or None,
                    request.FILES.get("metadata"),
                    d.get("unlisted") or "reject",
                    d.get("source") or "",
                    origin="api",
                )
        except JobError as e:
            return Response({"detail": tr(str(e))}, status=400)
        except OSError as e:  # the data folder is full or not writable: nothing was kept
            name = getattr(upload, "name", "upload")
            return Response(
                {"detail": _("%(name)s: could not keep the upload: %(error)s")
                 % {"name": name, "error": e}},
                status=507,
            )  # fmt: skip
        return Response(
            {"job": job.jid, "url": f"/api/jobs/{job.jid}/"},
            status=202,
            headers={"Location": f"/api/jobs/{job.jid}/"},
        )


def _jobs(scope: Scope):

    if not scope.can_edit:
        return IngestJob.objects.none()
    return IngestJob.objects.filter(tenant=scope.tenant).select_related("tenant")


class JobList(APIView):
    """The tenant's ingest jobs, newest first."""

    @extend_schema(
        operation_id="jobs_list",
        parameters=[OpenApiParameter("state", str), OpenApiParameter("page", int)],
        responses={200: paged("JobPage", JOB)},
    )
    def get(self, request):

        qs = _jobs(Scope.of(request.user))
        if state := request.query_params.get("state"):
            qs = qs.filter(state=state)
        pager = PageNumberPagination()
        page = pager.paginate_queryset(qs.order_by("-created"), request, view=self)
        return pager.get_paginated_response([job_dict(j) for j in page])


class JobDetail(APIView):
    """One job: {"state", "progress", "aips", "errors", …}; 404 for other tenants' jobs."""

    @extend_schema(operation_id="jobs_retrieve", responses={200: JOB})
    def get(self, request, jid: str):

        job = _jobs(Scope.of(request.user)).filter(jid=jid).first()
        if job is None:
            raise Http404("no such job")
        return Response(job_dict(job))


class UnitEvents(APIView):
    """A unit's PREMIS events, oldest first."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, aid: str):
        unit = Scope.of(request.user).unit(aid)
        return Response(aip_detail(unit)["events"])


class Audit(APIView):
    """Audit results of the tenant's AIPs: copies by location and status with the last check,
    and every copy that is not intact."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        from django.db.models import Count, Max

        scope = Scope.of(request.user)
        if not scope.can_edit:
            raise Http404("not available")
        copies = Copy.objects.filter(unit__tenant=scope.tenant, unit__parent=None)
        summary = [
            {
                "location": c["location"],
                "status": c["status"],
                "copies": c["n"],
                "last_check": iso(c["last"]),
            }  # fmt: skip
            for c in copies.values("location", "status")
            .annotate(n=Count("id"), last=Max("checked"))
            .order_by("location", "status")
        ]
        bad = [
            {
                "aid": c.unit.aid,
                "location": c.location,
                "status": c.status,
                "checked": iso(c.checked),
            }  # fmt: skip
            for c in copies.exclude(status="ok").select_related("unit").order_by("unit__aid")
        ]
        return Response({"locations": summary, "problems": bad})
