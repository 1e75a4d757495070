"""What kind of input each field of a record gets, and which fields nobody may write."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

FieldKind = Literal["text", "longtext", "integer", "number", "boolean", "json"]

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
    return "longtext" if len(text) > LONG_TEXT or "\n" in text else "text"


def kinds_from_samples(
    samples: Iterable[Mapping[str, Any]], *, known: Mapping[str, FieldKind] | None = None
) -> dict[str, FieldKind]:
    """The kind of each key across records, so a field that is null here still gets the
    input its values elsewhere need (a number input for a null AnnualRevenue). `known`
    kinds are widened by the samples: a refresh adds each page to what it found before."""
    kinds: dict[str, FieldKind] = dict(known or {})
    for data in samples:
        for key, value in data.items():
            kind = kind_of(value)
            if kind is None:
                continue
            seen = kinds.get(key)
            if seen is None or (seen, kind) == ("text", "longtext"):
                kinds[key] = kind
            elif (seen, kind) == ("integer", "number"):
                kinds[key] = "number"
    return kinds


@dataclass(frozen=True)
class FieldSpec:
    key: str
    kind: FieldKind
    value: Any
    read_only: bool


def field_specs(
    *, collection_id: str, data: Mapping[str, Any], sample_kinds: Mapping[str, FieldKind]
) -> list[FieldSpec]:
    specs = [
        FieldSpec(
            key=key,
            kind=_kind_for(value, sample_kinds.get(key)),
            value=value,
            read_only=is_read_only(collection_id, key),
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
