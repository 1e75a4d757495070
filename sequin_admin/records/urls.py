from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.sync_list, name="home"),
    path("syncs/<str:sync_id>/", views.sync_detail, name="sync_detail"),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/",
        views.collection_detail,
        name="collection_detail",
    ),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/-/export/<str:export_format>/",
        views.collection_export,
        name="collection_export",
    ),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/refresh/",
        views.collection_refresh,
        name="collection_refresh",
    ),
]
