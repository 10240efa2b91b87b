"""Reading the data files (questions, rules, trade-offs, starting configuration).

One reader for every JSON the app takes from a file or an upload: its errors name
the file, the entry and the field, or the line and column of bad JSON, e.g.
``questions.json: question 'ordering', field 'section': unknown section 'delivry'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advisor.engine.textinput import TextInputError, parse_json, strings_problem

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class DataFileError(ValueError):
    """A data file (question bank, rules, knowledge) that does not validate."""

    def __init__(self, path: Path | str, entry: str, field_name: str | None, message: str):
        self.path = Path(path)
        self.entry = entry
        self.field = field_name
        where = f"{self.path.name}: {entry}"
        if field_name:
            where += f", field '{field_name}'"
        super().__init__(f"{where}: {message}")


def parse_json_text(content: bytes | str, *, name: Path | str) -> Any:
    """JSON from text or UTF-8 bytes, checked as everything from outside is.

    DataFileError naming line and column for bad JSON, nesting deeper than 32 levels, a
    number too long to be a weight, NaN; and naming the entry for text no field may hold
    (NUL, lone surrogates, control and bidi-override characters; advisor.engine.textinput).
    """
    try:
        data = parse_json(content)
    except TextInputError as error:
        where = "file" if error.line is None else f"line {error.line}, column {error.column}"
        message = f"invalid JSON: {error.detail}" if error.detail else error.message
        raise DataFileError(name, where, None, message) from None
    problem = strings_problem(data)
    if problem:
        raise DataFileError(name, problem[0], None, problem[1])
    return data


def read_data_file(path: Path) -> Any:
    """A data file's JSON; DataFileError naming the file, and the line of bad JSON."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise DataFileError(path, "file", None, f"cannot be read ({error.strerror})") from None
    return parse_json_text(content, name=path)


def require(data: Mapping, key: str, kind: type | tuple, path: Path, entry: str) -> Any:
    """``data[key]``, which must be a (non-empty, for text) ``kind``; else DataFileError."""
    if not isinstance(data, Mapping):
        raise DataFileError(path, entry, None, "expected a JSON object")
    if key not in data:
        raise DataFileError(path, entry, key, "is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise DataFileError(path, entry, key, f"expected a non-empty {expected}")
    return value
