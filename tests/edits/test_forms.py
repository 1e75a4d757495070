"""The edit form's diff: only what the person changed, with JSON types kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sequin_admin.edits.forms import (
    MAX_JSON_DEPTH,
    MAX_VALUE_CHARS,
    FormState,
    RecordForm,
    fields_named_in,
    parse_new_value,
)
from sequin_admin.records.fields import field_specs

DATA: dict[str, Any] = {
    "Id": "0031",
    "FirstName": "Ada",
    "Title": None,
    "NumberOfEmployees": 12,
    "HasOptedOutOfEmail": False,
    "MailingAddress": {"city": "London"},
}


def form(**posted: str) -> RecordForm:
    state = FormState(
        sync_id="s",
        collection_id="salesforce:contact",
        upstream_id="0031",
        updated_idx=7,
        values=DATA,
    )
    data = {
        "state": state.sign(),
        "data.FirstName": "Ada",
        "data.Title": "",
        "data.NumberOfEmployees": "12",
        "data.HasOptedOutOfEmail": "false",
        "data.MailingAddress": '{"city": "London"}',
        **posted,
    }
    specs = field_specs(collection_id="salesforce:contact", data=DATA, sample_kinds={})
    bound = RecordForm(data, form_state=FormState.load(data["state"]), specs=specs)
    assert bound.is_valid(), bound.errors
    return bound


def test_unchanged_form_has_no_changes() -> None:
    assert form().changes == {}


def test_only_changed_fields_with_their_json_types() -> None:
    changed = form(
        **{
            "data.FirstName": "Augusta",
            "data.NumberOfEmployees": "40",
            "data.HasOptedOutOfEmail": "true",
            "data.MailingAddress": '{"city": "Paris", "zip": null}',
        }
    ).changes
    assert changed == {
        "FirstName": "Augusta",
        "NumberOfEmployees": 40,
        "HasOptedOutOfEmail": True,
        "MailingAddress": {"city": "Paris", "zip": None},
    }


def test_emptied_field_and_null_checkbox_send_null() -> None:
    assert form(**{"data.FirstName": ""}).changes == {"FirstName": None}
    assert form(**{"null.NumberOfEmployees": "on"}).changes == {"NumberOfEmployees": None}


def test_a_null_field_left_empty_is_unchanged_and_typing_sets_it() -> None:
    assert form(**{"data.Title": "CEO"}).changes == {"Title": "CEO"}


def test_fields_left_out_of_the_post_are_unchanged() -> None:
    specs = field_specs(collection_id="salesforce:contact", data=DATA, sample_kinds={})
    state = FormState("s", "salesforce:contact", "0031", 7, DATA)
    bound = RecordForm(
        {"state": state.sign(), "data.FirstName": "Grace"}, form_state=state, specs=specs
    )
    assert bound.is_valid()
    assert bound.changes == {"FirstName": "Grace"}


def test_read_only_fields_have_no_input() -> None:
    assert "data.Id" not in form().fields


def test_new_field() -> None:
    changed = form(new_field_name="Nickname", new_field_kind="text", new_field_value="Ada L.")
    assert changed.changes == {"Nickname": "Ada L."}
    specs = field_specs(collection_id="salesforce:contact", data=DATA, sample_kinds={})
    state = FormState("s", "salesforce:contact", "0031", 7, DATA)
    clash = RecordForm(
        {"state": state.sign(), "new_field_name": "FirstName", "new_field_value": "x"},
        form_state=state,
        specs=specs,
    )
    assert not clash.is_valid()
    assert "already has a field" in str(clash.errors)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("number", "3", 3),
        ("number", "2.5", 2.5),
        ("boolean", "TRUE", True),
        ("json", "[1]", [1]),
        ("null", "ignored", None),
        ("text", " spaced ", " spaced "),
    ],
)
def test_new_values_by_kind(kind: str, text: str, value: Any) -> None:
    assert parse_new_value(kind, text) == value


def test_state_is_signed() -> None:
    state = FormState("s", "c", "u", 1, {"a": 1})
    assert FormState.load(state.sign()) == state
    assert FormState.load(state.sign() + "x") is None
    assert FormState.load("") is None


def test_a_post_without_a_signed_state_is_invalid() -> None:
    specs = field_specs(collection_id="salesforce:contact", data=DATA, sample_kinds={})
    forged = RecordForm({"state": "forged", "data.FirstName": "Eve"}, form_state=None, specs=specs)
    assert not forged.is_valid()
    assert "not issued by this server" in str(forged.errors["state"])


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", '{"a": NaN}'])
def test_json_outside_the_standard_is_refused_before_sending(text: str) -> None:
    specs = field_specs(collection_id="salesforce:contact", data=DATA, sample_kinds={})
    state = FormState("s", "salesforce:contact", "0031", 7, DATA)
    bound = RecordForm(
        {"state": state.sign(), "data.MailingAddress": text}, form_state=state, specs=specs
    )
    assert not bound.is_valid()
    assert "data.MailingAddress" in bound.errors
    with pytest.raises(ValueError, match="not a number JSON can carry"):
        parse_new_value("number", "nan")


def test_upstream_messages_land_on_the_field_they_name() -> None:
    message = "INVALID_EMAIL_ADDRESS: Email: invalid email address: x"
    assert fields_named_in(message, ["Email", "HasOptedOutOfEmail", "Title"]) == ["Email"]


def posted(**fields: str) -> RecordForm:
    specs = field_specs(collection_id="salesforce:contact", data=DATA, sample_kinds={})
    state = FormState("s", "salesforce:contact", "0031", 7, DATA)
    return RecordForm({"state": state.sign(), **fields}, form_state=state, specs=specs)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_deeper_than_the_bound_is_refused_with_a_message() -> None:
    deep = posted(**{"data.MailingAddress": nested(MAX_JSON_DEPTH + 1)})
    assert not deep.is_valid()
    assert f"at most {MAX_JSON_DEPTH}" in str(deep.errors["data.MailingAddress"])
    assert posted(**{"data.MailingAddress": nested(MAX_JSON_DEPTH)}).is_valid()
    # Brackets inside strings are text, not nesting.
    assert posted(**{"data.MailingAddress": json.dumps(["[" * 500])}).is_valid()
    with pytest.raises(ValueError, match=f"at most {MAX_JSON_DEPTH}"):
        parse_new_value("json", nested(100_000))


def test_a_changed_value_longer_than_the_bound_is_refused() -> None:
    long = posted(**{"data.FirstName": "x" * (MAX_VALUE_CHARS + 1)})
    assert not long.is_valid()
    assert f"longer than {MAX_VALUE_CHARS:,} characters" in str(long.errors["data.FirstName"])
    new = posted(new_field_name="Notes", new_field_value="x" * (MAX_VALUE_CHARS + 1))
    assert not new.is_valid() and "new_field_value" in new.errors
    assert posted(**{"data.FirstName": "x" * (MAX_VALUE_CHARS - 2)}).is_valid()
