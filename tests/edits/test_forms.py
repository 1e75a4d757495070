"""The edit form's diff: only what the person changed, with JSON types kept."""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone

from sequin_admin.edits.forms import (
    MAX_JSON_DEPTH,
    MAX_VALUE_CHARS,
    OTHER_CHOICE,
    FormState,
    RecordForm,
    fields_named_in,
    parse_new_value,
    spelled_like,
)
from sequin_admin.records.fields import field_specs, kinds_from_samples

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


TYPED: dict[str, Any] = {
    "LeadSource": "Web",
    "Birthdate": "1990-04-01",
    "LastCallAt": "2024-01-15T09:12:04.120+0000",
    "Title": "CTO",
}


def typed_form(posted: dict[str, str] | None = None) -> RecordForm:
    state = FormState(
        sync_id="s",
        collection_id="salesforce:contact",
        upstream_id="0031",
        updated_idx=7,
        values=TYPED,
    )
    kinds = kinds_from_samples([TYPED])
    specs = field_specs(
        collection_id="salesforce:contact",
        data=TYPED,
        sample_kinds=kinds,
        picklists={"LeadSource": ["Web", "Partner", "Trade Show"]},
    )
    if posted is None:
        return RecordForm(form_state=state, specs=specs)
    data = {"state": state.sign(), **posted}
    return RecordForm(data, form_state=FormState.load(data["state"]), specs=specs)


def as_posted_by_the_page(form: RecordForm) -> dict[str, str]:
    """The inputs' rendered values, as a browser would post them untouched."""
    html = str(form)
    return {
        name: value for name, value in re.findall(r'name="(data\.[^"]+)"[^>]*value="([^"]*)"', html)
    } | {"data.LeadSource": "Web"}


def test_date_fields_get_date_inputs_and_round_trip() -> None:
    html = str(typed_form()["data.Birthdate"])
    assert 'type="date"' in html and 'value="1990-04-01"' in html
    changed = typed_form({"data.Birthdate": "1990-04-02"})
    assert changed.is_valid(), changed.errors
    assert changed.changes == {"Birthdate": "1990-04-02"}


def test_datetimes_show_in_the_persons_timezone_and_go_back_in_the_upstreams_spelling() -> None:
    with timezone.override(zoneinfo.ZoneInfo("Europe/Oslo")):
        html = str(typed_form()["data.LastCallAt"])
        assert 'type="datetime-local"' in html and 'value="2024-01-15T10:12:04"' in html
        untouched = typed_form(as_posted_by_the_page(typed_form()))
        assert untouched.is_valid(), untouched.errors
        assert untouched.changes == {}  # the lost milliseconds are no change
        moved = typed_form({"data.LastCallAt": "2024-07-01T02:30"})
        assert moved.is_valid(), moved.errors
        assert moved.changes == {"LastCallAt": "2024-07-01T00:30:00.000+0000"}  # CEST is +2


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("2024-01-15T09:12:04.123Z", "2024-07-01T00:30:00.000Z"),
        ("2024-01-15T09:12:04Z", "2024-07-01T00:30:00Z"),
        ("2024-01-15T09:12:04+00:00", "2024-07-01T00:30:00+00:00"),
        ("", "2024-07-01T00:30:00Z"),
    ],
)
def test_instants_are_spelled_as_the_upstream_spells_them(example: str, expected: str) -> None:
    moment = datetime(2024, 7, 1, 2, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Oslo"))
    assert spelled_like(moment, example) == expected


def test_picklists_offer_the_values_seen_plus_other() -> None:
    html = str(typed_form()["data.LeadSource"])
    assert '<option value="Web" selected>Web</option>' in html
    assert f'<option value="{OTHER_CHOICE}">other…</option>' in html
    assert 'name="data.LeadSource.other"' in html
    assert 'data-other-input="id_data.LeadSource.other"' in html
    picked = typed_form({"data.LeadSource": "Partner"})
    assert picked.is_valid() and picked.changes == {"LeadSource": "Partner"}
    other = typed_form({"data.LeadSource": OTHER_CHOICE, "data.LeadSource.other": "Podcast"})
    assert other.is_valid() and other.changes == {"LeadSource": "Podcast"}
    assert str(typed_form()["data.Title"]).startswith("<input")  # free text stays text


def test_a_value_outside_the_picklist_shows_under_other() -> None:
    state_values = {**TYPED, "LeadSource": "<Podcast>"}
    specs = field_specs(
        collection_id="salesforce:contact",
        data=state_values,
        sample_kinds={},
        picklists={"LeadSource": ["Web"]},
    )
    state = FormState(
        sync_id="s",
        collection_id="salesforce:contact",
        upstream_id="0031",
        updated_idx=7,
        values=state_values,
    )
    html = str(RecordForm(form_state=state, specs=specs)["data.LeadSource"])
    assert f'<option value="{OTHER_CHOICE}" selected>' in html
    assert 'value="&lt;Podcast&gt;"' in html


def test_upstream_values_are_escaped_in_every_kind_of_input() -> None:
    """The widgets render through Jinja2 (forms.WIDGET_RENDERER): its autoescaping must hold
    for inputs, text areas and the options of a picklist."""
    markup = '"><script>alert(1)</script>'
    values = {
        "Id": "0031",
        "FirstName": markup,
        "Description": markup + "\n" * 3 + "x" * 300,
        "MailingAddress": {"city": markup},
        "LeadSource": "Web",
    }
    specs = field_specs(
        collection_id="salesforce:contact",
        data=values,
        sample_kinds={},
        picklists={"LeadSource": ["Web", markup]},
    )
    state = FormState(
        sync_id="s",
        collection_id="salesforce:contact",
        upstream_id="0031",
        updated_idx=7,
        values=values,
    )
    shown = RecordForm(form_state=state, specs=specs)
    html = "".join(str(shown[name]) for name in shown.fields)
    assert "<script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html  # text input
    assert "&lt;script&gt;" in str(shown["data.Description"])  # text area
    assert "&lt;script&gt;" in str(shown["data.MailingAddress"])  # JSON
    assert "&lt;script&gt;" in str(shown["data.LeadSource"])  # a picklist's option
    assert 'class="textinput form-control"' in str(shown["data.FirstName"])
