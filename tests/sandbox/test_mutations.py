from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from sequin_admin.sandbox.cursors import encode_cursor
from sequin_admin.sandbox.demo_data import (
    CONSUMER_IDS,
    DEFAULT_TOKEN,
    HUBSPOT_SYNC_ID,
    SALESFORCE_SYNC_ID,
    STRIPE_SYNC_ID,
)
from sequin_admin.sandbox.ids import salesforce_checksum
from sequin_admin.sandbox.schemas import SCHEMAS
from sequin_admin.sandbox.server import SandboxServer

if TYPE_CHECKING:
    from tests.sandbox.conftest import Api

SYNC_OF = {
    "salesforce:contact": SALESFORCE_SYNC_ID,
    "salesforce:account": SALESFORCE_SYNC_ID,
    "hubspot:contact": HUBSPOT_SYNC_ID,
    "hubspot:company": HUBSPOT_SYNC_ID,
    "stripe:customer": STRIPE_SYNC_ID,
}
LABELS = {"salesforce": "Salesforce", "hubspot": "HubSpot", "stripe": "Stripe"}
SALESFORCE_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def _update(api: Api, collection_id: str, *items: tuple[str, dict[str, Any]], **extra: Any) -> Any:
    return api.mutate(
        kind="update",
        sync_id=SYNC_OF[collection_id],
        collection_id=collection_id,
        records=[{"upstream_id": upstream_id, "data": data} for upstream_id, data in items],
        **extra,
    )


def _records(sandbox: SandboxServer, collection_id: str, count: int) -> list[dict[str, Any]]:
    page = sandbox.store.list_records(collection_id=collection_id, limit=count)
    return [r for r in page if not r["deleted"]]


def _cursor_at_end(sandbox: SandboxServer) -> str:
    return encode_cursor(sandbox.store.list_records(limit=10_000)[-1]["updated_idx"])


def _current(sandbox: SandboxServer, record: dict[str, Any]) -> dict[str, Any] | None:
    return sandbox.store.get_record(
        record["sync_id"], record["collection_id"], record["upstream_id"]
    )


# --- update -----------------------------------------------------------------------------------


def test_update_changes_only_the_keys_sent_and_moves_the_version(
    api: Api, sandbox: SandboxServer
) -> None:
    before = sandbox.store.any_record("salesforce:contact")
    top = sandbox.store.list_records(after_idx=0, limit=1000)[-1]["updated_idx"]
    response = _update(api, "salesforce:contact", (before["upstream_id"], {"Title": "CFO"}))
    assert response.status_code == 200
    (after,) = response.json()["records"]
    assert after["data"]["Title"] == "CFO"
    untouched = set(before["data"]) - {"Title", "LastModifiedDate", "SystemModstamp"}
    assert {k: after["data"][k] for k in untouched} == {k: before["data"][k] for k in untouched}
    assert after["updated_idx"] > top
    assert after["upstream_updated_at"] > before["upstream_updated_at"]
    assert after["upstream_created_at"] == before["upstream_created_at"]
    for stamp in ("LastModifiedDate", "SystemModstamp"):
        assert after["data"][stamp] != before["data"][stamp]
        assert SALESFORCE_STAMP.match(after["data"][stamp])
    assert after == _current(sandbox, before)


def test_update_with_null_clears_a_field(api: Api, sandbox: SandboxServer) -> None:
    record = next(
        r
        for r in _records(sandbox, "salesforce:contact", 200)
        if r["data"]["MailingAddress"] and r["data"]["Title"]
    )
    response = _update(
        api, "salesforce:contact", (record["upstream_id"], {"MailingAddress": None, "Title": None})
    )
    assert response.status_code == 200
    data = response.json()["records"][0]["data"]
    assert data["MailingAddress"] is None
    assert data["Title"] is None
    assert data["LastName"] == record["data"]["LastName"]


