"""URL configuration: the archivists' pages and the REST API."""

from django.urls import include, path

from magazin.interop.views import oai_endpoint

urlpatterns = [
    path("api/", include("magazin.api.urls")),
    path("oai/<str:tenant>/", oai_endpoint, name="oai"),
    path("", include("magazin.web.urls")),
]

handler404 = "magazin.web.errors.not_found"
handler500 = "magazin.web.errors.server_error"
