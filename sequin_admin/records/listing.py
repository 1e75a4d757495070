"""What the collection page lists: a query parsed from the address, and its pages.

One address holds the whole listing, so it can be bookmarked, shared and walked with Back:

    ?q=acme                      search (every word, in any value)
    ?deleted=live|deleted|all
    ?sort=Name  ?sort=-Name      by a field of the record (dotted for nested keys:
                                 MailingAddress.city), ascending or descending; without it,
                                 newest first (-updated_idx)
    ?f.Status.eq=Open&f.Status.eq=Closed    either value
    ?f.Email.contains=acme  ?f.Phone.empty=1  ?f.AnnualRevenue.gte=1000  ?f.CloseDate.lte=2024-12-31
    ?after=KEY  ?before=KEY  ?page=last     keyset paging

`ListingQuery.from_params` reads it (anything it cannot use is dropped and named in
`problems`, never an error); `index_page` lists one page of it, `index_matching` every record
it matches, `index_count` how many that is.

Pages are keyset pages: a key holds the sort value, `updated_idx` and the id of the row a page
ends on, and the next page starts right after it, so page 10,000 costs what page 1 costs. A
sort or filter on a field of the records' JSON uses one expression index per field (see
field_indexes.py for the design and why), so it stays a range scan over a million rows;
missing and null values come first ascending and last descending, on both databases.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import QueryDict

from .field_indexes import FieldCondition, FieldValue, field_index_ensure, is_field_path, value_at
from .fields import FieldKind
from .models import IndexedCollection, IndexedRecord
from .search import search_rows

DeletedFilter = Literal["live", "deleted", "all"]
DELETED_FILTERS: tuple[DeletedFilter, ...] = ("live", "deleted", "all")
PAGE_SIZE = 50
# Each term is one more LIKE; SQLite refuses a query past ~1,000 of them, and nobody types ten.
MAX_SEARCH_TERMS = 10
FilterOp = Literal["eq", "contains", "empty", "gte", "lte"]
FILTER_OPS: tuple[FilterOp, ...] = ("eq", "contains", "empty", "gte", "lte")
FILTER_PREFIX = "f."
# The default order, a column of the index rather than a field of the records.
NEWEST_FIRST = "-updated_idx"
# The record's own id sorts as a column too (unique in a collection: no ties, no nulls).
UPSTREAM_ID = "upstream_id"
# Bounds on what an address may ask, so a crafted one costs no more than a typed one.
MAX_FILTER_VALUES = 30
MAX_VALUE_LENGTH = 200
# Counted exactly up to this many matches; beyond it, estimated ("about N").
COUNT_LIMIT = 1_000
# Rows read to estimate a large count on SQLite, and to find a collection's few-valued fields.
SAMPLE_SIZE = 1_000
# A field is offered as a choice of values when it has at most this many among the sample.
MAX_CHOICES = 12
MAX_CHOICE_LENGTH = 60


@dataclass(frozen=True)
class FieldFilter:
    path: str
    op: FilterOp
    values: tuple[str, ...]

    @property
    def param(self) -> str:
        return f"{FILTER_PREFIX}{self.path}.{self.op}"


@dataclass(frozen=True)
class ListingQuery:
    q: str = ""
    deleted: DeletedFilter = "live"
    # A field path, or "updated_idx" for the default order.
    sort_path: str = "updated_idx"
    descending: bool = True
    filters: tuple[FieldFilter, ...] = ()
    after: str | None = None
    before: str | None = None
    last: bool = False
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_params(cls, params: QueryDict) -> ListingQuery:
        problems: list[str] = []
        deleted: DeletedFilter = next(
            (d for d in DELETED_FILTERS if d == params.get("deleted")), "live"
        )
        sort = params.get("sort", "").strip() or NEWEST_FIRST
        descending = sort.startswith("-")
        sort_path = sort.removeprefix("-")
        if not is_field_path(sort_path):
            problems.append(f"Cannot sort by “{sort_path[:MAX_VALUE_LENGTH]}”.")
            sort_path, descending = "updated_idx", True
        filters: list[FieldFilter] = []
        budget = MAX_FILTER_VALUES
        for param in params:
            if not param.startswith(FILTER_PREFIX):
                continue
            path, _, op = param.removeprefix(FILTER_PREFIX).rpartition(".")
            given = (v.strip() for v in params.getlist(param))
            values = list(dict.fromkeys(v for v in given if v))[:budget]
            if not values:
                continue
            parsed = _filter(path, op, values, problems)
            if parsed is not None:
                budget -= len(parsed.values)
                filters.append(parsed)
        return cls(
            q=params.get("q", "").strip(),
            deleted=deleted,
            sort_path=sort_path,
            descending=descending,
            filters=tuple(filters),
            after=params.get("after") or None,
            before=params.get("before") or None,
            last=params.get("page") == "last",
            problems=tuple(problems),
        )

    @property
    def sort(self) -> str:
        """The `sort` parameter that asks for this order."""
        return f"{'-' if self.descending else ''}{self.sort_path}"

    @property
    def is_default_order(self) -> bool:
        return self.sort_path == "updated_idx"

    @property
    def sorted_by_id(self) -> bool:
        return self.sort_path == UPSTREAM_ID

    @property
    def sorted_by_field(self) -> bool:
        """Sorted by a field of the records' data."""
        return not self.is_default_order and not self.sorted_by_id

    @property
    def narrowed(self) -> bool:
        """Whether it lists fewer than every record of its `deleted` kind."""
        return bool(search_terms(self.q) or self.filters)

    def restricted_to(self, known_keys: Iterable[str]) -> ListingQuery:
        """Without sorts and filters on fields the collection does not have (the first part of
        a path must be one of its keys); each one dropped is named in `problems`."""
        keys = set(known_keys)
        problems = list(self.problems)
        query = self
        if self.sorted_by_field and self.sort_path.split(".")[0] not in keys:
            problems.append(f"No field “{self.sort_path}” to sort by.")
            query = replace(query, sort_path="updated_idx", descending=True)
        kept = tuple(f for f in self.filters if f.path.split(".")[0] in keys)
        problems += [f"No field “{f.path}” to filter on." for f in self.filters if f not in kept]
        return replace(query, filters=kept, problems=tuple(problems))


