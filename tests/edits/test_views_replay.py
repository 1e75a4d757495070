"""Retry and Revert through the views: shown, then confirmed, then sent once."""

from __future__ import annotations

from html import unescape

from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client

from sequin_admin.mutations.models import Mutation, Outcome, Source
from sequin_admin.sandbox.demo_data import DEFAULT_TOKEN
from sequin_admin.sandbox.faults import Fault
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import Indexed, confirmation_token, send


def confirm(client: Client, url: str, token: str) -> HttpResponse:
    return client.post(url, {"action": "confirm", "token": token})


def said(response: HttpResponse) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def replay_diff(html: str) -> str:
    return html.split('id="replay-diff"', 1)[1].split("</table>", 1)[0]


def diff_row(html: str, field: str) -> str:
    return replay_diff(html).split(f'data-field="{field}"', 1)[1].split("</tr>", 1)[0]


def test_retry_shows_the_exact_request_and_diff_and_sends_only_when_confirmed(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="error_500"))
    failed = send(record, user, {"Title": "Via view"})
    sandbox.faults.clear()
    url = f"/mutations/{failed.pk}/retry/"

    shown = signed_in.get(url)

    html = shown.content.decode()
    assert shown.status_code == 200
    assert Mutation.objects.count() == 1  # looking sends nothing
    assert '"Title": "Via view"' in unescape(html.split('id="replay-json"', 1)[1])
    curl = unescape(html.split('id="replay-curl">', 1)[1].split("</pre>", 1)[0])
    assert curl.startswith("curl -X POST") and "$SEQUIN_API_TOKEN" in curl
    assert DEFAULT_TOKEN not in html
    row = diff_row(html, "Title")
    assert record.data["Title"] in row and "Via view" in row
    assert 'id="replay-buttons"' not in html

    response = confirm(signed_in, url, confirmation_token(html))

    retry = Mutation.objects.get(retry_of=failed)
    assert response.status_code == 302 and response["Location"] == f"/mutations/{retry.pk}/"
    assert (retry.source, retry.outcome) == (Source.RETRY, Outcome.SUCCEEDED)
    assert retry.request_body["records"] == failed.request_body["records"]


def test_revert_shows_from_and_to_then_disappears_once_reverted(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    applied = send(record, user, {"Title": "Soon reverted"})
    url = f"/mutations/{applied.pk}/revert/"
    assert "Revert…" in signed_in.get(applied.get_absolute_url()).content.decode()

    html = signed_in.get(url).content.decode()

    row = diff_row(html, "Title")
    assert row.index("Soon reverted") < row.index(record.data["Title"])  # from → to
    assert Mutation.objects.count() == 1
    confirm(signed_in, url, confirmation_token(html))
    revert = Mutation.objects.get(revert_of=applied)
    assert revert.outcome == Outcome.SUCCEEDED
    found = sandbox.store.get_record(record.sync_id, record.collection_id, record.upstream_id)
    assert found is not None and found["data"]["Title"] == record.data["Title"]

    page = signed_in.get(applied.get_absolute_url()).content.decode()
    assert "Revert…" not in page and f'href="/mutations/{revert.pk}/"' in page
    again = signed_in.get(url)
    assert again["Location"] == applied.get_absolute_url()
    assert f"Already reverted by mutation #{revert.pk}" in said(again)
    refused = signed_in.post(url, {"action": "confirm", "token": "forged"})
    assert f"Already reverted by mutation #{revert.pk}" in said(refused)
    assert Mutation.objects.count() == 2


def test_a_double_post_of_one_confirmation_leaves_exactly_one_journal_entry(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="rate_limit_429", count=1, retry_after=30))
    failed = send(record, user, {"Title": "Twice clicked"})
    url = f"/mutations/{failed.pk}/retry/"
    token = confirmation_token(signed_in.get(url).content.decode())

    first = confirm(signed_in, url, token)
    second = confirm(signed_in, url, token)

    (retry,) = Mutation.objects.filter(retry_of=failed)
    assert Mutation.objects.count() == 2
    assert first["Location"] == second["Location"] == retry.get_absolute_url()
    assert f"already sent as mutation #{retry.pk}: nothing was sent again" in said(second)


