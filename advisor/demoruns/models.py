"""Demo runs: one scenario measured for an assessment, queued to a Celery worker."""

from __future__ import annotations

import uuid

from django.db import models


class DemoRunQuerySet(models.QuerySet):
    def unfinished(self) -> DemoRunQuerySet:
        return self.filter(status__in=[DemoRun.Status.QUEUED, DemoRun.Status.RUNNING])

    def succeeded(self) -> DemoRunQuerySet:
        return self.filter(status=DemoRun.Status.SUCCEEDED)

    def for_session(self, session_key: str | None) -> DemoRunQuerySet:
        return self.filter(owner_session=session_key or "")

    def lost(self, *, heartbeat_before, started_before) -> DemoRunQuerySet:
        """Running runs whose worker fell silent, or that outlived the hard time limit."""
        return self.filter(status=DemoRun.Status.RUNNING).filter(
            models.Q(heartbeat_at__lt=heartbeat_before)
            | models.Q(heartbeat_at__isnull=True, started_at__lt=heartbeat_before)
            | models.Q(started_at__lt=started_before)
        )

    def waiting_since(self, moment) -> DemoRunQuerySet:
        """Queued runs no worker has started since ``moment``."""
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
    owner_session = models.CharField(max_length=40, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
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
