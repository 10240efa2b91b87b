"""Rulesets and their rules. A published RuleSet never changes; admins edit drafts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from advisor.engine import rules as engine_rules
from advisor.engine import sides
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

    def to_engine(self) -> engine_rules.Rulebook:
        """The engine's immutable form of this ruleset and its rules."""
        return engine_rules.Rulebook(
            version=self.version,
            dimensions=tuple(
                engine_rules.Dimension(id=d["id"], title=d["title"]) for d in self.dimensions
            ),
            rules=tuple(rule.to_engine() for rule in self.rules.all()),
            close_call_margin=self.close_call_margin,
        )


class Rule(models.Model):
    class Side(models.TextChoices):
        ARTEMIS = sides.ARTEMIS, sides.SIDE_LABELS[sides.ARTEMIS]
        KAFKA = sides.KAFKA, sides.SIDE_LABELS[sides.KAFKA]

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
    group = models.SlugField(
        max_length=80,
        blank=True,
        help_text="Rules expressing one fact share a group; only the strongest that fires counts.",
    )
    refuted_by = models.CharField(
        max_length=4,
        blank=True,
        help_text="The M entry refuting this article claim: shown with it, it moves no score.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["ruleset", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ruleset", "rule_id"], name="unique_rule_per_ruleset")
        ]

    def __str__(self) -> str:
        return self.rule_id

    # Fields the engine's Rule holds as they are; the others are converted both ways below.
    ENGINE_FIELDS = (
        "title",
        "dimension",
        "favours",
        "points",
        "decisive",
        "rationale",
        "caveat",
        "enabled",
        "group",
        "refuted_by",
    )

    def to_engine(self) -> engine_rules.Rule:
        return engine_rules.Rule(
            id=self.rule_id,
            when=parse_condition(self.condition, "when"),
            weight=float(self.weight),
            citations=tuple(self.citations),
            **{name: getattr(self, name) for name in self.ENGINE_FIELDS},
        )

    @classmethod
    def from_engine(cls, rule: engine_rules.Rule, *, ruleset: RuleSet, position: int) -> Rule:
        """An unsaved row holding the engine's rule at `position` of `ruleset`."""
        return cls(
            ruleset=ruleset,
            rule_id=rule.id,
            position=position,
            condition=rule.when.to_data(),
            weight=Decimal(str(rule.weight)).quantize(Decimal("0.01")),
            citations=list(rule.citations),
            **{name: getattr(rule, name) for name in cls.ENGINE_FIELDS},
        )
