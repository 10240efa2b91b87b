"""The trade-offs (T1-T8, M1-M13) and the starting configuration, both data files.

Plain Python. Loaded once and validated with errors that name file, entry and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from advisor.engine.bank import QuestionBank, check_condition_names, default_bank
from advisor.engine.conditions import Condition, ConditionError, parse_condition
from advisor.engine.datafiles import DATA_DIR, DataFileError, read_data_file
from advisor.engine.sides import HYBRID, SIDES

TRADEOFFS_PATH = DATA_DIR / "tradeoffs.json"
STARTING_CONFIG_PATH = DATA_DIR / "starting_config.json"
ARTICLE_URL = "https://developers.redhat.com/articles/2023/02/16/comparison-activemq-and-kafka"


ARTICLE_STATUSES = ("holds", "qualified", "refuted")


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Tradeoff:
    id: str
    kind: str  # "article" (T1-T8) or "expert" (M1-M13)
    title: str
    text: str
    source: str
    links: tuple[Link, ...] = ()
    status: str = ""  # article claims: holds, qualified or refuted (by 2026 practice)
    correction: str = ""  # the M entry that says where 2026 practice differs
    correction_text: str = ""
    quote: str = ""  # the article's own words, where we quote them
    corrects: tuple[str, ...] = ()  # M entries: the article claims they correct

    @property
    def refuted(self) -> bool:
        return self.status == "refuted"


def parse_links(raw: Any, path: Path, entry: str, field_name: str = "links") -> tuple[Link, ...]:
    """A non-empty list of {title, url} with absolute https URLs."""
    if not isinstance(raw, list) or not raw:
        raise DataFileError(path, entry, field_name, "expected a non-empty list of {title, url}")
    links = []
    for item in raw:
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("title"), str)
            or not item["title"].strip()
            or not isinstance(item.get("url"), str)
            or not item["url"].startswith("https://")
        ):
            raise DataFileError(
                path, entry, field_name, f"each link needs a title and an https URL; got {item!r}"
            )
        links.append(Link(title=item["title"], url=item["url"]))
    return tuple(links)


@dataclass(frozen=True)
class ConfigEntry:
    side: str
    setting: str
    why: str
    citations: tuple[str, ...]
    when: Condition | None
    hybrid_only: bool = False
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class ConfigLine:
    setting: str
    why: str
    citations: tuple[str, ...]
    because: str  # the answer that asks for it, in words
    links: tuple[Link, ...] = ()

    def to_data(self) -> dict:
        return {
            "setting": self.setting,
            "why": self.why,
            "because": self.because,
            "citations": list(self.citations),
            "sources": [{"title": link.title, "url": link.url} for link in self.links],
        }


def parse_tradeoffs(data: Any, path: Path) -> dict[str, Tradeoff]:
    """Validate the trade-offs file: every entry has sources with links; every article
    claim says whether it still holds, and a qualified or refuted one names its correction."""
    if not isinstance(data, Mapping) or not isinstance(data.get("entries"), list):
        raise DataFileError(path, "top level", "entries", "expected a list")
    entries: dict[str, Tradeoff] = {}
    for index, raw in enumerate(data["entries"]):
        entry = f"entry #{index + 1}"
        if not isinstance(raw, Mapping):
            raise DataFileError(path, entry, None, "expected an object")
        for name in ("id", "kind", "title", "text", "source"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise DataFileError(path, entry, name, "expected non-empty text")
        entry = f"entry '{raw['id']}'"
        links = parse_links(raw.get("links"), path, entry)
        status = raw.get("status", "")
        if raw["kind"] == "article" and status not in ARTICLE_STATUSES:
            allowed = ", ".join(ARTICLE_STATUSES)
            raise DataFileError(path, entry, "status", f"expected one of {allowed}")
        correction = raw.get("correction", "")
        if status in ("qualified", "refuted") and not (
            correction.startswith("M") and raw.get("correction_text", "").strip()
        ):
            raise DataFileError(
                path, entry, "correction", "a qualified or refuted claim names an M entry and why"
            )
        entries[raw["id"]] = Tradeoff(
            id=raw["id"],
            kind=raw["kind"],
            title=raw["title"],
            text=raw["text"],
            source=raw["source"],
            links=links,
            status=status,
            correction=correction,
            correction_text=raw.get("correction_text", ""),
            quote=raw.get("quote", ""),
            corrects=tuple(raw.get("corrects", ())),
        )
    for tradeoff in entries.values():
        for name, ids in (("correction", [tradeoff.correction]), ("corrects", tradeoff.corrects)):
            unknown = [i for i in ids if i and i not in entries]
            if unknown:
                raise DataFileError(
                    path, f"entry '{tradeoff.id}'", name, f"unknown {', '.join(unknown)}"
                )
    return entries


@cache
def tradeoffs() -> dict[str, Tradeoff]:
    """T1-T8 and M1-M13 by id, in file order."""
    return parse_tradeoffs(read_data_file(TRADEOFFS_PATH), TRADEOFFS_PATH)


def refuted_claims() -> frozenset[str]:
    """The article's claims that 2026 practice refutes: a rule resting on one moves no score."""
    return frozenset(t.id for t in tradeoffs().values() if t.refuted)


def citations(ids) -> list[dict]:
    """[{id, title, source}] for trade-off ids (T1-T8, M1-M13), for links to
    /trade-offs/#id and to the claim's primary source (its first link).

    An id the trade-offs file does not know keeps the id as its title and no source.
    """
    known = tradeoffs()
    return [
        {
            "id": c,
            "title": known[c].title if c in known else c,
            "source": known[c].links[0] if c in known and known[c].links else None,
        }
        for c in ids
    ]


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
                links=parse_links(raw.get("links"), STARTING_CONFIG_PATH, entry),
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
        lines[entry.side].append(
            ConfigLine(entry.setting, entry.why, entry.citations, because, entry.links)
        )
    return lines


def starting_configuration_data(
    answers: Mapping[str, Any], recommendation: str, bank: QuestionBank | None = None
) -> dict[str, list[dict]]:
    """The starting configuration as JSON, as reports store it in their snapshot."""
    return {
        side: [line.to_data() for line in lines]
        for side, lines in starting_configuration(answers, recommendation, bank).items()
    }
