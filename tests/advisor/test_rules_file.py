"""The default rules file: validated with errors naming file, rule and field."""

import json

import pytest

from advisor.engine.datafiles import DataFileError
from advisor.engine.rules import DEFAULT_RULES_PATH, load_ruleset_file, ruleset_to_data


def write_rules(tmp_path, mutate):
    data = json.loads(DEFAULT_RULES_PATH.read_text())
    mutate(data)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data))
    return path


def rule(data, rule_id):
    return next(r for r in data["rules"] if r["id"] == rule_id)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: rule(d, "priorities").update(dimension="speed"),
            "rules.json: rule 'priorities', field 'dimension': 'speed' is not one of",
        ),
        (
            lambda d: rule(d, "priorities").update(favours="rabbitmq"),
            "rule 'priorities', field 'favours': 'rabbitmq' is not one of artemis, kafka",
        ),
        (
            lambda d: rule(d, "priorities").update(weight=11),
            "rule 'priorities', field 'weight': 11 is outside 0 to 10",
        ),
        (
            lambda d: rule(d, "priorities").update(
                when={"question": "routing", "contains": "fifo"}
            ),
            "rule 'priorities', field 'when': \"fifo\" is not a value of 'routing'",
        ),
        (
            lambda d: rule(d, "priorities").update(when={"question": "colour", "equals": "red"}),
            "rule 'priorities', field 'when': unknown question 'colour'",
        ),
        (
            lambda d: rule(d, "priorities").update(when={"question": "routing", "matches": "x"}),
            "rule 'priorities', field 'when': when: a test on a question needs exactly one of",
        ),
        (
            lambda d: rule(d, "priorities").update(when={"python": "1 + 1"}),
            "rule 'priorities', field 'when': when: unknown operator 'python'",
        ),
        (
            lambda d: rule(d, "priorities").update(citations=["T9"]),
            "rule 'priorities', field 'citations'",
        ),
        (
            lambda d: rule(d, "priorities").update(caveat=""),
            "rule 'priorities', field 'caveat': a rule citing an M entry states its caveat",
        ),
        (
            lambda d: d["rules"].append(dict(rule(d, "priorities"))),
            "rule 'priorities', field 'id': duplicate rule id",
        ),
    ],
    ids=[
        "dimension",
        "favours",
        "weight",
        "value",
        "question",
        "operator",
        "no-eval",
        "citation",
        "caveat",
        "duplicate",
    ],
)
def test_a_broken_rules_file_names_the_rule_and_field(tmp_path, bank, mutate, expected):
    with pytest.raises(DataFileError) as raised:
        load_ruleset_file(write_rules(tmp_path, mutate), bank=bank)
    assert expected in str(raised.value)


def test_the_default_rules_round_trip_through_their_file_format(tmp_path, bank, default_rules):
    path = tmp_path / "exported.json"
    path.write_text(json.dumps(ruleset_to_data(default_rules)))
    assert load_ruleset_file(path, bank=bank) == default_rules


def test_every_rule_explains_itself(default_rules):
    for rule in default_rules.rules:
        assert len(rule.rationale) > 60, rule.id
        assert rule.title, rule.id


def test_a_ruleset_parses_back_from_its_data_without_a_trip_through_json(bank, default_rules):
    from pathlib import Path

    from advisor.engine.rules import parse_ruleset

    assert parse_ruleset(ruleset_to_data(default_rules), bank=bank, path=Path("x")) == default_rules
