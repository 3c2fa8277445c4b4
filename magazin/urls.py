"""URL configuration: the archivists' pages; the API follows with its own issue."""

from django.urls import include, path

urlpatterns = [
    path("", include("magazin.web.urls")),
]
