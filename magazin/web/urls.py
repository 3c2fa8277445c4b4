from django.urls import path

from . import views

urlpatterns = [
    path("", views.holdings, name="holdings"),
    path("aip/<str:aid>/", views.aip, name="aip"),
]
