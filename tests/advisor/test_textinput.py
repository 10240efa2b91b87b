"""The one check for text and JSON from outside (advisor.engine.textinput): plain pytest."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor.engine import textinput
from advisor.engine.textinput import TextInputError, clean_text, parse_json, text_problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a\x00b", textinput.NUL_CHARACTER),
        ("title \ud800", textinput.LONE_SURROGATE.format(code=0xD800)),
        ("bell\x07", textinput.CONTROL_CHARACTER.format(code=7)),
        ("c1 \x85", textinput.CONTROL_CHARACTER.format(code=0x85)),
        ("admin\u202egnp.exe", textinput.BIDI_CONTROL.format(code=0x202E)),
        ("isolate \u2066x\u2069", textinput.BIDI_CONTROL.format(code=0x2066)),
        ("two\nlines", textinput.LINE_BREAK.format(code=10)),
        ("x" * 201, textinput.TOO_LONG.format(length=201, limit=200)),
        (42, textinput.NOT_TEXT),
    ],
)
def test_single_line_text_names_what_is_wrong(value, expected):
    assert text_problem(value, max_length=200) == expected
    with pytest.raises(TextInputError) as raised:
        clean_text(value, max_length=200)
    assert raised.value.message == expected


def test_multi_line_text_keeps_tabs_and_line_breaks_but_not_other_controls():
    assert clean_text("  first\r\n\tsecond\n ", max_length=None, multiline=True) == (
        "first\r\n\tsecond"
    )
    assert text_problem("a\x0bb", max_length=None, multiline=True) == (
        textinput.CONTROL_CHARACTER.format(code=0x0B)
    )


def test_ordinary_text_in_any_script_passes_stripped():
    text = "  Commandes et événements — 注文イベント, עברית with marks \u200f ok "
    assert clean_text(text, max_length=200) == text.strip()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_text_without_controls_or_surrogates_passes_unless_it_has_a_bidi_control(text):
    problem = text_problem(text, max_length=None)
    has_bidi = any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in text)
    assert (problem is not None) == has_bidi


def test_parse_json_accepts_ordinary_json():
    assert parse_json(b'{"a": [1, 2.5, "x\\n", {"b": null}]}') == {
        "a": [1, 2.5, "x\n", {"b": None}]
    }


def test_brackets_inside_strings_do_not_count_as_depth():
    text = json.dumps({"title": "[[[[" * 40 + '"{{{{' * 40})
    assert parse_json(text)["title"].startswith("[[[[")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[" * 1000 + "]" * 1000, textinput.TOO_DEEP.format(limit=32) + " (line 1, column 33)"),
        ("[" * 33 + "]" * 33, textinput.TOO_DEEP.format(limit=32) + " (line 1, column 33)"),
        ('{"n": ' + "9" * 5000 + "}", textinput.NUMBER_TOO_LONG.format(length=5000, limit=40)),
        ('{"n": 1' + "0" * 4999 + ".5}", textinput.NUMBER_TOO_LONG.format(length=5002, limit=40)),
        ('{"n": NaN}', textinput.NOT_A_NUMBER.format(constant="NaN")),
        ('{"n": -Infinity}', textinput.NOT_A_NUMBER.format(constant="-Infinity")),
        ('{"n": 1e999}', textinput.NUMBER_TOO_LARGE.format(literal="1e999")),
        (b'{"a": "\xff"}', textinput.NOT_UTF8),
        (
            '{"a": 1,\n "b": }',
            textinput.INVALID_JSON.format(detail="Expecting value") + " (line 2, column 7)",
        ),
    ],
)
def test_parse_json_refuses_what_would_crash_with_a_message_that_says_why(content, expected):
    with pytest.raises(TextInputError) as raised:
        parse_json(content)
    assert raised.value.located() == expected


def test_depth_32_is_still_accepted():
    assert parse_json("[" * 32 + "]" * 32) == [
        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    ]


def test_strings_problem_finds_the_first_bad_string_with_its_path():
    data = {"version": "v2", "rules": [{"title": "fine"}, {"title": "bad\x00"}]}
    assert textinput.strings_problem(data) == ("rules[1].title", textinput.NUL_CHARACTER)
    assert textinput.strings_problem({"ke\u202ey": 1}) == (
        "a key in the top level",
        textinput.BIDI_CONTROL.format(code=0x202E),
    )
    assert textinput.strings_problem({"ok": ["line\nbreaks are fine"]}) is None
