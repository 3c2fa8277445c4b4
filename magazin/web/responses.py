"""Responses more than one page sends."""

from __future__ import annotations

from django.http import HttpResponse


def xml_download(xml: bytes, name: str) -> HttpResponse:
    """An XML document to save (a finding aid, a Tektonik), under this file name."""
    response = HttpResponse(xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
