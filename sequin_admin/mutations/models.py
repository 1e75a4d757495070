"""The journal: every mutation attempt, written pending before the HTTP call.

Only `sequin_admin.mutations.journal` writes these rows. Like Django's LogEntry the record is
referred to by text, not by a foreign key, so the history outlives everything it mentions;
unlike LogEntry the user is SET_NULL with the name copied, and failures are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from sequin_admin.sequin import ErrorKind


def unanswered_before() -> datetime:
    """Pending attempts older than this have lost their process: their outcome is unknown."""
    return timezone.now() - timedelta(seconds=settings.SEQUIN_PENDING_UNKNOWN_AFTER)


def group_fields_text(names: Iterable[str], *, kept: str = "") -> str:
    """`Mutation.group_fields` holding `names` and what `kept` (a value of it) holds: each
    name on a line of its own, between newlines, sorted; a backslash or a newline within a
    name escaped, so a name is found whole (`group_field_mark`) and never across two."""
    marks = {_escaped(name) for name in names} | set(filter(None, kept.split("\n")))
    return "\n" + "\n".join(sorted(marks)) + "\n" if marks else ""


def group_field_mark(name: str) -> str:
    """What `Mutation.group_fields` contains where its group changed the field `name`."""
    return f"\n{_escaped(name)}\n"


def _escaped(name: str) -> str:
    return name.replace("\\", "\\\\").replace("\n", "\\n")


class Outcome(models.TextChoices):
    PENDING = "pending", "pending"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    UNKNOWN = "unknown", "outcome unknown"
    CONSUMERS_UNCONFIRMED = "consumers_unconfirmed", "succeeded, consumers unconfirmed"


class Kind(models.TextChoices):
    CREATE = "create", "create"
    UPDATE = "update", "update"
    DELETE = "delete", "delete"


class Source(models.TextChoices):
    FORM = "form", "edit form"
    RETRY = "retry", "retry"
    REVERT = "revert", "revert"
    COMMAND = "command", "command line"
    JOB = "job", "background job"


class Reconciliation(models.TextChoices):
    NONE = "", "not reconciled"
    APPLIED = "applied", "applied"
    NOT_APPLIED = "not_applied", "not applied"
    PARTLY = "partly", "partly applied"


class Mutation(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.FORM)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sync_id = models.CharField(max_length=100)
    collection_id = models.CharField(max_length=200)
    request_body = models.JSONField()
    await_consumer_ids = models.JSONField(default=list, blank=True)
    # Each awaited consumer's name when the attempt was made (id -> name): messages name
    # consumers as people know them, and the history outlives a renamed or deleted consumer.
    await_consumer_names = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, default=Outcome.PENDING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    # What the answer meant, as the client decided it (sequin.ErrorKind); blank on success.
    error_kind = models.CharField(
        max_length=32, blank=True, choices=[(k.value, k.value) for k in ErrorKind]
    )
    error_title = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    retry_after = models.FloatField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    reconciliation = models.CharField(
        max_length=16, choices=Reconciliation.choices, default=Reconciliation.NONE, blank=True
    )
    reconciled_at = models.DateTimeField(null=True, blank=True)
    reconciliation_note = models.TextField(blank=True)
    group_id = models.UUIDField(null=True, blank=True)
    # No newer attempt shares its group (an attempt of no group is its own): the history's
    # one line per group reads these rows (index mutation_line), not every attempt of every
    # group it passes. journal_start keeps it.
    latest_of_group = models.BooleanField(default=True)
    # The fields any attempt of its group up to this one changed (`group_fields_text`), kept
    # on each group's latest attempt: the history's lines filtered by a field (`?field=`)
    # read the lines only, where a probe of every attempt's changes read a hundred attempts
    # a line. journal_start keeps it.
    group_fields = models.TextField(blank=True, default="")
    # One per rendered edit form: a second post of the same form finds the first attempt.
    form_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    revert_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverts"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="mutation_keyset"),
            models.Index(fields=["outcome", "-created_at"], name="mutation_outcome"),
            models.Index(
                fields=["sync_id", "collection_id", "-created_at"], name="mutation_collection"
            ),
            # The history filtered by a person, newest first (`?user=`): without it a page
            # walks the whole journal by id, filtering every row.
            models.Index(fields=["username", "-id"], name="mutation_username"),
            # A group's attempts, newest first: a group's size, its page (`?group=`), and
            # "is there a newer attempt of this group?" where a filter can tell a group's
            # attempts apart.
            models.Index(fields=["group_id", "id"], name="mutation_group"),
            # The history's lines, newest first, whole or by person.
            models.Index(
                fields=["-id"], condition=models.Q(latest_of_group=True), name="mutation_line"
            ),
            models.Index(
                fields=["username", "-id"],
                condition=models.Q(latest_of_group=True),
                name="mutation_user_line",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.collection_id} ({self.outcome})"

    def get_absolute_url(self) -> str:
        return reverse("mutation_detail", args=[self.pk])

    @property
    def applied(self) -> bool:
        """Whether the change is known to have reached the upstream."""
        return self.outcome in (Outcome.SUCCEEDED, Outcome.CONSUMERS_UNCONFIRMED) or (
            self.reconciliation == Reconciliation.APPLIED
        )

    @property
    def awaited_consumer_names(self) -> list[str]:
        """The awaited consumers by name; by id where no name was known."""
        return [self.await_consumer_names.get(i) or i for i in self.await_consumer_ids]

    @property
    def retryable(self) -> bool:
        """Whether sending the same change again is safe and may help."""
        if self.kind == Kind.CREATE:
            # A create that may have landed is never repeated: that would duplicate the record.
            return self.outcome == Outcome.FAILED or (
                self.reconciliation == Reconciliation.NOT_APPLIED
            )
        return self.outcome in (Outcome.FAILED, Outcome.UNKNOWN) and (
            self.reconciliation != Reconciliation.APPLIED
        )

    @property
    def revertible(self) -> bool:
        """An applied update, not yet reverted by an attempt that landed (prefetch
        `reverts` when asking for many)."""
        return (
            self.kind == Kind.UPDATE
            and self.applied
            and not any(r.applied for r in self.reverts.all())
        )

    @property
    def shown_outcome(self) -> str:
        """The outcome as people should read it: a pending attempt that outlived any answer
        (its process died) is unknown."""
        return self.outcome_shown(unanswered_before=unanswered_before())

    def outcome_shown(self, *, unanswered_before: datetime) -> str:
        """`shown_outcome` with the moment computed once for a page of attempts."""
        if self.outcome == Outcome.PENDING and self.created_at < unanswered_before:
            return Outcome.UNKNOWN
        return self.outcome

    @property
    def shown_outcome_label(self) -> str:
        return Outcome(self.shown_outcome).label

    @property
    def user_display(self) -> str:
        return self.username or "system"


class MutationRecord(models.Model):
    """One record a mutation touched: what the person saw, and what came back."""

    mutation = models.ForeignKey(Mutation, on_delete=models.CASCADE, related_name="records")
    upstream_id = models.CharField(max_length=255, blank=True)
    before_updated_idx = models.BigIntegerField(null=True, blank=True)
    # The whole record as the person saw it; kept for deletes, where no field is sent.
    before_data = models.JSONField(null=True, blank=True)
    returned_updated_idx = models.BigIntegerField(null=True, blank=True)
    returned_data = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # A record's timeline and the history's `?upstream_id=`: equality only, so not
            # the `_like` twin db_index=True adds on PostgreSQL (written for every record).
            models.Index(fields=["upstream_id"], name="mutation_record_upstream_id"),
        ]

    def __str__(self) -> str:
        return self.upstream_id or "(new record)"


class FieldChange(models.Model):
    """One field of one record: before (what the person saw) → sent → returned."""

    # No index of its own: fieldchange_record_field leads with it.
    record = models.ForeignKey(
        MutationRecord, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    field = models.CharField(max_length=255)
    before = models.JSONField(null=True, blank=True)
    had_before = models.BooleanField(default=True)
    sent = models.JSONField(null=True, blank=True)
    returned = models.JSONField(null=True, blank=True)
    has_returned = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The history's `?field=`: did this record's change touch the field?
            models.Index(fields=["record", "field"], name="fieldchange_record_field"),
        ]

    def __str__(self) -> str:
        return self.field
