"""The admin's impact preview (ruleset_impact) against scoring every assessment in full."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from advisor.engine.answers import validate_answers
from advisor.engine.bank import default_bank
from advisor.engine.firings import firing_mask
from advisor.engine.scoring import score
from advisor.reports.models import Report
from advisor.rulesets import services as rulesets
from advisor.rulesets.services import (
    engine_ruleset_for,
    ruleset_export,
    ruleset_impact,
    ruleset_import,
    ruleset_new_draft,
)
from questionnaire.services import assessment_save_answers, assessment_submit
from tests.conftest import load_personas
from tests.factories import UserFactory, submitted_assessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory(admin=True, username="grace")


@pytest.fixture
def everyone(published_ruleset):
    """Every persona submitted once: (assessment, report) each."""
    return [submitted_assessment(name) for name in load_personas()]


def reweigh(draft, weights: dict[int, str], off: set[int] = frozenset()) -> None:
    for rule in draft.rules.all():
        if rule.position in weights or rule.position in off:
            rule.weight = Decimal(weights.get(rule.position, str(rule.weight)))
            rule.enabled = rule.position not in off
            rule.save()


def favour_the_broker(draft, off: set[int] = frozenset()) -> None:
    """The broker's rules weigh 10, event streaming's 0.05: landslides turn over."""
    sides = dict(draft.rules.values_list("position", "favours"))
    weights = {
        position: "10.00" if side == "artemis" else "0.05" for position, side in sides.items()
    }
    reweigh(draft, weights, off=off)


def expected_verdicts(draft) -> dict:
    """Each latest report scored in full with the current rules and with the draft."""
    bank = default_bank()
    current = engine_ruleset_for(rulesets.RuleSet.objects.current())
    proposed = draft.to_engine()
    expected = {}
    for report in Report.objects.latest_per_assessment():
        answers = validate_answers(report.answers, bank, fill_defaults=True)
        expected[report.pk] = (score(answers, current), score(answers, proposed))
    return expected


def assert_matches_full_scoring(impact, draft) -> None:
    expected = expected_verdicts(draft)
    changed = {
        pk for pk, (old, new) in expected.items() if old.recommendation != new.recommendation
    }
    assert impact.total == len(expected)
    assert impact.changed_count == len(changed)
    assert {row.report.pk for row in impact.changed} == changed
    for row in impact.changed:
        old, new = expected[row.report.pk]
        assert (row.before.recommendation, row.after.recommendation) == (
            old.recommendation,
            new.recommendation,
        )
        assert row.before.scores == old.scores and row.after.scores == new.scores
    shifts: dict[float, int] = {}
    for old, new in expected.values():
        shift = round(new.scores["kafka"] - old.scores["kafka"], 1)
        shifts[shift] = shifts.get(shift, 0) + 1
    assert {value: count for value, count, _ in impact.shifts} == shifts


def test_the_preview_gives_what_scoring_each_assessment_in_full_gives(everyone, admin_user):
    draft = ruleset_new_draft(user=admin_user)
    favour_the_broker(draft, off={3, 17})

    impact = ruleset_impact(draft=draft, reports=Report.objects.latest_per_assessment())

    assert impact.changed_count > 0, "the weights chosen change some verdicts"
    assert impact.rescored == impact.read_answers == 0, "weights and switches need no answers"
    assert_matches_full_scoring(impact, draft)


def test_a_resubmitted_assessment_counts_once_with_its_latest_answers(
    published_ruleset, admin_user
):
    personas = load_personas()
    assessment, first = submitted_assessment("order_fulfilment_jms", title="Changed its mind")
    assessment_save_answers(assessment=assessment, answers=personas["telemetry_lake"]["answers"])
    assessment.refresh_from_db()
    latest = assessment_submit(assessment=assessment)
    draft = ruleset_new_draft(user=admin_user)
    reweigh(draft, {position: "0.00" for position in range(0, 60, 2)})

    impact = ruleset_impact(draft=draft, reports=Report.objects.latest_per_assessment())

    assert impact.total == 1
    assert list(Report.objects.latest_per_assessment()) == [latest]
    assert first.recommendation != latest.recommendation
    assert_matches_full_scoring(impact, draft)


@pytest.mark.parametrize(
    "rule_id",
    [
        "xa-needs-broker",  # a yes/no answer, a decisive need
        "priorities",  # one value of a multiple choice, a decisive need
        "open-protocol-clients",  # any of several values of a multiple choice
    ],
)
def test_a_rule_whose_condition_changed_is_evaluated_against_the_answers(
    everyone, admin_user, rule_id
):
    data = json.loads(ruleset_export(ruleset=rulesets.RuleSet.objects.current()))
    (rule,) = [rule for rule in data["rules"] if rule["id"] == rule_id]
    rule["when"] = {"not": rule["when"]}  # the opposite condition
    draft = ruleset_import(data=data, user=admin_user, name="flipped.json")

    impact = ruleset_impact(draft=draft, reports=Report.objects.latest_per_assessment())

    assert impact.read_answers == impact.total == len(everyone)
    assert impact.rescored == 0  # only the changed condition was evaluated
    assert impact.changed_count > 0, "the opposite condition changes some verdicts"
    assert "changed" in {change.after for change in impact.differences}
    assert_matches_full_scoring(impact, draft)


def test_reports_from_another_question_bank_are_scored_from_their_answers(everyone, admin_user):
    (_, older), (_, broken), *_ = everyone
    Report.objects.filter(pk=older.pk).update(bank_version="an older bank")
    Report.objects.filter(pk=broken.pk).update(
        bank_version="an older bank", answers={**broken.answers, "data_role": "gossip"}
    )
    draft = ruleset_new_draft(user=admin_user)
    reweigh(draft, {1: "5.00"})

    impact = ruleset_impact(draft=draft, reports=Report.objects.latest_per_assessment())

    assert impact.rescored == 1
    assert impact.unscorable_count == 1
    ((report, reason),) = impact.unscorable
    assert report.pk == broken.pk and "data_role" in reason
    assert impact.total == len(everyone) - 1


def test_the_page_lists_a_page_of_changed_assessments_oldest_first_and_counts_them_all(
    everyone, admin_user, admin_client, monkeypatch
):
    draft = ruleset_new_draft(user=admin_user)
    favour_the_broker(draft)
    latest = Report.objects.latest_per_assessment()
    unbounded = ruleset_impact(draft=draft, reports=latest)
    persona = unbounded.changed[0].report.title.replace(" ", "_")
    again = [submitted_assessment(persona, title=f"{persona} again, {n}")[1] for n in (2, 3)]
    monkeypatch.setattr(rulesets, "IMPACT_PAGE_SIZE", 1)

    first = ruleset_impact(draft=draft, reports=latest)
    last = ruleset_impact(draft=draft, reports=latest, changed_page=10**6)  # past the end

    count = unbounded.changed_count + 2
    assert first.changed_count == count and first.changed_page.paginator.num_pages == count
    oldest = min(unbounded.changed, key=lambda row: (row.report.created_at, str(row.report.pk)))
    assert [row.report.pk for row in first.changed] == [oldest.report.pk]
    assert [row.report.pk for row in last.changed] == [again[-1].pk]  # the newest changed
    page = admin_client.get(reverse("admin:advisor_ruleset_impact", args=[draft.pk]))
    assert f"1 to 1 of the {count}, oldest first." in page.content.decode()


def test_the_data_migration_fills_the_firings_of_reports_made_before_they_were_stored(
    everyone,
):
    stored = {report.pk: bytes(report.matched_rules) for _, report in everyone}
    Report.objects.update(matched_rules=b"")
    migration = import_module("advisor.migrations.0007_fill_report_matched_rules")

    migration.fill_matched_rules(apps, None)

    current = engine_ruleset_for(rulesets.RuleSet.objects.current())
    for report in Report.objects.all():
        assert bytes(report.matched_rules) == stored[report.pk]
        assert bytes(report.matched_rules) == firing_mask(report.answers, current)
