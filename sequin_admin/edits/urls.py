from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path(
        "syncs/<str:sync_id>/<str:collection_id>/<str:upstream_id>/",
        views.record_detail,
        name="record_detail",
    ),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/<str:upstream_id>/preview/",
        views.record_preview,
        name="record_preview",
    ),
    path("mutations/<int:mutation_id>/retry/", views.mutation_retry, name="mutation_retry"),
    path("mutations/<int:mutation_id>/revert/", views.mutation_revert, name="mutation_revert"),
]
