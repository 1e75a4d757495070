"""Record ids spelled the way each upstream spells them."""

from __future__ import annotations

import random
import string
import uuid

# All sandbox uuids hang off this namespace, so ids are the same on every machine.
NAMESPACE = uuid.UUID("6f1c2a4e-5b1d-4c0e-9a3e-7d2b8c9f0a11")

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM_ALPHABET = string.ascii_uppercase + "012345"

# Salesforce key prefixes: the first three characters say which sObject an id belongs to.
SALESFORCE_KEY_PREFIXES = {"salesforce:contact": "003", "salesforce:account": "001"}
_SALESFORCE_POD = "5g"


def stable_uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def record_uuid(sync_id: str, collection_id: str, upstream_id: str) -> str:
    return stable_uuid(f"record:{sync_id}:{collection_id}:{upstream_id}")


def salesforce_checksum(id15: str) -> str:
    """The three-character suffix that makes a 15-char id case-insensitively unique."""
    suffix = ""
    for start in range(0, 15, 5):
        chunk = id15[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if char.isupper())
        suffix += _CHECKSUM_ALPHABET[bits]
    return suffix


def salesforce_id(collection_id: str, serial: int) -> str:
    prefix = SALESFORCE_KEY_PREFIXES[collection_id]
    digits = ""
    for _ in range(9):
        serial, rest = divmod(serial, 62)
        digits = _BASE62[rest] + digits
    id15 = f"{prefix}{_SALESFORCE_POD}0{digits}"
    return id15 + salesforce_checksum(id15)


def hubspot_id(rng: random.Random, digits: int) -> str:
    return str(rng.randrange(10 ** (digits - 1), 10**digits))


def stripe_id(rng: random.Random, prefix: str, length: int = 14) -> str:
    return prefix + "".join(rng.choice(_BASE62) for _ in range(length))


def new_upstream_id(collection_id: str, rng: random.Random) -> str:
    """A fresh id for a record the upstream is asked to create."""
    provider = collection_id.split(":", 1)[0]
    if provider == "salesforce":
        return salesforce_id(collection_id, rng.randrange(62**6, 62**9))
    if provider == "hubspot":
        return hubspot_id(rng, 11)
    if provider == "stripe":
        return stripe_id(rng, "cus_")
    raise ValueError(f"no id scheme for {collection_id}")
