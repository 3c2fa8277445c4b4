"""Error pages in the site's frame and the reader's language: 403, 404 and 500.

Django renders 403.html and 404.html itself, with the request's context; a server error is
rendered here with the request as well where that still works (the database may be what
failed), else as a plain page."""

from __future__ import annotations

from django.http import HttpResponseServerError
from django.template import loader


def server_error(request, template_name: str = "500.html"):
    if request.path.startswith("/api/"):
        from django.http import JsonResponse
        from django.utils.translation import gettext as _

        return JsonResponse({"detail": _("Server error.")}, status=500)
    try:
        body = loader.get_template(template_name).render({}, request)
    except Exception:  # the frame needs the database: a page without it
        body = loader.get_template("500-plain.html").render({})
    return HttpResponseServerError(body)


def not_found(request, exception=None):
    """A 404: for the API the error body every API answer has ({"detail"}), else the page."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse
        from django.utils.translation import gettext as _

        return JsonResponse({"detail": _("Not found.")}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
