"""URL configuration: the archivists' pages and the REST API."""

from django.urls import include, path

urlpatterns = [
    path("api/", include("magazin.api.urls")),
    path("", include("magazin.web.urls")),
]

handler404 = "magazin.web.errors.not_found"
handler500 = "magazin.web.errors.server_error"
