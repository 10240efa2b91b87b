"""Reports (immutable snapshots of a scored assessment) and the links that share them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from advisor.rulesets.models import RuleSet
from advisor.security import fingerprint


class ReportQuerySet(models.QuerySet):
    def for_sessions(self, session_keys) -> ReportQuerySet:
        return self.filter(owner_session__in=[fingerprint(key) for key in session_keys])

    def latest_per_assessment(self) -> ReportQuerySet:
        """Each assessment's newest report: what it was last submitted as."""
        newer = Report.objects.filter(
            assessment_id=models.OuterRef("assessment_id"),
            created_at__gt=models.OuterRef("created_at"),
        )
        return self.filter(~models.Exists(newer))


class Report(models.Model):
    """An immutable snapshot of a submitted assessment: answers, ruleset and result.

    Rows are written once by `report_create` and never updated: a shared report
    keeps the ruleset version it was scored with, whatever is published later.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        "questionnaire.Assessment", on_delete=models.CASCADE, related_name="reports"
    )
    ruleset = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="reports")
    title = models.CharField(max_length=200, blank=True)
    answers = models.JSONField()
    result = models.JSONField(help_text="The engine's Result.to_data() at submission.")
    recommendation = models.CharField(max_length=10)
    bank_version = models.CharField(max_length=40)
    matched_rules = models.BinaryField(
        default=b"",
        help_text=(
            "Which rules' conditions held for the answers, switched on or not: bit i for the "
            "i-th rule of the ruleset, in its order (advisor/engine/firings.py). The impact "
            "preview re-tallies these under a draft's weights instead of re-scoring."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The session that made it, as a keyed hash (security.fingerprint): the key
    # itself is a live credential and is never stored.
    owner_session = models.CharField(max_length=64, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # Each assessment's latest report (latest_per_assessment) from the index alone.
        indexes = [
            models.Index(fields=["assessment", "created_at"], name="report_assessment_created")
        ]

    def __str__(self) -> str:
        return self.title or f"Report {str(self.id)[:8]}"


class ShareLinkQuerySet(models.QuerySet):
    def active(self) -> ShareLinkQuerySet:
        """Links that open their report: not revoked and not expired."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ShareLink(models.Model):
    """A capability URL to one report: whoever holds the token may read it."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="share_links")
    # A SHA-256 of the token: the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=8, help_text="The token's first characters.")
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label or f"link {self.token_hint}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )
