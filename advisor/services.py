"""Writes that span several rows: creating and loading rulesets."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from advisor.engine import rules as engine_rules
from advisor.engine.scoring import recommend
from advisor.models import Report, Rule, RuleSet
from questionnaire.bank import default_bank

NO_PUBLISHED_RULES = (
    "no published rules in the database: run `python manage.py load_rules` (or `make setup`)"
)


class NoPublishedRules(LookupError):
    pass


@transaction.atomic
def ruleset_create(
    *,
    ruleset: engine_rules.RuleSet,
    state: str = RuleSet.State.DRAFT,
    based_on: RuleSet | None = None,
    version: str | None = None,
    user=None,
) -> RuleSet:
    """Store an engine ruleset (from a file or a copy) as a RuleSet with its rules."""
    now = timezone.now()
    published = state == RuleSet.State.PUBLISHED
    stored = RuleSet(
        version=version or ruleset.version,
        state=state,
        based_on=based_on,
        close_call_margin=ruleset.close_call_margin,
        dimensions=[{"id": d.id, "title": d.title} for d in ruleset.dimensions],
        created_by=user,
        published_at=now if published else None,
        published_by=user if published else None,
    )
    stored.full_clean()
    stored.save()
    Rule.objects.bulk_create(
        [
            Rule(
                ruleset=stored,
                rule_id=rule.id,
                position=position,
                title=rule.title,
                dimension=rule.dimension,
                condition=rule.when.to_data(),
                favours=rule.favours,
                points=rule.points,
                weight=Decimal(str(rule.weight)).quantize(Decimal("0.01")),
                decisive=rule.decisive,
                enabled=rule.enabled,
                rationale=rule.rationale,
                citations=list(rule.citations),
                caveat=rule.caveat,
            )
            for position, rule in enumerate(ruleset.rules)
        ]
    )
    return stored


def ruleset_load_default(*, path=engine_rules.DEFAULT_RULES_PATH) -> tuple[RuleSet, bool]:
    """Make the rules file the first published RuleSet, once.

    Returns (the current ruleset, whether it was created now). Does nothing when a
    published ruleset exists already: the database, not the file, is then the truth.
    """
    with transaction.atomic():
        current = RuleSet.objects.select_for_update().published().order_by("-published_at").first()
        if current is not None:
            return current, False
        ruleset = engine_rules.load_ruleset_file(path, bank=default_bank())
        return ruleset_create(ruleset=ruleset, state=RuleSet.State.PUBLISHED), True


_engine_cache: dict[tuple, engine_rules.RuleSet] = {}


def engine_ruleset_for(stored: RuleSet) -> engine_rules.RuleSet:
    """The engine form of a stored ruleset; published ones never change, so are cached."""
    if not stored.is_published:
        return stored.to_engine()
    key = (stored.pk, stored.version, stored.published_at)
    cached = _engine_cache.get(key)
    if cached is None:
        cached = _engine_cache[key] = stored.to_engine()
    return cached


def current_ruleset() -> tuple[RuleSet, engine_rules.RuleSet]:
    """The current published ruleset, stored and in engine form; NoPublishedRules if none."""
    stored = RuleSet.objects.current()
    if stored is None:
        raise NoPublishedRules(NO_PUBLISHED_RULES)
    return stored, engine_ruleset_for(stored)


@transaction.atomic
def report_create(
    *,
    assessment,
    answers: dict,
    owner_session: str = "",
    owner=None,
) -> Report:
    """Score validated answers with the current ruleset and store the immutable snapshot."""
    stored, ruleset = current_ruleset()
    bank = default_bank()
    result = recommend(answers, ruleset, bank)
    report = Report(
        assessment=assessment,
        ruleset=stored,
        title=assessment.title,
        answers=result.answers,
        result=result.to_data(),
        recommendation=result.recommendation,
        bank_version=bank.version,
        owner_session=owner_session,
        owner=owner if owner is not None and owner.is_authenticated else None,
    )
    report.full_clean()
    report.save()
    return report


def report_rescore(*, report: Report):
    """The report's answers scored with the current ruleset; writes nothing.

    Questions added since the report was made take their defaults. Returns
    (current RuleSet, Result), or (None, None) when the report already uses it.
    """
    stored, ruleset = current_ruleset()
    if stored.pk == report.ruleset_id:
        return None, None
    return stored, recommend(report.answers, ruleset, default_bank(), fill_defaults=True)
