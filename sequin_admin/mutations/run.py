"""Running mutations: every attempt goes through `mutation_run`, which journals it.

`mutation_run` never raises SequinError: whatever Sequin answers becomes the attempt's
outcome in the journal.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, IntegrityError, connection, transaction

from sequin_admin.records.index import index_apply_answer
from sequin_admin.records.models import IndexedRecord
from sequin_admin.sequin import MutationRequest, SequinError
from sequin_admin.sequin.configured import get_client
from sequin_admin.sequin.types import MutationKind

from .journal import Seen, journal_finish, journal_start
from .models import Mutation, Source
from .selectors import mutation_for_form

logger = logging.getLogger(__name__)
# Ids a query: within SQLite's oldest limit of 999 parameters.
_IDS_A_QUERY = 500

User = AbstractBaseUser | AnonymousUser | None


def mutation_run(
    *,
    request: MutationRequest,
    user: User,
    source: Source,
    seen: Mapping[str, Seen],
    form_token: str | None = None,
    group_id: uuid.UUID | None = None,
    retry_of: Mutation | None = None,
    revert_of: Mutation | None = None,
    consumer_names: Mapping[str, str] | None = None,
    send_slot: AbstractContextManager[object] | None = None,
    on_answer: Callable[[Mutation], object] | None = None,
) -> tuple[Mutation, bool]:
    """Journal, send, journal the answer, index what came back. `consumer_names` (id ->
    name) lets the journal name the awaited consumers.

    `on_answer(attempt)` runs when Sequin answered with success, in the answer's transaction
    once the attempt is journaled (a bulk job settles its batch there: one commit fewer a
    batch), in a savepoint of its own: should it raise, the answer stays journaled and the
    exception is raised after, as the index's. It does not run for an attempt without an answer.

    Returns the attempt and whether it is new: a `form_token` seen before returns the first
    attempt and sends nothing.
    """
    result = error = unexpected = None
    try:
        mutation = journal_start(
            request=request,
            user=user,
            source=source,
            seen=seen,
            form_token=form_token,
            group_id=group_id,
            retry_of=retry_of,
            revert_of=revert_of,
            consumer_names=consumer_names,
        )
    except IntegrityError:
        if form_token and (first := mutation_for_form(form_token=form_token)):
            return first, False
        raise
    # The slot bounds the requests under way (a bulk job's concurrency), and holds only the
    # request: the pending entry is journaled before it and the answer after it, each
    # overlapping other batches' waits for Sequin. An entry waiting for a slot is pending as
    # one whose request is under way is, and a job that dies then settles it the same way
    # (reconciled, never sent blindly).
    with send_slot or nullcontext():
        started = time.monotonic()
        try:
            result = get_client().run_mutation(request)
        except SequinError as exc:
            error = exc
        except Exception as exc:
            logger.exception("Mutation %s failed inside the admin", mutation.pk)
            unexpected = exc
        duration_ms = _ms_since(started)
    if result is not None:
        # One transaction for the answer's journal and index writes (and the caller's
        # `on_answer`): one commit and one turn of SQLite's write lock a batch. The index's
        # writes and `on_answer` have a savepoint each: should they fail, the answer stays
        # journaled and the fault is raised after.
        fault: Exception | None = None
        with transaction.atomic():
            journal_finish(mutation=mutation, duration_ms=duration_ms, result=result)
            try:
                index_apply_answer(result=result, request=request)
            except DatabaseError as exc:
                fault = exc
            if on_answer is not None:
                try:
                    with transaction.atomic():
                        on_answer(mutation)
                except Exception as exc:  # any fault of the caller's: the answer is kept
                    fault = fault or exc
        if fault is not None:
            raise fault
    else:
        journal_finish(
            mutation=mutation, duration_ms=duration_ms, error=error, unexpected=unexpected
        )
    return mutation, True


def mutation_run_in_batches(
    *,
    kind: MutationKind,
    sync_id: str,
    collection_id: str,
    records: Sequence[dict[str, Any]],
    user: User,
    source: Source,
    seen: Mapping[str, Seen],
) -> list[Mutation]:
    """Split an edit of many records by SEQUIN_MAX_RECORDS_PER_MUTATION; one group id."""
    size = settings.SEQUIN_MAX_RECORDS_PER_MUTATION
    group_id = uuid.uuid4()
    attempts = []
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        request = MutationRequest(
            kind=kind,
            sync_id=sync_id,
            collection_id=collection_id,
            records=tuple(chunk) if kind != "delete" else (),
            upstream_ids=tuple(r["upstream_id"] for r in chunk) if kind == "delete" else (),
        )
        mutation, _ = mutation_run(
            request=request, user=user, source=source, seen=seen, group_id=group_id
        )
        attempts.append(mutation)
    return attempts


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def seen_in_index(
    *, sync_id: str, collection_id: str, upstream_ids: Sequence[str]
) -> dict[str, Seen]:
    """What the index holds for these records: the "before" of an edit made without a form.

    Plain SQL: the ORM's `upstream_id__in` prepares each of a job batch's 100 ids one by one,
    and this runs for every batch."""
    found: dict[str, Seen] = {}
    table = connection.ops.quote_name(IndexedRecord._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(upstream_ids), _IDS_A_QUERY):
            chunk = upstream_ids[start : start + _IDS_A_QUERY]
            # The table and columns are the model's own, every value is bound.
            cursor.execute(
                "SELECT upstream_id, data, updated_idx "  # nosec B608 # the model's names
                f"FROM {table} WHERE sync_id = %s AND collection_id = %s "
                f"AND upstream_id IN ({', '.join(['%s'] * len(chunk))})",
                [sync_id, collection_id, *chunk],
            )
            for upstream_id, data, idx in cursor.fetchall():
                # JSON comes back as text on both backends (Django reads jsonb as text).
                stored = json.loads(data) if isinstance(data, str) else data
                found[upstream_id] = Seen(data=stored, updated_idx=idx)
    return found
