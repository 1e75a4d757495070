"""Per-collection field rules, and each upstream's wording when a write breaks them.

Sequin passes the upstream's refusal through as text inside its own error envelope
(`Error: Salesforce validation error: `...``), so the sandbox words each refusal the way
Salesforce, HubSpot and Stripe do, and always names the offending key as the provider spells it.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from sequin_admin.sandbox.timestamps import iso_z_millis, salesforce_datetime, unix_seconds

FieldType = Literal[
    "string", "email", "integer", "number", "boolean", "object", "array", "datetime"
]
# Values the upstream fills in itself: the record's own id, and its created/modified stamps.
AutoValue = Literal["id", "created", "modified"]
IssueKind = Literal["unknown", "type", "read_only", "email", "required"]

PROVIDER_LABELS = {"salesforce": "Salesforce", "hubspot": "HubSpot", "stripe": "Stripe"}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass(frozen=True)
class Field:
    key: str
    type: FieldType = "string"
    read_only: bool = False
    required: bool = False
    auto: AutoValue | None = None
    # Stored when a create leaves the key out (deep-copied, so mutable defaults are safe).
    default: Any = None


@dataclass(frozen=True)
class CollectionSchema:
    collection_id: str
    object_name: str
    fields: tuple[Field, ...]

    @cached_property
    def _by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    @property
    def provider(self) -> str:
        return self.collection_id.split(":", 1)[0]

    @property
    def provider_label(self) -> str:
        return PROVIDER_LABELS[self.provider]

    def field(self, key: str) -> Field | None:
        return self._by_key.get(key)

    def keys_where(self, **flags: bool) -> list[str]:
        return [f.key for f in self.fields if all(getattr(f, k) == v for k, v in flags.items())]


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    key: str
    value: Any = None
    field_type: str = ""


def _ro(key: str, type_: FieldType = "datetime", auto: AutoValue | None = None) -> Field:
    return Field(key, type_, read_only=True, auto=auto)


_STRIPE_INVOICE_SETTINGS = {
    "custom_fields": None,
    "default_payment_method": None,
    "footer": None,
    "rendering_options": None,
}

SCHEMAS: dict[str, CollectionSchema] = {
    s.collection_id: s
    for s in (
        CollectionSchema(
            "salesforce:contact",
            "Contact",
            (
                _ro("Id", "string", auto="id"),
                Field("FirstName"),
                Field("LastName", required=True),
                Field("Email", "email"),
                Field("Phone"),
                Field("Title"),
                Field("AccountId"),
                Field("HasOptedOutOfEmail", "boolean", default=False),
                Field("LeadSource"),
                Field("MailingAddress", "object"),
                Field("Description"),
                _ro("CreatedDate", auto="created"),
                _ro("LastModifiedDate", auto="modified"),
                _ro("SystemModstamp", auto="modified"),
                Field("IsDeleted", "boolean", read_only=True, default=False),
            ),
        ),
        CollectionSchema(
            "salesforce:account",
            "Account",
            (
                _ro("Id", "string", auto="id"),
                Field("Name", required=True),
                Field("Industry"),
                Field("Type"),
                Field("Website"),
                Field("Phone"),
                Field("AnnualRevenue", "number"),
                Field("NumberOfEmployees", "integer"),
                Field("BillingAddress", "object"),
                Field("Description"),
                _ro("CreatedDate", auto="created"),
                _ro("LastModifiedDate", auto="modified"),
            ),
        ),
        CollectionSchema(
            "hubspot:contact",
            "contact",
            (
                _ro("hs_object_id", "string", auto="id"),
                Field("email", "email"),
                Field("firstname"),
                Field("lastname"),
                Field("phone"),
                Field("company"),
                Field("jobtitle"),
                Field("lifecyclestage"),
                Field("hs_email_optout", "boolean"),
                _ro("createdate", auto="created"),
                _ro("lastmodifieddate", auto="modified"),
            ),
        ),
        CollectionSchema(
            "hubspot:company",
            "company",
            (
                _ro("hs_object_id", "string", auto="id"),
                Field("name", required=True),
                Field("domain"),
                Field("industry"),
                Field("numberofemployees", "integer"),
                Field("annualrevenue", "number"),
                Field("city"),
                Field("country"),
                _ro("createdate", auto="created"),
                _ro("hs_lastmodifieddate", auto="modified"),
            ),
        ),
        CollectionSchema(
            "stripe:customer",
            "customer",
            (
                _ro("id", "string", auto="id"),
                Field("object", "string", read_only=True, default="customer"),
                Field("address", "object"),
                Field("balance", "integer", default=0),
                _ro("created", "integer", auto="created"),
                Field("currency"),
                Field("delinquent", "boolean", default=False),
                Field("description"),
                Field("email", "email"),
                Field("invoice_settings", "object", default=_STRIPE_INVOICE_SETTINGS),
                Field("livemode", "boolean", read_only=True, default=False),
                Field("metadata", "object", default={}),
                Field("name"),
                Field("phone"),
                Field("preferred_locales", "array", default=[]),
            ),
        ),
    )
}


# --- validation -------------------------------------------------------------------------------


def _fits(field_type: FieldType, value: Any) -> bool:
    if field_type in ("string", "email", "datetime"):
        return isinstance(value, str)
    if field_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if field_type == "number":
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if field_type == "boolean":
        return isinstance(value, bool)
    if field_type == "object":
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate(schema: CollectionSchema, data: Mapping[str, Any], *, creating: bool) -> list[Issue]:
    """Every rule `data` breaks, in the order the keys were sent; missing required keys last."""
    issues: list[Issue] = []
    for key, value in data.items():
        rule = schema.field(key)
        if rule is None:
            issues.append(Issue("unknown", key, value))
        elif rule.read_only:
            issues.append(Issue("read_only", key, value))
        elif rule.required and _blank(value):
            issues.append(Issue("required", key, value))
        elif value is None:
            continue
        elif not _fits(rule.type, value):
            issues.append(Issue("type", key, value, rule.type))
        elif rule.type == "email" and value != "" and not _EMAIL.match(value):
            issues.append(Issue("email", key, value))
    if creating:
        for key in schema.keys_where(required=True):
            if key not in data:
                issues.append(Issue("required", key))
    return issues


# --- each upstream's wording ------------------------------------------------------------------


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _jackson_token(value: Any) -> str:
    """How Salesforce's JSON parser names the value it choked on."""
    if isinstance(value, bool):
        return f"VALUE_{str(value).upper()} value {str(value).lower()}"
    if isinstance(value, int):
        return f"VALUE_NUMBER_INT value {value}"
    if isinstance(value, float):
        return f"VALUE_NUMBER_FLOAT value {value}"
    if isinstance(value, dict):
        return "START_OBJECT value {"
    if isinstance(value, list):
        return "START_ARRAY value ["
    return f"VALUE_STRING value {value}"


