from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sequin_admin.accounts.signin import SignInView

# Sign-in, sign-out and password change only: the admin sends no e-mail, so no password reset.
accounts = [
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("accounts/", include(accounts)),
    path("django-admin/", admin.site.urls),
    path("mutations/", include("sequin_admin.mutations.urls")),
    # Records first: its `<collection>/refresh/` would otherwise read as a record's address.
    path("", include("sequin_admin.records.urls")),
    path("", include("sequin_admin.edits.urls")),
]
