"""The seeded demo: three syncs, three HTTP consumers, a Postgres consumer, 6,000 records.

Everything comes from string-seeded `random.Random` instances (seeded through SHA-512, so
PYTHONHASHSEED does not matter) and uuid5 ids, and all clocks are fixed: every machine seeds
byte-for-byte the same data. Each collection has its own generator, so resizing one collection
leaves the others unchanged.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sequin_admin.sandbox.demo_words import (
    COMPANY_KINDS,
    COMPANY_WORDS,
    FIRST_NAMES,
    HS_INDUSTRIES,
    HS_LIFECYCLE_STAGES,
    LAST_NAMES,
    LEAD_SOURCES,
    LEGAL_SUFFIXES,
    NOTE_SENTENCES,
    PLACES,
    SF_ACCOUNT_TYPES,
    SF_INDUSTRIES,
    STREETS,
    TITLES,
    TLDS,
)
from sequin_admin.sandbox.ids import (
    hubspot_id,
    record_uuid,
    salesforce_id,
    stable_uuid,
    stripe_id,
)
from sequin_admin.sandbox.timestamps import (
    iso_z,
    iso_z_millis,
    parse_iso,
    salesforce_datetime,
    unix_seconds,
)

DEFAULT_TOKEN = "sandbox-token"  # nosec B105  # the sandbox's published token, not a secret
SEED = "sequin-sandbox-v1"
# How Sequin shows a stored credential's secret.
MASKED_SECRET = "********"  # nosec B105  # a placeholder, not a secret

ORG_ID = stable_uuid("org:acme")
STREAM_ID = stable_uuid("stream:default")
SALESFORCE_SYNC_ID = stable_uuid("sync:salesforce")
HUBSPOT_SYNC_ID = stable_uuid("sync:hubspot")
STRIPE_SYNC_ID = stable_uuid("sync:stripe")
CRM_REPLICA_CONSUMER_ID = stable_uuid("consumer:crm-replica")
SEARCH_INDEXER_CONSUMER_ID = stable_uuid("consumer:search-indexer")
BILLING_WEBHOOKS_CONSUMER_ID = stable_uuid("consumer:billing-webhooks")
CONSUMER_IDS = [CRM_REPLICA_CONSUMER_ID, SEARCH_INDEXER_CONSUMER_ID, BILLING_WEBHOOKS_CONSUMER_ID]
WAREHOUSE_CONSUMER_ID = stable_uuid("consumer:postgres-warehouse")
POSTGRES_CONSUMER_IDS = [WAREHOUSE_CONSUMER_ID]
# How long each consumer takes to process a mutation, so an await really waits (not on the
# wire: Sequin does not say, and a real consumer's pace varies).
CONFIRM_MS = {
    CRM_REPLICA_CONSUMER_ID: 40,
    SEARCH_INDEXER_CONSUMER_ID: 120,
    BILLING_WEBHOOKS_CONSUMER_ID: 60,
    WAREHOUSE_CONSUMER_ID: 80,
}

COLLECTION_SIZES = {
    "salesforce:contact": 2000,
    "salesforce:account": 800,
    "hubspot:contact": 1500,
    "hubspot:company": 500,
    "stripe:customer": 1200,
}

# The demo's "today"; seeded history ends here, later writes use the real clock.
DEMO_NOW = datetime(2024, 6, 28, 16, 0, tzinfo=UTC)
_HISTORY_START = datetime(2019, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoData:
    syncs: list[dict[str, Any]]
    consumers: list[dict[str, Any]]
    postgres_consumers: list[dict[str, Any]]
    records: list[dict[str, Any]]


@dataclass(frozen=True)
class _Company:
    name: str
    domain: str
    place: tuple[Any, ...]


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")  # nosec B311  # seeded: the same demo data everywhere


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span), milliseconds=rng.randrange(1000))


def _maybe(rng: random.Random, chance: float, make: Callable[[], Any]) -> Any:
    """`make()` most of the time, `None` with probability 1 - chance."""
    return make() if rng.random() < chance else None


@cache
def _ascii(text: str) -> str:
    text = text.replace("Ł", "L").replace("ł", "l").replace("ø", "o").replace("ß", "ss")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _phone(rng: random.Random, place: tuple[Any, ...]) -> str:
    prefix = place[5]
    if prefix.startswith("+1 "):
        return f"({prefix[3:]}) 555-01{rng.randrange(100):02d}"
    return f"{prefix} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"


def _street(rng: random.Random) -> str:
    line = f"{rng.randrange(1, 2400)} {rng.choice(STREETS)}"
    if rng.random() < 0.2:
        line += f"\nSuite {rng.randrange(100, 1900)}"
    return line


def _salesforce_address(rng: random.Random, place: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "street": _street(rng),
        "city": place[0],
        "state": place[1],
        "postalCode": rng.choice(place[2]),
        "country": place[3],
    }


def _notes(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
        count = rng.randrange(1, 6)
        paragraphs.append(" ".join(rng.sample(NOTE_SENTENCES, count)))
    return "\n\n".join(paragraphs)


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _email(rng: random.Random, first: str, last: str, domain: str) -> str:
    first, last = _ascii(first), _ascii(last)
    style = rng.randrange(4)
    if style == 0:
        local = f"{first}.{last}"
    elif style == 1:
        local = f"{first[0]}{last}"
    elif style == 2:
        local = first
    else:
        local = f"{first}.{last}{rng.randrange(2, 99)}"
    return f"{local}@{domain}"


_COMPANY_PAIRS = [(word, kind) for word in COMPANY_WORDS for kind in COMPANY_KINDS]


def _companies(rng: random.Random, count: int) -> list[_Company]:
    companies = []
    for word, kind in rng.sample(_COMPANY_PAIRS, count):
        domain = _ascii(word + kind) + rng.choice(TLDS)
        name = f"{word} {kind}{rng.choice(LEGAL_SUFFIXES)}"
        companies.append(_Company(name, domain, rng.choice(PLACES)))
    return companies


def _unique_ids(make: Callable[[], str], count: int) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(make(), None)
    return list(seen)


@dataclass
class _Row:
    collection_id: str
    upstream_id: str
    created: datetime
    updated: datetime
    data: dict[str, Any]


def _salesforce_accounts(count: int) -> list[_Row]:
    rng = _rng("salesforce:account")
    ids = [salesforce_id("salesforce:account", 40_000 + n * 7919) for n in range(count)]
    rows = []
    for upstream_id, company in zip(ids, _companies(rng, count), strict=True):
        created = _moment(rng, _HISTORY_START, DEMO_NOW - timedelta(days=30))
        updated = _moment(rng, created, DEMO_NOW)
        data = {
            "Id": upstream_id,
            "Name": company.name,
            "Industry": _maybe(rng, 0.9, lambda: rng.choice(SF_INDUSTRIES)),
            "Type": rng.choice(SF_ACCOUNT_TYPES),
            "Website": _maybe(rng, 0.85, lambda c=company: f"https://www.{c.domain}"),
            "Phone": _maybe(rng, 0.8, lambda c=company: _phone(rng, c.place)),
            "AnnualRevenue": _maybe(rng, 0.7, lambda: float(rng.randrange(2, 90_000) * 10_000)),
            "NumberOfEmployees": _maybe(
                rng, 0.85, lambda: rng.choice((5, 40, 250, 2000)) + rng.randrange(200)
            ),
            "BillingAddress": _maybe(
                rng, 0.85, lambda c=company: _salesforce_address(rng, c.place)
            ),
            "Description": _maybe(rng, 0.5, lambda: _notes(rng)),
            "CreatedDate": salesforce_datetime(created),
            "LastModifiedDate": salesforce_datetime(updated),
        }
        rows.append(_Row("salesforce:account", upstream_id, created, updated, data))
    return rows


def _salesforce_contacts(count: int, accounts: list[_Row]) -> list[_Row]:
    rng = _rng("salesforce:contact")
    ids = [salesforce_id("salesforce:contact", 90_000 + n * 104_729) for n in range(count)]
    rows = []
    for upstream_id in ids:
        first, last = _person(rng)
        account = rng.choice(accounts)
        domain = account.data["Website"] or "example.com"
        domain = domain.removeprefix("https://www.")
        place = rng.choice(PLACES)
        created = _moment(rng, _HISTORY_START, DEMO_NOW - timedelta(days=7))
        updated = _moment(rng, created, DEMO_NOW)
        data = {
            "Id": upstream_id,
            "FirstName": _maybe(rng, 0.97, lambda f=first: f),
            "LastName": last,
            "Email": _maybe(rng, 0.92, lambda f=first, la=last, d=domain: _email(rng, f, la, d)),
            "Phone": _maybe(rng, 0.75, lambda p=place: _phone(rng, p)),
            "Title": _maybe(rng, 0.8, lambda: rng.choice(TITLES)),
            "AccountId": _maybe(rng, 0.93, lambda a=account: a.upstream_id),
            "HasOptedOutOfEmail": rng.random() < 0.12,
            "LeadSource": _maybe(rng, 0.8, lambda: rng.choice(LEAD_SOURCES)),
            "MailingAddress": _maybe(rng, 0.8, lambda p=place: _salesforce_address(rng, p)),
            "Description": _maybe(rng, 0.4, lambda: _notes(rng)),
            "CreatedDate": salesforce_datetime(created),
            "LastModifiedDate": salesforce_datetime(updated),
            "SystemModstamp": salesforce_datetime(updated + timedelta(seconds=rng.randrange(3))),
            "IsDeleted": False,
        }
        rows.append(_Row("salesforce:contact", upstream_id, created, updated, data))
    return rows


def _hubspot_companies(count: int) -> list[_Row]:
    rng = _rng("hubspot:company")
    ids = _unique_ids(lambda: hubspot_id(rng, 10), count)
    rows = []
    for upstream_id, company in zip(ids, _companies(rng, count), strict=True):
        created = _moment(rng, _HISTORY_START, DEMO_NOW - timedelta(days=30))
        updated = _moment(rng, created, DEMO_NOW)
        data = {
            "hs_object_id": upstream_id,
            "name": company.name,
            "domain": company.domain,
            "industry": _maybe(rng, 0.8, lambda: rng.choice(HS_INDUSTRIES)),
            "numberofemployees": _maybe(rng, 0.8, lambda: rng.randrange(2, 12_000)),
            "annualrevenue": _maybe(rng, 0.6, lambda: round(rng.uniform(5e4, 8e8), 2)),
            "city": company.place[0],
            "country": company.place[3],
            "createdate": iso_z_millis(created),
            "hs_lastmodifieddate": iso_z_millis(updated),
        }
        rows.append(_Row("hubspot:company", upstream_id, created, updated, data))
    return rows


def _hubspot_contacts(count: int, companies: list[_Row]) -> list[_Row]:
    rng = _rng("hubspot:contact")
    ids = _unique_ids(lambda: hubspot_id(rng, 11), count)
    rows = []
    for upstream_id in ids:
        first, last = _person(rng)
        company = rng.choice(companies).data
        created = _moment(rng, _HISTORY_START, DEMO_NOW - timedelta(days=7))
        updated = _moment(rng, created, DEMO_NOW)
        data = {
            "hs_object_id": upstream_id,
            "email": _maybe(
                rng, 0.95, lambda f=first, la=last, c=company: _email(rng, f, la, c["domain"])
            ),
            "firstname": first,
            "lastname": _maybe(rng, 0.9, lambda la=last: la),
            "phone": _maybe(rng, 0.6, lambda: _phone(rng, rng.choice(PLACES))),
            "company": _maybe(rng, 0.85, lambda c=company: c["name"]),
            "jobtitle": _maybe(rng, 0.7, lambda: rng.choice(TITLES)),
            "lifecyclestage": rng.choice(HS_LIFECYCLE_STAGES),
            "hs_email_optout": _maybe(rng, 0.9, lambda: rng.random() < 0.1),
            "createdate": iso_z_millis(created),
            "lastmodifieddate": iso_z_millis(updated),
        }
        rows.append(_Row("hubspot:contact", upstream_id, created, updated, data))
    return rows


def _stripe_address(rng: random.Random) -> dict[str, Any]:
    place = rng.choice(PLACES)
    return {
        "city": place[0],
        "country": place[4],
        "line1": _street(rng).split("\n")[0],
        "line2": _maybe(rng, 0.25, lambda: f"Suite {rng.randrange(100, 900)}"),
        "postal_code": rng.choice(place[2]),
        "state": place[1],
    }


def _stripe_customers(count: int) -> list[_Row]:
    rng = _rng("stripe:customer")
    ids = _unique_ids(lambda: stripe_id(rng, "cus_"), count)
    rows = []
    for upstream_id in ids:
        first, last = _person(rng)
        is_business = rng.random() < 0.35
        company = _companies(rng, 1)[0] if is_business else None
        name = company.name if company else f"{first} {last}"
        domain = (
            company.domain if company else rng.choice(("gmail.com", "outlook.com", "proton.me"))
        )
        created = _moment(rng, _HISTORY_START, DEMO_NOW - timedelta(days=1))
        updated = _moment(rng, created, DEMO_NOW)
        balance = 0
        if rng.random() < 0.25:
            balance = rng.choice((-1, 1)) * rng.randrange(100, 250_00)
        metadata: dict[str, str] = {}
        if rng.random() < 0.6:
            metadata = {"crm_segment": rng.choice(("smb", "mid-market", "enterprise"))}
            if rng.random() < 0.5:
                metadata["signup_source"] = rng.choice(("website", "sales", "partner"))
        footer = _maybe(rng, 0.15, lambda: "Thank you for your business.")
        custom_fields = _maybe(
            rng, 0.1, lambda: [{"name": "VAT", "value": f"DE{rng.randrange(10**8, 10**9)}"}]
        )
        data = {
            "id": upstream_id,
            "object": "customer",
            "address": _maybe(rng, 0.7, lambda: _stripe_address(rng)),
            "balance": balance,
            "created": unix_seconds(created),
            "currency": _maybe(rng, 0.85, lambda: rng.choice(("usd", "usd", "eur", "gbp"))),
            "delinquent": rng.random() < 0.08,
            "description": _maybe(rng, 0.3, lambda: _notes(rng)),
            "email": _maybe(rng, 0.95, lambda f=first, la=last, d=domain: _email(rng, f, la, d)),
            "invoice_settings": {
                "custom_fields": custom_fields,
                "default_payment_method": _maybe(rng, 0.6, lambda: stripe_id(rng, "pm_", 24)),
                "footer": footer,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": metadata,
            "name": name,
            "phone": _maybe(rng, 0.4, lambda: _phone(rng, rng.choice(PLACES))),
            "preferred_locales": rng.choice(([], [], [], ["en-US"], ["fr-FR", "en"], ["de"])),
        }
        rows.append(_Row("stripe:customer", upstream_id, created, updated, data))
    return rows


_SYNC_PLAN = (
    # sync id, provider, name, collections, rate limit, frequency, created
    (
        SALESFORCE_SYNC_ID,
        "salesforce",
        "Acme Salesforce (production)",
        ["salesforce:contact", "salesforce:account"],
        {"allowed_requests": 28_800, "interval": 86_400_000, "max_concurrent_requests": 5},
        "continuous",
        datetime(2024, 1, 15, 9, 12, 4, tzinfo=UTC),
    ),
    (
        HUBSPOT_SYNC_ID,
        "hubspot",
        "Acme HubSpot",
        ["hubspot:contact", "hubspot:company"],
        {"allowed_requests": 28_800, "interval": 86_400_000, "max_concurrent_requests": 4},
        "continuous",
        datetime(2024, 2, 2, 14, 40, 51, tzinfo=UTC),
    ),
    (
        STRIPE_SYNC_ID,
        "stripe",
        "Acme Stripe (live)",
        ["stripe:customer"],
        {"allowed_requests": 2, "interval": 1000, "max_concurrent_requests": 2},
        "4h",
        datetime(2024, 3, 11, 8, 3, 27, tzinfo=UTC),
    ),
)


def _syncs() -> list[dict[str, Any]]:
    syncs = []
    for sync_id, provider, name, collections, rate_limit, frequency, created in _SYNC_PLAN:
        credential_id = stable_uuid(f"credential:{provider}")
        backfilled = created + timedelta(hours=2, minutes=17)
        syncs.append(
            {
                "id": sync_id,
                "provider": provider,
                "stream_id": STREAM_ID,
                "name": name,
                "org_id": ORG_ID,
                "status": "active",
                "health": {"status": "healthy", "sync_id": sync_id},
                "collection_ids": collections,
                "rate_limit": rate_limit,
                "credential_id": credential_id,
                "credential": {
                    "id": credential_id,
                    "provider": provider,
                    "properties": {
                        "kind": provider,
                        "name": f"{name} credential",
                        "secret": MASKED_SECRET,
                        "test": False,
                    },
                    "oauth_app_id": None,
                    "oauth_app": {"kind": "sequin"} if provider != "stripe" else None,
                    "metadata": {},
                    "created_at": iso_z(created - timedelta(minutes=3)),
                    "updated_at": iso_z(created - timedelta(minutes=3)),
                },
                "max_age_days": None,
                "sync_frequency": frequency,
                "initial_backfill_completed_at": iso_z(backfilled),
                "metadata": {"tenant": "acme", "environment": "production"},
                "created_at": iso_z(created),
                "updated_at": iso_z(backfilled),
            }
        )
    return syncs


def _consumers() -> list[dict[str, Any]]:
    plan = (
        (CRM_REPLICA_CONSUMER_ID, "crm-replica", "all", 30_000, -1, 1000,
         {"provider": "salesforce", "sync_id": "*", "collection_id": "*"}, {"team": "revops"}),
        (SEARCH_INDEXER_CONSUMER_ID, "search-indexer", "new", 60_000, 10, 500,
         {"provider": "*", "sync_id": "*", "collection_id": "*"}, {"team": "platform"}),
        (BILLING_WEBHOOKS_CONSUMER_ID, "billing-webhooks", "all", 15_000, 25, 100,
         {"provider": "stripe", "sync_id": STRIPE_SYNC_ID, "collection_id": "stripe:customer"},
         {"team": "billing", "owner": "payments-oncall"}),
    )  # fmt: skip
    consumers = []
    for n, (cid, name, policy, ack_wait, max_deliver, max_pending, filters, meta) in enumerate(
        plan
    ):
        created = datetime(2024, 3, 20, 10, 0, tzinfo=UTC) + timedelta(days=9 * n, minutes=41 * n)
        consumers.append(
            {
                "id": cid,
                "stream_id": STREAM_ID,
                "name": name,
                "deliver_policy": policy,
                "ack_wait_ms": ack_wait,
                "max_deliver": max_deliver,
                "max_ack_pending": max_pending,
                "filters": filters,
                "metadata": meta,
                "created_at": iso_z(created),
                "updated_at": iso_z(created + timedelta(days=2)),
            }
        )
    return consumers


def _postgres_consumers() -> list[dict[str, Any]]:
    """A managed Postgres consumer writing one sync into one table (its own list endpoint)."""
    created = datetime(2024, 4, 15, 9, 30, tzinfo=UTC)
    return [
        {
            "id": WAREHOUSE_CONSUMER_ID,
            "stream_id": STREAM_ID,
            "name": "warehouse",
            "table_name": "sequin.salesforce_records",
            "filters": {
                "provider": "salesforce",
                "sync_id": SALESFORCE_SYNC_ID,
                "collection_id": "*",
            },
            "metadata": {"team": "data"},
            "created_at": iso_z(created),
            "updated_at": iso_z(created + timedelta(hours=3)),
        }
    ]


def generate() -> DemoData:
    syncs = _syncs()
    sync_of = {c: s for s in syncs for c in s["collection_ids"]}
    accounts = _salesforce_accounts(COLLECTION_SIZES["salesforce:account"])
    companies = _hubspot_companies(COLLECTION_SIZES["hubspot:company"])
    rows = [
        *_salesforce_contacts(COLLECTION_SIZES["salesforce:contact"], accounts),
        *accounts,
        *_hubspot_contacts(COLLECTION_SIZES["hubspot:contact"], companies),
        *companies,
        *_stripe_customers(COLLECTION_SIZES["stripe:customer"]),
    ]
    rng = _rng("sequin")
    records: list[dict[str, Any]] = []
    order_keys: list[tuple[datetime, str]] = []
    for row in rows:
        sync = sync_of[row.collection_id]
        record_id = record_uuid(sync["id"], row.collection_id, row.upstream_id)
        # Sequin first saw a record when the backfill reached it, or when it was later created.
        seen = max(row.created, parse_iso(sync["created_at"]))
        order_keys.append((row.updated, record_id))
        records.append(
            {
                "id": record_id,
                "sync_id": sync["id"],
                "collection_id": row.collection_id,
                "provider": sync["provider"],
                "stream_id": sync["stream_id"],
                "upstream_id": row.upstream_id,
                "upstream_created_at": iso_z(row.created),
                "upstream_updated_at": iso_z(row.updated),
                "created_at": iso_z(seen + timedelta(seconds=rng.randrange(1, 600))),
                "data": row.data,
                "deleted": False,
            }
        )
    # Sequin hands out updated_idx in the order it saw changes: oldest change first.
    ordered = [record for _, record in sorted(zip(order_keys, records, strict=True))]
    for idx, record in enumerate(ordered, start=1):
        record["updated_idx"] = idx
    return DemoData(
        syncs=syncs,
        consumers=_consumers(),
        postgres_consumers=_postgres_consumers(),
        records=ordered,
    )