_JAVA_TYPES = {
    "string": "String",
    "email": "String",
    "datetime": "Datetime",
    "integer": "int",
    "number": "double",
    "boolean": "boolean",
    "object": "Address",
    "array": "List",
}

# Salesforce stops at the first phase that fails: parsing, field-level security, validation.
_SALESFORCE_PHASES: tuple[IssueKind, ...] = ("unknown", "type", "read_only", "email", "required")


def _salesforce_message(schema: CollectionSchema, issues: list[Issue]) -> str:
    for phase in _SALESFORCE_PHASES:
        hits = [issue for issue in issues if issue.kind == phase]
        if hits:
            break
    first = hits[0]
    if phase == "unknown":
        return (
            f"INVALID_FIELD: No such column '{first.key}' on sobject of type {schema.object_name}"
        )
    if phase == "type":
        java = _JAVA_TYPES[first.field_type]
        return (
            f"JSON_PARSER_ERROR: Cannot deserialize instance of {java} from "
            f"{_jackson_token(first.value)} or request may be missing a required field "
            f"(field: {first.key})"
        )
    if phase == "read_only":
        keys = ", ".join(issue.key for issue in hits)
        return (
            f"INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: {keys}. "
            "Please check the security settings of this field and verify that it is "
            "read/write for your profile or permission set."
        )
    if phase == "email":
        return f"INVALID_EMAIL_ADDRESS: {first.key}: invalid email address: {first.value}"
    keys = ", ".join(issue.key for issue in hits)
    return f"REQUIRED_FIELD_MISSING: Required fields are missing: [{keys}]"


_HUBSPOT_TYPE_ERRORS = {
    "integer": ("{value} was not a valid long.", "INVALID_LONG"),
    "number": ("{value} was not a valid number.", "INVALID_NUMBER"),
    "boolean": ("{value} was not one of the allowed options: [true, false]", "INVALID_OPTION"),
}


