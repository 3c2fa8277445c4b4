"""The REST API: units, their files and DIPs, through the same tenant scope as the web pages
(magazin/access/scope.py). Token authentication (`Authorization: Token …`) or the session."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from magazin.access.files import dip_response, file_response
from magazin.access.logs import log_access
from magazin.access.scope import Scope
from magazin.catalog.services import aip_detail, unit_summary


def _unit_summary(many: bool = False):
    return inline_serializer(
        "UnitSummary",
        many=many,
        fields={
            "aid": serializers.CharField(),
            "title": serializers.CharField(),
            "tenant": serializers.CharField(),
            "fonds": serializers.CharField(),
            "kind": serializers.CharField(allow_null=True),
            "parent": serializers.CharField(allow_null=True),
            "children": serializers.IntegerField(),
            "files": serializers.IntegerField(),
            "bytes": serializers.IntegerField(),
        },
    )


class UnitList(APIView):
    """Root units (or, with ?parent=AID, a unit's children), paginated."""

    @extend_schema(
        parameters=[
            OpenApiParameter("fonds", str, description="fonds code"),
            OpenApiParameter("q", str, description="words in the title"),
            OpenApiParameter("parent", str, description="list this unit's children"),
            OpenApiParameter("page", int),
        ],
        responses={200: _unit_summary(many=True)},
    )
    def get(self, request):
        scope = Scope.of(request.user)
        qs = scope.units().select_related("tenant", "fonds", "parent")
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
            OpenApiParameter("page", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        from magazin.access.search import facets, search

        scope = Scope.of(request.user)
        p = request.query_params
        filters = {k: p.get(k) for k in ("fonds", "format", "access") if p.get(k)}
        qs = search(
            scope.units().select_related("tenant", "fonds", "parent"), p.get("q", ""), filters
        )
        pager = PageNumberPagination()
        page = pager.paginate_queryset(qs, request, view=self)
        response = pager.get_paginated_response(
            [{**unit_summary(u), "score": float(u.score)} for u in page]
        )
        response.data["facets"] = facets(qs)
        return response


class UnitDetail(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, aid: str):
        unit = Scope.of(request.user).unit(aid)
        log_access(request, unit, "view", via="api")
        return Response(aip_detail(unit))


class UnitFile(APIView):
    """A file's bytes, read from the first copy whose bytes match the stored digest."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, aid: str, path: str):
        unit = Scope.of(request.user).unit(aid)
        response = file_response(unit, path)
        log_access(request, unit, "file", path, via="api")
        return response


class UnitDip(APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, aid: str):
        unit = Scope.of(request.user).unit(aid)
        log_access(request, unit, "dip", via="api")
        return dip_response(unit)
