from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("django-admin/", admin.site.urls),
    path("mutations/", include("sequin_admin.mutations.urls")),
    # Records first: its `<collection>/refresh/` would otherwise read as a record's address.
    path("", include("sequin_admin.records.urls")),
    path("", include("sequin_admin.edits.urls")),
]
