"""The Assessment: one architect's answers, saved as they go."""

from __future__ import annotations

import uuid

from django.db import models


class AssessmentQuerySet(models.QuerySet):
    def submitted(self) -> AssessmentQuerySet:
        return self.filter(submitted_at__isnull=False)

    def in_progress(self) -> AssessmentQuerySet:
        return self.filter(submitted_at__isnull=True)


class Assessment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    bank_version = models.CharField(max_length=40, blank=True)
    current_section = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or f"Assessment {str(self.id)[:8]}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None
