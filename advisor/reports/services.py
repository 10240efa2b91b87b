"""Writes that span several rows for reports: creating the snapshot, re-scoring it."""

from __future__ import annotations

from django.db import transaction

from advisor.engine.bank import default_bank
from advisor.engine.firings import firing_mask
from advisor.engine.knowledge import starting_configuration_data
from advisor.engine.scoring import recommend
from advisor.reports.models import Report
from advisor.rulesets.services import current_ruleset
from advisor.security import fingerprint


@transaction.atomic
def report_create(
    *,
    assessment,
    answers: dict,
    owner_session: str = "",
    owner=None,
) -> Report:
    """Score validated answers with the current ruleset and store the immutable snapshot.

    ``owner_session`` is the session key of the visitor who made it; only its keyed hash
    is stored.
    """
    stored, ruleset = current_ruleset()
    bank = default_bank()
    result = recommend(answers, ruleset, bank)
    snapshot = result.to_data()
    # The starting configuration is part of the snapshot, so the report and its
    # exports keep the settings they were made with when the data files change.
    snapshot["starting_configuration"] = starting_configuration_data(
        result.answers, result.recommendation, bank
    )
    report = Report(
        assessment=assessment,
        ruleset=stored,
        title=assessment.title,
        answers=result.answers,
        result=snapshot,
        recommendation=result.recommendation,
        bank_version=bank.version,
        matched_rules=firing_mask(result.answers, ruleset),
        owner_session=fingerprint(owner_session),
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