def test_an_empty_string_clears_salesforce_text_but_hubspot_keeps_it(
    api: Api, sandbox: SandboxServer
) -> None:
    sf = sandbox.store.any_record("salesforce:contact")
    hs = sandbox.store.any_record("hubspot:contact")
    sf_data = _update(api, "salesforce:contact", (sf["upstream_id"], {"Email": ""})).json()
    hs_data = _update(api, "hubspot:contact", (hs["upstream_id"], {"email": ""})).json()
    assert sf_data["records"][0]["data"]["Email"] is None
    assert hs_data["records"][0]["data"]["email"] == ""


TYPED_UPDATES = [
    ("salesforce:account", {"NumberOfEmployees": 42, "AnnualRevenue": 1.5e6},
     "LastModifiedDate"),
    ("hubspot:contact", {"hs_email_optout": True, "lifecyclestage": "customer"},
     "lastmodifieddate"),
    ("hubspot:company", {"numberofemployees": 12, "annualrevenue": 99.5},
     "hs_lastmodifieddate"),
    ("stripe:customer", {"balance": -500, "metadata": {"tier": "gold"},
                         "preferred_locales": ["de"]}, None),
]  # fmt: skip


@pytest.mark.parametrize(("collection_id", "patch", "stamp"), TYPED_UPDATES)
def test_typed_updates_are_stored_and_the_providers_stamp_moves(
    api: Api, sandbox: SandboxServer, collection_id: str, patch: dict[str, Any], stamp: str | None
) -> None:
    before = sandbox.store.any_record(collection_id)
    response = _update(api, collection_id, (before["upstream_id"], patch))
    assert response.status_code == 200
    after = response.json()["records"][0]
    assert {k: after["data"][k] for k in patch} == patch
    assert after["updated_idx"] > before["updated_idx"]
    assert after["upstream_updated_at"] > before["upstream_updated_at"]
    if stamp:
        assert after["data"][stamp] > before["data"][stamp]


def test_several_records_in_one_update_are_applied_in_order(
    api: Api, sandbox: SandboxServer
) -> None:
    first, second = _records(sandbox, "hubspot:company", 2)
    response = _update(
        api,
        "hubspot:company",
        (first["upstream_id"], {"city": "Lisbon"}),
        (second["upstream_id"], {"city": "Porto"}),
    )
    assert response.status_code == 200
    saved = response.json()["records"]
    assert [r["data"]["city"] for r in saved] == ["Lisbon", "Porto"]
    assert saved[0]["updated_idx"] < saved[1]["updated_idx"]


def test_a_record_sent_twice_in_one_update_gets_both_patches(
    api: Api, sandbox: SandboxServer
) -> None:
    (record,) = _records(sandbox, "hubspot:company", 1)
    response = _update(
        api,
        "hubspot:company",
        (record["upstream_id"], {"city": "Lisbon"}),
        (record["upstream_id"], {"name": "Renamed"}),
    )
    assert response.status_code == 200
    first, second = response.json()["records"]
    assert first["data"]["city"] == second["data"]["city"] == "Lisbon"
    assert second["data"]["name"] == "Renamed"
    assert first["updated_idx"] < second["updated_idx"]
    stored = _current(sandbox, record)
    assert stored is not None
    assert (stored["data"], stored["updated_idx"]) == (second["data"], second["updated_idx"])


def test_the_answer_is_the_record_as_stored(api: Api, sandbox: SandboxServer) -> None:
    """Records are answered as written, not read again: the answer must equal a fresh read."""
    first, second = _records(sandbox, "salesforce:contact", 2)
    response = _update(
        api,
        "salesforce:contact",
        (first["upstream_id"], {"Title": "Answered"}),
        (second["upstream_id"], {"Title": None}),
    )
    assert response.status_code == 200
    for answered, record in zip(response.json()["records"], (first, second), strict=True):
        stored = _current(sandbox, record)
        assert stored is not None
        assert answered["data"] == stored["data"]
        assert answered["updated_idx"] == stored["updated_idx"]
        assert answered["upstream_updated_at"] == stored["upstream_updated_at"]


