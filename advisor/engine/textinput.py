"""Text and JSON from outside, checked once: forms, the JSON API and rule-file imports.

Plain Python (no Django), so the engine's rule-file parser uses it too; the Django side
wraps it as a validator (``advisor.validators``). Every error message names what was
wrong, so a form, a JSON 400 and a command-line error can show it as it is.

What text may hold: no NUL (PostgreSQL refuses it in text and JSON; SQLite does not, so
it would only fail in production), no lone surrogate (not Unicode: encoding the page
fails), no control character other than tab and line breaks in multi-line text, and no
bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069: "Trojan Source",
CVE-2021-42574, text that reads differently from what it stores).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Messages people read; each follows the name of what was checked ("the title ...").
NOT_TEXT = "expected text"
NUL_CHARACTER = "contains a NUL character (U+0000), which is not allowed"
LONE_SURROGATE = "contains a lone surrogate (U+{code:04X}), which is not valid Unicode text"
CONTROL_CHARACTER = "contains the control character U+{code:04X}, which is not allowed"
LINE_BREAK = "must be a single line (it contains U+{code:04X})"
BIDI_CONTROL = (
    "contains the bidirectional control character U+{code:04X}, "
    "which can make text read differently from what it says"
)
TOO_LONG = "is {length} characters long; at most {limit} are allowed"

NOT_UTF8 = "is not UTF-8 text"
INVALID_JSON = "is not valid JSON: {detail}"
TOO_DEEP = "nests arrays and objects deeper than {limit} levels"
NUMBER_TOO_LONG = "has a number {length} characters long; at most {limit} are allowed"
NOT_A_NUMBER = "has {constant}, which is not a JSON number"
NUMBER_TOO_LARGE = "has the number {literal}, too large to be stored"

# Deep enough for any rule condition people write (a rules file nests about 8 levels),
# far below Python's recursion limit (JSON nested 1,000 deep used to crash the parser).
MAX_JSON_DEPTH = 32
# Weights and points have a few digits; 5,000-digit numbers used to crash int().
MAX_NUMBER_LENGTH = 40

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_LINE_BREAKS = "\t\n\r"
# Everything refused in single-line text; multi-line text allows _LINE_BREAKS.
_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}\ud800-\udfff]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CONTROLS}\ud800-\udfff]")
# A JSON string (skipped whole), or a bracket that opens or closes a level.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class TextInputError(ValueError):
    """Text or JSON that we refuse; ``message`` reads after the name of the field.

    For JSON, ``line`` and ``column`` say where (when known), and ``detail`` is the JSON
    parser's own words for a syntax error.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        detail: str | None = None,
    ):
        self.message, self.line, self.column, self.detail = message, line, column, detail
        super().__init__(self.located())

    def located(self) -> str:
        """The message with where it happened, e.g. '... (line 2, column 7)'."""
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"


def text_problem(value: Any, *, max_length: int | None, multiline: bool = False) -> str | None:
    """Why this value is not acceptable text, or None when it is."""
    if not isinstance(value, str):
        return NOT_TEXT
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(value)
    if found:
        code = ord(found.group())
        if code == 0:
            return NUL_CHARACTER
        if 0xD800 <= code <= 0xDFFF:
            return LONE_SURROGATE.format(code=code)
        if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            return BIDI_CONTROL.format(code=code)
        if chr(code) in _LINE_BREAKS:
            return LINE_BREAK.format(code=code)
        return CONTROL_CHARACTER.format(code=code)
    if max_length is not None and len(value) > max_length:
        return TOO_LONG.format(length=len(value), limit=max_length)
    return None


def clean_text(value: Any, *, max_length: int | None, multiline: bool = False) -> str:
    """The text without surrounding white space; TextInputError saying what is wrong."""
    problem = text_problem(value, max_length=max_length, multiline=multiline)
    if problem:
        raise TextInputError(problem)
    return value.strip()


def strings_problem(data: Any, *, multiline: bool = True) -> tuple[str, str] | None:
    """The first string (key or value) anywhere in parsed JSON that is not acceptable text.

    Returns (where, problem) with ``where`` a JSON path such as ``rules[3].title``.
    """
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value, max_length=None, multiline=multiline)
            if problem:
                return where or "the text", problem
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                path = f"{where}.{key}" if where else str(key)
                problem = text_problem(key, max_length=None)
                if problem:
                    return f"a key in {where or 'the top level'}", problem
                stack.append((path, item))
        elif isinstance(value, list):
            stack.extend(
                (f"{where}[{index}]", item) for index, item in reversed(list(enumerate(value)))
            )
    return None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _check_depth(text: str, limit: int) -> None:
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                line, column = _position(text, token.start())
                raise TextInputError(TOO_DEEP.format(limit=limit), line=line, column=column)
        elif bracket in "]}":
            depth -= 1


def parse_json(
    content: str | bytes,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_number_length: int = MAX_NUMBER_LENGTH,
) -> Any:
    """Parse JSON from outside, refusing what would crash or poison what uses it.

    TextInputError for text that is not UTF-8, JSON that does not parse (with line and
    column), nesting deeper than ``max_depth``, numbers longer than ``max_number_length``
    characters, and NaN or Infinity (not JSON, and PostgreSQL's jsonb refuses them).
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise TextInputError(NOT_UTF8) from None
    _check_depth(content, max_depth)

    def number(kind: type):
        def parse(literal: str):
            if len(literal) > max_number_length:
                raise TextInputError(
                    NUMBER_TOO_LONG.format(length=len(literal), limit=max_number_length)
                )
            value = kind(literal)
            if not math.isfinite(value):  # 1e999 parses as infinity
                raise TextInputError(NUMBER_TOO_LARGE.format(literal=literal))
            return value

        return parse

    def constant(name: str):
        raise TextInputError(NOT_A_NUMBER.format(constant=name))

    try:
        return json.loads(
            content, parse_int=number(int), parse_float=number(float), parse_constant=constant
        )
    except json.JSONDecodeError as error:
        raise TextInputError(
            INVALID_JSON.format(detail=error.msg),
            line=error.lineno,
            column=error.colno,
            detail=error.msg,
        ) from None
    except RecursionError:  # only if max_depth were set above Python's recursion limit
        raise TextInputError(TOO_DEEP.format(limit=max_depth)) from None