def _hubspot_entry(issue: Issue) -> dict[str, Any]:
    shown = _shown(issue.value)
    if issue.kind == "unknown":
        message, code = f'Property "{issue.key}" does not exist', "PROPERTY_DOESNT_EXIST"
    elif issue.kind == "read_only":
        message = f'"{issue.key}" is a read only property; its value cannot be set.'
        code = "READ_ONLY_VALUE"
    elif issue.kind == "email":
        message, code = f"Email address {shown} is invalid", "INVALID_EMAIL"
    elif issue.kind == "required":
        message, code = f'Property "{issue.key}" is required and cannot be empty', "REQUIRED"
    else:
        template, code = _HUBSPOT_TYPE_ERRORS.get(
            issue.field_type, ("{value} was not a valid string.", "INVALID_STRING")
        )
        message = template.format(value=shown)
    return {"isValid": False, "message": message, "error": code, "name": issue.key}


def _hubspot_message(issues: list[Issue]) -> str:
    """HubSpot reports every invalid property at once, as a JSON list inside the text."""
    entries = [_hubspot_entry(issue) for issue in issues]
    listed = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    return f"Property values were not valid: {listed}"


_STRIPE_TYPE_ERRORS = {
    "integer": "Invalid integer: {value}",
    "number": "Invalid decimal: {value}",
    "boolean": "Invalid boolean: {value}",
    "object": "Invalid object",
    "array": "Invalid array",
}


def _stripe_message(issue: Issue) -> str:
    # Stripe names the parameter in a separate `param` field; Sequin's text carries only the
    # message, so the parameter is appended where the message itself would not name it.
    shown = _shown(issue.value)
    if issue.kind == "unknown":
        return f"Received unknown parameter: {issue.key}"
    if issue.kind == "read_only":
        return f"You cannot change `{issue.key}`"
    if issue.kind == "required":
        return f"Missing required param: {issue.key}."
    if issue.kind == "email":
        return f"Invalid email address: {shown} (param: {issue.key})"
    template = _STRIPE_TYPE_ERRORS.get(issue.field_type, "Invalid string: {value}")
    return template.format(value=shown) + f" (param: {issue.key})"


def upstream_message(schema: CollectionSchema, issues: list[Issue]) -> str:
    if schema.provider == "salesforce":
        return _salesforce_message(schema, issues)
    if schema.provider == "hubspot":
        return _hubspot_message(issues)
    return _stripe_message(issues[0])


def validation_error_text(schema: CollectionSchema, issues: list[Issue]) -> str:
    """Sequin's envelope around the upstream's message."""
    message = upstream_message(schema, issues)
    return f"Error: {schema.provider_label} validation error: `{message}`"


# --- what the upstream itself writes ----------------------------------------------------------


def format_stamp(schema: CollectionSchema, rule: Field, moment: datetime) -> str | int:
    if rule.type == "integer":
        return unix_seconds(moment)
    if schema.provider == "salesforce":
        return salesforce_datetime(moment)
    return iso_z_millis(moment)


def normalize(schema: CollectionSchema, data: Mapping[str, Any]) -> dict[str, Any]:
    """Salesforce and Stripe store an empty text value as no value at all; HubSpot keeps `""`."""
    result = dict(data)
    if schema.provider in ("salesforce", "stripe"):
        for key, value in data.items():
            rule = schema.field(key)
            if value == "" and rule is not None and rule.type in ("string", "email"):
                result[key] = None
    return result


# The fields the upstream stamps on a change, as it writes them: one write, one moment.
Stamps = dict[str, str | int]


def modified_stamps(schema: CollectionSchema, moment: datetime) -> Stamps:
    """The fields the upstream sets on every change, as it writes them for `moment`."""
    return {
        rule.key: format_stamp(schema, rule, moment)
        for rule in schema.fields
        if rule.auto == "modified"
    }


def stamp_modified(schema: CollectionSchema, data: dict[str, Any], moment: datetime) -> None:
    data.update(modified_stamps(schema, moment))


def new_record_data(
    schema: CollectionSchema, given: Mapping[str, Any], upstream_id: str, moment: datetime
) -> dict[str, Any]:
    """The full record the upstream holds after a create: every key, in the provider's order."""
    data: dict[str, Any] = {}
    for rule in schema.fields:
        if rule.auto == "id":
            data[rule.key] = upstream_id
        elif rule.auto in ("created", "modified"):
            data[rule.key] = format_stamp(schema, rule, moment)
        elif rule.key in given:
            data[rule.key] = given[rule.key]
        else:
            data[rule.key] = copy.deepcopy(rule.default)
    return data


def mark_deleted(schema: CollectionSchema, data: dict[str, Any]) -> None:
    if schema.field("IsDeleted") is not None:
        data["IsDeleted"] = True
