from pathlib import Path

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.static import serve

from . import admin_views, archive_views, ingest_views, language_views, preservation_views, views

STATIC = Path(__file__).resolve().parent / "static"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("holdings/", views.holdings, name="holdings"),
    path("fonds/<str:code>/", views.fonds_units, name="fonds"),
    path("fonds/<str:code>/findbuch.xml", views.fonds_ead, name="fonds-ead"),
    path("search/", views.search_page, name="search"),
    path("xdomea/", views.xdomea_processes, name="xdomea"),
    path("xdomea/<str:process_id>/", views.xdomea_process, name="xdomea-process"),
    path("ingest/", ingest_views.ingest, name="ingest"),
    path("ingest/jobs/<str:jid>/", ingest_views.job, name="job"),
    path("users/", admin_views.users, name="users"),
    path("accessions/", archive_views.accessions, name="accessions"),
    path("attention/", preservation_views.attention, name="attention"),
    path("accessions/<str:number>/", archive_views.accession, name="accession"),
    path("access-log/", archive_views.access_log_page, name="access-log"),
    path("journal/", archive_views.journal_page, name="journal"),
    path("tenants/", admin_views.tenants, name="tenants"),
    path("tektonik/", admin_views.tektonik, name="tektonik"),
    path("tektonik/tektonik.xml", admin_views.tektonik_ead, name="tektonik-ead"),
    path("storage/", admin_views.storage, name="storage"),
    path("quarantine/", ingest_views.quarantine, name="quarantine"),
    path("quarantine/<str:qid>/", ingest_views.quarantine_entry, name="quarantine-entry"),
    path(
        "static/<path:path>",
        login_not_required(serve),
        {"document_root": STATIC},
        name="static",
    ),
    path("aip/<str:aid>/", views.aip, name="aip"),
    path("aip/<str:aid>/files/<path:path>", views.unit_file, name="unit-file"),
    path("aip/<str:aid>/dip", views.unit_dip, name="unit-dip"),
    path("aip/<str:aid>/evidence.ers", views.unit_evidence, name="unit-evidence"),
    path("aip/<str:aid>/access", views.unit_access, name="unit-access"),
    path("access/", views.bulk_access, name="bulk-access"),
    path(
        "login/",
        login_not_required(
            auth_views.LoginView.as_view(
                template_name="web/login.html", redirect_authenticated_user=True
            )
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", language_views.set_language, name="set-language"),
]
