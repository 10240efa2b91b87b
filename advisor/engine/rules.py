"""Rules as data: the dataclasses the engine scores with and the rules-file loader.

The default rules live in ``advisor/data/rules.json``; an administrator's published
RuleSet (the database model) converts to the same dataclasses (``RuleSet.to_engine()``),
a ``Rulebook``: the rules, their weights and dimensions, as the engine scores with them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.engine.bank import QuestionBank, check_condition_names
from advisor.engine.conditions import Condition, ConditionError, parse_condition
from advisor.engine.datafiles import DATA_DIR, DataFileError, read_data_file
from advisor.engine.sides import SIDES
from advisor.engine.textinput import text_problem

DEFAULT_RULES_PATH = DATA_DIR / "rules.json"
CITATION_PATTERN = re.compile(r"^(T[1-8]|M([1-9]|1[0-3]))$")
GROUP_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RULE_ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
WEIGHT_MIN, WEIGHT_MAX = 0.0, 10.0
POINTS_MIN, POINTS_MAX = 1, 20
# The lengths the database stores (rulesets.models): a longer text is an error here,
# named with its rule and field, not a database error on PostgreSQL.
VERSION_MAX_LENGTH = 40
RULE_ID_MAX_LENGTH = 80
DIMENSION_ID_MAX_LENGTH = 40
TITLE_MAX_LENGTH = 200
PROSE_MAX_LENGTH = 5000


@dataclass(frozen=True)
class Dimension:
    id: str
    title: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    dimension: str
    when: Condition
    favours: str
    points: int
    weight: float
    decisive: bool
    rationale: str
    citations: tuple[str, ...]
    caveat: str = ""
    enabled: bool = True
    # Rules that express one underlying fact share a group: only the strongest fired
    # rule of a group counts, the others explain it (the fact is counted once).
    group: str = ""
    # A rule that states a claim of the 2023 article which 2026 practice refutes names
    # the M entry that refutes it: it is shown with that correction and moves no score.
    refuted_by: str = ""

    @property
    def weighted_points(self) -> float:
        return self.weight * self.points if self.enabled else 0.0

    @property
    def scores(self) -> bool:
        """Whether this rule can move a score at all (enabled, weighted, not refuted)."""
        return self.enabled and self.weight > 0 and not self.refuted_by


@dataclass(frozen=True)
class Rulebook:
    """A ruleset as the engine sees it: immutable, with weights applied."""

    version: str
    dimensions: tuple[Dimension, ...]
    rules: tuple[Rule, ...]
    close_call_margin: float = 10.0
    by_id: Mapping[str, Rule] = field(repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {rule.id: rule for rule in self.rules})

    def with_weights(self, weights: Mapping[str, float]) -> Rulebook:
        """A copy with some rules' weights replaced (for flips and previews)."""
        rules = tuple(
            dataclasses.replace(rule, weight=weights[rule.id]) if rule.id in weights else rule
            for rule in self.rules
        )
        return Rulebook(self.version, self.dimensions, rules, self.close_call_margin)


