"""Refused and failed requests get the admin's own pages: clear words, no inline code."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import permission_denied, server_error

from tests.test_shell import assert_no_inline_script_or_style

pytestmark = pytest.mark.django_db

REFUSED = "The admin refused this request"


@pytest.fixture
def strict_client() -> Client:
    """A browser's client: it has the CSRF cookie, so the CSRF check reads the body."""
    client = Client(enforce_csrf_checks=True)
    assert "csrftoken" in client.get(reverse("login")).cookies
    return client


def assert_refused(response: object) -> None:
    assert response.status_code == 400
    html = response.content.decode()
    assert REFUSED in html
    assert "Nothing was saved or sent to Sequin" in html
    assert_no_inline_script_or_style(html)


@pytest.mark.parametrize("client_name", ["client", "strict_client"])
def test_an_oversized_body_is_refused_with_the_400_page(
    request: pytest.FixtureRequest, client_name: str, settings: LazySettings
) -> None:
    client: Client = request.getfixturevalue(client_name)
    body = "username=ada&password=" + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = client.post(reverse("login"), body, content_type="application/x-www-form-urlencoded")
    assert_refused(response)


@pytest.mark.parametrize("client_name", ["client", "strict_client"])
def test_too_many_fields_are_refused_with_the_400_page(
    request: pytest.FixtureRequest, client_name: str, settings: LazySettings
) -> None:
    client: Client = request.getfixturevalue(client_name)
    fields = {f"f{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert_refused(client.post(reverse("login"), fields))


def test_within_the_limits_the_request_goes_through(settings: LazySettings) -> None:
    fields = {f"f{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS - 2)}
    response = Client().post(reverse("login"), {**fields, "username": "a", "password": "b"})
    assert response.status_code == 200


def test_an_unknown_address_gets_the_404_page(signed_in: Client) -> None:
    response = signed_in.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is no page here" in html
    assert_no_inline_script_or_style(html)


def test_the_500_page_renders_without_a_request_context() -> None:
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong in the admin" in html
    assert_no_inline_script_or_style(html)


def test_the_403_page() -> None:
    request = RequestFactory().get("/")
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    html = response.content.decode()
    assert "You are not allowed to do this" in html
    assert_no_inline_script_or_style(html)
