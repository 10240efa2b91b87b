"""The trade-offs (T1-T8, M1-M8) and the starting configuration, both data files.

Plain Python. Loaded once and validated with errors that name file, entry and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from advisor.engine.bank import QuestionBank, check_condition_names, default_bank
from advisor.engine.conditions import Condition, ConditionError, parse_condition
from advisor.engine.datafiles import DATA_DIR, DataFileError, read_data_file
from advisor.engine.sides import HYBRID, SIDES

TRADEOFFS_PATH = DATA_DIR / "tradeoffs.json"
STARTING_CONFIG_PATH = DATA_DIR / "starting_config.json"


@dataclass(frozen=True)
class Tradeoff:
    id: str
    kind: str  # "article" (T1-T8) or "expert" (M1-M8)
    title: str
    text: str
    source: str


@dataclass(frozen=True)
class ConfigEntry:
    side: str
    setting: str
    why: str
    citations: tuple[str, ...]
    when: Condition | None
    hybrid_only: bool = False


@dataclass(frozen=True)
class ConfigLine:
    setting: str
    why: str
    citations: tuple[str, ...]
    because: str  # the answer that asks for it, in words


@cache
def tradeoffs() -> dict[str, Tradeoff]:
    """T1-T8 and M1-M8 by id, in file order."""
    data = read_data_file(TRADEOFFS_PATH)
    entries = {}
    for index, raw in enumerate(data.get("entries", [])):
        entry = f"entry #{index + 1}"
        for name in ("id", "kind", "title", "text", "source"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise DataFileError(TRADEOFFS_PATH, entry, name, "expected non-empty text")
        entries[raw["id"]] = Tradeoff(**{name: raw[name] for name in Tradeoff.__annotations__})
    return entries


def citations(ids) -> list[dict]:
    """[{id, title}] for trade-off ids (T1-T8, M1-...), for links to /trade-offs/#id.

    An id the trade-offs file does not know keeps the id as its title.
    """
    known = tradeoffs()
    return [{"id": c, "title": known[c].title if c in known else c} for c in ids]


@cache
def starting_config_entries() -> tuple[ConfigEntry, ...]:
    bank = default_bank()
    data = read_data_file(STARTING_CONFIG_PATH)
    known = tradeoffs()
    entries = []
    for index, raw in enumerate(data.get("entries", [])):
        entry = f"entry #{index + 1}"
        if not isinstance(raw, Mapping) or raw.get("side") not in SIDES:
            raise DataFileError(STARTING_CONFIG_PATH, entry, "side", "expected artemis or kafka")
        when = None
        if raw.get("when") is not None:
            try:
                when = parse_condition(raw["when"], "when")
            except ConditionError as error:
                raise DataFileError(STARTING_CONFIG_PATH, entry, "when", str(error)) from None
            check_condition_names(when, bank, STARTING_CONFIG_PATH, entry, "when")
        citations = tuple(raw.get("citations", []))
        unknown = [citation for citation in citations if citation not in known]
        if unknown:
            raise DataFileError(
                STARTING_CONFIG_PATH, entry, "citations", f"unknown {', '.join(unknown)}"
            )
        entries.append(
            ConfigEntry(
                side=raw["side"],
                setting=raw["setting"],
                why=raw["why"],
                citations=citations,
                when=when,
                hybrid_only=bool(raw.get("hybrid_only", False)),
            )
        )
    return tuple(entries)


EVERY_DEPLOYMENT = "every deployment of this side"


def answers_in_words(answers: Mapping[str, Any], question_ids, bank: QuestionBank) -> str:
    """'“How many times ...?” — Exactly once: ...' for the answers a condition reads."""
    parts = []
    for question in bank.questions:
        if question.id in question_ids and question.id in answers:
            parts.append(f"“{question.text}” — {question.label_for(answers[question.id])}")
    return "; ".join(parts)


HYBRID_BRIDGE = "the recommendation is to run both"


def starting_configuration(
    answers: Mapping[str, Any], recommendation: str, bank: QuestionBank | None = None
) -> dict[str, list[ConfigLine]]:
    """The settings to start from, per recommended side, each tied to its answer."""
    bank = bank or default_bank()
    sides = SIDES if recommendation == HYBRID else (recommendation,)
    lines: dict[str, list[ConfigLine]] = {side: [] for side in sides}
    for entry in starting_config_entries():
        if entry.side not in lines or (entry.hybrid_only and recommendation != "hybrid"):
            continue
        if entry.when is not None and not entry.when.evaluate(answers):
            continue
        if entry.when is not None:
            because = answers_in_words(answers, entry.when.questions(), bank)
        else:
            because = HYBRID_BRIDGE if entry.hybrid_only else EVERY_DEPLOYMENT
        lines[entry.side].append(ConfigLine(entry.setting, entry.why, entry.citations, because))
    return lines
