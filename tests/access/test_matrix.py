"""Every URL of the project, as every kind of person: the status each gets, and never the token.

The URLs come from the URL resolver, so a URL added later that is not in MATRIX fails
`test_every_url_is_in_the_matrix`; the statuses say what each role may do there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sequin_admin.access.models import Grant, Role
from sequin_admin.edits.jobs import job_start
from sequin_admin.sandbox.demo_data import SALESFORCE_SYNC_ID
from sequin_admin.sandbox.server import SandboxServer
from tests.helpers import CONTACTS, Indexed, send

# The columns: who asks. The role-holders' grants reach the sample record's collection, each
# through another kind of pattern; the superuser is also staff (the Django admin site).
PEOPLE = ("anonymous", "no grant", "viewer", "editor", "bulk editor", "admin", "superuser")
GRANTS = {
    "viewer": (Role.VIEWER, SALESFORCE_SYNC_ID, "*"),
    "editor": (Role.EDITOR, "*", "salesforce:*"),
    "bulk editor": (Role.BULK_EDITOR, "*", CONTACTS),
    "admin": (Role.ADMIN, "*", "*"),
}


def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def all_url_patterns() -> list[str]:
    return list(walk(get_resolver().url_patterns))


def S(*statuses: int) -> tuple[int, ...]:
    assert len(statuses) == len(PEOPLE)
    return statuses


@dataclass(frozen=True)
class Row:
    get: tuple[int, ...]
    post: tuple[int, ...]


# Shorthands for the common rows (anonymous, no grant, viewer, editor, bulk, admin, superuser).
SIGNED_IN_ONLY = S(302, 200, 200, 200, 200, 200, 200)
VIEWERS = S(302, 403, 200, 200, 200, 200, 200)
EDITORS_REDIRECTED = S(302, 403, 403, 302, 302, 302, 302)
VIEWERS_REDIRECTED = S(302, 403, 302, 302, 302, 302, 302)
EDITORS = S(302, 403, 403, 200, 200, 200, 200)
BULK_EDITORS = S(302, 403, 403, 403, 200, 200, 200)
BULK_EDITORS_REDIRECTED = S(302, 403, 403, 403, 302, 302, 302)
NOT_THIS_METHOD = S(302, 405, 405, 405, 405, 405, 405)


# The Django admin site lets only staff in (the superuser); the others go to its sign-in.
def staff_only(get: int = 200, post: int | None = None) -> Row:
    """A row of the admin site: every non-staff person redirected, the superuser `get`/`post`."""
    return Row(get=S(*[302] * 6, get), post=S(*[302] * 6, get if post is None else post))


@dataclass(frozen=True)
class AdminModel:
    """A model of the admin site, with what the superuser gets on one of its objects."""

    path: str
    add: int = 200
    history: int = 200
    delete: int = 200
    change: tuple[int, int] = (200, 200)


# Grants, users and groups are edited here; the journal and the index only viewed (their own
# services write them); the sign-in throttle's and the task worker's rows are asked for by an
# id that does not exist (the superuser is sent back to the list: 302).
ADMIN_MODELS = [
    AdminModel("access/grant"),
    AdminModel("auth/group"),
    AdminModel("auth/user"),
    AdminModel("mutations/mutation", add=403, delete=403, change=(200, 403)),
    AdminModel("records/indexedrecord", add=403, delete=403, change=(200, 403)),
    AdminModel("axes/accessattempt", add=403, history=302, delete=302, change=(302, 302)),
    AdminModel("axes/accesslog", add=403, history=302, delete=302, change=(302, 302)),
    AdminModel("axes/accessfailurelog", add=403, history=302, delete=302, change=(302, 302)),
    AdminModel(
        "django_tasks_database/dbtaskresult",
        add=403,
        history=302,
        delete=403,
        change=(302, 403),
    ),
]
MISSING_OBJECT_ID = "999999"

MATRIX: dict[str, Row] = {
    # Signing in and out (Django's auth); a signed-in person may change their own password.
    "accounts/login/": Row(get=S(*[200] * 7), post=S(*[200] * 7)),
    "accounts/logout/": Row(get=S(302, *[405] * 6), post=S(*[302] * 7)),
    "accounts/password_change/": Row(get=SIGNED_IN_ONLY, post=SIGNED_IN_ONLY),
    "accounts/password_change/done/": Row(get=SIGNED_IN_ONLY, post=NOT_THIS_METHOD),
    # Browsing: the sync list is filtered; a sync, a collection, a record need a grant there.
    "": Row(get=SIGNED_IN_ONLY, post=NOT_THIS_METHOD),
    "syncs/<str:sync_id>/": Row(get=VIEWERS, post=NOT_THIS_METHOD),
    "syncs/<str:sync_id>/<str:collection_id>/": Row(get=VIEWERS, post=NOT_THIS_METHOD),
    "syncs/<str:sync_id>/<str:collection_id>/refresh/": Row(
        get=NOT_THIS_METHOD, post=VIEWERS_REDIRECTED
    ),
    # The record page: viewers read it, editors post its form (an empty post re-renders it).
    "syncs/<str:sync_id>/<str:collection_id>/<str:upstream_id>/": Row(
        get=VIEWERS, post=S(302, 403, 403, 200, 200, 200, 200)
    ),
    "syncs/<str:sync_id>/<str:collection_id>/<str:upstream_id>/preview/": Row(
        get=NOT_THIS_METHOD, post=S(302, 403, 403, 200, 200, 200, 200)
    ),
    # The history: the list and exports are filtered; one attempt needs a grant on its collection.
    "mutations/": Row(get=SIGNED_IN_ONLY, post=NOT_THIS_METHOD),
    "mutations/chart/": Row(get=SIGNED_IN_ONLY, post=NOT_THIS_METHOD),
    "mutations/export/": Row(get=SIGNED_IN_ONLY, post=NOT_THIS_METHOD),
    "mutations/<int:mutation_id>/": Row(get=VIEWERS, post=NOT_THIS_METHOD),
    "mutations/<int:mutation_id>/reconcile/": Row(get=NOT_THIS_METHOD, post=EDITORS_REDIRECTED),
    # Retry and Revert first show what they would send (a POST without the confirmation's
    # token shows it too); only a confirmed POST sends.
    # (The sample attempt succeeded: there is nothing to retry, and the person is sent back.)
    "mutations/<int:mutation_id>/retry/": Row(get=EDITORS_REDIRECTED, post=EDITORS_REDIRECTED),
    "mutations/<int:mutation_id>/revert/": Row(get=EDITORS, post=EDITORS),
    # What a collection page lists, exported: whoever may read the collection.
    "syncs/<str:sync_id>/<str:collection_id>/-/export/<str:export_format>/": Row(
        get=VIEWERS, post=NOT_THIS_METHOD
    ),
    # Many records at once, creating and deleting: bulk editors. The jobs list is filtered; a
    # job's page needs a grant on its collection.
    "jobs/": Row(get=SIGNED_IN_ONLY, post=NOT_THIS_METHOD),
    "jobs/<int:job_id>/": Row(get=VIEWERS, post=NOT_THIS_METHOD),
    "jobs/<int:job_id>/cancel/": Row(get=NOT_THIS_METHOD, post=BULK_EDITORS_REDIRECTED),
    "jobs/<int:job_id>/retry/": Row(get=NOT_THIS_METHOD, post=BULK_EDITORS_REDIRECTED),
    "jobs/bulk-edit/<str:sync_id>/<str:collection_id>/": Row(get=BULK_EDITORS, post=BULK_EDITORS),
    "jobs/bulk-delete/<str:sync_id>/<str:collection_id>/": Row(get=BULK_EDITORS, post=BULK_EDITORS),
    "syncs/<str:sync_id>/<str:collection_id>/-/new/": Row(get=BULK_EDITORS, post=BULK_EDITORS),
    "syncs/<str:sync_id>/<str:collection_id>/-/csv/": Row(get=BULK_EDITORS, post=BULK_EDITORS),
    # A CSV plan is its uploader's (the superuser's here): another bulk editor finds none.
    "syncs/<str:sync_id>/<str:collection_id>/-/csv/<uuid:plan_id>/": Row(
        get=S(302, 403, 403, 403, 404, 404, 200), post=S(302, 403, 403, 403, 404, 404, 302)
    ),
    "syncs/<str:sync_id>/<str:collection_id>/<str:upstream_id>/delete/": Row(
        get=NOT_THIS_METHOD, post=BULK_EDITORS
    ),
    # The Django admin site, where grants are managed: staff only. Its sign-in page is open
    # (a signed-in superuser is sent on to the index); its sign-out is a POST.
    "django-admin/": staff_only(),
    "django-admin/login/": Row(get=S(*[200] * 6, 302), post=S(*[200] * 7)),
    "django-admin/logout/": staff_only(get=405, post=302),
    "django-admin/password_change/": staff_only(),
    "django-admin/password_change/done/": staff_only(post=405),
    # Without its query (which model, which field) the autocomplete refuses even the superuser.
    "django-admin/autocomplete/": staff_only(get=403, post=405),
    "django-admin/jsi18n/": staff_only(post=405),
    "django-admin/r/<path:content_type_id>/<path:object_id>/": staff_only(404),
    "django-admin/^(?P<app_label>auth|axes|django_tasks_database|access|records|mutations)/$": (
        staff_only()
    ),
    "django-admin/(?P<url>.*)$": staff_only(404),
}
for _model in ADMIN_MODELS:
    _object = f"django-admin/{_model.path}/<path:object_id>/"
    MATRIX |= {
        f"django-admin/{_model.path}/": staff_only(),
        f"django-admin/{_model.path}/add/": staff_only(_model.add),
        _object + "history/": staff_only(_model.history),
        _object + "delete/": staff_only(_model.delete),
        _object + "change/": staff_only(*_model.change),
        _object: staff_only(302),  # the old address of the change page
    }
MATRIX["django-admin/auth/user/<id>/password/"] = staff_only()


def test_every_url_is_in_the_matrix() -> None:
    patterns = all_url_patterns()
    missing = [p for p in patterns if p not in MATRIX]
    assert not missing, f"URLs without a row in the access matrix (add one): {missing}"
    stale = [p for p in MATRIX if p not in patterns]
    assert not stale, f"rows of the matrix for URLs that no longer exist: {stale}"


def concrete(pattern: str, values: dict[str, str]) -> str:
    """The pattern with each named group or converter replaced by the value for its name (an
    admin object's id by its model's path)."""
    model = next(
        (m.path for m in ADMIN_MODELS if pattern.startswith(f"django-admin/{m.path}/")), ""
    )
    named = {**values, "object_id": values.get(model, MISSING_OBJECT_ID)}
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: named[m.group(1)], pattern)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: named[m.group(1)], path)
    return "/" + path.replace("^", "").replace("$", "")


def body_of(response: HttpResponse | StreamingHttpResponse) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    return response.content


def signed_in(person: User | None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


@pytest.fixture
def people(db: None) -> dict[str, User | None]:
    found: dict[str, User | None] = {"anonymous": None}
    found["no grant"] = User.objects.create_user("nobody")
    for name, (role, sync_pattern, collection_pattern) in GRANTS.items():
        person = User.objects.create_user(name.replace(" ", "-"))
        Grant.objects.create(
            user=person,
            role=role,
            sync_pattern=sync_pattern,
            collection_pattern=collection_pattern,
        )
        found[name] = person
    found["superuser"] = User.objects.create_superuser("root")
    return found


def test_each_person_gets_the_status_of_their_role_and_never_the_token(
    people: dict[str, User | None], indexed: Indexed, sandbox: SandboxServer
) -> None:
    record = indexed(CONTACTS)
    root = people["superuser"]
    assert root is not None
    mutation = send(record, root, {"Title": "Matrix"})
    job = job_start(
        user=root,
        sync_id=record.sync_id,
        collection_id=record.collection_id,
        kind="update",
        items=[(record.upstream_id, {"Title": "Matrix job"})],
    )
    upload = Client()
    upload.force_login(root)
    csv_file = SimpleUploadedFile(
        "t.csv", f"upstream_id,Title\n{record.upstream_id},CSV\n".encode()
    )
    planned = upload.post(
        reverse("csv_upload", args=[record.sync_id, record.collection_id]), {"file": csv_file}
    )
    assert planned.status_code == 302, planned.status_code
    values = {
        "sync_id": record.sync_id,
        "collection_id": record.collection_id,
        "upstream_id": record.upstream_id,
        "mutation_id": str(mutation.pk),
        "export_format": "csv",
        "job_id": str(job.pk),
        "plan_id": planned["Location"].rstrip("/").rsplit("/", 1)[-1],
        "content_type_id": MISSING_OBJECT_ID,
        "id": str(root.pk),
        "access/grant": str(Grant.objects.filter(user__username="viewer").get().pk),
        "auth/group": str(Group.objects.create(name="auditors").pk),
        "auth/user": str(root.pk),
        "mutations/mutation": str(mutation.pk),
        "records/indexedrecord": str(record.pk),
        "app_label": "access",
        "url": "no-such-page/",
    }
    clients = {who: signed_in(person) for who, person in people.items()}
    token = settings.SEQUIN_API_TOKEN.encode()
    wrong: list[str] = []
    leaked: list[str] = []
    for pattern in all_url_patterns():
        url = concrete(pattern, values)
        row = MATRIX[pattern]
        for method, expected in (("GET", row.get), ("POST", row.post)):
            for who, status in zip(PEOPLE, expected, strict=True):
                # Signing out ends the session: that request gets a client of its own.
                client = signed_in(people[who]) if "logout" in pattern else clients[who]
                response = client.generic(method, url)
                if response.status_code != status:
                    wrong.append(f"{method} {url} as {who}: {response.status_code}, not {status}")
                if token in body_of(response):
                    leaked.append(f"{method} {url} as {who}")
    assert not leaked, f"the Sequin token reached these responses: {leaked}"
    assert not wrong, "\n".join(wrong)


def test_every_post_of_every_url_without_the_csrf_token_is_refused(db: None) -> None:
    """CSRF on every POST, htmx ones included: no view is exempt. The check runs before the
    view, so the ids need only fit the URL's converters."""
    values = {
        "sync_id": "sync",
        "collection_id": CONTACTS,
        "upstream_id": "003A",
        "mutation_id": "1",
        "export_format": "csv",
        "job_id": "1",
        "plan_id": "00000000-0000-0000-0000-000000000000",
        "content_type_id": MISSING_OBJECT_ID,
        "id": "1",
        "app_label": "access",
        "url": "no-such-page/",
    }
    anonymous = Client(enforce_csrf_checks=True)
    root = Client(enforce_csrf_checks=True)
    root.force_login(User.objects.create_superuser("root"))
    let_through: list[str] = []
    for pattern in all_url_patterns():
        url = concrete(pattern, values)
        for who, client in (("anonymous", anonymous), ("superuser", root)):
            for headers in ({}, {"HX-Request": "true"}):
                response = client.post(url, {"action": "confirm"}, headers=headers)
                if response.status_code != 403 or b"This form could not be checked" not in (
                    response.content
                ):
                    let_through.append(f"POST {url} as {who} {headers}: {response.status_code}")
    assert not let_through, f"POSTs not refused for a missing CSRF token: {let_through}"
