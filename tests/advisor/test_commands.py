"""The `recommend`, `questions` and `load_rules` commands, as scripts use them."""

import contextlib
import io
import json
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import execute_from_command_line

from advisor.engine.bank import default_bank
from advisor.models import RuleSet
from tests.conftest import PUBLIC_PERSONAS_PATH

pytestmark = pytest.mark.django_db


def run(*args, stdin: str | None = None, monkeypatch=None):
    """The command as `manage.py` runs it: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = 0
    try:
        # A command closes the database connections when it ends; inside the test's
        # transaction that would leave the next query a closed connection (PostgreSQL).
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            mock.patch("django.core.management.base.connections.close_all"),
        ):
            execute_from_command_line(["manage.py", *args])
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def persona_file(tmp_path):
    personas = json.loads(PUBLIC_PERSONAS_PATH.read_text())
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(personas["order_fulfilment_jms"]["answers"]))
    return path


def test_recommend_prints_the_contract_json(published_ruleset, persona_file):
    code, out, _ = run("recommend", str(persona_file), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["recommendation"] == "artemis"
    assert set(data) >= {
        "recommendation",
        "scores",
        "margin",
        "ruleset",
        "dimensions",
        "reasons",
        "flips",
    }
    assert data["ruleset"] == published_ruleset.version == "v1"
    assert 0 <= data["scores"]["artemis"] <= 100 and 0 <= data["scores"]["kafka"] <= 100
    assert data["margin"] == pytest.approx(
        data["scores"]["artemis"] - data["scores"]["kafka"], abs=0.11
    )
    first = data["reasons"][0]
    assert {"rule", "favours", "points", "why"} <= set(first)
    assert first["rule"] == "xa-needs-broker"
    for flip in data["flips"]:
        assert {"question", "to", "recommendation"} <= set(flip)


def test_recommend_reads_standard_input(published_ruleset, persona_file, monkeypatch):
    code, out, _ = run(
        "recommend",
        "-",
        "--format",
        "json",
        stdin=persona_file.read_text(),
        monkeypatch=monkeypatch,
    )
    assert code == 0
    assert json.loads(out)["recommendation"] == "artemis"


def test_recommend_text_is_for_people(published_ruleset, persona_file):
    code, out, _ = run("recommend", str(persona_file), "--format", "text")
    assert code == 0
    assert out.startswith("Recommendation: artemis — A message broker (Apache ActiveMQ Artemis")
    assert "Top reasons for the broker (Artemis):" in out
    assert "One transaction across messaging and a database [T3, M1, M5]" in out
    assert "What would change this:" in out or "No single answer" in out


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            '{"throughput": "fast"}',
            'throughput: "fast" is not allowed; allowed: "lt_1k"',
        ),
        ("{}", 'data_role: is required; allowed: "commands", "events", "both"'),
        ('{"colour": 1}', "colour: 'colour' is not a question"),
        ("[1, 2]", "answers: expected a JSON object"),
        ("{nope", "standard input: invalid JSON at line 1, column 2"),
        (
            "[" * 1000 + "]" * 1000,
            "standard input: nests arrays and objects deeper than 32 levels (line 1, column 33)",
        ),
        ('{"data_role": NaN}', "standard input: has NaN, which is not a JSON number"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    published_ruleset, monkeypatch, answers, expected
):
    code, out, err = run(
        "recommend", "-", "--format", "json", stdin=answers, monkeypatch=monkeypatch
    )
    assert code == 2
    assert out == ""
    assert err.startswith(f"CommandError: {expected}")
    assert err.count("\n") <= 1 and "Traceback" not in err


def test_recommend_names_a_missing_file(published_ruleset, tmp_path):
    code, _, err = run("recommend", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json: cannot be read" in err


def test_recommend_without_rules_says_how_to_load_them(persona_file):
    code, _, err = run("recommend", str(persona_file), "--format", "json")
    assert code == 2
    assert "load_rules" in err


def test_recommend_scores_with_the_current_published_ruleset_from_the_database(
    published_ruleset, persona_file
):
    published_ruleset.rules.filter(rule_id="xa-needs-broker").update(weight=0)
    # A fresh published copy, so the engine cache cannot hide the change.
    from advisor.rulesets.services import ruleset_create

    changed = published_ruleset.to_engine()
    ruleset_create(ruleset=changed, state=RuleSet.State.PUBLISHED, version="v2")
    code, out, _ = run("recommend", str(persona_file), "--format", "json")
    data = json.loads(out)
    assert data["ruleset"] == "v2"
    assert "xa-needs-broker" not in [reason["rule"] for reason in data["reasons"]]


def test_questions_prints_the_bank():
    code, out, _ = run("questions", "--format", "json")
    data = json.loads(out)
    by_id = {q["id"]: q for q in data["questions"]}
    contract = {"data_role", "throughput", "ack_durability", "team_experience", "guarantee_owner"}
    assert contract <= set(by_id) and len(by_id) == 32
    # questions added after the contract are optional, with a neutral default
    assert by_id["kafka_version"]["optional"] is True and not by_id["data_role"]["optional"]
    owner = by_id["guarantee_owner"]
    assert owner["shown_when"] == {
        "not": {"question": "delivery_guarantee", "equals": "at_most_once"}
    }
    assert owner["default"] == "either" and owner["section"] == "delivery"
    assert by_id["routing"]["kind"] == "multi" and "none" in by_id["routing"]["values"]
    assert by_id["xa_transactions"]["values"] == [True, False]


def test_load_rules_is_idempotent():
    code, out, _ = run("load_rules")
    assert "Loaded 67 rules as published ruleset v1." in out
    code, out, _ = run("load_rules")
    assert "already loaded" in out
    assert RuleSet.objects.count() == 1
    assert RuleSet.objects.current().rules.count() == 67


def test_the_question_doc_is_generated_from_the_bank():
    """docs/questions.md documents every id and value; regenerate it when the bank changes:
    python manage.py questions --format markdown > docs/questions.md"""
    code, out, _ = run("questions", "--format", "markdown")
    doc = Path(__file__).resolve().parents[2] / "docs" / "questions.md"
    assert code == 0 and doc.read_text(encoding="utf-8") == out
    for question in default_bank().questions:
        assert f"`{question.id}`" in out
        for value in question.values:
            assert f"`{json.dumps(value)}`" in out


@pytest.mark.parametrize("name", sorted(json.loads(PUBLIC_PERSONAS_PATH.read_text())))
def test_recommend_still_answers_every_public_answers_file(published_ruleset, tmp_path, name):
    """Answers files valid under today's contract (no optional question) exit 0."""
    personas = json.loads(PUBLIC_PERSONAS_PATH.read_text())
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(personas[name]["answers"]))
    code, out, _ = run("recommend", str(path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["recommendation"] in personas[name]["expect"]
    assert set(data) >= {"recommendation", "scores", "margin", "ruleset", "dimensions"}
    assert set(data) >= {"reasons", "flips"}
    code, text, _ = run("recommend", str(path))
    assert code == 0 and "Recommendation:" in text
