"""Signing in: throttled failures, the pages mounted, the demo account, idle sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sequin_admin.accounts.signin import client_address
from sequin_admin.sandbox.server import SandboxServer
from tests.test_shell import assert_no_inline_script_or_style

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"
LOCKED = "Signing in is locked"


def sign_in(
    client: Client, username: str, password: str, address: str = "203.0.113.7"
) -> tuple[int, str]:
    response = client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return response.status_code, response.content.decode()


def fail(client: Client, times: int, username: str = "ada", address: str = "203.0.113.7") -> None:
    for _ in range(times):
        status, html = sign_in(client, username, "wrong-password", address)
        assert status == 200 and LOCKED not in html


@pytest.fixture
def ada(db: None) -> User:
    return User.objects.create_user("ada", password=PASSWORD)


def test_the_last_allowed_failure_shows_the_lock_and_then_the_right_password_is_refused(
    client: Client, ada: User, settings: LazySettings
) -> None:
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    status, html = sign_in(client, "ada", "wrong-password")
    assert status == 429
    assert LOCKED in html
    assert f"There were {settings.AXES_FAILURE_LIMIT} failed sign-ins" in html
    assert "Try again in 15 minutes" in html
    assert 'name="password"' not in html  # no form to keep guessing with
    assert_no_inline_script_or_style(html)

    status, html = sign_in(client, "ada", PASSWORD)
    assert status == 429 and LOCKED in html
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still signed out


def test_the_failure_limit_is_the_setting(
    client: Client, ada: User, settings: LazySettings
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    fail(client, 1)
    status, _ = sign_in(client, "ada", "wrong-password")
    assert status == 429


def test_an_account_is_locked_whichever_address_guesses(
    client: Client, ada: User, settings: LazySettings
) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        fail(client, 1, address=f"198.51.100.{n + 1}")
    status, _ = sign_in(client, "ada", "wrong-password", address="198.51.100.200")
    assert status == 429
    status, html = sign_in(client, "ada", PASSWORD, address="192.0.2.1")
    assert status == 429 and LOCKED in html


def test_an_address_is_locked_whichever_account_it_guesses(
    client: Client, ada: User, settings: LazySettings
) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        fail(client, 1, username=f"nobody{n}")
    status, _ = sign_in(client, "nobody-else", "wrong-password")
    assert status == 429
    status, html = sign_in(client, "ada", PASSWORD)
    assert status == 429 and LOCKED in html
    # Ada, elsewhere, is not locked out by what this address did.
    status, _ = sign_in(client, "ada", PASSWORD, address="192.0.2.1")
    assert status == 302


def test_a_success_clears_the_count(client: Client, ada: User, settings: LazySettings) -> None:
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "ada", PASSWORD)[0] == 302
    client.logout()
    fail(client, settings.AXES_FAILURE_LIMIT - 1)


def test_force_login_still_works(client: Client, ada: User, sandbox: SandboxServer) -> None:
    client.force_login(ada)
    assert client.get("/").status_code == 200


def test_signing_in_needs_the_csrf_token(ada: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form could not be checked" in html
    assert_no_inline_script_or_style(html)
    page = client.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("login"),
        {"username": "ada", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "name", ["password_reset", "password_reset_done", "password_reset_complete"]
)
def test_password_reset_is_not_mounted(client: Client, name: str) -> None:
    with pytest.raises(NoReverseMatch):
        reverse(name)
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.get("/accounts/reset/MQ/set-password/").status_code == 404


def test_sign_out_and_password_change_are_mounted(signed_in: Client) -> None:
    assert reverse("logout") == "/accounts/logout/"
    page = signed_in.get(reverse("password_change"))
    assert page.status_code == 200
    assert_no_inline_script_or_style(page.content.decode())
    assert signed_in.post(reverse("logout")).status_code == 302
    assert signed_in.get("/").status_code == 302


def test_a_new_password_must_pass_the_validators(signed_in: Client, user: User) -> None:
    url = reverse("password_change")
    weak = {"old_password": PASSWORD, "new_password1": "short-pw", "new_password2": "short-pw"}
    response = signed_in.post(url, weak)
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    strong = "a-long-unusual-phrase"
    response = signed_in.post(
        url, {"old_password": PASSWORD, "new_password1": strong, "new_password2": strong}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(strong)


def test_the_sandbox_sign_in_page_shows_the_demo_account(client: Client) -> None:
    html = client.get(reverse("login")).content.decode()
    assert "<code>demo</code>" in html and "<code>demo-sandbox</code>" in html
    assert_no_inline_script_or_style(html)


def test_outside_the_sandbox_the_sign_in_page_never_shows_it(
    client: Client, settings: LazySettings
) -> None:
    settings.SEQUIN_SANDBOX_MODE = False
    html = client.get(reverse("login")).content.decode()
    assert "demo-sandbox" not in html
    assert "Sandbox mode" not in html
    assert "Sign in" in html


# Sessions end after an idle time, server-side.


def test_a_session_lasts_the_idle_time_from_the_last_request(
    client: Client, ada: User, settings: LazySettings
) -> None:
    assert sign_in(client, "ada", PASSWORD)[0] == 302
    session = Session.objects.get(session_key=client.session.session_key)
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert session.expire_date == pytest.approx(timezone.now() + idle, abs=timedelta(minutes=1))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]  # gone when the browser closes

    # Nearly idle out, then a request: the end moves back to a full idle time from now.
    session.expire_date = timezone.now() + timedelta(seconds=30)
    session.save()
    client.get(reverse("password_change"))
    session.refresh_from_db()
    assert session.expire_date > timezone.now() + idle - timedelta(minutes=1)


def test_an_idle_session_signs_out(client: Client, ada: User) -> None:
    assert sign_in(client, "ada", PASSWORD)[0] == 302
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Whom failures count against.


class _Request:
    def __init__(self, **meta: str) -> None:
        self.META = meta


def test_the_client_address_behind_proxies_is_the_one_the_outermost_proxy_saw(
    settings: LazySettings,
) -> None:
    forged = _Request(HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    settings.PROXY_COUNT = 0
    assert client_address(forged) == "10.0.0.2"
    settings.PROXY_COUNT = 1
    assert client_address(forged) == "203.0.113.7"
    settings.PROXY_COUNT = 2
    assert client_address(forged) == "6.6.6.6"
    settings.PROXY_COUNT = 3  # fewer hops than proxies: not through them, use the peer
    assert client_address(forged) == "10.0.0.2"
