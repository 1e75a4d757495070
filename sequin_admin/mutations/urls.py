from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.mutation_list, name="mutation_list"),
    path("chart/", views.mutation_chart, name="mutation_chart"),
    path("export/", views.mutation_export, name="mutation_export"),
    path("<int:mutation_id>/", views.mutation_detail, name="mutation_detail"),
    path("<int:mutation_id>/reconcile/", views.mutation_reconcile, name="mutation_reconcile"),
]