# --- validation -------------------------------------------------------------------------------

_READ_ONLY_SF = (
    "INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: {}. Please check the "
    "security settings of this field and verify that it is read/write for your profile or "
    "permission set."
)
_JSON_PARSER = (
    "JSON_PARSER_ERROR: Cannot deserialize instance of {} or request may be missing a required "
    "field (field: {})"
)


def _hubspot(name: str, message: str, error: str) -> str:
    entry = {"isValid": False, "message": message, "error": error, "name": name}
    return f"Property values were not valid: {json.dumps([entry], separators=(',', ':'))}"


VALIDATION_CASES = [
    # Salesforce: contact
    ("salesforce:contact", {"Email": "foo"}, "Email",
     "INVALID_EMAIL_ADDRESS: Email: invalid email address: foo"),
    ("salesforce:contact", {"CreatedDate": "2024-01-01T00:00:00.000+0000"}, "CreatedDate",
     _READ_ONLY_SF.format("CreatedDate")),
    ("salesforce:contact", {"Id": "003000000000000AAA", "IsDeleted": True}, "Id",
     _READ_ONLY_SF.format("Id, IsDeleted")),
    ("salesforce:contact", {"Foo": "x"}, "Foo",
     "INVALID_FIELD: No such column 'Foo' on sobject of type Contact"),
    ("salesforce:contact", {"HasOptedOutOfEmail": "yes"}, "HasOptedOutOfEmail",
     _JSON_PARSER.format("boolean from VALUE_STRING value yes", "HasOptedOutOfEmail")),
    ("salesforce:contact", {"MailingAddress": "1 Main St"}, "MailingAddress",
     _JSON_PARSER.format("Address from VALUE_STRING value 1 Main St", "MailingAddress")),
    ("salesforce:contact", {"FirstName": ["Ann"]}, "FirstName",
     _JSON_PARSER.format("String from START_ARRAY value [", "FirstName")),
    ("salesforce:contact", {"LastName": None}, "LastName",
     "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]"),
    ("salesforce:contact", {"LastName": "  "}, "LastName",
     "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]"),
    # Salesforce: account
    ("salesforce:account", {"AnnualRevenue": "abc"}, "AnnualRevenue",
     _JSON_PARSER.format("double from VALUE_STRING value abc", "AnnualRevenue")),
    ("salesforce:account", {"NumberOfEmployees": 1.5}, "NumberOfEmployees",
     _JSON_PARSER.format("int from VALUE_NUMBER_FLOAT value 1.5", "NumberOfEmployees")),
    ("salesforce:account", {"NumberOfEmployees": True}, "NumberOfEmployees",
     _JSON_PARSER.format("int from VALUE_TRUE value true", "NumberOfEmployees")),
    ("salesforce:account", {"Name": ""}, "Name",
     "REQUIRED_FIELD_MISSING: Required fields are missing: [Name]"),
    ("salesforce:account", {"LastModifiedDate": None}, "LastModifiedDate",
     _READ_ONLY_SF.format("LastModifiedDate")),
    ("salesforce:account", {"Revenue": 1}, "Revenue",
     "INVALID_FIELD: No such column 'Revenue' on sobject of type Account"),
    # HubSpot
    ("hubspot:contact", {"email": "foo"}, "email",
     _hubspot("email", "Email address foo is invalid", "INVALID_EMAIL")),
    ("hubspot:contact", {"createdate": "2024-01-01T00:00:00.000Z"}, "createdate",
     _hubspot("createdate", '"createdate" is a read only property; its value cannot be set.',
              "READ_ONLY_VALUE")),
    ("hubspot:contact", {"foo": "x"}, "foo",
     _hubspot("foo", 'Property "foo" does not exist', "PROPERTY_DOESNT_EXIST")),
    ("hubspot:contact", {"hs_email_optout": "yes"}, "hs_email_optout",
     _hubspot("hs_email_optout", "yes was not one of the allowed options: [true, false]",
              "INVALID_OPTION")),
    ("hubspot:company", {"numberofemployees": "abc"}, "numberofemployees",
     _hubspot("numberofemployees", "abc was not a valid long.", "INVALID_LONG")),
    ("hubspot:company", {"annualrevenue": "abc"}, "annualrevenue",
     _hubspot("annualrevenue", "abc was not a valid number.", "INVALID_NUMBER")),
    ("hubspot:company", {"name": None}, "name",
     _hubspot("name", 'Property "name" is required and cannot be empty', "REQUIRED")),
    ("hubspot:company", {"hs_object_id": "1"}, "hs_object_id",
     _hubspot("hs_object_id", '"hs_object_id" is a read only property; its value cannot be set.',
              "READ_ONLY_VALUE")),
    # Stripe
    ("stripe:customer", {"email": "foo"}, "email", "Invalid email address: foo (param: email)"),
    ("stripe:customer", {"created": 1}, "created", "You cannot change `created`"),
    ("stripe:customer", {"livemode": True}, "livemode", "You cannot change `livemode`"),
    ("stripe:customer", {"foo": 1}, "foo", "Received unknown parameter: foo"),
    ("stripe:customer", {"balance": "abc"}, "balance", "Invalid integer: abc (param: balance)"),
    ("stripe:customer", {"delinquent": "abc"}, "delinquent",
     "Invalid boolean: abc (param: delinquent)"),
    ("stripe:customer", {"metadata": "x"}, "metadata", "Invalid object (param: metadata)"),
    ("stripe:customer", {"address": []}, "address", "Invalid object (param: address)"),
    ("stripe:customer", {"preferred_locales": "en"}, "preferred_locales",
     "Invalid array (param: preferred_locales)"),
]  # fmt: skip


