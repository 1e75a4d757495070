"""What kind of input each field of a record gets, and which fields nobody may write."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FieldKind = Literal["text", "longtext", "integer", "number", "boolean", "json", "date", "datetime"]
# Strings the upstream writes as dates or instants: "2024-01-15"; "2024-01-15T09:12:04Z",
# HubSpot's "…04.123Z", Salesforce's "…04.000+0000", "…04+00:00".
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
# A text field is offered as a choice (a picklist) when a sample of the collection shows at
# most this many distinct values, each seen on average at least twice.
PICKLIST_MAX = 20
PICKLIST_REPEATS = 2

# Fields each provider sets itself; sending them earns a 400, so they are shown read-only.
READ_ONLY_KEYS: dict[str, frozenset[str]] = {
    "salesforce": frozenset(
        {
            "Id",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
            "IsDeleted",
            "LastActivityDate",
            "LastViewedDate",
            "LastReferencedDate",
            "MasterRecordId",
            "PhotoUrl",
        }
    ),
    "hubspot": frozenset(
        {"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_createdate"}
    ),
    "stripe": frozenset({"id", "object", "created", "livemode", "delinquent"}),
}
ANY_PROVIDER_READ_ONLY = frozenset({"id"})
LONG_TEXT = 120
# Keys shown first in tables and forms: the fields a person recognises a record by.
TELLING_KEYS = (
    "name",
    "firstname",
    "lastname",
    "first_name",
    "last_name",
    "email",
    "title",
    "jobtitle",
    "company",
    "phone",
    "industry",
    "domain",
    "website",
    "description",
)


def provider_of(collection_id: str) -> str:
    return collection_id.split(":", 1)[0]


def is_read_only(collection_id: str, key: str) -> bool:
    keys = READ_ONLY_KEYS.get(provider_of(collection_id), frozenset())
    return key in keys or key in ANY_PROVIDER_READ_ONLY


def kind_of(value: Any) -> FieldKind | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict | list):
        return "json"
    text = str(value)
    # Dates start with a digit: most text never reaches the two patterns.
    if text[:1].isdigit():
        if DATE_TEXT.match(text):
            return "date"
        if DATETIME_TEXT.match(text):
            return "datetime"
    return "longtext" if len(text) > LONG_TEXT or "\n" in text else "text"


# Kinds no value widens further (see the rules below).
_WIDEST: frozenset[FieldKind | None] = frozenset({"longtext", "number", "boolean", "json"})


def kinds_from_samples(
    samples: Iterable[Mapping[str, Any]], *, known: Mapping[str, FieldKind] | None = None
) -> dict[str, FieldKind]:
    """The kind of each key across records, so a field that is null here still gets the
    input its values elsewhere need (a number input for a null AnnualRevenue). `known`
    kinds are widened by the samples: a refresh adds each page to what it found before."""
    kinds: dict[str, FieldKind] = dict(known or {})
    for data in samples:
        for key, value in data.items():
            seen = kinds.get(key)
            if seen in _WIDEST:
                continue  # this runs for every field of every record a fill lists
            if seen == "text":
                # Most fields, most values: only a long or multi-line string widens text
                # (no date pattern matches one), so the rest need no kind of their own.
                if type(value) is str and (len(value) > LONG_TEXT or "\n" in value):
                    kinds[key] = "longtext"
                continue
            kind = kind_of(value)
            if kind is None:
                continue
            if seen is None or (seen, kind) == ("text", "longtext"):
                kinds[key] = kind
            elif (seen, kind) == ("integer", "number"):
                kinds[key] = "number"
            elif seen in ("date", "datetime") and kind in ("text", "longtext"):
                kinds[key] = kind  # a field that also holds free text is edited as text
    return kinds


def picklists_from_samples(
    samples: Iterable[Mapping[str, Any]], *, collection_id: str
) -> dict[str, list[str]]:
    """Text fields whose values repeat from a small set (`Status`, `LeadSource`), each with
    its values, most frequent first. Free-text fields a person tells records apart by (names,
    emails, titles) never are, however few their values in a sample."""
    seen: dict[str, Counter[str]] = {}
    dropped: set[str] = set()
    for data in samples:
        for key, value in data.items():
            if key in dropped or value is None or value == "":
                continue
            if not isinstance(value, str) or kind_of(value) != "text":
                dropped.add(key)
                seen.pop(key, None)
                continue
            counts = seen.setdefault(key, Counter())
            counts[value] += 1
            if len(counts) > PICKLIST_MAX:
                dropped.add(key)
                del seen[key]
    return {
        key: [value for value, _ in counts.most_common()]
        for key, counts in seen.items()
        if counts.total() >= PICKLIST_REPEATS * len(counts)
        and telling_rank(key) == len(TELLING_KEYS)
        and not is_read_only(collection_id, key)
        and reference_collection(collection_id, key) is None
    }


def reference_collection(collection_id: str, key: str) -> str | None:
    """The collection a field points into, by the provider's naming: Salesforce's `AccountId`
    is an id of `salesforce:account`; HubSpot's `associatedcompanyid` one of `hubspot:company`;
    Stripe's `customer` one of `stripe:customer`."""
    provider = provider_of(collection_id)
    leaf = key.rsplit(".", 1)[-1]
    if provider == "salesforce" and leaf.endswith("Id") and len(leaf) > 2 and leaf != "Id":
        return f"salesforce:{leaf[:-2].lower()}"
    if provider == "hubspot" and leaf.startswith("associated") and leaf.endswith("id"):
        return f"hubspot:{leaf.removeprefix('associated').removesuffix('id')}"
    if provider == "stripe" and leaf in ("customer", "product", "price", "invoice"):
        return f"stripe:{leaf}"
    return None


@dataclass(frozen=True)
class FieldSpec:
    key: str
    kind: FieldKind
    value: Any
    read_only: bool
    # The values seen for a picklist field, most frequent first; empty for other fields.
    choices: tuple[str, ...] = field(default=())


def field_specs(
    *,
    collection_id: str,
    data: Mapping[str, Any],
    sample_kinds: Mapping[str, FieldKind],
    picklists: Mapping[str, Iterable[str]] | None = None,
) -> list[FieldSpec]:
    picklists = picklists or {}
    specs = [
        FieldSpec(
            key=key,
            kind=_kind_for(value, sample_kinds.get(key)),
            value=value,
            read_only=is_read_only(collection_id, key),
            choices=tuple(picklists.get(key, ())),
        )
        for key, value in data.items()
    ]
    return sorted(specs, key=lambda s: (s.read_only, telling_rank(s.key)))


def _kind_for(value: Any, sampled: FieldKind | None) -> FieldKind:
    own = kind_of(value)
    if own == "text" and sampled == "longtext":
        return "longtext"
    if own == "integer" and sampled == "number":
        return "number"
    if own in ("date", "datetime") and sampled in ("text", "longtext"):
        return sampled
    return own or sampled or "text"


def telling_rank(key: str) -> int:
    lowered = key.lower()
    for rank, telling in enumerate(TELLING_KEYS):
        # `contact_email` is telling, `HasOptedOutOfEmail` is not.
        if lowered == telling or lowered.endswith(f"_{telling}"):
            return rank
    return len(TELLING_KEYS)


def telling_columns(keys: Iterable[str], *, collection_id: str, count: int = 4) -> list[str]:
    candidates = [k for k in keys if not is_read_only(collection_id, k)]
    return sorted(candidates, key=telling_rank)[:count]
