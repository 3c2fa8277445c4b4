"""Error pages in the site's frame and the reader's language: 403, 404 and 500.

Django renders 403.html and 404.html itself, with the request's context; a server error is
rendered here with the request as well where that still works (the database may be what
failed), else as a plain page."""

from __future__ import annotations

from django.http import HttpResponseServerError
from django.template import loader


def server_error(request, template_name: str = "500.html"):
    try:
        body = loader.get_template(template_name).render({}, request)
    except Exception:  # the frame needs the database: a page without it
        body = loader.get_template("500-plain.html").render({})
    return HttpResponseServerError(body)