@pytest.mark.parametrize(("collection_id", "patch", "key", "message"), VALIDATION_CASES)
def test_invalid_updates_are_refused_in_the_upstreams_words(
    api: Api,
    sandbox: SandboxServer,
    collection_id: str,
    patch: dict[str, Any],
    key: str,
    message: str,
) -> None:
    before = sandbox.store.any_record(collection_id)
    response = _update(api, collection_id, (before["upstream_id"], patch))
    assert response.status_code == 400
    label = LABELS[collection_id.split(":")[0]]
    assert response.json() == {
        "error": f"Error: {label} validation error: `{message}`",
        "docs": [],
    }
    assert key in message
    assert _current(sandbox, before) == before


def test_hubspot_lists_every_invalid_property_at_once(api: Api, sandbox: SandboxServer) -> None:
    record = sandbox.store.any_record("hubspot:contact")
    response = _update(api, "hubspot:contact", (record["upstream_id"], {"email": "x", "bar": 1}))
    error = response.json()["error"]
    listed = json.loads(error.split("Property values were not valid: ", 1)[1].rstrip("`"))
    assert [(e["name"], e["error"]) for e in listed] == [
        ("email", "INVALID_EMAIL"),
        ("bar", "PROPERTY_DOESNT_EXIST"),
    ]


def test_a_batch_is_not_atomic_the_first_refusal_stops_it(api: Api, sandbox: SandboxServer) -> None:
    first, second, third = _records(sandbox, "salesforce:contact", 3)
    response = _update(
        api,
        "salesforce:contact",
        (first["upstream_id"], {"Title": "Applied"}),
        (second["upstream_id"], {"Email": "not-an-email"}),
        (third["upstream_id"], {"Title": "Never reached"}),
    )
    assert response.status_code == 400
    assert "INVALID_EMAIL_ADDRESS" in response.json()["error"]
    assert _current(sandbox, first)["data"]["Title"] == "Applied"
    assert _current(sandbox, second) == second
    assert _current(sandbox, third) == third


