"""Drafts, publishing, impact, history and rules files (advisor/rulesets.py)."""

import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from advisor.engine.answers import validate_answers
from advisor.engine.datafiles import DataFileError
from advisor.engine.rules import DEFAULT_RULES_PATH
from advisor.engine.scoring import score
from advisor.models import Report, RuleSet
from advisor.rulesets import services as rulesets
from advisor.rulesets.services import (
    ruleset_errors,
    ruleset_export,
    ruleset_impact,
    ruleset_import,
    ruleset_new_draft,
    ruleset_publish,
    ruleset_rule_changes,
)
from questionnaire.models import Assessment
from tests.conftest import load_personas
from tests.factories import UserFactory, submitted_assessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory(admin=True, username="ada")


@pytest.fixture
def draft(published_ruleset, admin_user):
    return ruleset_new_draft(user=admin_user)


def set_weight(ruleset: RuleSet, rule_id: str, weight: str, *, user=None) -> None:
    rule = ruleset.rules.get(rule_id=rule_id)
    rule.weight = Decimal(weight)
    rule._history_user = user
    rule.save()


def rule_rows(ruleset: RuleSet) -> list[tuple]:
    return list(
        ruleset.rules.values_list(
            "rule_id", "position", "condition", "favours", "points", "weight", "enabled"
        )
    )


def persona_answers(bank) -> dict[str, dict]:
    return {
        name: validate_answers(persona["answers"], bank, fill_defaults=True)
        for name, persona in load_personas().items()
    }


# -- drafts and versions --------------------------------------------------------------


def test_a_new_draft_copies_the_current_ruleset_as_the_next_version(published_ruleset, admin_user):
    draft = ruleset_new_draft(user=admin_user)

    assert (draft.version, draft.state) == ("v2", RuleSet.State.DRAFT)
    assert draft.based_on == published_ruleset
    assert draft.created_by == admin_user
    assert rule_rows(draft) == rule_rows(published_ruleset)
    assert RuleSet.objects.current() == published_ruleset
    assert ruleset_new_draft(user=admin_user).version == "v3"


def test_a_new_draft_needs_a_published_ruleset_to_copy(db, admin_user):
    with pytest.raises(ValidationError) as raised:
        ruleset_new_draft(user=admin_user)
    assert raised.value.messages == [rulesets.NO_CURRENT_RULESET]


# -- publishing -----------------------------------------------------------------------


def test_publishing_makes_the_draft_current_and_records_who_and_when(
    draft, published_ruleset, admin_user
):
    set_weight(draft, "xa-needs-broker", "3")

    published = ruleset_publish(ruleset=draft, user=admin_user)

    assert RuleSet.objects.current() == published == draft
    assert published.published_by == admin_user
    assert published.published_at is not None
    published_ruleset.refresh_from_db()
    assert published_ruleset.is_published, "the old version stays, for the reports that use it"
    assert published_ruleset.rules.get(rule_id="xa-needs-broker").weight == Decimal("1.00")


def test_a_published_ruleset_cannot_be_published_again(published_ruleset, admin_user):
    with pytest.raises(ValidationError) as raised:
        ruleset_publish(ruleset=published_ruleset, user=admin_user)
    assert raised.value.messages == [rulesets.RULESET_ALREADY_PUBLISHED.format(version="v1")]


def test_an_empty_draft_cannot_be_published(draft, admin_user, published_ruleset):
    draft.rules.all().delete()

    with pytest.raises(ValidationError) as raised:
        ruleset_publish(ruleset=draft, user=admin_user)

    assert raised.value.messages == [rulesets.DRAFT_HAS_NO_RULES.format(version="v2")]
    assert RuleSet.objects.current() == published_ruleset


@pytest.mark.parametrize("silence", [{"enabled": False}, {"weight": Decimal("0")}])
def test_a_draft_that_leaves_a_side_no_live_rule_cannot_be_published(
    draft, admin_user, published_ruleset, silence
):
    draft.rules.filter(favours="kafka").update(**silence)

    with pytest.raises(ValidationError) as raised:
        ruleset_publish(ruleset=draft, user=admin_user)

    (message,) = raised.value.messages
    assert message.startswith("every rule favouring Event streaming (Kafka) is switched off")
    assert "events-want-a-log" in message
    assert "field 'enabled'" in message and "field 'weight'" in message
    draft.refresh_from_db()
    assert draft.state == RuleSet.State.DRAFT
    assert RuleSet.objects.current() == published_ruleset


def test_a_side_keeps_publishing_with_one_live_rule(draft, admin_user):
    draft.rules.filter(favours="kafka").exclude(rule_id="events-want-a-log").update(enabled=False)

    assert ruleset_errors(ruleset=draft) == []


