"""The question bank file: complete against the spec, and validated with clear errors."""

import json
import re

import pytest

from advisor.engine.bank import DEFAULT_BANK_PATH, default_bank, load_bank
from advisor.engine.datafiles import DataFileError
from tests.conftest import SPEC_QUESTIONS_PATH

SPEC_ROW = re.compile(r"^\| (\w+) \| `(\w+)` \| (single|multi|yes/no) \| (.*?) \| (.*?) \|$")


def spec_questions() -> dict[str, dict]:
    """The table of spec/questions.md: id -> section, kind, values."""
    rows = {}
    for line in SPEC_QUESTIONS_PATH.read_text(encoding="utf-8").splitlines():
        match = SPEC_ROW.match(line)
        if not match:
            continue
        section, question_id, kind, values, _shown = match.groups()
        kind = {"yes/no": "yes_no"}.get(kind, kind)
        # The values of a cell are the back-quoted words; yes/no questions take booleans.
        parsed = [True, False] if kind == "yes_no" else re.findall(r"`(\w+)`", values)
        rows[question_id] = {"section": section, "kind": kind, "values": parsed}
    return rows


def test_every_spec_question_and_value_exists_with_its_kind_and_section():
    bank = default_bank()
    spec = spec_questions()
    assert len(spec) == 24
    for question_id, expected in spec.items():
        question = bank.by_id[question_id]
        assert question.section == expected["section"], question_id
        assert question.kind == expected["kind"], question_id
        assert set(expected["values"]) <= set(question.values), question_id


def test_conditional_questions_follow_the_spec():
    bank = default_bank()
    owner = bank.by_id["guarantee_owner"]
    assert not owner.is_shown({"delivery_guarantee": "at_most_once"})
    assert owner.is_shown({"delivery_guarantee": "exactly_once"})
    placement = bank.by_id["client_placement"]
    assert not placement.is_shown({"topology": "single"})
    assert placement.is_shown({"topology": "multi_site"})
    assert bank.by_id["routing"].exclusive == "none"


def test_every_option_is_explained_in_plain_words():
    for question in default_bank().questions:
        assert question.text.endswith("?"), question.id
        for option in question.options:
            assert len(option.explanation) > 20, (question.id, option.value)


def write_bank(tmp_path, mutate):
    data = json.loads(DEFAULT_BANK_PATH.read_text())
    mutate(data)
    path = tmp_path / "questions.json"
    path.write_text(json.dumps(data))
    return path


def question(data, question_id):
    return next(q for q in data["questions"] if q["id"] == question_id)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: question(d, "ordering").update(section="delivry"),
            "questions.json: question 'ordering', field 'section': unknown section 'delivry'",
        ),
        (
            lambda d: d["questions"].append(dict(question(d, "replay"))),
            "questions.json: question 'replay', field 'id': duplicate question id",
        ),
        (
            lambda d: question(d, "guarantee_owner").update(
                shown_when={"question": "delivery_promise", "equals": "x"}
            ),
            "question 'guarantee_owner', field 'shown_when': unknown question 'delivery_promise'",
        ),
        (
            lambda d: question(d, "client_placement").update(
                shown_when={"not": {"question": "topology", "equals": "one_node"}}
            ),
            "question 'client_placement', field 'shown_when': \"one_node\" is not a value of "
            "'topology'",
        ),
        (
            lambda d: question(d, "throughput").update(default="fast"),
            "question 'throughput', field 'default': \"fast\" is not a value of 'throughput'",
        ),
        (
            lambda d: question(d, "replay").pop("default"),
            "question 'replay', field 'default': is missing",
        ),
    ],
    ids=[
        "unknown-section",
        "duplicate-id",
        "shown-when-question",
        "shown-when-value",
        "bad-default",
        "missing-default",
    ],
)
def test_a_broken_bank_names_file_entry_and_field(tmp_path, mutate, expected):
    path = write_bank(tmp_path, mutate)
    with pytest.raises(DataFileError) as raised:
        load_bank(path)
    assert expected in str(raised.value)


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "questions.json"
    path.write_text('{"version": 1,\n "sections": [}')
    with pytest.raises(DataFileError, match=r"questions.json: line 2, column \d+: invalid JSON"):
        load_bank(path)