# --- consumers, 404s and malformed requests ---------------------------------------------------


def test_awaiting_an_unknown_consumer_is_422_and_writes_nothing(
    api: Api, sandbox: SandboxServer
) -> None:
    record = sandbox.store.any_record("salesforce:contact")
    response = _update(
        api,
        "salesforce:contact",
        (record["upstream_id"], {"Title": "Nope"}),
        await_consumer_ids=[CONSUMER_IDS[0], "no-such-consumer"],
    )
    assert response.status_code == 422
    assert response.json() == {
        "summary": "Validation failed",
        "validation_errors": {"await_consumer_ids": ["unknown consumer: no-such-consumer"]},
    }
    assert _current(sandbox, record) == record


def test_awaiting_known_consumers_succeeds(api: Api, sandbox: SandboxServer) -> None:
    record = sandbox.store.any_record("stripe:customer")
    response = _update(
        api,
        "stripe:customer",
        (record["upstream_id"], {"name": "Awaited"}),
        await_consumer_ids=CONSUMER_IDS,
        await_consumers_timeout=5000,
    )
    assert response.status_code == 200
    assert response.json()["records"][0]["data"]["name"] == "Awaited"


@pytest.mark.parametrize(
    ("sync_id", "collection_id", "upstream_id"),
    [
        ("00000000-0000-0000-0000-000000000000", "salesforce:contact", None),
        (SALESFORCE_SYNC_ID, "hubspot:contact", None),
        (SALESFORCE_SYNC_ID, "salesforce:contact", "003000000000000AAA"),
    ],
)
def test_unknown_sync_collection_or_record_is_404(
    api: Api,
    sandbox: SandboxServer,
    sync_id: str,
    collection_id: str,
    upstream_id: str | None,
) -> None:
    upstream_id = upstream_id or sandbox.store.any_record(collection_id)["upstream_id"]
    response = api.mutate(
        kind="update",
        sync_id=sync_id,
        collection_id=collection_id,
        records=[{"upstream_id": upstream_id, "data": {"Title": "x"}}],
    )
    assert response.status_code == 404
    body = response.json()
    assert body["docs"] == []
    assert body["error"].startswith("Error: ")


def test_an_unknown_record_is_named_in_the_404(api: Api) -> None:
    response = _update(api, "salesforce:contact", ("003000000000000AAA", {"Title": "x"}))
    assert response.json() == {"error": "Error: Record not found: 003000000000000AAA", "docs": []}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"kind": "upsert", "sync_id": "s", "collection_id": "c", "records": []}',
        b'{"sync_id": "s", "collection_id": "c", "records": [{"data": {}}]}',
        b'{"kind": "update", "collection_id": "salesforce:contact", "records": [{"data": {}}]}',
        b'{"kind": "update", "sync_id": "s", "records": [{"data": {}}]}',
        b'{"kind": "update", "sync_id": "s", "collection_id": "c"}',
        b'{"kind": "update", "sync_id": "s", "collection_id": "c", "records": []}',
        b'{"kind": "update", "sync_id": "s", "collection_id": "c", "records": [{"data": {}}]}',
        b'{"kind": "update", "sync_id": "s", "collection_id": "c", '
        b'"records": [{"upstream_id": "x", "data": "Title"}]}',
        b'{"kind": "delete", "sync_id": "s", "collection_id": "c"}',
        b'{"kind": "delete", "sync_id": "s", "collection_id": "c", "upstream_ids": [1]}',
        b'{"kind": "create", "sync_id": "s", "collection_id": "c", '
        b'"records": [{"data": {"balance": NaN}}]}',
        b'{"kind": "create", "sync_id": "s", "collection_id": "c", "records": [{"data": {}}], '
        b'"await_consumer_ids": "crm-replica"}',
    ],
)
def test_malformed_mutation_requests_are_400(api: Api, body: bytes) -> None:
    response = api.session.post(
        api.url + "/v1/mutations/run",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=(2, 10),
    )
    assert response.status_code == 400
    payload = response.json()
    assert payload["docs"] == []
    assert payload["error"].startswith("Error: ")