def _filter(path: str, op: str, values: list[str], problems: list[str]) -> FieldFilter | None:
    if not is_field_path(path):
        problems.append(f"Cannot filter on “{path[:MAX_VALUE_LENGTH]}”.")
        return None
    if op not in FILTER_OPS:
        problems.append(
            f"Unknown filter “{op[:20]}” on {path}: use one of {', '.join(FILTER_OPS)}."
        )
        return None
    values = [v[:MAX_VALUE_LENGTH] for v in values]
    known_op = next(o for o in FILTER_OPS if o == op)
    if op in ("gte", "lte"):
        bad = [v for v in values if _bound(v) is None]
        if bad:
            problems.append(f"{path}: “{bad[0]}” is neither a number nor a date.")
            return None
    if op == "empty" and values != ["1"]:
        problems.append(f"{path}: “is empty” takes the value 1.")
        return None
    # One value for every op but eq (the last given wins), as a form would send.
    return FieldFilter(path=path, op=known_op, values=tuple(values if op == "eq" else values[-1:]))


def _bound(text: str) -> float | int | str | None:
    """A range bound: a number, or an ISO date or date-time compared as text."""
    number = _number(text)
    if number is not None:
        return number
    try:
        (date.fromisoformat if len(text) == 10 else datetime.fromisoformat)(text)
    except ValueError:
        return None
    return text


def _number(text: str) -> float | int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and "." not in text and "e" not in text else number


