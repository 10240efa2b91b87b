"""Migrations: the models match them, and a database from before the parts moved upgrades.

The parts (rulesets, reports, demo runs) keep the app label "advisor", so their tables
and migrations are those of the first version; data written then must read back now.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from advisor.demoruns.models import DemoRun
from advisor.reports.models import Report
from advisor.rulesets.models import RuleSet
from advisor.security import fingerprint

# The newest migrations before the code was split into parts (issue 9).
BEFORE_THE_PARTS = [("advisor", "0004_demo_run_heartbeat"), ("questionnaire", "0001_initial")]


@pytest.mark.django_db
def test_the_models_match_the_migrations():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_parts_upgrades_and_reads_back():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_PARTS)
    old = executor.loader.project_state(BEFORE_THE_PARTS).apps
    ruleset = old.get_model("advisor", "RuleSet").objects.create(
        version="v1", state="published", dimensions=[{"id": "delivery", "title": "Delivery"}]
    )
    assessment = old.get_model("questionnaire", "Assessment").objects.create(
        title="Before the move", answers={"data_role": "commands"}
    )
    report = old.get_model("advisor", "Report").objects.create(
        assessment=assessment,
        ruleset=ruleset,
        title="Before the move",
        answers={"data_role": "commands"},
        result={"recommendation": "artemis"},
        recommendation="artemis",
        bank_version="1",
    )
    old.get_model("advisor", "DemoRun").objects.create(assessment=assessment, scenario="replay")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert RuleSet.objects.get().version == "v1"
    upgraded = Report.objects.get(pk=report.pk)
    assert upgraded.title == "Before the move" and upgraded.ruleset.version == "v1"
    assert DemoRun.objects.get().assessment_id == assessment.pk


@pytest.mark.django_db(transaction=True)
def test_migration_0008_hashes_the_session_keys_already_stored():
    executor = MigrationExecutor(connection)
    executor.migrate([("advisor", "0004_demo_run_heartbeat")])
    old = executor.loader.project_state([("advisor", "0004_demo_run_heartbeat")]).apps
    Assessment = old.get_model("questionnaire", "Assessment")
    RuleSet = old.get_model("advisor", "RuleSet")
    OldReport = old.get_model("advisor", "Report")
    OldRun = old.get_model("advisor", "DemoRun")
    assessment = Assessment.objects.create(title="before")
    ruleset = RuleSet.objects.create(version="v1", state="published")
    raw = "abcdefghijklmnopqrstuvwxyz012345"
    report = OldReport.objects.create(
        assessment=assessment,
        ruleset=ruleset,
        answers={},
        result={},
        recommendation="kafka",
        bank_version="1",
        owner_session=raw,
    )
    run = OldRun.objects.create(assessment=assessment, scenario="replay", owner_session=raw)
    anonymous = OldRun.objects.create(assessment=assessment, scenario="replay", owner_session="")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("advisor", "0008_owner_fingerprints")])
    new = executor.loader.project_state([("advisor", "0008_owner_fingerprints")]).apps
    assert new.get_model("advisor", "Report").objects.get(pk=report.pk).owner_session == (
        fingerprint(raw)
    )
    runs = new.get_model("advisor", "DemoRun").objects
    assert runs.get(pk=run.pk).owner_session == fingerprint(raw)
    assert runs.get(pk=anonymous.pk).owner_session == ""

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