# --- delete -----------------------------------------------------------------------------------


def test_delete_marks_records_deleted_and_returns_them(api: Api, sandbox: SandboxServer) -> None:
    first, second = _records(sandbox, "salesforce:contact", 2)
    cursor_before = _cursor_at_end(sandbox)
    response = api.mutate(
        kind="delete",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id="salesforce:contact",
        upstream_ids=[first["upstream_id"], second["upstream_id"]],
    )
    assert response.status_code == 200
    deleted = response.json()["records"]
    assert [r["upstream_id"] for r in deleted] == [first["upstream_id"], second["upstream_id"]]
    assert all(r["deleted"] is True and r["data"]["IsDeleted"] is True for r in deleted)
    assert _current(sandbox, first)["deleted"] is True
    listed = api.get("/v1/records", after_cursor=cursor_before).json()["records"]
    assert [(r["upstream_id"], r["deleted"]) for r in listed] == [
        (first["upstream_id"], True),
        (second["upstream_id"], True),
    ]
    again = _update(api, "salesforce:contact", (first["upstream_id"], {"Title": "x"}))
    assert again.status_code == 404
    twice = api.mutate(
        kind="delete",
        sync_id=SALESFORCE_SYNC_ID,
        collection_id="salesforce:contact",
        upstream_ids=[first["upstream_id"]],
    )
    assert twice.status_code == 404


def test_a_delete_batch_stops_at_the_first_unknown_id(api: Api, sandbox: SandboxServer) -> None:
    record = sandbox.store.any_record("stripe:customer")
    response = api.mutate(
        kind="delete",
        sync_id=STRIPE_SYNC_ID,
        collection_id="stripe:customer",
        upstream_ids=[record["upstream_id"], "cus_missing"],
    )
    assert response.status_code == 404
    assert response.json()["error"] == "Error: Record not found: cus_missing"
    assert _current(sandbox, record)["deleted"] is True


# --- create -----------------------------------------------------------------------------------