def _eq_values(text: str, kind: FieldKind | None) -> list[Any]:
    """The JSON values a typed `eq` value may stand for, by what the field holds."""
    lowered = text.lower()
    booleans = {"true": True, "false": False}
    if kind == "boolean":
        return [booleans[lowered]] if lowered in booleans else []
    if kind in ("integer", "number"):
        number = _number(text)
        return [] if number is None else [number]
    if kind in ("text", "longtext"):
        return [text]
    # A nested key, of no known kind: whatever it reads as.
    found: list[Any] = [text]
    if (number := _number(text)) is not None:
        found.append(number)
    if lowered in booleans:
        found.append(booleans[lowered])
    return found


def _condition(f: FieldFilter, kind: FieldKind | None) -> Q:
    if f.op == "eq":
        values = [v for text in f.values for v in _eq_values(text, kind)]
        return Q(FieldCondition(f.path, "in", values=values)) if values else Q(pk__in=[])
    if f.op == "contains":
        return Q(FieldCondition(f.path, "contains", text=f.values[0]))
    if f.op == "empty":
        return Q(FieldCondition(f.path, "empty"))
    bound = _bound(f.values[0])
    if f.op == "lte" and isinstance(bound, str) and len(bound) == 10:
        # Up to the end of that day: 2024-05-01T09:00 is on 2024-05-01.
        day_after = (date.fromisoformat(bound) + timedelta(days=1)).isoformat()
        return Q(FieldCondition(f.path, "compare", operator="<", value=day_after))
    operator = ">=" if f.op == "gte" else "<="
    return Q(FieldCondition(f.path, "compare", operator=operator, value=bound))


def _indexed_paths(query: ListingQuery) -> list[str]:
    """The fields whose index this query can use: the sort field, and fields matched by value.
    Only top-level keys: a nested path is whatever an address says, and each index costs."""
    paths = [query.sort_path] if query.sorted_by_field else []
    paths += [f.path for f in query.filters if f.op == "eq"]
    return [p for p in dict.fromkeys(paths) if "." not in p]


def index_matching(
    *,
    sync_id: str,
    collection_id: str,
    query: ListingQuery,
    field_kinds: Mapping[str, FieldKind] | None = None,
) -> QuerySet[IndexedRecord]:
    """Every record the query matches (search, deleted, filters), in the listing's order."""
    kinds = _kinds(sync_id, collection_id, field_kinds) if query.filters else {}
    rows = IndexedRecord.objects.filter(sync_id=sync_id, collection_id=collection_id)
    if query.deleted != "all":
        # `deleted__in`, not `deleted=False`: SQLite renders the latter as `NOT "deleted"`,
        # which cannot use the keyset index and sorts the whole collection (make bench).
        rows = rows.filter(deleted__in=[query.deleted == "deleted"])
    rows = search_rows(rows, search_terms(query.q), sync_id=sync_id, collection_id=collection_id)
    for f in query.filters:
        rows = rows.filter(_condition(f, kinds.get(f.path)))
    for path in _indexed_paths(query):
        field_index_ensure(path=path)
    return rows.order_by(*_ordering(query, backwards=False))


def _kinds(
    sync_id: str, collection_id: str, field_kinds: Mapping[str, FieldKind] | None
) -> Mapping[str, FieldKind]:
    if field_kinds is not None:
        return field_kinds
    state = IndexedCollection.objects.filter(sync_id=sync_id, collection_id=collection_id).first()
    return state.field_kinds if state else {}


def _ordering(query: ListingQuery, *, backwards: bool) -> list[Any]:
    descending = query.descending != backwards
    tail = ["-updated_idx", "-id"] if descending else ["updated_idx", "id"]
    if query.sorted_by_id:
        return ["-upstream_id" if descending else "upstream_id"]
    if not query.sorted_by_field:
        return tail
    value = FieldValue(query.sort_path)
    # Nulls first ascending, last descending: SQLite's own order, and the PostgreSQL index's.
    head = (
        OrderBy(value, descending=True, nulls_last=True)
        if descending
        else OrderBy(value, nulls_first=True)
    )
    return [head, *tail]


@dataclass(frozen=True)
class IndexPage:
    rows: list[IndexedRecord]
    next_key: str | None
    previous_key: str | None