def test_a_double_post_of_a_revert_sends_one_revert(
    signed_in: Client, indexed: Indexed, user: User
) -> None:
    record = indexed("salesforce:contact")
    applied = send(record, user, {"Title": "Reverted once"})
    url = f"/mutations/{applied.pk}/revert/"
    token = confirmation_token(signed_in.get(url).content.decode())
    confirm(signed_in, url, token)
    second = confirm(signed_in, url, token)
    (revert,) = Mutation.objects.filter(revert_of=applied)
    assert second["Location"] == revert.get_absolute_url()


def test_a_confirmation_the_upstream_has_overtaken_sends_nothing_and_asks_again(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    applied = send(record, user, {"Title": "New title", "Phone": "+1 555 0100"})
    url = f"/mutations/{applied.pk}/revert/"
    token = confirmation_token(signed_in.get(url).content.decode())
    sandbox.store.write_as_upstream(
        record.sync_id, record.collection_id, record.upstream_id, {"Phone": "+1 555 0111"}
    )

    response = confirm(signed_in, url, token)

    html = response.content.decode()
    assert response.status_code == 200 and 'id="replay-changed"' in html
    assert Mutation.objects.count() == 1
    assert 'data-field="Phone"' not in replay_diff(html)
    assert "Phone changed since" in html
    assert confirmation_token(html) != token
    confirm(signed_in, url, confirmation_token(html))
    revert = Mutation.objects.get(revert_of=applied)
    assert revert.request_body["records"][0]["data"] == {"Title": record.data["Title"]}


def test_a_forged_confirmation_sends_nothing(
    signed_in: Client, indexed: Indexed, user: User, sandbox: SandboxServer
) -> None:
    record = indexed("salesforce:contact")
    sandbox.faults.set(Fault(kind="error_500", count=2))
    failed = send(record, user, {"Title": "Forged"})
    other = send(record, user, {"Title": "Other"})
    other_token = confirmation_token(
        signed_in.get(f"/mutations/{other.pk}/retry/").content.decode()
    )
    url = f"/mutations/{failed.pk}/retry/"
    for token in ("", "forged", other_token):  # none, unsigned, signed for another attempt
        response = confirm(signed_in, url, token)
        assert "This confirmation is not valid" in said(response)
    assert Mutation.objects.count() == 2


def test_htmx_opens_the_confirmation_in_place(
    signed_in: Client, indexed: Indexed, user: User
) -> None:
    record = indexed("salesforce:contact")
    applied = send(record, user, {"Title": "In place"})
    page = signed_in.get(applied.get_absolute_url()).content.decode()
    assert f'hx-get="/mutations/{applied.pk}/revert/"' in page
    assert '<div id="replay-confirm"></div>' in page

    response = signed_in.get(
        f"/mutations/{applied.pk}/revert/",
        headers={"HX-Request": "true", "HX-Target": "replay-confirm"},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="replay-confirm"')
    assert "<html" not in html and 'name="token"' in html
    assert "HX-Request" in response["Vary"]


def test_nothing_to_retry_says_so_without_a_confirmation(
    signed_in: Client, indexed: Indexed, user: User
) -> None:
    record = indexed("salesforce:contact")
    applied = send(record, user, {"Title": "Fine as it is"})
    response = signed_in.get(f"/mutations/{applied.pk}/retry/")
    assert response["Location"] == applied.get_absolute_url()
    assert "Only a failed or unknown attempt can be retried" in said(response)
    htmx = signed_in.get(f"/mutations/{applied.pk}/retry/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == applied.get_absolute_url()