def test_errors_name_the_rule_and_the_field(draft, admin_user):
    draft.rules.filter(rule_id="xa-needs-broker").update(weight=Decimal("12"))
    draft.rules.filter(rule_id="selectors").update(
        condition={"question": "no_such_question", "equals": True}
    )

    errors = ruleset_errors(ruleset=draft)

    assert errors == [
        "rule 'xa-needs-broker', field 'weight': Ensure this value is less than or equal to 10.0.",
        "ruleset v2: rule 'selectors', field 'when': unknown question 'no_such_question'",
    ]
    with pytest.raises(ValidationError):
        ruleset_publish(ruleset=draft, user=admin_user)


# -- what weights do to scores --------------------------------------------------------


def test_a_zero_weight_removes_exactly_that_rules_contribution_from_every_score(draft, bank):
    answers = persona_answers(bank)
    before = {name: score(values, draft.to_engine()) for name, values in answers.items()}
    fired = {reason.rule for result in before.values() for reason in result.reasons}

    for rule_id in sorted(fired):
        set_weight(draft, rule_id, "0")
        ruleset = draft.to_engine()
        for name, values in answers.items():
            old, new = before[name], score(values, ruleset)
            kept = [reason for reason in old.reasons if reason.rule != rule_id]
            # (the order may change: a rule of the same group may now be the one counted)
            assert sorted(r.rule for r in new.reasons) == sorted(r.rule for r in kept)
            # Each fact counts once: the strongest of a group; refuted claims count nothing.
            raw = {"artemis": 0.0, "kafka": 0.0}
            strongest: dict[str, float] = {}
            for reason in kept:
                if reason.refuted_by:
                    continue
                points = reason.weight * reason.base_points
                if reason.group:
                    strongest[reason.group] = max(strongest.get(reason.group, 0.0), points)
                    continue
                raw[reason.favours] += points
            for reason in kept:
                if reason.group and reason.group in strongest:
                    raw[reason.favours] += strongest.pop(reason.group)
            total = raw["artemis"] + raw["kafka"]
            for side in raw:
                expected = 100 * raw[side] / total if total else 50.0
                assert new.scores[side] == pytest.approx(expected, abs=0.051), (rule_id, name)
        set_weight(draft, rule_id, "1")


def test_doubling_every_weight_changes_no_verdict_and_no_score(draft, admin_user):
    for persona in load_personas():
        submitted_assessment(persona)
    # Uneven weights first, published, so the doubling starts from something real.
    for position, rule in enumerate(draft.rules.all()):
        rule.weight = Decimal(str(0.5 + (position % 7) * 0.5))
        rule.save()
    ruleset_publish(ruleset=draft, user=admin_user)
    doubled = ruleset_new_draft(user=admin_user)
    for rule in doubled.rules.all():
        rule.weight *= 2
        rule.save()

    impact = ruleset_impact(draft=doubled, reports=Report.objects.latest_per_assessment())

    count = len(load_personas())
    assert (impact.total, impact.changed_count, impact.changed) == (count, 0, ())
    assert impact.shifts == ((0.0, count, 0),)  # no score moved
    assert all(before == after for before, after, _ in impact.transitions)


# -- impact ---------------------------------------------------------------------------


def test_the_impact_lists_the_submitted_assessments_whose_verdict_would_change(draft):
    ledger, _ = submitted_assessment("event_sourced_ledger_with_legacy_clients", title="Ledger")
    submitted_assessment("order_fulfilment_jms", title="Orders")
    Assessment.objects.create(title="Unfinished", answers={"data_role": "events"})
    set_weight(draft, "replay-forever", "0")

    impact = ruleset_impact(draft=draft, reports=Report.objects.latest_per_assessment())

    assert impact.baseline.version == "v1"
    assert (impact.total, impact.changed_count) == (2, 1)
    (changed,) = impact.changed
    assert changed.report.assessment_id == ledger.pk and changed.report.title == "Ledger"
    assert (changed.before.recommendation, changed.after.recommendation) == ("hybrid", "artemis")
    assert changed.after.scores["kafka"] < changed.before.scores["kafka"]
    assert changed.kafka_shift < 0
    assert impact.differences == (
        rulesets.WeightChange("replay-forever", "weight", Decimal("1.00"), Decimal("0.00")),
    )


def test_publishing_leaves_old_reports_with_their_ruleset_and_snapshot(draft, admin_user):
    _, old_report = submitted_assessment("event_sourced_ledger_with_legacy_clients")
    snapshot = (old_report.ruleset_id, old_report.result, old_report.recommendation)
    set_weight(draft, "replay-forever", "0")

    ruleset_publish(ruleset=draft, user=admin_user)
    _, new_report = submitted_assessment("event_sourced_ledger_with_legacy_clients")

    old_report = Report.objects.get(pk=old_report.pk)
    assert (old_report.ruleset_id, old_report.result, old_report.recommendation) == snapshot
    assert old_report.ruleset.version == "v1" and old_report.recommendation == "hybrid"
    assert new_report.ruleset == draft and new_report.recommendation == "artemis"


# -- history --------------------------------------------------------------------------