def index_page(
    *,
    sync_id: str,
    collection_id: str,
    query: ListingQuery | None = None,
    field_kinds: Mapping[str, FieldKind] | None = None,
    q: str = "",
    deleted: DeletedFilter = "live",
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
) -> IndexPage:
    """One page of the query, by keys (see the module docstring); `q`, `deleted`, `after` and
    `before` are a short way to ask without a ListingQuery (when `query` is None)."""
    if query is None:
        query = ListingQuery(q=q, deleted=deleted, after=after, before=before)
    rows = index_matching(
        sync_id=sync_id, collection_id=collection_id, query=query, field_kinds=field_kinds
    )
    key: PageKey | None = None
    backwards = query.last
    if not query.last and query.after:
        key = _parse_key(query.after, query)
    elif not query.last and query.before:
        key = _parse_key(query.before, query)
        backwards = key is not None
    fetched = _fetch(rows, query, key=key, backwards=backwards, limit=limit + 1)
    more = len(fetched) > limit
    fetched = fetched[:limit]
    if backwards:
        fetched.reverse()
        has_next, has_previous = not query.last, more
    else:
        has_next, has_previous = more, key is not None
    return IndexPage(
        rows=fetched,
        next_key=_key(fetched[-1], query) if fetched and has_next else None,
        previous_key=_key(fetched[0], query) if fetched and has_previous else None,
    )


# Where a page starts: the sort value (None for the default order), updated_idx and id.
PageKey = tuple[Any, int, int]


def _fetch(
    rows: QuerySet[IndexedRecord],
    query: ListingQuery,
    *,
    key: PageKey | None,
    backwards: bool,
    limit: int,
) -> list[IndexedRecord]:
    """Up to `limit` rows after `key` in the listing's order (before it when `backwards`).

    A field sort walks two ranges of its index, null values and the rest, each an ordered
    range scan: a condition like `value > v OR value IS NULL` would not be one. At most two
    queries, whatever the page.
    """
    descending = query.descending != backwards
    ordered = rows.order_by(*_ordering(query, backwards=backwards))
    if query.is_default_order:
        if key is not None:
            ordered = ordered.filter(_after("updated_idx", key[1], key[2], descending))
        return list(ordered[:limit])
    if query.sorted_by_id:
        if key is not None:
            ordered = ordered.filter(**{f"upstream_id__{'lt' if descending else 'gt'}": key[0]})
        return list(ordered[:limit])
    path = query.sort_path
    # Among the nulls SQLite reads the index in (updated_idx, id) order only when the ORDER BY
    # leaves the null value out, PostgreSQL only when it names it.
    if connection.vendor == "postgresql":
        nulls = ordered
    else:
        nulls = rows.order_by(*_ordering(ListingQuery(descending=descending), backwards=False))
    nulls = nulls.filter(FieldCondition(path, "null", is_null=True))
    values = ordered.filter(FieldCondition(path, "null", is_null=False))
    # Ascending: nulls, then values; descending: values, then nulls.
    ranges = [values, nulls] if descending else [nulls, values]
    if key is not None:
        sort_value, updated_idx, pk = key
        if sort_value is None:
            nulls = nulls.filter(_after("updated_idx", updated_idx, pk, descending))
            ranges = [nulls] if descending else [nulls, values]
        else:
            values = values.filter(_after_value(path, key, descending))
            ranges = [values, nulls] if descending else [values]
    found: list[IndexedRecord] = []
    for part in ranges:
        found += part[: limit - len(found)]
        if len(found) >= limit:
            break
    return found


def _after(column: str, value: int, pk: int, descending: bool) -> Q:
    """Rows after (value, pk) in (column, id) order: a range bound on the column, which an
    index scans, less the ties up to the key."""
    if descending:
        return Q(**{f"{column}__lte": value}) & ~Q(**{column: value, "id__gte": pk})
    return Q(**{f"{column}__gte": value}) & ~Q(**{column: value, "id__lte": pk})


