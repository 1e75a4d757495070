"""Which input each field gets, which are read-only, which columns tell a record apart."""

from __future__ import annotations

from sequin_admin.records.fields import (
    field_specs,
    is_read_only,
    kinds_from_samples,
    picklists_from_samples,
    reference_collection,
    telling_columns,
)
from sequin_admin.records.values import same_value


def test_read_only_fields_per_provider() -> None:
    assert is_read_only("salesforce:contact", "CreatedDate")
    assert is_read_only("stripe:customer", "object")
    assert is_read_only("hubspot:contact", "hs_object_id")
    assert not is_read_only("salesforce:contact", "Email")


def test_a_null_field_gets_the_kind_its_values_have_elsewhere() -> None:
    kinds = kinds_from_samples(
        [{"AnnualRevenue": None}, {"AnnualRevenue": 1200}, {"AnnualRevenue": 1.5}]
    )
    assert kinds["AnnualRevenue"] == "number"
    specs = field_specs(
        collection_id="salesforce:account",
        data={"AnnualRevenue": None, "Id": "001"},
        sample_kinds=kinds,
    )
    assert [(s.key, s.kind, s.read_only) for s in specs] == [
        ("AnnualRevenue", "number", False),
        ("Id", "text", True),
    ]


def test_long_text_and_json_kinds() -> None:
    specs = field_specs(
        collection_id="stripe:customer",
        data={"description": "x" * 300, "metadata": {}, "preferred_locales": ["en"]},
        sample_kinds={},
    )
    assert {s.key: s.kind for s in specs} == {
        "description": "longtext",
        "metadata": "json",
        "preferred_locales": "json",
    }


def test_telling_columns_come_first() -> None:
    keys = ["Id", "HasOptedOutOfEmail", "LeadSource", "Email", "Title", "LastName", "FirstName"]
    assert telling_columns(keys, collection_id="salesforce:contact") == [
        "FirstName",
        "LastName",
        "Email",
        "Title",
    ]


def test_same_value_is_json_equality() -> None:
    assert same_value(5, 5.0)
    assert not same_value(True, 1)
    assert not same_value("", None)
    assert same_value({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})


def test_dates_and_instants_are_their_own_kinds_unless_the_field_holds_text_too() -> None:
    kinds = kinds_from_samples(
        [
            {"Birthdate": "1990-04-01", "At": "2024-01-15T09:12:04.000+0000", "Note": "1990-04-01"},
            {"Birthdate": None, "At": "2024-01-15T09:12:04.123Z", "Note": "call back"},
        ]
    )
    assert kinds == {"Birthdate": "date", "At": "datetime", "Note": "text"}


def test_picklists_are_text_fields_with_few_repeated_values() -> None:
    samples = [
        {"LeadSource": source, "Email": f"p{i}@x.io", "Title": "CTO", "Type": None, "Id": "1"}
        for i, source in enumerate(["Web", "Partner", "Web", "Web", "Partner", ""] * 4)
    ]
    samples.append({"Score": 3, "Status": "Open", "Tags": ["a"]})
    samples.append({"Status": "Open"})
    found = picklists_from_samples(samples, collection_id="salesforce:contact")
    # Email has as many values as records; Title is free text a person names records by;
    # Id is read-only.
    assert found == {"LeadSource": ["Web", "Partner"], "Status": ["Open"]}
    many = [{"City": f"c{i % 30}"} for i in range(300)]
    assert picklists_from_samples(many, collection_id="x:y") == {}


def test_reference_fields_point_into_the_providers_collections() -> None:
    assert reference_collection("salesforce:contact", "AccountId") == "salesforce:account"
    assert reference_collection("salesforce:contact", "Id") is None
    assert reference_collection("hubspot:contact", "associatedcompanyid") == "hubspot:company"
    assert (
        reference_collection("hubspot:contact", "properties.associatedcompanyid")
        == "hubspot:company"
    )
    assert reference_collection("stripe:invoice", "customer") == "stripe:customer"
    assert reference_collection("stripe:customer", "email") is None


def test_kinds_widen_across_samples_and_never_narrow() -> None:
    kinds = kinds_from_samples(
        [
            {"Note": "short", "Due": "2024-01-02", "Seen": "2024-01-02T03:04:05Z", "N": 1},
            {"Note": "line one\nline two", "Due": "next week", "Seen": None, "N": 2.5},
            {"Note": "short again", "Due": "2024-02-03", "Seen": "3 days ago", "N": 7},
        ]
    )
    assert kinds == {"Note": "longtext", "Due": "text", "Seen": "text", "N": "number"}
    # What a later page holds widens what earlier pages found, and never narrows it.
    later = kinds_from_samples(
        [{"Note": "x", "Due": "y" * 300, "Flag": True, "Meta": {"a": 1}}], known=kinds
    )
    assert later == {**kinds, "Due": "longtext", "Flag": "boolean", "Meta": "json"}
    assert kinds_from_samples([{"At": "12 Main St"}, {"At": "2024-01-02"}]) == {"At": "text"}


def test_text_widens_only_to_long_text_whatever_else_it_later_holds() -> None:
    samples: list[dict[str, object]] = [{"Name": "Ada"}]
    samples += [{"Name": value} for value in (7, 2.5, True, {"a": 1}, ["x"], "2024-01-02")]
    assert kinds_from_samples(samples) == {"Name": "text"}
    assert kinds_from_samples([*samples, {"Name": "a" * 121}]) == {"Name": "longtext"}
    assert kinds_from_samples([*samples, {"Name": "two\nlines"}]) == {"Name": "longtext"}
    assert kinds_from_samples([*samples, {"Name": "a" * 120}]) == {"Name": "text"}
