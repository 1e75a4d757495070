"""Record titles: rules per provider, the settings' override, nested keys, the id last."""

from __future__ import annotations

import pytest
from django.conf import LazySettings

from sequin_admin.records.titles import record_title, value_at


def title(collection_id: str, data: dict) -> str:
    return record_title(collection_id=collection_id, data=data, upstream_id="UP-1")


@pytest.mark.parametrize(
    ("collection_id", "data", "expected"),
    [
        ("salesforce:account", {"Name": "Acme", "FirstName": "x"}, "Acme"),
        ("salesforce:contact", {"FirstName": "Ada", "LastName": "Lovelace"}, "Ada Lovelace"),
        ("salesforce:contact", {"FirstName": None, "LastName": "Lovelace"}, "Lovelace"),
        ("stripe:customer", {"name": None, "email": "a@b.co"}, "a@b.co"),
        ("hubspot:company", {"properties": {"name": "Acme", "domain": "acme.io"}}, "Acme"),
        ("hubspot:contact", {"properties": {"firstname": "Ada", "lastname": "L"}}, "Ada L"),
        ("hubspot:contact", {"properties": {"email": "a@b.co"}}, "a@b.co"),
        ("hubspot:company", {"properties": {"domain": "acme.io"}}, "acme.io"),
        ("hubspot:contact", {"firstname": "Ada", "lastname": None}, "Ada"),
        ("zendesk:ticket", {"subject": "Printer on fire"}, "Printer on fire"),
        ("zendesk:ticket", {"title": "  "}, "UP-1"),
        ("github:issue", {"name": {"first": "nested objects are no title"}}, "UP-1"),
        ("github:issue", {}, "UP-1"),
    ],
)
def test_titles_follow_the_rules(collection_id: str, data: dict, expected: str) -> None:
    assert title(collection_id, data) == expected


def test_the_settings_override_comes_first_and_falls_back_to_the_rules(
    settings: LazySettings,
) -> None:
    settings.SEQUIN_ADMIN_TITLES = {
        "salesforce:contact": "{LastName}, {FirstName} ({MailingAddress.city})",
        "stripe:customer": ["{metadata.crm_segment}"],
    }
    data = {"FirstName": "Ada", "LastName": "Lovelace", "MailingAddress": {"city": "London"}}
    assert title("salesforce:contact", data) == "Lovelace, Ada (London)"
    assert title("stripe:customer", {"name": "Acme", "metadata": {}}) == "Acme"
    assert title("stripe:customer", {"name": "Acme", "metadata": {"crm_segment": "smb"}}) == "smb"


def test_placeholders_reach_keys_only_never_attributes(settings: LazySettings) -> None:
    settings.SEQUIN_ADMIN_TITLES = {"x:y": "{name.__class__}{name[0]}"}
    assert title("x:y", {"name": "Ada"}) == "Ada"


def test_long_titles_are_cut() -> None:
    assert len(title("stripe:customer", {"name": "n" * 500})) == 80


def test_value_at_reads_dotted_paths_and_dotted_keys() -> None:
    assert value_at({"a": {"b": {"c": 1}}}, "a.b.c") == 1
    assert value_at({"a.b": 2}, "a.b") == 2
    assert value_at({"a": "text"}, "a.b") is None