def _after_value(path: str, key: PageKey, descending: bool) -> Q:
    sort_value, updated_idx, pk = key
    bound = FieldCondition(path, "compare", operator="<=" if descending else ">=", value=sort_value)
    tie = FieldCondition(path, "compare", operator="=", value=sort_value)
    up_to_key = (
        Q(updated_idx__gt=updated_idx) | Q(updated_idx=updated_idx, id__gte=pk)
        if descending
        else Q(updated_idx__lt=updated_idx) | Q(updated_idx=updated_idx, id__lte=pk)
    )
    return Q(bound) & ~(Q(tie) & up_to_key)


def _key(row: IndexedRecord, query: ListingQuery) -> str:
    if query.is_default_order:
        return f"{row.updated_idx}.{row.pk}"
    value = row.upstream_id if query.sorted_by_id else value_at(row.data, query.sort_path)
    text = json.dumps([value, row.updated_idx, row.pk])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _parse_key(text: str, query: ListingQuery) -> PageKey | None:
    """The key of a page, or None for one that is not a key of this order (ignored)."""
    if query.is_default_order:
        idx, _, pk = text.partition(".")
        try:
            return None, int(idx), int(pk)
        except ValueError:
            return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        return None
    if (
        isinstance(decoded, list)
        and len(decoded) == 3
        and type(decoded[1]) is int
        and type(decoded[2]) is int
        and (isinstance(decoded[0], str) or not query.sorted_by_id)
    ):
        return decoded[0], decoded[1], decoded[2]
    return None


def search_terms(q: str) -> list[str]:
    """The distinct lower-cased words of a search, at most MAX_SEARCH_TERMS of them."""
    return list(dict.fromkeys(q.lower().split()))[:MAX_SEARCH_TERMS]


@dataclass(frozen=True)
class MatchCount:
    value: int
    exact: bool


def index_count(
    *,
    sync_id: str,
    collection_id: str,
    query: ListingQuery,
    state: IndexedCollection,
    page: IndexPage | None = None,
) -> MatchCount:
    """How many records the query matches: exact when that is cheap, else an estimate.

    Cheap: the collection's counts from its last refresh when nothing narrows the listing; a
    first page with no next; a count that stops at COUNT_LIMIT. Past it, the share of matches
    among the newest SAMPLE_SIZE records, scaled; never less than what was counted.
    """
    if page is not None and not page.next_key and not page.previous_key:
        return MatchCount(len(page.rows), exact=True)
    if not query.narrowed and state.last_refreshed_at and not state.refreshing:
        counts = {"live": state.record_count, "deleted": state.deleted_count}
        return MatchCount(counts.get(query.deleted, state.record_count + state.deleted_count), True)
    rows = index_matching(
        sync_id=sync_id, collection_id=collection_id, query=query, field_kinds=state.field_kinds
    ).order_by()
    counted = rows[: COUNT_LIMIT + 1].count()
    if counted <= COUNT_LIMIT:
        return MatchCount(counted, exact=True)
    # The share of matches among the newest records, scaled to the collection: PostgreSQL's
    # planner guesses a LIKE at a fixed share (40,000 of a million where 200,000 matched).
    everything = index_matching(
        sync_id=sync_id, collection_id=collection_id, query=ListingQuery(deleted=query.deleted)
    )
    share = _share_matching(rows, among=everything[:SAMPLE_SIZE])
    estimate = round(share * (state.record_count + state.deleted_count))
    if not estimate and connection.vendor == "postgresql":
        # None among the newest: the planner's statistics know the older ones.
        estimate = int(json.loads(rows.explain(format="json"))[0]["Plan"]["Plan Rows"])
    return MatchCount(max(about(estimate), COUNT_LIMIT + 1), exact=False)


