from __future__ import annotations

from django.urls import path

from . import create_delete_views, csv_views, job_views, views

# Pages of a collection that are not records live under `-/`, which no record's address can
# reach (`<upstream_id>/` is a single segment).
urlpatterns = [
    path("jobs/", job_views.job_list, name="job_list"),
    path("jobs/<int:job_id>/", job_views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/cancel/", job_views.job_cancel_view, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", job_views.job_retry_view, name="job_retry"),
    path(
        "jobs/bulk-edit/<str:sync_id>/<str:collection_id>/",
        job_views.bulk_edit,
        name="bulk_edit",
    ),
    path(
        "jobs/bulk-delete/<str:sync_id>/<str:collection_id>/",
        create_delete_views.bulk_delete,
        name="bulk_delete",
    ),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/-/new/",
        create_delete_views.record_new,
        name="record_new",
    ),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/-/csv/",
        csv_views.csv_upload,
        name="csv_upload",
    ),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/-/csv/<uuid:plan_id>/",
        csv_views.csv_plan_detail,
        name="csv_plan",
    ),
    path(
        "syncs/<str:sync_id>/<str:collection_id>/<str:upstream_id>/delete/",
        create_delete_views.record_delete_view,
        name="record_delete",
    ),
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
