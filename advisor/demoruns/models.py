"""Demo runs: one scenario measured for an assessment, queued to a Celery worker."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from advisor.security import fingerprint


def heartbeat_deadline(now: datetime | None = None) -> datetime:
    """A running run whose last heartbeat is older than this has lost its worker."""
    return (now or timezone.now()) - timedelta(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT)


class DemoRunQuerySet(models.QuerySet):
    def unfinished(self) -> DemoRunQuerySet:
        return self.filter(status__in=[DemoRun.Status.QUEUED, DemoRun.Status.RUNNING])

    def succeeded(self) -> DemoRunQuerySet:
        return self.filter(status=DemoRun.Status.SUCCEEDED)

    def for_session(self, session_key: str | None) -> DemoRunQuerySet:
        return self.filter(owner_session=fingerprint(session_key))

    def for_client(self, address: str | None) -> DemoRunQuerySet:
        return self.filter(owner_client=fingerprint(address))

    # The one definition of a stuck run: the sweep fails these, and pages ask it of a run.

    def lost(self, now: datetime) -> DemoRunQuerySet:
        """Running runs whose worker fell silent, or that outlived the hard time limit."""
        silent_since = heartbeat_deadline(now)
        started_before = now - timedelta(seconds=settings.DEMO_RUN_TIME_LIMIT)
        return self.filter(status=DemoRun.Status.RUNNING).filter(
            models.Q(heartbeat_at__lt=silent_since)
            | models.Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
            | models.Q(started_at__lt=started_before)
        )

    def never_started(self, now: datetime) -> DemoRunQuerySet:
        """Queued runs no worker started within ``DEMO_RUN_QUEUE_TIMEOUT``."""
        waited_since = now - timedelta(seconds=settings.DEMO_RUN_QUEUE_TIMEOUT)
        return self.filter(status=DemoRun.Status.QUEUED, created_at__lt=waited_since)

    def stuck(self, now: datetime) -> DemoRunQuerySet:
        return self.lost(now) | self.never_started(now)

    def queued_before(self, moment: datetime) -> DemoRunQuerySet:
        """Queued runs created before ``moment`` (the sweep asks the broker about them)."""
        return self.filter(status=DemoRun.Status.QUEUED, created_at__lt=moment)


class DemoRun(models.Model):
    """One queued or finished demo scenario run, hanging off an assessment."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        "questionnaire.Assessment", on_delete=models.CASCADE, related_name="demo_runs"
    )
    scenario = models.CharField(max_length=40)
    engine = models.CharField(max_length=40, default="embedded")
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    metrics = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Keyed hashes (security.fingerprint) of the session and the client address
    # that queued it, for the per-visitor limits; neither is stored in clear.
    owner_session = models.CharField(max_length=64, blank=True, db_index=True)
    owner_client = models.CharField(max_length=64, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Messages sent to the queue for it: a second one only when the broker lost the first.
    sends = models.PositiveSmallIntegerField(default=1)
    # Written about every second by the worker running it: a silent run lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = DemoRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.scenario} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}