def _share_matching(rows: QuerySet[IndexedRecord], *, among: QuerySet[IndexedRecord]) -> float:
    """The share of the records `among` selects that `rows` matches: `rows`' conditions
    evaluated on each of them, in the select list of a query over them.

    Asked as `id IN (among)`, or as an EXISTS per record, PostgreSQL answered by finding every
    match in the collection first (the search's whole trigram bitmap: 5.9 s for a common name
    among a million records), or by walking the collection (0.5 s): a condition above a LIMIT
    can only be evaluated on the rows that come out of it."""
    table = connection.ops.quote_name(IndexedRecord._meta.db_table)
    among_sql, among_params = among.query.sql_with_params()
    # `rows`' WHERE names the table's columns; the sample is aliased as the table.
    try:
        where_sql, where_params = rows.query.get_compiler(connection=connection).compile(
            rows.query.where
        )
    except EmptyResultSet:  # a condition no record can meet (`id IN ()`)
        return 0.0
    except FullResultSet:  # every record meets them
        return 1.0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), SUM(CASE WHEN {where_sql} THEN 1 ELSE 0 END) "  # nosec B608 # compiled SQL, values bound
            f"FROM ({among_sql}) AS {table}",
            [*where_params, *among_params],
        )
        found = cursor.fetchone()
    sampled, matching = found if found else (0, 0)
    return (matching or 0) / sampled if sampled else 0.0


def about(number: int) -> int:
    """An estimate to two significant digits: 197,482 shows as about 200,000."""
    digits = len(str(abs(number)))
    return round(number, -(digits - 2)) if digits > 2 else number


@dataclass(frozen=True)
class FieldChoices:
    """A field with few distinct values, with how many records hold each (newest first)."""

    path: str
    counts: list[tuple[str, int]]
    exact: bool


def field_choices(*, state: IndexedCollection) -> list[FieldChoices]:
    """The collection's few-valued fields (booleans, picklists), top-level and one level down.

    Found in, and counted over, the newest SAMPLE_SIZE records, scaled to the collection
    (`exact` when the sample is all of it), and kept in the cache until the next refresh, so a
    page view never counts a million rows.
    """
    cache_key = (
        f"records:choices:{state.sync_id}:{state.collection_id}:"
        f"{state.last_refreshed_at and state.last_refreshed_at.isoformat()}:{state.record_count}"
    )
    found: list[FieldChoices] | None = cache.get(cache_key)
    if found is None:
        found = _choices_in_sample(state)
        cache.set(cache_key, found, timeout=None)
    return found


def _choices_in_sample(state: IndexedCollection) -> list[FieldChoices]:
    sample = list(
        IndexedRecord.objects.filter(
            sync_id=state.sync_id, collection_id=state.collection_id, deleted__in=[False]
        )
        .order_by("-updated_idx", "-id")
        .values_list("data", flat=True)[:SAMPLE_SIZE]
    )
    counters: dict[str, Counter[str]] = {}
    unusable: set[str] = set()
    for data in sample:
        for path, value in _leaves(data):
            if path in unusable:
                continue
            text = _choice_text(value)
            counter = counters.setdefault(path, Counter())
            if text is None or (text not in counter and len(counter) >= MAX_CHOICES):
                unusable.add(path)
                continue
            counter[text] += 1
    total = state.record_count or len(sample)
    exact = len(sample) < SAMPLE_SIZE
    scale = 1 if exact or not sample else total / len(sample)
    return [
        FieldChoices(
            path=path,
            counts=[
                (text, n if exact else about(round(n * scale))) for text, n in counter.most_common()
            ],
            exact=exact,
        )
        for path, counter in sorted(counters.items())
        # Values that repeat: a field unique to each record is not a picklist.
        if path not in unusable and counter and counter.total() >= 2 * len(counter)
    ]


def _leaves(data: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, nested in value.items():
                if not isinstance(nested, dict | list) and is_field_path(f"{key}.{inner}"):
                    yield f"{key}.{inner}", nested
        elif not isinstance(value, list) and is_field_path(key):
            yield key, value


def _choice_text(value: Any) -> str | None:
    """How a value is written in an `eq` filter; None for values that are no choice."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and 0 < len(value) <= MAX_CHOICE_LENGTH:
        return value
    if isinstance(value, int):
        return str(value)
    return None
