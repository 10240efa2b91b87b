"""Reading the data files (questions, rules, trade-offs, starting configuration).

One reader for every JSON the app takes from a file or an upload: its errors name
the file, the entry and the field, or the line and column of bad JSON, e.g.
``questions.json: question 'ordering', field 'section': unknown section 'delivry'``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    """JSON from text or UTF-8 bytes; DataFileError naming line and column if bad."""
    try:
        text = content.decode("utf-8") if isinstance(content, bytes) else content
    except UnicodeDecodeError:
        raise DataFileError(name, "file", None, "is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFileError(
            name, f"line {error.lineno}, column {error.colno}", None, f"invalid JSON: {error.msg}"
        ) from None


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
