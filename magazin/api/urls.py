from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

# the API authenticates by itself (token or session): not the web pages' login redirect
urlpatterns = [
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path("units/", login_not_required(views.UnitList.as_view()), name="api-units"),
    path("search/", login_not_required(views.Search.as_view()), name="api-search"),
    path("units/<str:aid>/", login_not_required(views.UnitDetail.as_view()), name="api-unit"),
    path(
        "units/<str:aid>/files/<path:path>",
        login_not_required(views.UnitFile.as_view()),
        name="api-unit-file",
    ),
    path("units/<str:aid>/dip", login_not_required(views.UnitDip.as_view()), name="api-unit-dip"),
    path(
        "units/<str:aid>/events/",
        login_not_required(views.UnitEvents.as_view()),
        name="api-unit-events",
    ),
    path("ingest/", login_not_required(views.Ingest.as_view()), name="api-ingest"),
    path("jobs/", login_not_required(views.JobList.as_view()), name="api-jobs"),
    path("jobs/<str:jid>/", login_not_required(views.JobDetail.as_view()), name="api-job"),
    path("audit/", login_not_required(views.Audit.as_view()), name="api-audit"),
]
