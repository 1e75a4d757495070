"""Bulk jobs: many records changed in the background, each record's outcome kept.

A job's items are all stored before the job is queued, so nothing the person asked for is
lost; see `sequin_admin.edits.jobs` for how they are sent.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class JobState(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    CANCELLING = "cancelling", "cancelling"
    CANCELLED = "cancelled", "cancelled"
    DONE = "done", "done"


class JobKind(models.TextChoices):
    CREATE = "create", "create"
    UPDATE = "update", "update"
    DELETE = "delete", "delete"


class ItemOutcome(models.TextChoices):
    PENDING = "pending", "not sent yet"
    # Marked before its batch is sent, with the batch's token: a worker that finds an item
    # in flight knows it may have been sent, and reconciles it instead of sending it again.
    IN_FLIGHT = "in_flight", "in flight"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    UNKNOWN = "unknown", "outcome unknown"
    CANCELLED = "cancelled", "cancelled before sending"


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.CANCELLING)


class Job(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the worker running the job, every few seconds: a job whose heartbeat is
    # older than JOB_STALE_AFTER lost its worker and may be taken up by another.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Which run holds the job; a worker stops when its lease is taken over.
    lease = models.UUIDField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    sync_id = models.CharField(max_length=100)
    collection_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    # The journal entries of the job's batches share it (Mutation.group_id).
    group_id = models.UUIDField(unique=True)
    # Where the records were chosen: the collection page's query string, kept for the record.
    query_string = models.TextField(blank=True)
    description = models.CharField(max_length=300, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="job_state")]

    def __str__(self) -> str:
        return f"job #{self.pk} {self.kind} {self.collection_id} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("job_detail", args=[self.pk])

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent_done(self) -> int:
        return round(100 * self.sent / self.total) if self.total else 100

    @property
    def user_display(self) -> str:
        return self.username or "system"


class JobItem(models.Model):
    """One record of a job: what to send, and what became of it."""

    # No index of its own: the (job, position) constraint leads with it and serves every
    # lookup by job; each index more is written for every item at the job's start, when a
    # batch takes it and when its answer settles it.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items", db_index=False)
    position = models.PositiveIntegerField()
    upstream_id = models.CharField(max_length=255, blank=True)  # blank for a create
    data = models.JSONField(default=dict, blank=True)  # the fields to send; empty for a delete
    outcome = models.CharField(
        max_length=16, choices=ItemOutcome.choices, default=ItemOutcome.PENDING
    )
    # The batch attempt that carries the item: the journal entry's form_token.
    batch_token = models.CharField(max_length=64, blank=True)
    mutation = models.ForeignKey(
        "mutations.Mutation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # job_item_mutation below: only the items that have one
    )
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="job_item_position")
        ]
        indexes = [
            # Pending items in order, a batch's items in flight, a job's failures page by page.
            models.Index(fields=["job", "outcome", "position"], name="job_item_outcome"),
            # For the journal's retention, which deletes attempts (SET_NULL finds their
            # items): a pending item has no attempt and is not written to it.
            models.Index(
                fields=["mutation"],
                condition=models.Q(mutation__isnull=False),
                name="job_item_mutation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upstream_id or '(new record)'}: {self.outcome}"


class CsvUpdatePlan(models.Model):
    """An uploaded CSV's plan (`edits.csv_updates.CsvPlan` as JSON), kept between the preview
    and the confirmation so that what is sent is what the server checked, never what a
    browser posts back. Confirming it starts one job, once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    sync_id = models.CharField(max_length=100)
    collection_id = models.CharField(max_length=200)
    filename = models.CharField(max_length=255, blank=True)
    plan = models.JSONField()
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="csv_plan"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"CSV {self.filename or self.pk} for {self.collection_id}"
