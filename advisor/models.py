"""Rulesets and their rules. A published RuleSet never changes; admins edit drafts."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from advisor.engine import rules as engine_rules
from advisor.engine.conditions import parse_condition


class RuleSetQuerySet(models.QuerySet):
    def published(self) -> RuleSetQuerySet:
        return self.filter(state=RuleSet.State.PUBLISHED)

    def drafts(self) -> RuleSetQuerySet:
        return self.filter(state=RuleSet.State.DRAFT)

    def current(self) -> RuleSet | None:
        """The ruleset new assessments are scored with: the latest published one."""
        return self.published().order_by("-published_at", "-pk").first()


class RuleSet(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    version = models.CharField(
        max_length=40, unique=True, help_text="The version id reports cite, such as 'v2'."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="derived"
    )
    close_call_margin = models.FloatField(
        default=10.0,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
        help_text="A verdict won by fewer points than this (of 100) is reported as a close call.",
    )
    dimensions = models.JSONField(default=list, help_text="[{id, title}, ...] in display order.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RuleSetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "rule set"

    def __str__(self) -> str:
        return f"{self.version} ({self.get_state_display().lower()})"

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED

    def to_engine(self) -> engine_rules.RuleSet:
        """The engine's immutable form of this ruleset and its rules."""
        return engine_rules.RuleSet(
            version=self.version,
            dimensions=tuple(
                engine_rules.Dimension(id=d["id"], title=d["title"]) for d in self.dimensions
            ),
            rules=tuple(rule.to_engine() for rule in self.rules.all()),
            close_call_margin=self.close_call_margin,
        )


class Rule(models.Model):
    class Side(models.TextChoices):
        ARTEMIS = "artemis", "Message broker (Artemis)"
        KAFKA = "kafka", "Event streaming (Kafka)"

    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    rule_id = models.SlugField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    dimension = models.CharField(max_length=40)
    condition = models.JSONField(help_text="The declarative condition over answers.")
    favours = models.CharField(max_length=10, choices=Side.choices)
    points = models.PositiveSmallIntegerField(
        validators=[
            MinValueValidator(engine_rules.POINTS_MIN),
            MaxValueValidator(engine_rules.POINTS_MAX),
        ]
    )
    weight = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[
            MinValueValidator(Decimal(str(engine_rules.WEIGHT_MIN))),
            MaxValueValidator(Decimal(str(engine_rules.WEIGHT_MAX))),
        ],
        help_text="0 to 10; the rule adds weight x points to its side when it fires.",
    )
    decisive = models.BooleanField(
        default=False, help_text="A need the other side cannot meet natively."
    )
    enabled = models.BooleanField(default=True)
    rationale = models.TextField()
    citations = models.JSONField(default=list)
    caveat = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["ruleset", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ruleset", "rule_id"], name="unique_rule_per_ruleset")
        ]

    def __str__(self) -> str:
        return self.rule_id

    def to_engine(self) -> engine_rules.Rule:
        return engine_rules.Rule(
            id=self.rule_id,
            title=self.title,
            dimension=self.dimension,
            when=parse_condition(self.condition, "when"),
            favours=self.favours,
            points=self.points,
            weight=float(self.weight),
            decisive=self.decisive,
            rationale=self.rationale,
            citations=tuple(self.citations),
            caveat=self.caveat,
            enabled=self.enabled,
        )


class ReportQuerySet(models.QuerySet):
    def for_sessions(self, session_keys) -> ReportQuerySet:
        return self.filter(owner_session__in=list(session_keys))


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
    created_at = models.DateTimeField(auto_now_add=True)
    owner_session = models.CharField(max_length=40, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

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