def parse_rule(
    raw: Any, *, index: int, bank: QuestionBank, dimensions: set[str], path: Path
) -> Rule:
    """Validate one rule's JSON against the bank and the dimensions."""
    entry = f"rule #{index + 1}"
    if not isinstance(raw, Mapping):
        raise DataFileError(path, entry, None, "expected an object")
    rule_id = raw.get("id")
    if (
        not isinstance(rule_id, str)
        or not RULE_ID_PATTERN.match(rule_id)
        or len(rule_id) > RULE_ID_MAX_LENGTH
    ):
        raise DataFileError(
            path,
            entry,
            "id",
            f"expected a lower-case slug such as 'xa-needs-broker' "
            f"(at most {RULE_ID_MAX_LENGTH} characters)",
        )
    entry = f"rule '{rule_id}'"

    def text(name: str, *, max_length: int, multiline: bool, required: bool = True) -> str:
        value = raw.get(name, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise DataFileError(path, entry, name, "expected non-empty text")
        problem = text_problem(value, max_length=max_length, multiline=multiline)
        if problem:
            raise DataFileError(path, entry, name, problem)
        return value.strip()

    dimension = raw.get("dimension")
    if dimension not in dimensions:
        raise DataFileError(
            path, entry, "dimension", f"'{dimension}' is not one of {', '.join(sorted(dimensions))}"
        )
    favours = raw.get("favours")
    if favours not in SIDES:
        raise DataFileError(path, entry, "favours", f"'{favours}' is not one of artemis, kafka")
    points = raw.get("points")
    if (
        isinstance(points, bool)
        or not isinstance(points, int)
        or not POINTS_MIN <= points <= POINTS_MAX
    ):
        raise DataFileError(
            path, entry, "points", f"expected a whole number from {POINTS_MIN} to {POINTS_MAX}"
        )
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise DataFileError(path, entry, "weight", "expected a number")
    if not WEIGHT_MIN <= weight <= WEIGHT_MAX:
        raise DataFileError(
            path, entry, "weight", f"{weight} is outside {WEIGHT_MIN:g} to {WEIGHT_MAX:g}"
        )
    decisive = raw.get("decisive", False)
    if not isinstance(decisive, bool):
        raise DataFileError(path, entry, "decisive", "expected true or false")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise DataFileError(path, entry, "enabled", "expected true or false")
    citations = raw.get("citations")
    if (
        not isinstance(citations, list)
        or not citations
        or not all(isinstance(c, str) and CITATION_PATTERN.match(c) for c in citations)
    ):
        raise DataFileError(path, entry, "citations", "expected a non-empty list of T1-T8 / M1-M13")
    group = raw.get("group", "")
    if not isinstance(group, str) or (group and not GROUP_PATTERN.match(group)):
        raise DataFileError(path, entry, "group", "expected a slug such as 'kafka-shop'")
    refuted_by = raw.get("refuted_by", "")
    if not isinstance(refuted_by, str) or (
        refuted_by and not (refuted_by.startswith("M") and CITATION_PATTERN.match(refuted_by))
    ):
        raise DataFileError(path, entry, "refuted_by", "expected an M entry such as 'M11'")
    if refuted_by and decisive:
        raise DataFileError(path, entry, "decisive", "a refuted claim cannot be a decisive need")
    if "when" not in raw:
        raise DataFileError(path, entry, "when", "is missing")
    try:
        when = parse_condition(raw["when"], "when")
    except ConditionError as error:
        raise DataFileError(path, entry, "when", str(error)) from None
    check_condition_names(when, bank, path, entry, "when")
    caveat = text("caveat", max_length=PROSE_MAX_LENGTH, multiline=True, required=False)
    if any(c.startswith("M") for c in citations) and not caveat:
        raise DataFileError(path, entry, "caveat", "a rule citing an M entry states its caveat")
    return Rule(
        id=rule_id,
        title=text("title", max_length=TITLE_MAX_LENGTH, multiline=False),
        dimension=dimension,
        when=when,
        favours=favours,
        points=points,
        weight=float(weight),
        decisive=decisive,
        rationale=text("rationale", max_length=PROSE_MAX_LENGTH, multiline=True),
        citations=tuple(citations),
        caveat=caveat,
        enabled=enabled,
        group=group,
        refuted_by=refuted_by,
    )


def parse_ruleset(data: Any, *, bank: QuestionBank, path: Path) -> Rulebook:
    """Validate a whole rules file; raises DataFileError naming file, entry and field."""
    if not isinstance(data, Mapping):
        raise DataFileError(path, "top level", None, "expected a JSON object")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise DataFileError(path, "top level", "version", "expected a version id such as 'v1'")
    problem = text_problem(version, max_length=VERSION_MAX_LENGTH)
    if problem:
        raise DataFileError(path, "top level", "version", problem)
    margin = data.get("close_call_margin", 10)
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin <= 50:
        raise DataFileError(
            path, "top level", "close_call_margin", "expected a number from 0 to 50"
        )
    raw_dimensions = data.get("dimensions")
    if not isinstance(raw_dimensions, list) or not raw_dimensions:
        raise DataFileError(path, "top level", "dimensions", "expected a non-empty list")
    dimensions = []
    for index, raw in enumerate(raw_dimensions):
        entry = f"dimension #{index + 1}"
        if not isinstance(raw, Mapping) or not raw.get("id") or not raw.get("title"):
            raise DataFileError(path, entry, None, "needs an id and a title")
        dimension_id, title = raw["id"], raw["title"]
        if not isinstance(dimension_id, str) or not RULE_ID_PATTERN.match(dimension_id):
            raise DataFileError(path, entry, "id", "expected a lower-case slug such as 'delivery'")
        for name, value, limit in (
            ("id", dimension_id, DIMENSION_ID_MAX_LENGTH),
            ("title", title, TITLE_MAX_LENGTH),
        ):
            problem = text_problem(value, max_length=limit)
            if problem:
                raise DataFileError(path, entry, name, problem)
        dimensions.append(Dimension(id=dimension_id, title=title))
    dimension_ids = {dimension.id for dimension in dimensions}
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise DataFileError(path, "top level", "rules", "expected a non-empty list")
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        rule = parse_rule(raw, index=index, bank=bank, dimensions=dimension_ids, path=path)
        if rule.id in {existing.id for existing in rules}:
            raise DataFileError(path, f"rule '{rule.id}'", "id", "duplicate rule id")
        mates = [existing for existing in rules if rule.group and existing.group == rule.group]
        if mates and mates[0].favours != rule.favours:
            raise DataFileError(
                path,
                f"rule '{rule.id}'",
                "group",
                f"group '{rule.group}' favours {mates[0].favours}; one fact favours one side",
            )
        rules.append(rule)
    return Rulebook(
        version=version.strip(),
        dimensions=tuple(dimensions),
        rules=tuple(rules),
        close_call_margin=float(margin),
    )


def load_ruleset_file(path: Path | str, *, bank: QuestionBank) -> Rulebook:
    path = Path(path)
    return parse_ruleset(read_data_file(path), bank=bank, path=path)


def rule_to_data(rule: Rule) -> dict:
    """The JSON form of one rule, as in the rules file (for export and storage)."""
    data = {
        "id": rule.id,
        "title": rule.title,
        "dimension": rule.dimension,
        "when": rule.when.to_data(),
        "favours": rule.favours,
        "points": rule.points,
        "weight": rule.weight,
        "decisive": rule.decisive,
        "rationale": rule.rationale,
        "citations": list(rule.citations),
        "caveat": rule.caveat,
    }
    if not rule.enabled:
        data["enabled"] = False
    if rule.group:
        data["group"] = rule.group
    if rule.refuted_by:
        data["refuted_by"] = rule.refuted_by
    return data


def ruleset_to_data(ruleset: Rulebook) -> dict:
    """The JSON form of a whole ruleset: the same format as the default rules file."""
    return {
        "format": 1,
        "version": ruleset.version,
        "close_call_margin": ruleset.close_call_margin,
        "dimensions": [{"id": d.id, "title": d.title} for d in ruleset.dimensions],
        "rules": [rule_to_data(rule) for rule in ruleset.rules],
    }