def test_history_says_who_changed_which_weight_from_what_to_what(draft, admin_user):
    other = UserFactory(admin=True, username="grace")
    set_weight(draft, "xa-needs-broker", "2.5", user=admin_user)
    set_weight(draft, "xa-needs-broker", "3", user=other)
    rule = draft.rules.get(rule_id="selectors")
    rule.enabled = False
    rule._history_user = other
    rule.save()

    changes = ruleset_rule_changes(ruleset=draft)

    assert sorted((c.user.username, c.rule, c.field, c.before, c.after) for c in changes) == [
        ("ada", "xa-needs-broker", "weight", Decimal("1.00"), Decimal("2.50")),
        ("grace", "selectors", "enabled", True, False),
        ("grace", "xa-needs-broker", "weight", Decimal("2.50"), Decimal("3.00")),
    ]
    assert all(change.when is not None for change in changes)
    assert changes == sorted(changes, key=lambda change: change.when, reverse=True)


# -- rules files ----------------------------------------------------------------------


def test_export_writes_the_format_of_the_default_rules_file(published_ruleset):
    exported = json.loads(ruleset_export(ruleset=published_ruleset))

    assert exported == json.loads(DEFAULT_RULES_PATH.read_text())


def test_an_exported_draft_imports_as_a_new_draft_with_its_weights(draft, admin_user):
    set_weight(draft, "xa-needs-broker", "2.75")
    draft.rules.filter(rule_id="selectors").update(enabled=False)

    imported = ruleset_import(
        data=json.loads(ruleset_export(ruleset=draft)), user=admin_user, name="rules-v2.json"
    )

    assert (imported.version, imported.state) == ("v3", RuleSet.State.DRAFT)
    assert imported.based_on.version == "v1"
    assert "rules-v2.json" in imported.notes and "v2" in imported.notes
    assert rule_rows(imported) == rule_rows(draft)
    assert ruleset_export(ruleset=imported) == ruleset_export(ruleset=draft).replace(
        '"version": "v2"', '"version": "v3"'
    )


def default_rules_data() -> dict:
    return json.loads(DEFAULT_RULES_PATH.read_text())


def with_rule(data: dict, rule_id: str, **changes) -> dict:
    for rule in data["rules"]:
        if rule["id"] == rule_id:
            rule.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            with_rule(default_rules_data(), "xa-needs-broker", weight=11),
            "bad.json: rule 'xa-needs-broker', field 'weight': 11 is outside 0 to 10",
        ),
        (
            with_rule(default_rules_data(), "xa-needs-broker", weight="abc"),
            "bad.json: rule 'xa-needs-broker', field 'weight': expected a number",
        ),
        (
            with_rule(default_rules_data(), "selectors", when={"question": "nope", "equals": 1}),
            "bad.json: rule 'selectors', field 'when'",
        ),
        ({**default_rules_data(), "rules": []}, "bad.json: top level, field 'rules'"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_rule_and_field(
    published_ruleset, admin_user, data, expected
):
    with pytest.raises(DataFileError) as raised:
        ruleset_import(data=data, user=admin_user, name="bad.json")

    assert str(raised.value).startswith(expected)
    assert RuleSet.objects.count() == 1


def test_a_file_that_is_not_json_names_the_line():
    with pytest.raises(DataFileError) as raised:
        rulesets.rules_file_parse(b'{\n  "version": v2\n}', name="bad.json")
    assert str(raised.value).startswith("bad.json: line 2, column 14: invalid JSON")


# -- the commands ---------------------------------------------------------------------


def test_export_rules_and_import_rules_commands_round_trip(draft, admin_user, tmp_path):
    set_weight(draft, "replay-forever", "4.5")
    target = tmp_path / "rules-v2.json"

    call_command("export_rules", "v2", "-o", str(target), stderr=io.StringIO())
    out = io.StringIO()
    call_command("import_rules", str(target), "--user", "ada", stdout=out)

    imported = RuleSet.objects.get(version="v3")
    assert imported.created_by == admin_user
    assert imported.rules.get(rule_id="replay-forever").weight == Decimal("4.50")
    assert "Imported 67 rules as draft v3" in out.getvalue()
    assert f"/admin/advisor/ruleset/{imported.pk}/impact/" in out.getvalue()


def test_export_rules_prints_to_stdout_and_names_known_versions(published_ruleset):
    out = io.StringIO()
    call_command("export_rules", "v1", stdout=out)
    assert json.loads(out.getvalue())["version"] == "v1"

    with pytest.raises(CommandError, match="no ruleset 'v9'; there are: v1"):
        call_command("export_rules", "v9")


def test_import_rules_refuses_a_bad_file_naming_the_rule_and_field(published_ruleset, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(with_rule(default_rules_data(), "selectors", points=99)))

    with pytest.raises(CommandError, match="bad.json: rule 'selectors', field 'points'"):
        call_command("import_rules", str(bad))
    assert RuleSet.objects.count() == 1