CREATES = [
    ("salesforce:contact",
     {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"},
     r"^0035g0[0-9A-Za-z]{9}[A-Z0-5]{3}$", "Id", "CreatedDate"),
    ("salesforce:account", {"Name": "House Atreides", "NumberOfEmployees": 12},
     r"^0015g0[0-9A-Za-z]{9}[A-Z0-5]{3}$", "Id", "CreatedDate"),
    ("hubspot:contact", {"email": "jessica@arrakis.org", "firstname": "Jessica"},
     r"^\d{11}$", "hs_object_id", "createdate"),
    ("hubspot:company", {"name": "Spacing Guild", "annualrevenue": 1e9},
     r"^\d{11}$", "hs_object_id", "createdate"),
    ("stripe:customer", {"name": "Duncan Idaho", "email": "duncan@ginaz.org"},
     r"^cus_[0-9A-Za-z]{14}$", "id", "created"),
]  # fmt: skip


@pytest.mark.parametrize(("collection_id", "data", "id_pattern", "id_key", "created_key"), CREATES)
def test_create_assigns_an_upstream_id_and_fills_the_whole_record(
    api: Api,
    sandbox: SandboxServer,
    collection_id: str,
    data: dict[str, Any],
    id_pattern: str,
    id_key: str,
    created_key: str,
) -> None:
    count = sandbox.store.count_records(collection_id)
    cursor = _cursor_at_end(sandbox)
    response = api.mutate(
        kind="create",
        sync_id=SYNC_OF[collection_id],
        collection_id=collection_id,
        records=[{"data": data}],
    )
    assert response.status_code == 200
    (record,) = response.json()["records"]
    assert re.match(id_pattern, record["upstream_id"])
    if collection_id.startswith("salesforce"):
        assert salesforce_checksum(record["upstream_id"][:15]) == record["upstream_id"][15:]
    assert record["data"][id_key] == record["upstream_id"]
    assert record["data"][created_key]
    assert {k: record["data"][k] for k in data} == data
    assert list(record["data"]) == [f.key for f in SCHEMAS[collection_id].fields]
    assert record["deleted"] is False
    assert record["upstream_created_at"] == record["upstream_updated_at"]
    assert sandbox.store.count_records(collection_id) == count + 1
    assert _current(sandbox, record) == record
    newest = api.get("/v1/records", after_cursor=cursor).json()["records"]
    assert newest == [record]


def test_stripe_create_gets_stripes_defaults(api: Api) -> None:
    response = api.mutate(
        kind="create",
        sync_id=STRIPE_SYNC_ID,
        collection_id="stripe:customer",
        records=[{"data": {"name": "Gurney Halleck"}}],
    )
    data = response.json()["records"][0]["data"]
    assert data["object"] == "customer"
    assert data["livemode"] is False
    assert data["balance"] == 0
    assert data["metadata"] == {}
    assert data["preferred_locales"] == []
    assert isinstance(data["created"], int)


@pytest.mark.parametrize(
    ("collection_id", "data", "message"),
    [
        ("salesforce:contact", {"FirstName": "Alia"},
         "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]"),
        ("salesforce:account", {"Name": "X", "CreatedDate": "2024-01-01T00:00:00.000+0000"},
         "Unable to create/update fields: CreatedDate."),
        ("hubspot:company", {"domain": "guild.example"}, '"name":"name"'),
        ("stripe:customer", {"id": "cus_mine"}, "You cannot change `id`"),
    ],
)  # fmt: skip
def test_create_enforces_required_and_read_only_fields(
    api: Api, sandbox: SandboxServer, collection_id: str, data: dict[str, Any], message: str
) -> None:
    count = sandbox.store.count_records(collection_id)
    response = api.mutate(
        kind="create",
        sync_id=SYNC_OF[collection_id],
        collection_id=collection_id,
        records=[{"data": data}],
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert sandbox.store.count_records(collection_id) == count


# --- someone else edits upstream --------------------------------------------------------------


def test_write_as_upstream_changes_data_and_moves_the_version(sandbox: SandboxServer) -> None:
    before = sandbox.store.any_record("salesforce:contact")
    after = sandbox.store.write_as_upstream(
        SALESFORCE_SYNC_ID, "salesforce:contact", before["upstream_id"], {"Phone": "+1 555 0100"}
    )
    assert after["data"]["Phone"] == "+1 555 0100"
    assert after["updated_idx"] > before["updated_idx"]
    assert after["upstream_updated_at"] > before["upstream_updated_at"]
    assert after["data"]["LastModifiedDate"] > before["data"]["LastModifiedDate"]
    assert _current(sandbox, before) == after
    with pytest.raises(KeyError):
        sandbox.store.write_as_upstream(SALESFORCE_SYNC_ID, "salesforce:contact", "nope", {})


def test_concurrent_updates_each_get_their_own_version(
    sandbox: SandboxServer, make_api: Callable[[str | None], Api]
) -> None:
    targets = _records(sandbox, "hubspot:contact", 8)

    def hammer(record: dict[str, Any]) -> list[int]:
        client = make_api(DEFAULT_TOKEN)  # one session per thread: Sessions are not thread-safe
        saved = [
            _update(client, "hubspot:contact", (record["upstream_id"], {"jobtitle": f"v{n}"}))
            for n in range(10)
        ]
        return [response.json()["records"][0]["updated_idx"] for response in saved]

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = [idx for batch in pool.map(hammer, targets) for idx in batch]
    assert len(versions) == len(set(versions)) == 80
    for record in targets:
        assert _current(sandbox, record)["data"]["jobtitle"] == "v9"
