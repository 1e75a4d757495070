from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("django-admin/", admin.site.urls),
    path("mutations/", include("sequin_admin.mutations.urls")),
    path("", include("sequin_admin.records.urls")),
]
